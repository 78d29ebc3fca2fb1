// What the loss chart and the comparison chart draw alike (recharts): a line chart of a loss
// against the step, with its grid, both axes and the hover tooltip. Each chart passes its lines
// (and shows their legend itself, as HTML above the drawing).
import type { ReactNode } from 'react';
import { CartesianGrid, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatLoss } from '../format';
import { axisTick } from './AxisTickText';
import type { DrawingFrame } from './ChartCanvas';
import ChartTooltip from './ChartTooltip';

const stepTick = axisTick();
const lossTick = axisTick((v) => formatLoss(v as number));

export interface StepLossFrameProps<Row> extends DrawingFrame {
  rows: Row[];
  /** The last step of the run; the x axis ends there (at the data's last step when 0). */
  totalSteps: number;
  yLabel: string;
  /** The chart's Line (and ReferenceLine) elements. */
  children: ReactNode;
}

export default function StepLossFrame<Row>({ rows, totalSteps, yLabel, width, height, axes, marks, grid, tooltip, children }: StepLossFrameProps<Row>) {
  return (
    <ResponsiveContainer width="100%" height={height} initialDimension={{ width, height }}>
      <LineChart data={rows} margin={{ top: 8, right: 16, bottom: 24, left: 8 }} accessibilityLayer={false}>
        {grid && <CartesianGrid strokeDasharray="3 3" />}
        {axes && (
          <>
            <XAxis
              interval={0}
              dataKey="step"
              type="number"
              domain={[0, totalSteps > 0 ? totalSteps : 'dataMax']}
              allowDecimals={false}
              tick={stepTick}
              label={{ value: 'Step', position: 'insideBottom', offset: -12 }}
            />
            <YAxis interval={0} domain={['auto', 'auto']} tick={lossTick} width={56} label={{ value: yLabel, angle: -90, position: 'insideLeft' }} />
          </>
        )}
        {tooltip && <Tooltip content={(props) => <ChartTooltip active={props.active} payload={props.payload} label={props.label} labelPrefix="Step " formatValue={(v) => v.toFixed(4)} />} />}
        {marks && children}
      </LineChart>
    </ResponsiveContainer>
  );
}
