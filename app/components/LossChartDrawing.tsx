// The loss chart's drawing (recharts): training and held-out loss against step, the
// distillation terms and a reference line. Loaded with the chart library by ChartCanvas.
import { memo } from 'react';
import { Line, ReferenceLine } from 'recharts';
import type { LossRow } from '../loss-series';
import type { DrawingFrame } from './ChartCanvas';
import StepLossFrame from './StepLossFrame';

/** One line of the loss chart; the legend above the drawing names the same lines. */
export interface LossLine {
  key: 'loss' | 'evalLoss' | 'ce' | 'clm' | 'mlm' | 'cos';
  name: string;
  stroke: string;
  /** One of distillation's loss terms: drawn thinner and dashed beside the weighted total. */
  term: boolean;
  /** A point at each value (held-out evaluations are few and far apart). */
  dots: boolean;
}

export interface LossChartDrawingProps {
  rows: LossRow[];
  totalSteps: number;
  lines: readonly LossLine[];
  reference: { evalLoss: number; label: string } | null;
}

const DOT = { r: 3 };

function LossChartDrawing({ rows, totalSteps, lines, reference, ...frame }: LossChartDrawingProps & DrawingFrame) {
  return (
    <StepLossFrame rows={rows} totalSteps={totalSteps} yLabel="Loss" {...frame}>
      {lines.map((l) => (
        <Line
          key={l.key}
          type="linear"
          dataKey={l.key}
          name={l.name}
          stroke={l.stroke}
          strokeWidth={l.term ? 1.5 : 2}
          strokeDasharray={l.term ? '4 2' : undefined}
          dot={l.dots ? DOT : false}
          isAnimationActive={false}
          connectNulls
        />
      ))}
      {reference !== null && (
        <ReferenceLine y={reference.evalLoss} stroke="var(--eval)" strokeDasharray="6 4" ifOverflow="extendDomain" label={{ value: reference.label, position: 'insideTopRight', fontSize: 11 }} />
      )}
    </StepLossFrame>
  );
}

export default memo(LossChartDrawing);
