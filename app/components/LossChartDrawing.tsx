// The loss chart's drawing (recharts): training and held-out loss against step, the
// distillation terms and a reference line. Loaded with the chart library by ChartCanvas.
import { memo } from 'react';
import { Line, ReferenceLine } from 'recharts';
import type { LossRow } from '../loss-series';
import type { DrawingFrame } from './ChartCanvas';
import StepLossFrame from './StepLossFrame';

export interface LossTerm {
  key: 'ce' | 'clm' | 'mlm' | 'cos';
  name: string;
  stroke: string;
}

export interface LossChartDrawingProps {
  rows: LossRow[];
  totalSteps: number;
  terms: readonly LossTerm[];
  reference: { evalLoss: number; label: string } | null;
}

function LossChartDrawing({ rows, totalSteps, terms, reference, ...frame }: LossChartDrawingProps & DrawingFrame) {
  return (
    <StepLossFrame rows={rows} totalSteps={totalSteps} yLabel="Loss" {...frame}>
      <Line type="linear" dataKey="loss" name={terms.length > 0 ? 'Total loss' : 'Training loss'} stroke="var(--accent)" strokeWidth={2} dot={false} isAnimationActive={false} connectNulls />
      <Line type="linear" dataKey="evalLoss" name="Held-out loss" stroke="var(--eval)" strokeWidth={2} dot={{ r: 3 }} isAnimationActive={false} connectNulls />
      {terms.map((t) => (
        <Line key={t.key} type="linear" dataKey={t.key} name={t.name} stroke={t.stroke} strokeWidth={1.5} strokeDasharray="4 2" dot={false} isAnimationActive={false} connectNulls />
      ))}
      {reference !== null && (
        <ReferenceLine y={reference.evalLoss} stroke="var(--eval)" strokeDasharray="6 4" ifOverflow="extendDomain" label={{ value: reference.label, position: 'insideTopRight', fontSize: 11 }} />
      )}
    </StepLossFrame>
  );
}

export default memo(LossChartDrawing);
