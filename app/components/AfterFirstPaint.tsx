// Mounts its children after the page's first paint, one group per turn of the page's mount
// queue. The page's first commit then inserts, styles and lays out only what is at the top of
// the screen, and each group below follows in a task of its own instead of lengthening that one.
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { Committed, queueMount } from './mount-queue';

export default function AfterFirstPaint({ children }: { children: ReactNode }) {
  const [shown, setShown] = useState(false);
  const endTurn = useRef<() => void>(() => {});
  useEffect(() => {
    const end = queueMount(() => setShown(true));
    endTurn.current = end;
    return end;
  }, []);
  const end = useCallback(() => endTurn.current(), []);
  return shown ? (
    <>
      {children}
      <Committed onCommitted={end} />
    </>
  ) : null;
}
