// "Compute backend": what the worker is training on, why a preferred backend was skipped,
// and, for software WebGPU, the way to the faster backend.
import { urlWithBackend } from '../url';
import { useStudio } from '../store';

export default function BackendPanel() {
  const report = useStudio((s) => s.backend);
  const requested = useStudio((s) => s.requestedBackend);
  const failure = useStudio((s) => s.backendFailure);

  return (
    <section className="backend" aria-labelledby="backend-label">
      <span id="backend-label" className="backend-label">
        Compute backend
      </span>
      {report ? (
        <div className="backend-body">
          <span className={`backend-name backend-${report.name}${report.software ? ' is-software' : ''}`}>{report.description}</span>
          {report.forced && (
            <span className="backend-forced">
              {' '}
              (chosen with <code>?backend={requested ?? report.name}</code>)
            </span>
          )}
          {report.fallbacks.length > 0 && (
            <ul className="backend-fallbacks" aria-label="Why other backends were not used">
              {report.fallbacks.map((reason, i) => (
                <li key={i}>{reason}</li>
              ))}
            </ul>
          )}
          {report.software && (
            <p className="backend-note">
              This WebGPU is a software fallback (SwiftShader) and slow.{' '}
              <a href={urlWithBackend(window.location.href, 'wasm')}>Reload with the WebAssembly backend</a>
            </p>
          )}
        </div>
      ) : failure ? (
        <span className="backend-body backend-failed">
          None could start: {failure}
          {requested && (
            <>
              {' '}
              <a href={urlWithBackend(window.location.href, undefined)}>Reload and let the studio choose</a>
            </>
          )}
        </span>
      ) : (
        <span className="backend-body muted">Starting{requested ? ` ${requested}` : ''}…</span>
      )}
    </section>
  );
}
