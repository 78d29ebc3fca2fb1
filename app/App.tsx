// The page: a header with the compute backend, the setup column and the run column, then the
// "Compare methods" view across the full width. What starts below the top of the screen mounts
// just after the first paint, so no single task builds the whole page.
import AfterFirstPaint from './components/AfterFirstPaint';
import AdapterPanel from './components/AdapterPanel';
import BackendCheckPanel from './components/BackendCheckPanel';
import BackendPanel from './components/BackendPanel';
import ComparePanel from './components/ComparePanel';
import DatasetPanel from './components/DatasetPanel';
import ErrorAlert from './components/ErrorAlert';
import GeneratePanel from './components/GeneratePanel';
import ClassificationMetrics from './components/ClassificationMetrics';
import LossChart from './components/LossChart';
import MethodPanel from './components/MethodPanel';
import MethodsPlanChart from './components/MethodsPlanChart';
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
      <main>
        <div className="columns">
          <div className="column">
            <ModelPanel />
            <MethodPanel />
            <PlanPanel />
            <AfterFirstPaint>
              <MethodsPlanChart />
            </AfterFirstPaint>
            <AfterFirstPaint>
              <DatasetPanel />
            </AfterFirstPaint>
            <AfterFirstPaint>
              <TrainSettings />
            </AfterFirstPaint>
          </div>
          <div className="column column-run">
            <section className="panel" aria-labelledby="run-heading">
              <h2 id="run-heading">Run</h2>
              <RunControls />
              <StatusLine />
              <RunProgress />
            </section>
            <AfterFirstPaint>
              <AdapterPanel />
              <ClassificationMetrics />
              <LossChart />
            </AfterFirstPaint>
            <AfterFirstPaint>
              <GeneratePanel />
            </AfterFirstPaint>
            <AfterFirstPaint>
              <BackendCheckPanel />
            </AfterFirstPaint>
          </div>
        </div>
        <AfterFirstPaint>
          <div className="wide">
            <ComparePanel />
          </div>
        </AfterFirstPaint>
      </main>
    </div>
  );
}
