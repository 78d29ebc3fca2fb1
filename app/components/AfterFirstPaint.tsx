// Mounts its children a task after the page's first paint, as a transition. The page's first
// commit then inserts, styles and lays out only what is at the top of the screen; the rest
// follows in tasks of its own instead of lengthening that one.
import { startTransition, useEffect, useState, type ReactNode } from 'react';

export default function AfterFirstPaint({ children }: { children: ReactNode }) {
  const [shown, setShown] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => startTransition(() => setShown(true)), 0);
    return () => clearTimeout(timer);
  }, []);
  return shown ? children : null;
}
