// How far two arrays of numbers are apart, relative to the reference's scale, and how the
// page writes that figure. Pure: the page imports it without pulling in tfjs.

/**
 * How far `got` is from `want`, relative to `want`'s scale: max |got − want| / max |want|
 * (the ∞-norm of the difference over the ∞-norm of the reference). 0 when both are all zeros;
 * Infinity when any value is not finite on one side only, or the reference is zero and got is not.
 */
export function relativeDifference(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const a = got[i];
    const b = want[i];
    if (Number.isFinite(a) !== Number.isFinite(b)) return Infinity;
    if (!Number.isFinite(b)) continue;
    diff = Math.max(diff, Math.abs(a - b));
    scale = Math.max(scale, Math.abs(b));
  }
  if (diff === 0) return 0;
  return scale === 0 ? Infinity : diff / scale;
}

/** A relative difference as people read it: "0", "3.1e-7", "Infinity". */
export function formatDifference(d: number): string {
  if (d === 0) return '0';
  if (!Number.isFinite(d)) return Number.isNaN(d) ? 'NaN' : 'Infinity';
  return d.toExponential(1);
}
