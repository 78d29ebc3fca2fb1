// The examples' token lengths as bars, the bins longer than a row set apart, with the counts as
// a table for screen readers and anyone who wants the numbers.
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { LengthHistogram } from '../../src/data/layout';
import { formatInt } from '../format';
import ChartTooltip from './ChartTooltip';
import { useUntabbableChart } from './useUntabbableChart';

const binLabel = (from: number, to: number) => (from === to ? formatInt(to) : `${formatInt(from)}–${formatInt(to)}`);

export default function TokenLengthChart({ lengths, sequenceLength, examples }: { lengths: LengthHistogram; sequenceLength: number; examples: number }) {
  const canvasRef = useUntabbableChart();
  const data = lengths.bins.map((b) => ({ name: binLabel(b.from, b.to), count: b.count, over: b.from > sequenceLength }));
  const caption = `${formatInt(lengths.exceeding)} of ${formatInt(examples)} example${examples === 1 ? '' : 's'} longer than the sequence length of ${formatInt(sequenceLength)} tokens; the longest has ${formatInt(lengths.longest)}.`;
  return (
    <figure className="chart length-chart" aria-label="Token lengths chart" aria-describedby="length-chart-caption">
      <div className="chart-canvas" aria-hidden="true" ref={canvasRef}>
        <ResponsiveContainer width="100%" height={140}>
          <BarChart data={data} margin={{ top: 4, right: 8, bottom: 4, left: 0 }} accessibilityLayer={false}>
            <CartesianGrid vertical={false} strokeDasharray="3 3" />
            <XAxis dataKey="name" interval={0} tick={{ fontSize: 10 }} />
            <YAxis allowDecimals={false} width={36} />
            <Tooltip
              cursor={{ fill: 'rgba(0,0,0,0.04)' }}
              content={(props) => (
                <ChartTooltip
                  active={props.active}
                  label={props.label}
                  labelPrefix="Tokens "
                  payload={props.payload?.map((p) => ({ ...p, name: 'Examples' }))}
                  formatValue={formatInt}
                />
              )}
            />
            <Bar dataKey="count" isAnimationActive={false}>
              {data.map((d) => (
                <Cell key={d.name} fill={d.over ? 'var(--warn)' : 'var(--accent)'} />
              ))}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
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
