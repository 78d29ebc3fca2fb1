// Start, Stop and Export, with why Start is unavailable and what was saved.
import { canExport, canStop, startBlocker, useActions, useStudio } from '../store';

export default function RunControls() {
  const blocker = useStudio(startBlocker);
  const stoppable = useStudio(canStop);
  const exportable = useStudio(canExport);
  const exporting = useStudio((s) => s.exportPending);
  const saved = useStudio((s) => s.savedFileName);
  const stopping = useStudio((s) => s.run.status === 'stopping');
  const { startTraining, stopTraining, exportAdapter } = useActions();

  return (
    <div className="run-controls">
      <div className="buttons">
        <button type="button" className="primary" disabled={blocker !== null} aria-describedby="start-blocker" onClick={startTraining}>
          Start training
        </button>
        <button type="button" disabled={!stoppable} onClick={stopTraining}>
          {stopping ? 'Stopping…' : 'Stop'}
        </button>
        <button type="button" disabled={!exportable} onClick={exportAdapter}>
          {exporting ? 'Exporting…' : 'Export adapter'}
        </button>
      </div>
      <p id="start-blocker" className="help">
        {blocker ?? 'Ready to train.'}
      </p>
      {saved && <p className="saved">Saved {saved}</p>}
    </div>
  );
}
