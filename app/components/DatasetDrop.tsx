// The "Dataset" drop area: a dropped or chosen file goes to the worker to be parsed.
import { isBusy, useActions, useStudio } from '../store';
import DatasetProgressBar from './DatasetProgressBar';
import FileDrop from './FileDrop';

export const DATASET_ACCEPT = '.txt,.jsonl,.json,.csv,.tsv,.parquet';

export default function DatasetDrop() {
  const busy = useStudio(isBusy);
  const reading = useStudio((s) => s.datasetQueue.length > 0);
  const waiting = useStudio((s) => s.datasetWaiting?.name);
  const progress = useStudio((s) => s.datasetProgress !== null);
  const { chooseDatasetFile } = useActions();

  return (
    <FileDrop
      id="dataset-file"
      label="Dataset"
      accept={DATASET_ACCEPT}
      className="dataset-drop"
      hint="Drop a .txt, .jsonl, .json, .csv, .tsv or .parquet file here, or click (or press Enter) to choose one."
      draggingHint="Drop the file to read it"
      disabled={busy}
      busy={reading}
      onFile={chooseDatasetFile}
    >
      {reading && !progress && <p className="muted small">Reading the dataset…</p>}
      {reading && <DatasetProgressBar />}
      {waiting && <p className="muted small">{waiting} will be read once the model has loaded.</p>}
    </FileDrop>
  );
}
