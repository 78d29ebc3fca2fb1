// "Compare methods": tick methods, train each in turn on the same data and settings, and see
// their held-out loss curves overlaid and a table of what each cost and achieved.
import { lazy, useDeferredValue, useMemo } from 'react';
import { compareRows } from '../compare-series';
import { formatBytes, formatInt, formatTokensPerSecond, formatTrainablePercent, formatWallTime } from '../format';
import { compareBlocker, isBusy, isCompareActive, useActions, useStudio } from '../store';
import { formatAccuracy, formatMacroF1 } from '../store/slices/run';
import ChartCanvas from './ChartCanvas';
import ChartLegend from './ChartLegend';
import type { CompareChartDrawingProps } from './CompareChartDrawing';

const CompareChartDrawing = lazy(() => import('./CompareChartDrawing'));

const CHART_HEIGHT = 260;

/** Line colours, in run order; distinct in hue and lightness. */
const COLORS = ['#3b5bdb', '#d9480f', '#2b8a3e', '#ae3ec9', '#e67700', '#0c8599', '#495057', '#c2255c'];

function CompareChart() {
  const curves = useStudio((s) => s.compare.curves);
  const methodIds = useStudio((s) => s.compare.methodIds);
  const totalSteps = useStudio((s) => s.compare.totalSteps);
  const methods = useStudio((s) => s.methods);
  const drawingProps = useMemo<CompareChartDrawingProps>(() => {
    const lines = methodIds
      .filter((id) => (curves[id] ?? []).length > 0)
      .map((id) => ({ id, name: methods.find((m) => m.id === id)?.label ?? id, stroke: COLORS[methodIds.indexOf(id) % COLORS.length] }));
    return { rows: compareRows(curves, methodIds), lines, totalSteps };
  }, [curves, methodIds, totalSteps, methods]);
  // The drawing follows as a transition, after the table and status have updated.
  const drawn = useDeferredValue(drawingProps);

  return (
    <figure className="chart compare-chart" aria-label="Held-out loss by method">
      {drawingProps.rows.length === 0 ? (
        <p className="chart-empty muted">Each method’s held-out loss appears here as its run evaluates.</p>
      ) : (
        <>
          <ChartLegend entries={drawingProps.lines.map((l) => ({ name: l.name, color: l.stroke }))} />
          <ChartCanvas drawing={CompareChartDrawing} props={drawn} height={CHART_HEIGHT} />
        </>
      )}
      <figcaption className="small muted">Held-out loss against step, one line per method; the table below has the final values.</figcaption>
    </figure>
  );
}

/**
 * The comparison as the PEFT papers tabulate it: each method's trainable share beside what it
 * achieved. A classifier's rows add held-out accuracy and macro-F1 (full fine-tuning's row is
 * the baseline the papers measure against).
 */
function CompareTable() {
  const results = useStudio((s) => s.compare.results);
  const methods = useStudio((s) => s.methods);
  if (results.length === 0) return null;
  const label = (id: string) => methods.find((m) => m.id === id)?.label ?? id;
  const classifier = results.some((r) => r.finalClassification !== null);
  const heldOut = (r: (typeof results)[number], value: string) => (r.reason === 'failed' ? `failed at step ${formatInt(r.step)}` : value);
  return (
    <table className="compare-table">
      <caption className="visually-hidden">Comparison results</caption>
      <thead>
        <tr>
          <th scope="col">Method</th>
          <th scope="col" className="num">
            Trainable parameters
          </th>
          <th scope="col" className="num">
            Trainable share
          </th>
          {classifier && (
            <>
              <th scope="col" className="num">
                Held-out accuracy
              </th>
              <th scope="col" className="num">
                Macro-F1
              </th>
            </>
          )}
          <th scope="col" className="num">
            Final held-out loss
          </th>
          <th scope="col" className="num">
            Tokens/s
          </th>
          <th scope="col" className="num">
            Export size
          </th>
          <th scope="col" className="num">
            Wall time
          </th>
        </tr>
      </thead>
      <tbody>
        {results.map((r) => (
          <tr key={r.methodId}>
            <th scope="row">{label(r.methodId)}</th>
            <td className="num">{formatInt(r.trainable)}</td>
            <td className="num">{formatTrainablePercent(r.trainable, r.total)}%</td>
            {classifier && (
              <>
                <td className="num">{heldOut(r, r.finalClassification ? formatAccuracy(r.finalClassification.accuracy) : '— (nothing held out)')}</td>
                <td className="num">{heldOut(r, r.finalClassification ? formatMacroF1(r.finalClassification.macroF1) : '—')}</td>
              </>
            )}
            <td className="num">{heldOut(r, r.finalEvalLoss === null ? '— (nothing held out)' : r.finalEvalLoss.toFixed(4))}</td>
            <td className="num">{formatTokensPerSecond(r.tokensPerSecond)}</td>
            <td className="num">{formatBytes(r.adapterBytes)}</td>
            <td className="num">{formatWallTime(r.wallMs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CompareStatusLine() {
  const compare = useStudio((s) => s.compare);
  const methods = useStudio((s) => s.methods);
  const label = (id: string) => methods.find((m) => m.id === id)?.label ?? id;
  const n = compare.methodIds.length;
  switch (compare.status) {
    case 'idle':
      return null;
    case 'starting':
      return <p className="compare-state">Starting…</p>;
    case 'running':
    case 'stopping': {
      const at = compare.current ? compare.methodIds.indexOf(compare.current) + 1 : compare.results.length;
      return (
        <p className="compare-state">
          {compare.status === 'stopping' ? 'Stopping… ' : ''}
          {compare.current ? `Training ${label(compare.current)} (${at} of ${n}).` : `${compare.results.length} of ${n} done.`} Stop ends the comparison; finished runs keep their rows.
        </p>
      );
    }
    case 'finished':
      return <p className="compare-state">Finished: {formatInt(compare.results.length)} methods on the same data and settings.</p>;
    case 'stopped':
      return (
        <p className="compare-state">
          Stopped after {formatInt(compare.results.length)} of {formatInt(n)} methods.
        </p>
      );
    case 'failed':
      return <p className="compare-state field-error">Failed: {compare.message ?? 'unknown error'}</p>;
  }
}

export default function ComparePanel() {
  const methods = useStudio((s) => s.methods);
  const selected = useStudio((s) => s.compare.selected);
  const busy = useStudio(isBusy);
  const active = useStudio((s) => isCompareActive(s.compare.status));
  const blocker = useStudio(compareBlocker);
  const { toggleCompareMethod, startCompare } = useActions();
  const unavailable = methods.filter((m) => m.unsupported);

  return (
    <section className="panel compare-panel" aria-labelledby="compare-heading" aria-busy={active}>
      <h2 id="compare-heading">Compare methods</h2>
      <p className="help">
        Trains each ticked method in turn on the loaded dataset with the training settings above (same seed, same batches), each at the settings chosen for it under
        Method.
      </p>
      <fieldset className="checkbox-group" disabled={busy}>
        <legend>Methods to compare</legend>
        <div className="checkboxes">
          {methods.map((m) => (
            <label key={m.id} className="checkbox">
              <input
                type="checkbox"
                checked={selected.includes(m.id)}
                disabled={m.unsupported !== undefined}
                onChange={(e) => toggleCompareMethod(m.id, e.target.checked)}
              />
              <span>{m.label}</span>
            </label>
          ))}
        </div>
        {unavailable.length > 0 && (
          <ul className="unavailable">
            {unavailable.map((m) => (
              <li key={m.id}>
                <strong>{m.label}</strong> is not available: {m.unsupported}
              </li>
            ))}
          </ul>
        )}
      </fieldset>
      <div className="buttons compare-buttons">
        <button type="button" className="primary" disabled={blocker !== null} aria-describedby="compare-blocker" onClick={startCompare}>
          Compare methods
        </button>
      </div>
      <p id="compare-blocker" className="help">
        {blocker ?? `Ready to train ${selected.length} methods one after another.`}
      </p>
      <CompareStatusLine />
      <CompareChart />
      <CompareTable />
    </section>
  );
}
