// Trainable vs frozen parameters, as bars on a log scale, with a text alternative.
import { lazy, useMemo } from 'react';
import { formatInt } from '../format';
import ChartCanvas from './ChartCanvas';

const ParamChartDrawing = lazy(() => import('./ParamChartDrawing'));

const HEIGHT = 110;

export default function ParamChart({ trainable, total }: { trainable: number; total: number }) {
  const frozen = Math.max(0, total - trainable);
  const drawingProps = useMemo(() => ({ trainable, frozen }), [trainable, frozen]);

  return (
    <figure className="chart param-chart" aria-label="Trainable and frozen parameters chart">
      <ChartCanvas drawing={ParamChartDrawing} props={drawingProps} height={HEIGHT} />
      <figcaption className="muted small">
        Log scale. Trainable {formatInt(trainable)} vs frozen {formatInt(frozen)} parameters.
      </figcaption>
    </figure>
  );
}
