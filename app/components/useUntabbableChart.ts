// Keeps a recharts drawing out of the Tab order. Recharts 3 renders into <g> "z-index layer"
// portals; React attaches focus listeners to every portal container, and Chromium makes an SVG
// element with focus listeners keyboard-focusable, so each layer became an unnamed tab stop
// inside an aria-hidden chart. tabindex="-1" takes them out of the sequential focus order.
import { useCallback, useRef } from 'react';

const FOCUSABLE_IN_SVG = 'svg g, svg [tabindex]:not([tabindex="-1"])';

function untab(root: Element) {
  root.querySelectorAll(FOCUSABLE_IN_SVG).forEach((el) => {
    if (el.getAttribute('tabindex') !== '-1') el.setAttribute('tabindex', '-1');
  });
}

/** A ref callback for the element wrapping a chart. */
export function useUntabbableChart(): (el: HTMLElement | null) => void {
  const observer = useRef<MutationObserver | null>(null);
  return useCallback((el: HTMLElement | null) => {
    observer.current?.disconnect();
    observer.current = null;
    if (!el) return;
    untab(el);
    observer.current = new MutationObserver(() => untab(el));
    observer.current.observe(el, { childList: true, subtree: true });
  }, []);
}
