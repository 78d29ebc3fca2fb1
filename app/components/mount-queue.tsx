// One deferred mount at a time. Parts of the page that would make a long task if they mounted
// together (the panels below the top of the screen, each chart's drawing) take turns: each
// turn starts as a transition in a task of its own, never in the task that committed the turn
// before it, and ends once what it mounted has committed and its effects have run — or when it
// leaves the page first.
import { startTransition, useEffect } from 'react';

const waiting: (() => void)[] = [];
let mounting: (() => void) | null = null;

/** Runs `step` as a transition in a task of its own, never in the task that committed the previous step. */
export function inNextTask(step: () => void) {
  setTimeout(() => startTransition(step), 0);
}

function startNext() {
  mounting = waiting.shift() ?? null;
  if (mounting) inNextTask(mounting);
}

/**
 * Queues `start` (which shows something); returns the call that ends its turn, or takes it out
 * of the queue if its turn has not come. Calling it again, or after the turn has passed, does nothing.
 */
export function queueMount(start: () => void): () => void {
  waiting.push(start);
  if (mounting === null) startNext();
  return () => {
    const i = waiting.indexOf(start);
    if (i >= 0) waiting.splice(i, 1);
    if (mounting === start) startNext();
  };
}

/** Rendered after what a turn mounted: its effect runs once that has committed and its own effects have run. */
export function Committed({ onCommitted }: { onCommitted: () => void }) {
  useEffect(onCommitted, [onCommitted]);
  return null;
}
