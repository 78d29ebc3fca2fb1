// The page: a header with the compute backend, the setup column and the run column.
import BackendPanel from './components/BackendPanel';
import DatasetPanel from './components/DatasetPanel';
import ErrorAlert from './components/ErrorAlert';
import GeneratePanel from './components/GeneratePanel';
import LossChart from './components/LossChart';
import MethodPanel from './components/MethodPanel';
import ModelPanel from './components/ModelPanel';
import PlanPanel from './components/PlanPanel';
import RunControls from './components/RunControls';
import RunProgress from './components/RunProgress';
import StatusLine from './components/StatusLine';
import TrainSettings from './components/TrainSettings';

export default function App() {
  return (
    <div className="app">
      <header className="app-header">
        <div className="brand">
          <h1>PEFT Studio</h1>
          <p className="tagline">Parameter-efficient fine-tuning in your browser. Nothing leaves this machine.</p>
        </div>
        <BackendPanel />
      </header>
      <ErrorAlert />
      <main className="columns">
        <div className="column">
          <ModelPanel />
          <MethodPanel />
          <PlanPanel />
          <DatasetPanel />
          <TrainSettings />
        </div>
        <div className="column column-run">
          <section className="panel" aria-labelledby="run-heading">
            <h2 id="run-heading">Run</h2>
            <RunControls />
            <StatusLine />
            <RunProgress />
          </section>
          <LossChart />
          <GeneratePanel />
        </div>
      </main>
    </div>
  );
}
