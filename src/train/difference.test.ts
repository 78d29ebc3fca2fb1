import { describe, expect, it } from 'vitest';
import { formatDifference, relativeDifference } from './difference';

describe('relativeDifference', () => {
  it('is the largest absolute difference over the reference’s largest magnitude', () => {
    expect(relativeDifference([1, 2, -4], [1, 2.5, -4])).toBeCloseTo(0.5 / 4, 12);
    expect(relativeDifference([0.1, -0.2], [0.1, -0.2])).toBe(0);
  });

  it('is 0 for two zero arrays and Infinity for a non-zero array against zeros', () => {
    expect(relativeDifference([0, 0], [0, 0])).toBe(0);
    expect(relativeDifference([0, 1e-30], [0, 0])).toBe(Infinity);
  });

  it('is Infinity when only one side is finite, or the lengths differ', () => {
    expect(relativeDifference([NaN, 1], [1, 1])).toBe(Infinity);
    expect(relativeDifference([1, 1], [Infinity, 1])).toBe(Infinity);
    expect(relativeDifference([1], [1, 2])).toBe(Infinity);
  });

  it('ignores positions where both sides agree on a non-finite value', () => {
    expect(relativeDifference([NaN, 2], [NaN, 2])).toBe(0);
  });
});

describe('formatDifference', () => {
  it('writes zero plainly and everything else with one decimal in scientific notation', () => {
    expect(formatDifference(0)).toBe('0');
    expect(formatDifference(3.14159e-7)).toBe('3.1e-7');
    expect(formatDifference(Infinity)).toBe('Infinity');
    expect(formatDifference(NaN)).toBe('NaN');
  });
});
