// The run's progress bar and live numbers.
import { formatBytes, formatDuration, formatInt, formatLearningRate, formatLoss, formatNumber, formatTokensPerSecond } from '../format';
import { isCompareActive, useStudio } from '../store';

const STATUS_TEXT = {
  idle: '',
  starting: 'Starting…',
  running: 'Training',
  stopping: 'Stopping after the current step…',
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
  const total = Math.max(run.totalSteps, p?.totalSteps ?? 0);
  const step = p?.step ?? 0;
  const pct = total > 0 ? Math.min(100, (100 * step) / total) : 0;
  const ended = run.status === 'finished' || run.status === 'stopped' || run.status === 'failed';

  return (
    <div className={`run-progress run-${run.status}`}>
      <p className="run-state">
        <strong>{STATUS_TEXT[run.status]}</strong>
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
          {formatInt(step)}/{total > 0 ? formatInt(total) : '…'}
          {!ended && p && <> · ETA {formatDuration(p.etaMs)}</>}
        </span>
      </div>
      {p && (
        <dl className="stats stats-compact">
          <div>
            <dt>Loss</dt>
            <dd>{formatLoss(p.loss)}</dd>
          </div>
          <div>
            <dt>Held-out loss</dt>
            <dd>{run.lastEval ? `${formatLoss(run.lastEval.evalLoss)} (step ${run.lastEval.step})` : '—'}</dd>
          </div>
          <div>
            <dt>ETA</dt>
            <dd>{ended ? '—' : formatDuration(p.etaMs)}</dd>
          </div>
          <div>
            <dt>Elapsed</dt>
            <dd>{formatDuration(p.elapsedMs)}</dd>
          </div>
          <div>
            <dt>Tokens/s</dt>
            <dd>{formatTokensPerSecond(p.tokensPerSecond)}</dd>
          </div>
          <div>
            <dt>Learning rate</dt>
            <dd>{formatLearningRate(p.learningRate)}</dd>
          </div>
          <div>
            <dt>Grad norm</dt>
            <dd>{formatNumber(p.gradNorm)}</dd>
          </div>
          <div>
            <dt>Epoch</dt>
            <dd>{formatNumber(p.epoch)}</dd>
          </div>
          <div>
            <dt>Tensors in memory</dt>
            <dd>
              {formatInt(p.numTensors)} <span className="muted small">({formatBytes(p.numBytes)})</span>
            </dd>
          </div>
        </dl>
      )}
    </div>
  );
}
