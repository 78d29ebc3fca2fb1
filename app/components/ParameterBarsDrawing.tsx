// Parameter counts as horizontal bars on a log scale of whole decades (recharts): the parameter
// chart's trainable and frozen bars, and the by-method chart's one bar per method. Loaded with
// the chart library by ChartCanvas.
import { memo } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatCompact, formatInt } from '../format';
import { axisTick } from './AxisTickText';
import type { DrawingFrame } from './ChartCanvas';
import ChartTooltip from './ChartTooltip';

const countTick = axisTick((v) => formatCompact(v as number));
const labelTick = axisTick();

export interface ParameterBar {
  id: string;
  label: string;
  /** The count; drawn at least at 1, as a log scale cannot show 0 (the chart's text says the truth). */
  exact: number;
  fill: string;
}

export interface ParameterBarsDrawingProps {
  bars: ParameterBar[];
  /** What the tooltip calls the count ("Parameters", "Trainable parameters"). */
  seriesName: string;
  /** Width of the bar labels' axis, px. */
  labelWidth: number;
  barSize: number;
}

function ParameterBarsDrawing({ bars, seriesName, labelWidth, barSize, width, height, axes, marks, grid, tooltip }: ParameterBarsDrawingProps & DrawingFrame) {
  const data = bars.map((b) => ({ ...b, value: Math.max(1, b.exact) }));
  // Whole decades, so the largest bar ends inside the axis and every tick is a power of ten.
  const decades = Math.max(1, Math.ceil(Math.log10(Math.max(10, ...data.map((b) => b.value)))));
  const ticks = Array.from({ length: decades + 1 }, (_, i) => 10 ** i);
  return (
    <ResponsiveContainer width="100%" height={height} initialDimension={{ width, height }}>
      <BarChart data={data} layout="vertical" margin={{ top: 4, right: 24, bottom: 4, left: 8 }} accessibilityLayer={false}>
        {grid && <CartesianGrid horizontal={false} strokeDasharray="3 3" />}
        {axes && (
          <>
            <XAxis interval={0} type="number" scale="log" domain={[1, 10 ** decades]} ticks={ticks} allowDataOverflow tick={countTick} />
            <YAxis interval={0} type="category" dataKey="label" width={labelWidth} tick={labelTick} />
          </>
        )}
        {tooltip && (
          <Tooltip
            cursor={{ fill: 'rgba(0,0,0,0.04)' }}
            content={(props) => (
              <ChartTooltip
                active={props.active}
                label={props.label}
                payload={props.payload?.map((p) => ({ ...p, name: seriesName, value: (p.payload as { exact: number }).exact }))}
                formatValue={formatInt}
              />
            )}
          />
        )}
        {marks && (
          <Bar dataKey="value" isAnimationActive={false} barSize={barSize}>
            {data.map((b) => (
              <Cell key={b.id} fill={b.fill} />
            ))}
          </Bar>
        )}
      </BarChart>
    </ResponsiveContainer>
  );
}

export default memo(ParameterBarsDrawing);
