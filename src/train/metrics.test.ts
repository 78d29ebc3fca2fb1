import { describe, expect, it } from 'vitest';
import { classificationMetrics } from './metrics';

describe('classificationMetrics', () => {
  it('gives accuracy, per-label F1, macro-F1 and the confusion matrix computed by hand', () => {
    // 8 examples, 3 labels.
    //   truth:     0 0 0 1 1 1 2 2
    //   predicted: 0 0 1 1 1 2 2 0
    // label 0: tp 2, actual 3, predicted 3 → P 2/3, R 2/3, F1 2/3
    // label 1: tp 2, actual 3, predicted 3 → F1 2/3
    // label 2: tp 1, actual 2, predicted 2 → F1 1/2
    const m = classificationMetrics([0, 0, 0, 1, 1, 1, 2, 2], [0, 0, 1, 1, 1, 2, 2, 0], 3);
    expect(m.accuracy).toBe(5 / 8);
    expect(m.f1[0]).toBeCloseTo(2 / 3, 12);
    expect(m.f1[1]).toBeCloseTo(2 / 3, 12);
    expect(m.f1[2]).toBeCloseTo(1 / 2, 12);
    expect(m.macroF1).toBeCloseTo((2 / 3 + 2 / 3 + 1 / 2) / 3, 12);
    expect(m.confusion).toEqual([
      [2, 1, 0],
      [0, 2, 1],
      [1, 0, 1],
    ]);
    expect(m.examples).toBe(8);
  });

  it('gives an unbalanced binary set the F1 its precision and recall give', () => {
    // truth 1 1 1 1 0 0 0 0, predicted 1 1 1 0 1 0 0 0
    // label 1: tp 3, fn 1, fp 1 → P 3/4, R 3/4, F1 0.75; label 0: tp 3, fn 1, fp 1 → 0.75
    const m = classificationMetrics([1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 0, 1, 0, 0, 0], 2);
    expect(m.accuracy).toBe(0.75);
    expect(m.macroF1).toBeCloseTo(0.75, 12);
    // 7 of 8 right on label 0 only when the rare label is always missed: F1(1) = 0, macro pulled down.
    const skewed = classificationMetrics([0, 0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0], 2);
    expect(skewed.accuracy).toBe(7 / 8);
    // label 0: tp 7, actual 7, predicted 8 → 14/15; label 1: 0
    expect(skewed.macroF1).toBeCloseTo(14 / 15 / 2, 12);
  });

  it('counts a label that never occurs in the macro mean with F1 0, and refuses out-of-range ids', () => {
    const m = classificationMetrics([0, 1], [0, 1], 3);
    expect(m.f1).toEqual([1, 1, 0]);
    expect(m.macroF1).toBeCloseTo(2 / 3, 12);
    expect(() => classificationMetrics([0, 3], [0, 1], 3)).toThrow(/label 3 or prediction 1 is outside 0..2/);
    expect(() => classificationMetrics([0], [0, 1], 3)).toThrow(/1 true labels but 2 predictions/);
  });
});
