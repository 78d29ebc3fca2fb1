// Start, Stop and Export (and Export merged model for adapters that fold into the weights),
// with why Start is unavailable and what was saved. While a run stops, Skip final evaluation
// ends it without waiting for the held-out evaluation.
import type { RunOutput } from '../../src/worker/protocol';
import { canExport, canExportMerged, canSkipEvaluation, canStop, exportTarget, isMergeable, speedupLine, startBlocker, useActions, useStudio } from '../store';

/** The Export button and what it says it saves, for what the chosen method makes. */
const EXPORT: Record<RunOutput, { label: string; help?: string }> = {
  adapter: { label: 'Export adapter' },
  model: {
    label: 'Export fine-tuned model',
    help: 'Export fine-tuned model saves a complete Hugging Face checkpoint (config.json, model.safetensors, tokenizer files) with every trained weight, which transformers and “Load model from disk” load like the base model.',
  },
  student: {
    label: 'Export student',
    help: 'Export student saves a complete Hugging Face checkpoint (config.json, model.safetensors, tokenizer files) that “Load model from disk” loads as a base model.',
  },
};

export default function RunControls() {
  const blocker = useStudio(startBlocker);
  const stoppable = useStudio(canStop);
  const exportable = useStudio(canExport);
  const target = useStudio(exportTarget);
  // Merging folds an adapter into the base; offered while the chosen method makes adapters.
  const mergeable = useStudio(isMergeable) && target === 'adapter';
  const speedup = useStudio((s) => s.run.speedup);
  const mergeExportable = useStudio(canExportMerged);
  const exporting = useStudio((s) => s.exportPending);
  const exportKind = useStudio((s) => s.exportKind);
  const saved = useStudio((s) => s.savedFileName);
  const stopping = useStudio((s) => s.run.status === 'stopping' || s.compare.status === 'stopping');
  // Offered while the run stops with a held-out set; once pressed it stays, marked unavailable
  // rather than disabled, so keyboard focus stays on it until the run ends.
  const skippable = useStudio(canSkipEvaluation);
  const skipShown = useStudio((s) => s.run.status === 'stopping' && (skippable || s.run.skipRequested));
  const { startTraining, stopTraining, skipEvaluation, exportAdapter, exportMergedModel } = useActions();

  return (
    <div className="run-controls">
      <div className="buttons">
        <button type="button" className="primary" disabled={blocker !== null} aria-describedby="start-blocker" onClick={startTraining}>
          Start training
        </button>
        <button type="button" disabled={!stoppable} onClick={stopTraining}>
          {stopping ? 'Stopping…' : 'Stop'}
        </button>
        {skipShown && (
          <button type="button" aria-disabled={!skippable} aria-describedby="skip-help" onClick={skipEvaluation}>
            Skip final evaluation
          </button>
        )}
        <button type="button" disabled={!exportable} onClick={exportAdapter}>
          {exporting && exportKind === target ? 'Exporting…' : EXPORT[target].label}
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
      {skipShown && (
        <p id="skip-help" className="help">
          Skip final evaluation ends the run without measuring the held-out loss again; the last one measured stands.
        </p>
      )}
      {mergeable && (
        <p id="merge-help" className="help">
          Export merged model saves a complete Hugging Face checkpoint (config.json, model.safetensors, tokenizer files) with the adapter folded into the base weights.
        </p>
      )}
      {EXPORT[target].help && <p className="help">{EXPORT[target].help}</p>}
      {speedup && target !== 'adapter' && (
        <p className="speedup">
          {speedupLine(speedup)}{' '}
          <span className="muted small">
            ({speedup.trainedMs.toFixed(1)} ms vs {speedup.baseMs.toFixed(1)} ms per forward pass)
          </span>
        </p>
      )}
      {saved && <p className="saved">Saved {saved}</p>}
    </div>
  );
}
