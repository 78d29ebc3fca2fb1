// The "Method" select, the method's summary and paper, and its hyperparameter form.
import { isRunActive, selectedMethod, useActions, useStudio } from '../store';
import MethodField from './MethodField';

export default function MethodPanel() {
  const methods = useStudio((s) => s.methods);
  const methodId = useStudio((s) => s.methodId);
  const method = useStudio(selectedMethod);
  const running = useStudio((s) => isRunActive(s.run.status));
  const { selectMethod } = useActions();
  const unavailable = methods.filter((m) => m.unsupported);

  return (
    <section className="panel">
      <h2>Method</h2>
      <div className="field">
        <label htmlFor="method">Method</label>
        <select
          id="method"
          value={methodId ?? ''}
          disabled={running || methods.length === 0}
          aria-describedby={method ? 'method-summary' : undefined}
          onChange={(e) => selectMethod(e.target.value)}
        >
          {methods.length === 0 && (
            <option value="" disabled>
              Loading methods…
            </option>
          )}
          {methods.map((m) => (
            <option key={m.id} value={m.id} disabled={m.unsupported !== undefined}>
              {m.unsupported ? `${m.label} (not available: ${m.unsupported})` : m.label}
            </option>
          ))}
        </select>
        {method && (
          <p id="method-summary" className="help">
            {method.summary}{' '}
            <a href={method.paper.url} target="_blank" rel="noreferrer noopener">
              Paper: {method.paper.title}
            </a>
          </p>
        )}
        {unavailable.length > 0 && (
          <ul className="unavailable" aria-label="Methods not available for this model">
            {unavailable.map((m) => (
              <li key={m.id}>
                <strong>{m.label}</strong> is not available: {m.unsupported}
              </li>
            ))}
          </ul>
        )}
      </div>
      {method && method.fields.length > 0 && (
        <fieldset className="method-form" disabled={running}>
          <legend>Hyperparameters</legend>
          <div className="form-grid">
            {method.fields.map((f) => (
              <MethodField key={`${method.id}:${f.key}`} field={f} />
            ))}
          </div>
        </fieldset>
      )}
    </section>
  );
}
