// The loss chart's drawing (recharts): training and held-out loss against step, the
// distillation terms and a reference line. Loaded with the chart library by ChartCanvas.
import { memo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatLoss } from '../format';
import type { LossRow } from '../loss-series';
import type { DrawingFrame } from './ChartCanvas';
import ChartTooltip from './ChartTooltip';

/** Height of the legend above the plot; kept free while the legend waits for its step. */
const LEGEND_HEIGHT = 28;

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

function LossChartDrawing({ rows, totalSteps, terms, reference, width, height, tooltip, legend }: LossChartDrawingProps & DrawingFrame) {
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
        <YAxis interval={0} domain={['auto', 'auto']} tickFormatter={(v: number) => formatLoss(v)} width={56} label={{ value: 'Loss', angle: -90, position: 'insideLeft' }} />
        {tooltip && <Tooltip content={(props) => <ChartTooltip active={props.active} payload={props.payload} label={props.label} labelPrefix="Step " formatValue={(v) => v.toFixed(4)} />} />}
        {legend && <Legend verticalAlign="top" height={LEGEND_HEIGHT} itemSorter={null} />}
        <Line type="linear" dataKey="loss" name={terms.length > 0 ? 'Total loss' : 'Training loss'} stroke="var(--accent)" strokeWidth={2} dot={false} isAnimationActive={false} connectNulls />
        <Line type="linear" dataKey="evalLoss" name="Held-out loss" stroke="var(--eval)" strokeWidth={2} dot={{ r: 3 }} isAnimationActive={false} connectNulls />
        {terms.map((t) => (
          <Line key={t.key} type="linear" dataKey={t.key} name={t.name} stroke={t.stroke} strokeWidth={1.5} strokeDasharray="4 2" dot={false} isAnimationActive={false} connectNulls />
        ))}
        {reference !== null && (
          <ReferenceLine y={reference.evalLoss} stroke="var(--eval)" strokeDasharray="6 4" ifOverflow="extendDomain" label={{ value: reference.label, position: 'insideTopRight', fontSize: 11 }} />
        )}
      </LineChart>
    </ResponsiveContainer>
  );
}

export default memo(LossChartDrawing);
