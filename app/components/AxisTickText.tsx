// An axis tick's label as one plain SVG <text>. recharts' own tick label is its <Text>, which,
// given the tick's width, measures every label in the DOM to wrap it (a forced layout per tick,
// on every draw); these labels are single words and numbers that never wrap, so they are
// placed with the anchors recharts computes and drawn as they are.

/** What recharts passes a tick function (the parts used here). */
export interface AxisTickProps {
  x?: number | string;
  y?: number | string;
  textAnchor?: 'start' | 'middle' | 'end' | 'inherit';
  verticalAnchor?: 'start' | 'middle' | 'end';
  fill?: string;
  className?: string;
  payload?: { value: unknown };
}

/** Baseline shift for recharts' vertical anchors, as its <Text> places one line (cap height 0.71em). */
const DY = { start: '0.71em', middle: '0.355em', end: '0' } as const;

/** A tick function for an axis's `tick` prop: labels formatted by `format`, at `fontSize` if given. */
export function axisTick(format: (value: unknown) => string = String, fontSize?: number) {
  return function AxisTickText({ x, y, textAnchor, verticalAnchor = 'end', fill, className, payload }: AxisTickProps) {
    return (
      <text x={x} y={y} dy={DY[verticalAnchor]} textAnchor={textAnchor} fill={fill} style={fontSize !== undefined ? { fontSize } : undefined} className={className}>
        {format(payload?.value)}
      </text>
    );
  };
}
