// The comparison chart's drawing (recharts): each method's held-out loss against step, one
// line per method. Loaded with the chart library by ChartCanvas.
import { memo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { CompareRow } from '../compare-series';
import { formatLoss } from '../format';
import type { DrawingFrame } from './ChartCanvas';
import ChartTooltip from './ChartTooltip';

/** Height of the legend above the plot; kept free while the legend waits for its step. */
const LEGEND_HEIGHT = 28;

export interface CompareLine {
  id: string;
  name: string;
  stroke: string;
}

export interface CompareChartDrawingProps {
  rows: CompareRow[];
  lines: CompareLine[];
  totalSteps: number;
}

function CompareChartDrawing({ rows, lines, totalSteps, width, height, tooltip, legend }: CompareChartDrawingProps & DrawingFrame) {
  return (
    <ResponsiveContainer width="100%" height={height} initialDimension={{ width, height }}>
      <LineChart data={rows} margin={{ top: legend ? 8 : 8 + LEGEND_HEIGHT, right: 16, bottom: 24, left: 8 }} accessibilityLayer={false}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          interval={0}
          dataKey="step"
          type="number"
          domain={[0, totalSteps > 0 ? totalSteps : 'dataMax']}
          allowDecimals={false}
          label={{ value: 'Step', position: 'insideBottom', offset: -12 }}
        />
        <YAxis interval={0} domain={['auto', 'auto']} tickFormatter={(v: number) => formatLoss(v)} width={56} label={{ value: 'Held-out loss', angle: -90, position: 'insideLeft' }} />
        {tooltip && <Tooltip content={(props) => <ChartTooltip active={props.active} payload={props.payload} label={props.label} labelPrefix="Step " formatValue={(v) => v.toFixed(4)} />} />}
        {legend && <Legend verticalAlign="top" height={LEGEND_HEIGHT} itemSorter={null} />}
        {lines.map((l) => (
          <Line key={l.id} type="linear" dataKey={l.id} name={l.name} stroke={l.stroke} strokeWidth={2} dot={{ r: 3 }} isAnimationActive={false} connectNulls />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}

export default memo(CompareChartDrawing);
