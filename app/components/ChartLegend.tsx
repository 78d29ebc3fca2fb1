// A chart's legend as plain HTML above its drawing: one swatch and name per line drawn. It is
// part of the chart's picture (hidden from assistive technology like the drawing, whose text
// alternative is the caption and table), and shows with the panel instead of waiting for the
// chart library.

export interface LegendEntry {
  name: string;
  color: string;
  /** Drawn dashed in the chart. */
  dashed?: boolean;
}

export default function ChartLegend({ entries }: { entries: readonly LegendEntry[] }) {
  return (
    <ul className="chart-legend" aria-hidden="true">
      {entries.map((e) => (
        <li key={e.name}>
          <span className={e.dashed ? 'chart-legend-swatch dashed' : 'chart-legend-swatch'} style={{ borderColor: e.color }} />
          {e.name}
        </li>
      ))}
    </ul>
  );
}
