// The run's progress bar and live numbers. The step count, throughput, elapsed time and ETA
// move at every step the worker finishes; the loss, learning rate and grad norm when the losses
// are read back, a few steps at a time.
import { formatBytes, formatDuration, formatInt, formatLearningRate, formatLoss, formatNumber, formatTokensPerSecond } from '../format';
import { evaluatingLine, isCompareActive, stoppingLine, useStudio } from '../store';

const STATUS_TEXT = {
  idle: '',
  starting: 'Starting…',
  running: 'Training',
  stopping: 'Stopping…',
  finished: 'Finished',
  stopped: 'Stopped',
  failed: 'Failed',
} as const;

export default function RunProgress() {
  const run = useStudio((s) => s.run);
  const methodLabel = useStudio((s) => s.methods.find((m) => m.id === s.run.methodId)?.label);
  // Within a comparison: which run of how many this is.
  const comparePosition = useStudio((s) =>
    isCompareActive(s.compare.status) && s.run.methodId ? `${s.compare.methodIds.indexOf(s.run.methodId) + 1} of ${s.compare.methodIds.length}` : null,
  );
  if (run.status === 'idle') return null;

  const p = run.latest;
  // The latest finished step, unless its losses were read back at the same step or later.
  const clock = run.stepped && (!p || run.stepped.step >= p.step) ? run.stepped : p;
  const total = Math.max(run.totalSteps, p?.totalSteps ?? 0);
  const step = clock?.step ?? 0;
  const pct = total > 0 ? Math.min(100, (100 * step) / total) : 0;
  const ended = run.status === 'finished' || run.status === 'stopped' || run.status === 'failed';

  return (
    <div className={`run-progress run-${run.status}`}>
      <p className="run-state">
        <strong>{run.status === 'stopping' ? stoppingLine(run, true) : run.status === 'running' && run.evaluating ? evaluatingLine(run.evaluating) : STATUS_TEXT[run.status]}</strong>
        {methodLabel && <span className="muted"> · {methodLabel}</span>}
        {comparePosition && <span className="muted"> · comparison run {comparePosition}</span>}
        {run.status === 'failed' && run.endMessage && <span className="field-error"> · {run.endMessage}</span>}
      </p>
      <div className="progress-row">
        <div
          role="progressbar"
          aria-label="Training progress"
          aria-valuemin={0}
          aria-valuemax={total || 1}
          aria-valuenow={step}
          aria-valuetext={total > 0 ? `Step ${step} of ${total}` : 'Starting'}
          className="progress"
        >
          <div className="progress-fill" style={{ width: `${pct}%` }} />
        </div>
        <span className="progress-text">
          Step {formatInt(step)} of {total > 0 ? formatInt(total) : '…'}
          {!ended && clock && <> · {formatTokensPerSecond(clock.tokensPerSecond)} · ETA {formatDuration(clock.etaMs)}</>}
        </span>
      </div>
      {clock && (
        <dl className="stats stats-compact">
          <div>
            <dt>Loss</dt>
            <dd>{p ? `${formatLoss(p.loss)}${p.step < step ? ` (step ${p.step})` : ''}` : '—'}</dd>
          </div>
          <div>
            <dt>Held-out loss</dt>
            <dd>{run.lastEval ? `${formatLoss(run.lastEval.evalLoss)} (step ${run.lastEval.step})` : '—'}</dd>
          </div>
          <div>
            <dt>ETA</dt>
            <dd>{ended ? '—' : formatDuration(clock.etaMs)}</dd>
          </div>
          <div>
            <dt>Elapsed</dt>
            <dd>{formatDuration(clock.elapsedMs)}</dd>
          </div>
          <div>
            <dt>Tokens/s</dt>
            <dd>{formatTokensPerSecond(clock.tokensPerSecond)}</dd>
          </div>
          <div>
            <dt>Learning rate</dt>
            <dd>{p ? formatLearningRate(p.learningRate) : '—'}</dd>
          </div>
          <div>
            <dt>Grad norm</dt>
            <dd>{p ? formatNumber(p.gradNorm) : '—'}</dd>
          </div>
          <div>
            <dt>Epoch</dt>
            <dd>{formatNumber(clock.epoch)}</dd>
          </div>
          <div>
            <dt>Tensors in memory</dt>
            <dd>
              {p ? (
                <>
                  {formatInt(p.numTensors)} <span className="muted small">({formatBytes(p.numBytes)})</span>
                </>
              ) : (
                '—'
              )}
            </dd>
          </div>
        </dl>
      )}
    </div>
  );
}
