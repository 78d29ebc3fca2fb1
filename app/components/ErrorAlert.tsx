// Errors the worker reported, with what was being done.
import { useActions, useStudio } from '../store';

const CONTEXT_NAMES: Record<string, string> = {
  init: 'Starting the worker',
  worker: 'Training worker',
  loadModel: 'Loading the model',
  loadDataset: 'Reading the dataset',
  plan: 'Counting parameters',
  train: 'Training',
  stop: 'Stopping',
  export: 'Exporting the adapter',
  exportMerged: 'Exporting the merged model',
  planAll: 'Counting parameters for every method',
  importAdapter: 'Importing an adapter',
  compare: 'Comparing methods',
  generate: 'Generating text',
};

export default function ErrorAlert() {
  const error = useStudio((s) => s.error);
  const { dismissError } = useActions();
  if (!error) return null;
  return (
    <div role="alert" className="alert alert-error page-alert">
      <p>
        <strong>{CONTEXT_NAMES[error.context] ?? error.context}:</strong> {error.message}
      </p>
      <button type="button" className="small-button" onClick={dismissError}>
        Dismiss
      </button>
    </div>
  );
}
