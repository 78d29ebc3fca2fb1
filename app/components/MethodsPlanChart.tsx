// Trainable parameters of every method for the loaded model, each at the settings this page
// has for it (defaults until the person edits them): a log-scale bar chart and a table.
import { lazy, useMemo } from 'react';
import { formatInt, formatTrainablePercent } from '../format';
import { methodPlanRows, useStudio } from '../store';
import ChartCanvas from './ChartCanvas';
import type { ParameterBarsDrawingProps } from './ParameterBarsDrawing';

const ParameterBarsDrawing = lazy(() => import('./ParameterBarsDrawing'));

export default function MethodsPlanChart() {
  const methods = useStudio((s) => s.methods);
  const allPlans = useStudio((s) => s.allPlans);
  const methodForm = useStudio((s) => s.methodForm);
  const methodForms = useStudio((s) => s.methodForms);
  const methodId = useStudio((s) => s.methodId);
  const pending = useStudio((s) => s.allPlansPending);
  const hasModel = useStudio((s) => s.model !== null);
  const rows = useMemo(() => methodPlanRows({ methods, allPlans, methodForm, methodForms, methodId }), [methods, allPlans, methodForm, methodForms, methodId]);
  // The chosen method's bar is highlighted; the table below gives every count exactly.
  const drawingProps = useMemo<ParameterBarsDrawingProps>(() => {
    const bars = rows.flatMap((r) =>
      r.error === undefined ? [{ id: r.methodId, label: r.label, exact: r.trainable, fill: r.methodId === methodId ? 'var(--accent)' : 'var(--frozen)' }] : [],
    );
    return { bars, seriesName: 'Trainable parameters', labelWidth: 130, barSize: 18 };
  }, [rows, methodId]);
  const height = 40 + 30 * drawingProps.bars.length;

  return (
    <section className="panel" aria-labelledby="all-plans-heading" aria-busy={pending}>
      <h2 id="all-plans-heading">
        Trainable parameters by method {pending && <span className="badge">updating…</span>}
      </h2>
      {rows.length === 0 ? (
        <p className="muted">{hasModel ? 'Counting parameters…' : 'Counts appear once a model has loaded.'}</p>
      ) : (
        <figure className="chart methods-chart" aria-label="Trainable parameters by method">
          {drawingProps.bars.length > 0 && <ChartCanvas drawing={ParameterBarsDrawing} props={drawingProps} height={height} />}
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
