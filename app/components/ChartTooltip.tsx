// Tooltip content for the charts. Recharts' default content carries role="status", and the
// page keeps exactly one status region, so the charts use this plain one instead.

interface TooltipEntry {
  name?: unknown;
  value?: unknown;
  color?: string;
  dataKey?: unknown;
}

export interface ChartTooltipProps {
  active?: boolean;
  payload?: readonly TooltipEntry[];
  label?: unknown;
  labelPrefix?: string;
  formatValue?: (v: number) => string;
}

export default function ChartTooltip({ active, payload, label, labelPrefix, formatValue }: ChartTooltipProps) {
  if (!active || !payload || payload.length === 0) return null;
  const fmt = formatValue ?? ((v: number) => String(v));
  return (
    <div className="chart-tooltip">
      {label !== undefined && label !== '' && (
        <p className="chart-tooltip-label">
          {labelPrefix}
          {String(label)}
        </p>
      )}
      <ul>
        {payload.map((p, i) =>
          typeof p.value === 'number' ? (
            <li key={i} style={{ color: p.color }}>
              {String(p.name ?? p.dataKey ?? '')}: {fmt(p.value)}
            </li>
          ) : null,
        )}
      </ul>
    </div>
  );
}
