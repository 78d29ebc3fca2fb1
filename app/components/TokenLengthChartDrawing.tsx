// The token-length chart's drawing (recharts): one bar per length bin, the bins longer than a
// row in the warning colour. Loaded with the chart library by ChartCanvas.
import { memo } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatInt } from '../format';
import { axisTick } from './AxisTickText';
import type { DrawingFrame } from './ChartCanvas';
import ChartTooltip from './ChartTooltip';

const binTick = axisTick(String, 10);
const countTick = axisTick();

export interface LengthBar {
  name: string;
  count: number;
  over: boolean;
}

export interface TokenLengthChartDrawingProps {
  data: LengthBar[];
}

function TokenLengthChartDrawing({ data, width, height, axes, marks, grid, tooltip }: TokenLengthChartDrawingProps & DrawingFrame) {
  return (
    <ResponsiveContainer width="100%" height={height} initialDimension={{ width, height }}>
      <BarChart data={data} margin={{ top: 4, right: 8, bottom: 4, left: 0 }} accessibilityLayer={false}>
        {grid && <CartesianGrid vertical={false} strokeDasharray="3 3" />}
        {axes && (
          <>
            <XAxis dataKey="name" interval={0} tick={binTick} />
            <YAxis interval={0} allowDecimals={false} width={36} tick={countTick} />
          </>
        )}
        {tooltip && (
          <Tooltip
            cursor={{ fill: 'rgba(0,0,0,0.04)' }}
            content={(props) => (
              <ChartTooltip active={props.active} label={props.label} labelPrefix="Tokens " payload={props.payload?.map((p) => ({ ...p, name: 'Examples' }))} formatValue={formatInt} />
            )}
          />
        )}
        {marks && (
          <Bar dataKey="count" isAnimationActive={false}>
            {data.map((d) => (
              <Cell key={d.name} fill={d.over ? 'var(--warn)' : 'var(--accent)'} />
            ))}
          </Bar>
        )}
      </BarChart>
    </ResponsiveContainer>
  );
}

export default memo(TokenLengthChartDrawing);
