// The "Method" select, the method's summary and paper, and its hyperparameter form; methods
// that do not apply to the loaded model are disabled options with the reason beside them.
import { isBusy, selectedMethod, useActions, useStudio } from '../store';
import MethodField from './MethodField';

export default function MethodPanel() {
  const methods = useStudio((s) => s.methods);
  const methodId = useStudio((s) => s.methodId);
  const method = useStudio(selectedMethod);
  const running = useStudio(isBusy);
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
          aria-describedby={[method ? 'method-summary' : '', unavailable.length > 0 ? 'methods-unavailable' : ''].filter(Boolean).join(' ') || undefined}
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
          <ul id="methods-unavailable" className="unavailable" aria-label="Methods not available for this model">
            {unavailable.map((m) => (
              <li key={m.id}>
                <strong>{m.label}</strong> is not available: {m.unsupported}
              </li>
            ))}
          </ul>
        )}
      </div>
      {methods.length > 0 && (
        <details className="all-methods">
          <summary>All methods ({methods.length})</summary>
          <dl>
            {methods.map((m) => (
              <div key={m.id}>
                <dt>
                  {m.label}
                  {m.unsupported && <span className="badge badge-warn">not available</span>}
                </dt>
                <dd>
                  {m.summary}{' '}
                  <a href={m.paper.url} target="_blank" rel="noreferrer noopener">
                    {m.paper.title}
                  </a>
                  {m.unsupported && <span className="muted"> · {m.unsupported}</span>}
                </dd>
              </div>
            ))}
          </dl>
        </details>
      )}
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
