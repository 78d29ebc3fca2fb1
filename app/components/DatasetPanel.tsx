// The dataset section: drop area, rejection alert, and the loaded dataset's summary.
import DatasetDrop from './DatasetDrop';
import DatasetRejectionAlert from './DatasetRejectionAlert';
import DatasetSummaryView from './DatasetSummaryView';

export default function DatasetPanel() {
  return (
    <section className="panel">
      <h2>Training data</h2>
      <DatasetDrop />
      <DatasetRejectionAlert />
      <DatasetSummaryView />
    </section>
  );
}
