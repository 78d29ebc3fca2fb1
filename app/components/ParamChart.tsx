// Trainable vs frozen parameters, as bars on a log scale, with a text alternative.
import { lazy, useMemo } from 'react';
import { formatInt } from '../format';
import ChartCanvas from './ChartCanvas';
import type { ParameterBarsDrawingProps } from './ParameterBarsDrawing';

const ParameterBarsDrawing = lazy(() => import('./ParameterBarsDrawing'));

const HEIGHT = 110;

export default function ParamChart({ trainable, total }: { trainable: number; total: number }) {
  const frozen = Math.max(0, total - trainable);
  const drawingProps = useMemo<ParameterBarsDrawingProps>(
    () => ({
      bars: [
        { id: 'trainable', label: 'Trainable', exact: trainable, fill: 'var(--accent)' },
        { id: 'frozen', label: 'Frozen', exact: frozen, fill: 'var(--frozen)' },
      ],
      seriesName: 'Parameters',
      labelWidth: 80,
      barSize: 22,
    }),
    [trainable, frozen],
  );

  return (
    <figure className="chart param-chart" aria-label="Trainable and frozen parameters chart">
      <ChartCanvas drawing={ParameterBarsDrawing} props={drawingProps} height={HEIGHT} />
      <figcaption className="muted small">
        Log scale. Trainable {formatInt(trainable)} vs frozen {formatInt(frozen)} parameters.
      </figcaption>
    </figure>
  );
}
