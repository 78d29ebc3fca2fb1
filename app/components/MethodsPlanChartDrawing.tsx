// The by-method chart's drawing (recharts): each method's trainable parameters as a bar on a
// log scale of whole decades, the chosen method highlighted. Loaded with the chart library by
// ChartCanvas.
import { memo } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatCompact, formatInt } from '../format';
import type { DrawingFrame } from './ChartCanvas';
import ChartTooltip from './ChartTooltip';

export interface MethodBar {
  label: string;
  id: string;
  /** The count drawn: at least 1, which a log scale can show. */
  value: number;
  exact: number;
}

export interface MethodsPlanChartDrawingProps {
  bars: MethodBar[];
  methodId: string | null;
}

function MethodsPlanChartDrawing({ bars, methodId, width, height, tooltip }: MethodsPlanChartDrawingProps & DrawingFrame) {
  // Whole decades, so the largest bar ends inside the axis and every tick is a power of ten.
  const decades = Math.max(1, Math.ceil(Math.log10(Math.max(10, ...bars.map((b) => b.value)))));
  const top = 10 ** decades;
  const ticks = Array.from({ length: decades + 1 }, (_, i) => 10 ** i);
  return (
    <ResponsiveContainer width="100%" height={height} initialDimension={{ width, height }}>
      <BarChart data={bars} layout="vertical" margin={{ top: 4, right: 24, bottom: 4, left: 8 }} accessibilityLayer={false}>
        <CartesianGrid horizontal={false} strokeDasharray="3 3" />
        <XAxis interval={0} type="number" scale="log" domain={[1, top]} ticks={ticks} allowDataOverflow tickFormatter={formatCompact} />
        <YAxis interval={0} type="category" dataKey="label" width={130} />
        {tooltip && (
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
        )}
        <Bar dataKey="value" isAnimationActive={false} barSize={18}>
          {bars.map((b) => (
            <Cell key={b.id} fill={b.id === methodId ? 'var(--accent)' : 'var(--frozen)'} />
          ))}
        </Bar>
      </BarChart>
    </ResponsiveContainer>
  );
}

export default memo(MethodsPlanChartDrawing);
