// The examples' token lengths as bars, the bins longer than a row set apart, with the counts as
// a table for screen readers and anyone who wants the numbers.
import { lazy, useMemo } from 'react';
import type { LengthHistogram } from '../../src/data/layout';
import { formatInt } from '../format';
import ChartCanvas from './ChartCanvas';

const TokenLengthChartDrawing = lazy(() => import('./TokenLengthChartDrawing'));

const HEIGHT = 140;

const binLabel = (from: number, to: number) => (from === to ? formatInt(to) : `${formatInt(from)}–${formatInt(to)}`);

export default function TokenLengthChart({ lengths, sequenceLength, examples }: { lengths: LengthHistogram; sequenceLength: number; examples: number }) {
  const data = useMemo(() => lengths.bins.map((b) => ({ name: binLabel(b.from, b.to), count: b.count, over: b.from > sequenceLength })), [lengths, sequenceLength]);
  const drawingProps = useMemo(() => ({ data }), [data]);
  const caption = `${formatInt(lengths.exceeding)} of ${formatInt(examples)} example${examples === 1 ? '' : 's'} longer than the sequence length of ${formatInt(sequenceLength)} tokens; the longest has ${formatInt(lengths.longest)}.`;
  return (
    <figure className="chart length-chart" aria-label="Token lengths chart" aria-describedby="length-chart-caption">
      <ChartCanvas drawing={TokenLengthChartDrawing} props={drawingProps} height={HEIGHT} />
      <figcaption id="length-chart-caption" className="muted small" data-testid="length-caption">
        Token lengths of the examples. {caption}
      </figcaption>
      <details className="length-table">
        <summary>Token lengths as a table</summary>
        <table data-testid="length-table">
          <thead>
            <tr>
              <th scope="col">Tokens</th>
              <th scope="col" className="num">
                Examples
              </th>
            </tr>
          </thead>
          <tbody>
            {data.map((d) => (
              <tr key={d.name}>
                <td>
                  {d.name}
                  {d.over && <span className="muted"> (longer than a row)</span>}
                </td>
                <td className="num">{formatInt(d.count)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
