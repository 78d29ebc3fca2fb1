// Training and held-out loss against step, growing live, with a text alternative.
import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatInt, formatLoss } from '../format';
import { thinRows } from '../loss-series';
import { useStudio } from '../store';
import ChartTooltip from './ChartTooltip';
import { useUntabbableChart } from './useUntabbableChart';

const MAX_DRAWN_ROWS = 1500;

/** Distillation's loss terms, each drawn as its own curve beside the weighted total. */
const TERMS = [
  { key: 'ce', name: 'Soft-target loss', stroke: '#b5651d' },
  { key: 'clm', name: 'LM loss', stroke: '#2e8b57' },
  { key: 'mlm', name: 'MLM loss', stroke: '#2e8b57' },
  { key: 'cos', name: 'Cosine loss', stroke: '#8a4fbf' },
] as const;

export default function LossChart() {
  const canvasRef = useUntabbableChart();
  const rows = useStudio((s) => s.run.lossRows);
  const totalSteps = useStudio((s) => s.run.totalSteps);
  const drawn = useMemo(() => thinRows(rows, MAX_DRAWN_ROWS), [rows]);
  const evalRows = useMemo(() => rows.filter((r) => r.evalLoss !== undefined), [rows]);
  const lastTrain = useMemo(() => [...rows].reverse().find((r) => r.loss !== undefined), [rows]);
  const lastEval = evalRows[evalRows.length - 1];
  const reference = useStudio((s) => s.run.reference);
  const terms = useMemo(() => TERMS.filter((t) => rows.some((r) => r[t.key] !== undefined)), [rows]);

  return (
    <section className="panel">
      <h2>Loss</h2>
      <figure className="chart loss-chart" aria-label="Loss chart">
        {rows.length === 0 ? (
          <p className="chart-empty muted">The training and held-out loss appear here once training starts.</p>
        ) : (
          <div className="chart-canvas" aria-hidden="true" ref={canvasRef}>
            <ResponsiveContainer width="100%" height={300}>
              <LineChart data={drawn} margin={{ top: 8, right: 16, bottom: 24, left: 8 }} accessibilityLayer={false}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis
                  dataKey="step"
                  type="number"
                  domain={[0, totalSteps > 0 ? totalSteps : 'dataMax']}
                  allowDecimals={false}
                  label={{ value: 'Step', position: 'insideBottom', offset: -12 }}
                />
                <YAxis
                  domain={['auto', 'auto']}
                  tickFormatter={(v: number) => formatLoss(v)}
                  width={56}
                  label={{ value: 'Loss', angle: -90, position: 'insideLeft' }}
                />
                <Tooltip content={(props) => <ChartTooltip active={props.active} payload={props.payload} label={props.label} labelPrefix="Step " formatValue={(v) => v.toFixed(4)} />} />
                <Legend verticalAlign="top" height={28} itemSorter={null} />
                <Line type="linear" dataKey="loss" name={terms.length > 0 ? 'Total loss' : 'Training loss'} stroke="var(--accent)" strokeWidth={2} dot={false} isAnimationActive={false} connectNulls />
                <Line
                  type="linear"
                  dataKey="evalLoss"
                  name="Held-out loss"
                  stroke="var(--eval)"
                  strokeWidth={2}
                  dot={{ r: 3 }}
                  isAnimationActive={false}
                  connectNulls
                />
                {terms.map((t) => (
                  <Line key={t.key} type="linear" dataKey={t.key} name={t.name} stroke={t.stroke} strokeWidth={1.5} strokeDasharray="4 2" dot={false} isAnimationActive={false} connectNulls />
                ))}
                {reference !== null && (
                  <ReferenceLine y={reference.evalLoss} stroke="var(--eval)" strokeDasharray="6 4" ifOverflow="extendDomain" label={{ value: reference.label, position: 'insideTopRight', fontSize: 11 }} />
                )}
              </LineChart>
            </ResponsiveContainer>
          </div>
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
