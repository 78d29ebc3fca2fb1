// The comparison chart's drawing (recharts): each method's held-out loss against step, one
// line per method. Loaded with the chart library by ChartCanvas.
import { memo } from 'react';
import { Line } from 'recharts';
import type { CompareRow } from '../compare-series';
import type { DrawingFrame } from './ChartCanvas';
import StepLossFrame from './StepLossFrame';

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

function CompareChartDrawing({ rows, lines, totalSteps, ...frame }: CompareChartDrawingProps & DrawingFrame) {
  return (
    <StepLossFrame rows={rows} totalSteps={totalSteps} yLabel="Held-out loss" {...frame}>
      {lines.map((l) => (
        <Line key={l.id} type="linear" dataKey={l.id} name={l.name} stroke={l.stroke} strokeWidth={2} dot={{ r: 3 }} isAnimationActive={false} connectNulls />
      ))}
    </StepLossFrame>
  );
}

export default memo(CompareChartDrawing);
