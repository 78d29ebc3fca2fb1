import { describe, expect, it } from 'vitest';
import { deriveSeed, mulberry32, permutation, shuffleInPlace } from './random';

describe('mulberry32', () => {
  it('matches the reference algorithm', () => {
    // Values from a direct port of the reference C code (uint32 arithmetic).
    const r = mulberry32(42);
    expect(r()).toBe(0.6011037519201636);
    expect(r()).toBe(0.44829055899754167);
    expect(r()).toBe(0.8524657934904099);
    const z = mulberry32(0);
    expect(z()).toBe(0.26642920868471265);
  });

  it('is deterministic per seed and stays in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    for (let i = 0; i < 1000; i++) {
      const x = a();
      expect(x).toBe(b());
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });
});

describe('shuffles', () => {
  it('permutation is a seeded permutation of 0..n-1', () => {
    const p = permutation(100, mulberry32(1));
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(p).toEqual(permutation(100, mulberry32(1)));
    expect(p).not.toEqual(permutation(100, mulberry32(2)));
  });

  it('shuffleInPlace keeps the elements', () => {
    const items = ['a', 'b', 'c', 'd'];
    expect(shuffleInPlace(items, mulberry32(3)).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('deriveSeed gives different streams for neighbouring epochs and seeds', () => {
    const seeds = new Set<number>();
    for (let s = 0; s < 10; s++) for (let e = 0; e < 10; e++) seeds.add(deriveSeed(s, e));
    expect(seeds.size).toBe(100);
    expect(deriveSeed(5, 3)).toBe(deriveSeed(5, 3));
  });
});
