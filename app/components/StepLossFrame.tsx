// What the loss chart and the comparison chart draw alike (recharts): a line chart of a loss
// against the step, with its grid, both axes, the hover tooltip and the legend above the plot,
// whose space is kept free while the legend waits for its step. Each chart passes its lines.
import type { ReactNode } from 'react';
import { CartesianGrid, Legend, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatLoss } from '../format';
import type { DrawingFrame } from './ChartCanvas';
import ChartTooltip from './ChartTooltip';

/** Height of the legend above the plot. */
const LEGEND_HEIGHT = 28;

export interface StepLossFrameProps<Row> extends DrawingFrame {
  rows: Row[];
  /** The last step of the run; the x axis ends there (at the data's last step when 0). */
  totalSteps: number;
  yLabel: string;
  /** The chart's Line (and ReferenceLine) elements. */
  children: ReactNode;
}

export default function StepLossFrame<Row>({ rows, totalSteps, yLabel, width, height, tooltip, legend, children }: StepLossFrameProps<Row>) {
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
        <YAxis interval={0} domain={['auto', 'auto']} tickFormatter={(v: number) => formatLoss(v)} width={56} label={{ value: yLabel, angle: -90, position: 'insideLeft' }} />
        {tooltip && <Tooltip content={(props) => <ChartTooltip active={props.active} payload={props.payload} label={props.label} labelPrefix="Step " formatValue={(v) => v.toFixed(4)} />} />}
        {legend && <Legend verticalAlign="top" height={LEGEND_HEIGHT} itemSorter={null} />}
        {children}
      </LineChart>
    </ResponsiveContainer>
  );
}
