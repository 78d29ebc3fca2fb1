// Mounts its children after the page's first paint, one group per task, as transitions. The
// page's first commit then inserts, styles and lays out only what is at the top of the screen,
// and each group below follows in a task of its own instead of lengthening that one.
import { startTransition, useCallback, useEffect, useRef, useState, type ReactNode } from 'react';

// Groups waiting to mount, in the order their placeholders committed (the page's order).
const waiting: (() => void)[] = [];
let busy = false;

function mountNext() {
  const show = waiting.shift();
  busy = show !== undefined;
  if (show) setTimeout(() => startTransition(show), 0);
}

/** Rendered after the group's children: its effect runs once they have committed. */
function Mounted({ onMounted }: { onMounted: () => void }) {
  useEffect(onMounted, [onMounted]);
  return null;
}

export default function AfterFirstPaint({ children }: { children: ReactNode }) {
  const [shown, setShown] = useState(false);
  // Whether this group's turn is over; a group leaving the page during its turn ends it.
  const turn = useRef<'waiting' | 'mounting' | 'done'>('waiting');
  const onMounted = useCallback(() => {
    if (turn.current === 'done') return;
    turn.current = 'done';
    mountNext();
  }, []);
  useEffect(() => {
    const show = () => {
      // Already shown (an effect that ran twice queued the group twice): pass the turn on.
      if (turn.current === 'done') return mountNext();
      turn.current = 'mounting';
      setShown(true);
    };
    waiting.push(show);
    if (!busy) mountNext();
    return () => {
      const i = waiting.indexOf(show);
      if (i >= 0) waiting.splice(i, 1);
      if (turn.current === 'mounting') onMounted();
    };
  }, [onMounted]);
  return shown ? (
    <>
      {children}
      <Mounted onMounted={onMounted} />
    </>
  ) : null;
}
