// Seeded randomness for everything that must be reproducible from a run's `seed`: the held-out
// split, each epoch's order, and (in the trainer) parameter init. Math.random cannot be seeded.

/**
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit state PRNG, fast, with a full 2^32 period
 * and good enough statistics for shuffles and init. Returns floats in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Combines a seed with a stream number (e.g. the epoch) so each stream gets an unrelated
 * sequence; consecutive seeds fed straight to mulberry32 would start from nearby states.
 */
export function deriveSeed(seed: number, stream: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ (stream >>> 0), 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h ^ Math.imul(stream >>> 0, 0x27d4eb2f), 0x165667b1);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Fisher–Yates shuffle of `items` in place, driven by `rand`; returns the same array. */
export function shuffleInPlace<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

/** A seeded permutation of 0..n-1. */
export function permutation(n: number, rand: () => number): number[] {
  return shuffleInPlace(Array.from({ length: n }, (_, i) => i), rand);
}

/** Normal samples N(0, std²) from a seeded uniform source (Box–Muller), for reproducible initial weights. */
export function normals(n: number, std: number, rand: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}
