// Trainable vs frozen parameters, as bars on a log scale, with a text alternative.
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatCompact, formatInt } from '../format';
import ChartTooltip from './ChartTooltip';
import { useUntabbableChart } from './useUntabbableChart';

export default function ParamChart({ trainable, total }: { trainable: number; total: number }) {
  const canvasRef = useUntabbableChart();
  const frozen = Math.max(0, total - trainable);
  // Log scale: 0 cannot be drawn, so a 0 count is drawn at 1 (the text says the truth).
  const data = [
    { name: 'Trainable', value: Math.max(1, trainable), exact: trainable },
    { name: 'Frozen', value: Math.max(1, frozen), exact: frozen },
  ];
  const colors = ['var(--accent)', 'var(--frozen)'];

  return (
    <figure className="chart param-chart" aria-label="Trainable and frozen parameters chart">
      <div className="chart-canvas" aria-hidden="true" ref={canvasRef}>
        <ResponsiveContainer width="100%" height={110}>
          <BarChart data={data} layout="vertical" margin={{ top: 4, right: 24, bottom: 4, left: 8 }} accessibilityLayer={false}>
            <CartesianGrid horizontal={false} strokeDasharray="3 3" />
            <XAxis type="number" scale="log" domain={[1, 'auto']} allowDataOverflow tickFormatter={formatCompact} />
            <YAxis type="category" dataKey="name" width={80} />
            <Tooltip
              cursor={{ fill: 'rgba(0,0,0,0.04)' }}
              content={(props) => (
                <ChartTooltip
                  active={props.active}
                  label={props.label}
                  payload={props.payload?.map((p) => ({ ...p, name: 'Parameters', value: (p.payload as { exact: number }).exact }))}
                  formatValue={formatInt}
                />
              )}
            />
            <Bar dataKey="value" isAnimationActive={false} barSize={22}>
              {data.map((d, i) => (
                <Cell key={d.name} fill={colors[i]} />
              ))}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="muted small">
        Log scale. Trainable {formatInt(trainable)} vs frozen {formatInt(frozen)} parameters.
      </figcaption>
    </figure>
  );
}
