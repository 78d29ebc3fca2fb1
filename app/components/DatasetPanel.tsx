// The dataset section: drop area, how files are read, sample datasets, rejection alert, and the loaded dataset's summary.
import DatasetDrop from './DatasetDrop';
import DatasetReadChoice from './DatasetReadChoice';
import DatasetRejectionAlert from './DatasetRejectionAlert';
import DatasetSummaryView from './DatasetSummaryView';
import SampleDatasets from './SampleDatasets';

export default function DatasetPanel() {
  return (
    <section className="panel">
      <h2>Training data</h2>
      <DatasetDrop />
      <DatasetReadChoice />
      <SampleDatasets />
      <DatasetRejectionAlert />
      <DatasetSummaryView />
    </section>
  );
}
