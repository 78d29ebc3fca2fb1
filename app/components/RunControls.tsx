// Start, Stop and Export (and Export merged model for adapters that fold into the weights),
// with why Start is unavailable and what was saved.
import { canExport, canExportMerged, canStop, exportTarget, speedupLine, startBlocker, useActions, useStudio } from '../store';

export default function RunControls() {
  const blocker = useStudio(startBlocker);
  const stoppable = useStudio(canStop);
  const exportable = useStudio(canExport);
  const target = useStudio(exportTarget);
  // Merging folds an adapter into the base; with distillation chosen, Export saves the student instead.
  const mergeable = useStudio((s) => s.adapterReady && s.adapterMergeable) && target === 'adapter';
  const speedup = useStudio((s) => s.run.speedup);
  const mergeExportable = useStudio(canExportMerged);
  const exporting = useStudio((s) => s.exportPending);
  const exportKind = useStudio((s) => s.exportKind);
  const saved = useStudio((s) => s.savedFileName);
  const stopping = useStudio((s) => s.run.status === 'stopping' || s.compare.status === 'stopping');
  const { startTraining, stopTraining, exportAdapter, exportMergedModel } = useActions();

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
          {exporting && exportKind === target ? 'Exporting…' : target === 'student' ? 'Export student' : 'Export adapter'}
        </button>
        {mergeable && (
          <button type="button" disabled={!mergeExportable} aria-describedby="merge-help" onClick={exportMergedModel}>
            {exporting && exportKind === 'merged' ? 'Exporting…' : 'Export merged model'}
          </button>
        )}
      </div>
      <p id="start-blocker" className="help">
        {blocker ?? 'Ready to train.'}
      </p>
      {mergeable && (
        <p id="merge-help" className="help">
          Export merged model saves a complete Hugging Face checkpoint (config.json, model.safetensors, tokenizer files) with the adapter folded into the base weights.
        </p>
      )}
      {target === 'student' && (
        <p className="help">Export student saves a complete Hugging Face checkpoint (config.json, model.safetensors, tokenizer files) that “Load model from disk” loads as a base model.</p>
      )}
      {speedup && target === 'student' && (
        <p className="speedup">
          {speedupLine(speedup)}{' '}
          <span className="muted small">
            ({speedup.studentMs.toFixed(1)} ms vs {speedup.teacherMs.toFixed(1)} ms per forward pass)
          </span>
        </p>
      )}
      {saved && <p className="saved">Saved {saved}</p>}
    </div>
  );
}
