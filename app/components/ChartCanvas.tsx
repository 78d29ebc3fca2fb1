// The drawing part of a chart. Drawing a recharts chart costs far more main-thread time than
// the text around it: each chart keeps its own store, measures text in the DOM, and renders
// again, synchronously, as each of its parts registers in that store. So that no single task
// runs long, the drawings are kept out of the page's first bundle and out of the tasks that
// show new text, and are built up in steps:
// - the chart library and the drawings load in their own chunk, the first time one is drawn;
// - a drawing mounts in a later task than the panel holding it, as a transition, at the size
//   its canvas already has, as an empty chart (the first chart drawn also compiles the
//   library's code as it runs, which is slow);
// - in later tasks, one part each, its axes, its marks (lines or bars), its grid and its hover
//   tooltip are added: each part registers in the chart's store, and every registration recomputes
//   what the parts already there read from it, so one part at a time keeps each task short;
// - drawings waiting to mount take these steps one drawing after another, each drawing one
//   turn of the page's mount queue, ending once its last step has committed.
// The space the drawing takes is held from the start, so nothing moves when it appears; the
// drawing is hidden from assistive technology, whose text alternative is the chart's caption
// and table, on screen at once.
import { Suspense, useCallback, useEffect, useRef, useState, type ComponentType, type ReactNode } from 'react';
import { Committed, inNextTask, queueMount } from './mount-queue';
import { useUntabbableChart } from './useUntabbableChart';

/**
 * What a drawing is given besides its data. recharts' ResponsiveContainer draws nothing until it
 * has measured itself in an effect, and then draws the whole chart in one render that cannot
 * be interrupted; given the size its canvas already has, it draws in the transition that shows it.
 */
export interface DrawingFrame {
  width: number;
  height: number;
  /** Whether the axes are drawn yet (from the second step). */
  axes: boolean;
  /** Whether the marks (lines, bars) are drawn yet (from the third step). */
  marks: boolean;
  /** Whether the grid is drawn yet (from the fourth step). */
  grid: boolean;
  /** Whether the hover tooltip is drawn yet (the fifth step). */
  tooltip: boolean;
}

/** The steps a drawing is built up in: the empty chart, then its axes, marks, grid and tooltip. */
const STEPS = 5;

export interface ChartCanvasProps<P extends object> {
  /** The drawing, a lazy component over a module that imports recharts. */
  drawing: ComponentType<P & DrawingFrame>;
  props: P;
  /** Height of the drawing in CSS pixels, held while it loads. */
  height: number;
}

type Step = { width: number; shown: number } | null;

export default function ChartCanvas<P extends object>({ drawing: Drawing, props, height }: ChartCanvasProps<P>): ReactNode {
  const untab = useUntabbableChart();
  const box = useRef<HTMLDivElement | null>(null);
  const canvasRef = useCallback(
    (el: HTMLDivElement | null) => {
      box.current = el;
      untab(el);
    },
    [untab],
  );
  // Null until the drawing's turn comes; then its width, and how many of its steps are shown.
  const [step, setStep] = useState<Step>(null);
  const endTurn = useRef<() => void>(() => {});

  useEffect(() => {
    const end = queueMount(() => setStep({ width: box.current?.clientWidth ?? 0, shown: 1 }));
    endTurn.current = end;
    return end;
  }, []);

  const nextStep = useCallback(() => inNextTask(() => setStep((s) => (s ? { ...s, shown: s.shown + 1 } : s))), []);
  const end = useCallback(() => endTurn.current(), []);

  return (
    <div className="chart-canvas" aria-hidden="true" ref={canvasRef} style={{ minHeight: height }}>
      {step !== null && (
        <Suspense fallback={null}>
          <Drawing {...props} width={step.width} height={height} axes={step.shown >= 2} marks={step.shown >= 3} grid={step.shown >= 4} tooltip={step.shown >= 5} />
          <Committed key={step.shown} onCommitted={step.shown < STEPS ? nextStep : end} />
        </Suspense>
      )}
    </div>
  );
}
