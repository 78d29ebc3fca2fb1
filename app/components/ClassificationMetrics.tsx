// A sequence classifier's latest held-out evaluation: accuracy, macro-F1 and the confusion
// matrix (rows: true label, columns: predicted label), read from the store.
import { formatInt } from '../format';
import { useStudio } from '../store';
import { formatAccuracy, formatMacroF1 } from '../store/slices/run';

export default function ClassificationMetrics() {
  const point = useStudio((s) => s.run.lastEval);
  const labels = useStudio((s) => s.dataset?.classification?.labels);
  const m = point?.classification;
  if (!m || !labels || labels.length !== m.confusion.length) return null;
  return (
    <section className="panel" aria-labelledby="classification-heading">
      <h2 id="classification-heading">Held-out classification</h2>
      <p className="classification-scores">
        <span>Accuracy {formatAccuracy(m.accuracy)}</span> · <span>Macro-F1 {formatMacroF1(m.macroF1)}</span>{' '}
        <span className="muted small">
          ({formatInt(m.examples)} held-out examples, step {formatInt(point.step)})
        </span>
      </p>
      <table className="confusion-matrix">
        <caption>Confusion matrix: rows are the true labels, columns the predicted ones</caption>
        <thead>
          <tr>
            <td />
            {labels.map((l) => (
              <th key={l} scope="col">
                Predicted {l}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {m.confusion.map((row, t) => (
            <tr key={labels[t]}>
              <th scope="row">True {labels[t]}</th>
              {row.map((n, p) => (
                <td key={labels[p]} className={t === p ? 'confusion-hit' : undefined}>
                  {formatInt(n)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
