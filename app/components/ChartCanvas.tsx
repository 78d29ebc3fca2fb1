// The drawing part of a chart. Drawing a recharts chart costs far more main-thread time than
// the text around it: each chart keeps its own store, measures text in the DOM, and renders
// again, synchronously, as each of its parts registers in that store. So that no single task
// runs long, the drawings are kept out of the page's first bundle and out of the tasks that
// show new text, and are built up in steps:
// - the chart library and the drawings load in their own chunk, the first time one is drawn;
// - a drawing mounts in a later task than the panel holding it, as a transition, at the size
//   its canvas already has, with its axes, grid and marks only;
// - in a task after that, its legend and hover tooltip are added;
// - drawings waiting to mount take these steps one drawing after another.
// The space the drawing takes is held from the start, so nothing moves when it appears; the
// drawing is hidden from assistive technology, whose text alternative is the chart's caption
// and table, on screen at once.
import { Suspense, startTransition, useCallback, useEffect, useRef, useState, type ComponentType, type ReactNode } from 'react';
import { useUntabbableChart } from './useUntabbableChart';

// ---------------------------------------------------------------------------------------------
// One drawing at a time. A drawing's turn ends once its last step has committed and its effects
// have run (recharts registers its parts in effects), or when it leaves the page first.

const waiting: (() => void)[] = [];
let mounting: (() => void) | null = null;

/** Runs `step` as a transition in a task of its own, never in the task that committed the previous step. */
function inNextTask(step: () => void) {
  setTimeout(() => startTransition(step), 0);
}

function startNext() {
  mounting = waiting.shift() ?? null;
  if (mounting) inNextTask(mounting);
}

/** Queues `start` (which shows a drawing); returns the call that ends its turn or leaves the queue. */
function queueMount(start: () => void): () => void {
  waiting.push(start);
  if (mounting === null) startNext();
  return () => {
    const i = waiting.indexOf(start);
    if (i >= 0) waiting.splice(i, 1);
    if (mounting === start) startNext();
  };
}

/** Rendered after the drawing: its effect runs once the drawing's own effects have. */
function Committed({ onCommitted }: { onCommitted: () => void }) {
  useEffect(onCommitted, [onCommitted]);
  return null;
}

// ---------------------------------------------------------------------------------------------

/**
 * What a drawing is given besides its data. recharts' ResponsiveContainer draws nothing until it
 * has measured itself in an effect, and then draws the whole chart in one render that cannot
 * be interrupted; given the size its canvas already has, it draws in the transition that shows it.
 */
export interface DrawingFrame {
  width: number;
  height: number;
  /** False for the first step: the legend and tooltip are left out, their space kept. */
  complete: boolean;
}

export interface ChartCanvasProps<P extends object> {
  /** The drawing, a lazy component over a module that imports recharts. */
  drawing: ComponentType<P & DrawingFrame>;
  props: P;
  /** Height of the drawing in CSS pixels, held while it loads. */
  height: number;
}

type Step = { width: number; complete: boolean } | null;

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
  // Null until the drawing's turn comes; then its width, and whether its last step is shown.
  const [step, setStep] = useState<Step>(null);
  const endTurn = useRef<() => void>(() => {});

  useEffect(() => {
    const end = queueMount(() => setStep({ width: box.current?.clientWidth ?? 0, complete: false }));
    endTurn.current = end;
    return end;
  }, []);

  const completeNext = useCallback(() => inNextTask(() => setStep((s) => (s ? { ...s, complete: true } : s))), []);
  const end = useCallback(() => endTurn.current(), []);

  return (
    <div className="chart-canvas" aria-hidden="true" ref={canvasRef} style={{ minHeight: height }}>
      {step !== null && (
        <Suspense fallback={null}>
          <Drawing {...props} width={step.width} height={height} complete={step.complete} />
          <Committed key={String(step.complete)} onCommitted={step.complete ? end : completeNext} />
        </Suspense>
      )}
    </div>
  );
}
