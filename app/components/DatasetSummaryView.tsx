// The loaded dataset: counts and the first examples.
import { formatInt } from '../format';
import { datasetStale, useStudio } from '../store';

export default function DatasetSummaryView() {
  const d = useStudio((s) => s.dataset);
  const stale = useStudio(datasetStale);
  if (!d) return <p className="muted">No dataset loaded yet.</p>;
  return (
    <div className="dataset-summary">
      <p className="dataset-file">
        <span className="file-name">{d.fileName}</span> <span className="badge">{d.format}</span>
        {stale && <span className="badge badge-warn">re-reading with new settings…</span>}
      </p>
      <dl className="stats">
        <div>
          <dt>Examples</dt>
          <dd>
            {formatInt(d.examples)}{' '}
            <span className="muted small">
              ({formatInt(d.trainExamples)} train / {formatInt(d.evalExamples)} held out)
            </span>
          </dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>{formatInt(d.tokens)}</dd>
        </div>
        <div>
          <dt>Truncated</dt>
          <dd>
            {formatInt(d.truncated)} <span className="muted small">at {formatInt(d.sequenceLength)} tokens</span>
          </dd>
        </div>
      </dl>
      {d.classification && (
        <>
          <h3 id="dataset-labels-heading">Labels</h3>
          <p className="small">
            Text from <strong>{d.classification.columns.text}</strong>
            {d.classification.columns.pair && (
              <>
                {' '}
                and <strong>{d.classification.columns.pair}</strong> (sentence pairs)
              </>
            )}
            , label from <strong>{d.classification.columns.label}</strong>
            {d.classification.ambiguous && <span className="muted"> (other text columns: {d.classification.textColumns.filter((c) => c !== d.classification!.columns.text && c !== d.classification!.columns.pair).join(', ')})</span>}
          </p>
          <ul className="label-set" aria-labelledby="dataset-labels-heading">
            {d.classification.labels.map((l, k) => (
              <li key={l}>
                {l} <span className="muted small">({formatInt(d.classification!.counts[k])} examples, {formatInt(d.classification!.evalCounts[k])} held out)</span>
              </li>
            ))}
          </ul>
        </>
      )}
      {d.preview.length > 0 && (
        <>
          <h3 id="dataset-preview-heading">First examples</h3>
          <ol className="preview" aria-labelledby="dataset-preview-heading">
            {d.preview.map((text, i) => (
              <li key={i}>{text}</li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
