// "Check against CPU": the chosen method's first training steps on this backend and on the
// CPU reference from the same starting weights, compared quantity by quantity, and the
// result of the self-check the backend passed when it started.
import { formatDifference } from '../../src/train/difference';
import { parityBlocker, PARITY_STEPS, useActions, useStudio } from '../store';

const BACKEND_LABEL = { webgpu: 'WebGPU', wasm: 'WebAssembly', cpu: 'CPU' } as const;

function ParityTable() {
  const parity = useStudio((s) => s.parity);
  const methods = useStudio((s) => s.methods);
  const r = parity.report;
  if (parity.status === 'failed') return <p className="check-failed">The check could not run: {parity.message}</p>;
  if (!r) return null;
  const label = methods.find((m) => m.id === r.methodId)?.label ?? r.methodId;
  return (
    <>
      <p className={r.failure ? 'check-failed' : 'check-passed'}>
        {r.failure ? `Differs from the CPU reference: ${r.failure}.` : `Matches the CPU reference: every quantity is within its tolerance.`}
      </p>
      <table className="parity-table">
        <caption>
          {label} on {BACKEND_LABEL[r.backend]} against the CPU reference: {r.steps} steps of batch {r.batchSize} × {r.sequenceLength} ({(r.ms / 1000).toFixed(1)} s)
        </caption>
        <thead>
          <tr>
            <th scope="col">Quantity</th>
            <th scope="col">Relative difference</th>
            <th scope="col">Tolerance</th>
            <th scope="col">Result</th>
            <th scope="col">Furthest tensor</th>
          </tr>
        </thead>
        <tbody>
          {r.checks.map((c) => (
            <tr key={c.name} className={c.ok ? 'ok' : 'bad'}>
              <th scope="row">
                {c.name}
                {c.count > 1 && <span className="muted small"> ({c.count})</span>}
              </th>
              <td>{formatDifference(c.difference)}</td>
              <td>{formatDifference(c.tolerance)}</td>
              <td>{c.ok ? 'Match' : 'Differs'}</td>
              <td>{c.worst ? <code>{c.worst}</code> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export default function BackendCheckPanel() {
  const backend = useStudio((s) => s.backend);
  const blocker = useStudio(parityBlocker);
  const running = useStudio((s) => s.parity.status === 'running');
  const { checkBackend } = useActions();
  return (
    <section className="panel backend-check" aria-labelledby="backend-check-heading">
      <h2 id="backend-check-heading">Backend check</h2>
      {backend?.selfCheck && (
        <p className="self-check">
          <strong>Self-check passed on {BACKEND_LABEL[backend.name]}:</strong> {backend.selfCheck}.
        </p>
      )}
      <p className="help" id="check-help">
        Trains the chosen method for {PARITY_STEPS} steps on your data here and on the CPU reference from the same starting weights, then compares the loss, every gradient and
        every updated weight. A wrong gradient can still lower the loss; this shows whether this backend learns what the CPU learns.
      </p>
      <div className="buttons">
        <button type="button" disabled={blocker !== null} aria-describedby={blocker !== null && !running ? 'check-help check-blocker' : 'check-help'} onClick={checkBackend}>
          {running ? 'Checking…' : 'Check against CPU'}
        </button>
      </div>
      {blocker !== null && !running && (
        <p id="check-blocker" className="help">
          {blocker}
        </p>
      )}
      <ParityTable />
    </section>
  );
}
