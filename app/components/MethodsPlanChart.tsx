// Trainable parameters of every method for the loaded model, each at the settings this page
// has for it (defaults until the person edits them): a log-scale bar chart and a table.
import { useMemo } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatCompact, formatInt, formatTrainablePercent } from '../format';
import { methodPlanRows, useStudio } from '../store';
import ChartTooltip from './ChartTooltip';
import { useUntabbableChart } from './useUntabbableChart';

export default function MethodsPlanChart() {
  const canvasRef = useUntabbableChart();
  const methods = useStudio((s) => s.methods);
  const allPlans = useStudio((s) => s.allPlans);
  const methodForm = useStudio((s) => s.methodForm);
  const methodForms = useStudio((s) => s.methodForms);
  const methodId = useStudio((s) => s.methodId);
  const pending = useStudio((s) => s.allPlansPending);
  const hasModel = useStudio((s) => s.model !== null);
  const rows = useMemo(() => methodPlanRows({ methods, allPlans, methodForm, methodForms, methodId }), [methods, allPlans, methodForm, methodForms, methodId]);
  // Log scale: 0 cannot be drawn, so a 0 count is drawn at 1 (the table says the truth).
  const bars = rows.flatMap((r) => (r.error === undefined ? [{ label: r.label, id: r.methodId, value: Math.max(1, r.trainable), exact: r.trainable }] : []));
  // Whole decades, so the largest bar ends inside the axis and every tick is a power of ten.
  const decades = Math.max(1, Math.ceil(Math.log10(Math.max(10, ...bars.map((b) => b.value)))));
  const top = 10 ** decades;
  const ticks = Array.from({ length: decades + 1 }, (_, i) => 10 ** i);

  return (
    <section className="panel" aria-labelledby="all-plans-heading" aria-busy={pending}>
      <h2 id="all-plans-heading">
        Trainable parameters by method {pending && <span className="badge">updating…</span>}
      </h2>
      {rows.length === 0 ? (
        <p className="muted">{hasModel ? 'Counting parameters…' : 'Counts appear once a model has loaded.'}</p>
      ) : (
        <figure className="chart methods-chart" aria-label="Trainable parameters by method">
          {bars.length > 0 && (
            <div className="chart-canvas" aria-hidden="true" ref={canvasRef}>
              <ResponsiveContainer width="100%" height={40 + 30 * bars.length}>
                <BarChart data={bars} layout="vertical" margin={{ top: 4, right: 24, bottom: 4, left: 8 }} accessibilityLayer={false}>
                  <CartesianGrid horizontal={false} strokeDasharray="3 3" />
                  <XAxis type="number" scale="log" domain={[1, top]} ticks={ticks} allowDataOverflow tickFormatter={formatCompact} />
                  <YAxis type="category" dataKey="label" width={130} />
                  <Tooltip
                    cursor={{ fill: 'rgba(0,0,0,0.04)' }}
                    content={(props) => (
                      <ChartTooltip
                        active={props.active}
                        label={props.label}
                        payload={props.payload?.map((p) => ({ ...p, name: 'Trainable parameters', value: (p.payload as { exact: number }).exact }))}
                        formatValue={formatInt}
                      />
                    )}
                  />
                  <Bar dataKey="value" isAnimationActive={false} barSize={18}>
                    {bars.map((b) => (
                      <Cell key={b.id} fill={b.id === methodId ? 'var(--accent)' : 'var(--frozen)'} />
                    ))}
                  </Bar>
                </BarChart>
              </ResponsiveContainer>
            </div>
          )}
          <figcaption className="muted small">
            Log scale. Each method at the settings chosen on this page for it (its defaults until edited); the chosen method is highlighted.
          </figcaption>
          <table className="methods-table">
            <thead>
              <tr>
                <th scope="col">Method</th>
                <th scope="col" className="num">
                  Trainable parameters
                </th>
                <th scope="col" className="num">
                  Trainable %
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.methodId} aria-current={r.methodId === methodId ? 'true' : undefined}>
                  <th scope="row">{r.label}</th>
                  {r.error === undefined ? (
                    <>
                      <td className="num">{formatInt(r.trainable)}</td>
                      <td className="num">{formatTrainablePercent(r.trainable, r.total)}</td>
                    </>
                  ) : (
                    <td colSpan={2} className="muted">
                      {r.error}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </figure>
      )}
    </section>
  );
}
