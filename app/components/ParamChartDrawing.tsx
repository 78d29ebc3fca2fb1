// The parameter chart's drawing (recharts): trainable and frozen counts as bars on a log scale.
// Loaded with the chart library by ChartCanvas.
import { memo } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatCompact, formatInt } from '../format';
import type { DrawingFrame } from './ChartCanvas';
import ChartTooltip from './ChartTooltip';

export interface ParamChartDrawingProps {
  trainable: number;
  frozen: number;
}

const COLORS = ['var(--accent)', 'var(--frozen)'];

function ParamChartDrawing({ trainable, frozen, width, height, tooltip }: ParamChartDrawingProps & DrawingFrame) {
  // Log scale: 0 cannot be drawn, so a 0 count is drawn at 1 (the caption says the truth).
  const data = [
    { name: 'Trainable', value: Math.max(1, trainable), exact: trainable },
    { name: 'Frozen', value: Math.max(1, frozen), exact: frozen },
  ];
  return (
    <ResponsiveContainer width="100%" height={height} initialDimension={{ width, height }}>
      <BarChart data={data} layout="vertical" margin={{ top: 4, right: 24, bottom: 4, left: 8 }} accessibilityLayer={false}>
        <CartesianGrid horizontal={false} strokeDasharray="3 3" />
        <XAxis type="number" scale="log" domain={[1, 'auto']} allowDataOverflow tickFormatter={formatCompact} />
        <YAxis interval={0} type="category" dataKey="name" width={80} />
        {tooltip && (
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
        )}
        <Bar dataKey="value" isAnimationActive={false} barSize={22}>
          {data.map((d, i) => (
            <Cell key={d.name} fill={COLORS[i]} />
          ))}
        </Bar>
      </BarChart>
    </ResponsiveContainer>
  );
}

export default memo(ParamChartDrawing);
