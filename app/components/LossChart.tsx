// Training and held-out loss against step, growing live, with a text alternative. The drawing
// follows the numbers as a transition (useDeferredValue): the caption and the progress above it
// update in the task the worker's message arrives in, the drawing in tasks after it.
import { lazy, useDeferredValue, useMemo } from 'react';
import { formatInt, formatLoss } from '../format';
import { thinRows } from '../loss-series';
import { useStudio } from '../store';
import ChartCanvas from './ChartCanvas';
import ChartLegend from './ChartLegend';
import type { LossChartDrawingProps, LossLine } from './LossChartDrawing';

const LossChartDrawing = lazy(() => import('./LossChartDrawing'));

const MAX_DRAWN_ROWS = 1500;
const HEIGHT = 300;

interface LossTerm {
  key: 'ce' | 'clm' | 'mlm' | 'cos';
  name: string;
  stroke: string;
}

/** Distillation's loss terms, each drawn as its own curve beside the weighted total. */
const TERMS: readonly LossTerm[] = [
  { key: 'ce', name: 'Soft-target loss', stroke: '#b5651d' },
  { key: 'clm', name: 'LM loss', stroke: '#2e8b57' },
  { key: 'mlm', name: 'MLM loss', stroke: '#2e8b57' },
  { key: 'cos', name: 'Cosine loss', stroke: '#8a4fbf' },
];

export default function LossChart() {
  const rows = useStudio((s) => s.run.lossRows);
  const totalSteps = useStudio((s) => s.run.totalSteps);
  const evalRows = useMemo(() => rows.filter((r) => r.evalLoss !== undefined), [rows]);
  const lastTrain = useMemo(() => [...rows].reverse().find((r) => r.loss !== undefined), [rows]);
  const lastEval = evalRows[evalRows.length - 1];
  const reference = useStudio((s) => s.run.reference);
  const terms = useMemo(() => TERMS.filter((t) => rows.some((r) => r[t.key] !== undefined)), [rows]);
  // The lines drawn, named once for the drawing and the legend above it.
  const lines = useMemo<LossLine[]>(
    () => [
      { key: 'loss', name: terms.length > 0 ? 'Total loss' : 'Training loss', stroke: 'var(--accent)', term: false, dots: false },
      { key: 'evalLoss', name: 'Held-out loss', stroke: 'var(--eval)', term: false, dots: true },
      ...terms.map((t) => ({ ...t, term: true, dots: false })),
    ],
    [terms],
  );
  const drawingProps = useMemo<LossChartDrawingProps>(
    () => ({ rows: thinRows(rows, MAX_DRAWN_ROWS), totalSteps, lines, reference }),
    [rows, totalSteps, lines, reference],
  );
  const drawn = useDeferredValue(drawingProps);

  return (
    <section className="panel">
      <h2>Loss</h2>
      <figure className="chart loss-chart" aria-label="Loss chart">
        {rows.length === 0 ? (
          <p className="chart-empty muted">The training and held-out loss appear here once training starts.</p>
        ) : (
          <>
            <ChartLegend entries={lines.map((l) => ({ name: l.name, color: l.stroke, dashed: l.term }))} />
            <ChartCanvas drawing={LossChartDrawing} props={drawn} height={HEIGHT} />
          </>
        )}
        <figcaption className="small">
          {lastTrain ? (
            <>
              {terms.length > 0 ? 'Total loss' : 'Training loss'} {formatLoss(lastTrain.loss!)} at step {formatInt(lastTrain.step)}
              {terms.map((t) => (lastTrain[t.key] !== undefined ? `; ${t.name.toLowerCase()} ${formatLoss(lastTrain[t.key]!)}` : ''))}
              {lastEval ? (
                <>
                  ; held-out loss {formatLoss(lastEval.evalLoss!)} at step {formatInt(lastEval.step)}
                </>
              ) : (
                '; no held-out evaluation yet'
              )}
              {reference !== null && (
                <>
                  ; {reference.label.toLowerCase()} {formatLoss(reference.evalLoss)}
                </>
              )}
              .
            </>
          ) : (
            'No loss values yet.'
          )}
        </figcaption>
        {evalRows.length > 0 && (
          <details className="loss-table">
            <summary>Held-out evaluations as a table</summary>
            <table>
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Step
                  </th>
                  <th scope="col" className="num">
                    Training loss
                  </th>
                  <th scope="col" className="num">
                    Held-out loss
                  </th>
                </tr>
              </thead>
              <tbody>
                {evalRows.map((r) => (
                  <tr key={r.step}>
                    <td className="num">{formatInt(r.step)}</td>
                    <td className="num">{r.loss !== undefined ? r.loss.toFixed(4) : '—'}</td>
                    <td className="num">{r.evalLoss!.toFixed(4)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        )}
      </figure>
    </section>
  );
}
