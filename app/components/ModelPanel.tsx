// The "Base model" select and the loaded model's shape.
import { MODELS, modelOption } from '../models';
import { formatInt } from '../format';
import { isBusy, useActions, useStudio } from '../store';

export default function ModelPanel() {
  const modelId = useStudio((s) => s.modelId);
  const model = useStudio((s) => s.model);
  const loading = useStudio((s) => s.modelLoading);
  const running = useStudio(isBusy);
  const { selectModel } = useActions();
  const note = modelOption(modelId)?.note;

  return (
    <section className="panel">
      <h2>Model</h2>
      <div className="field">
        <label htmlFor="base-model">Base model</label>
        <select
          id="base-model"
          value={modelId}
          disabled={running}
          aria-describedby={note ? 'base-model-note' : undefined}
          onChange={(e) => selectModel(e.target.value)}
        >
          {MODELS.map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
        </select>
        {note && (
          <p id="base-model-note" className="help">
            {note}
          </p>
        )}
      </div>
      {loading && <p className="muted">Loading the model…</p>}
      {model && !loading && (
        <dl className="stats">
          <div>
            <dt>Parameters</dt>
            <dd>{formatInt(model.totalParams)}</dd>
          </div>
          <div>
            <dt>Layers</dt>
            <dd>{formatInt(model.nLayer)}</dd>
          </div>
          <div>
            <dt>Width</dt>
            <dd>{formatInt(model.nEmbd)}</dd>
          </div>
          <div>
            <dt>Heads</dt>
            <dd>{formatInt(model.nHead)}</dd>
          </div>
          <div>
            <dt>Vocabulary</dt>
            <dd>{formatInt(model.vocabSize)}</dd>
          </div>
          <div>
            <dt>Context length</dt>
            <dd>{formatInt(model.nPositions)}</dd>
          </div>
        </dl>
      )}
    </section>
  );
}
