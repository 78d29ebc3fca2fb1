import { describe, expect, it } from 'vitest';
import { learningRateAt, type Schedule } from './schedule';

/** Naive reference: warmup (step+1)/warmup·peak, then HF's cosine with 0.5 cycles. */
function naive(step: number, s: Schedule): number {
  if (step < s.warmupSteps) return ((step + 1) / s.warmupSteps) * s.peak;
  const progress = (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps);
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * Math.min(progress, 1)))) * s.peak;
}

describe('learningRateAt', () => {
  const s: Schedule = { peak: 3e-4, warmupSteps: 10, totalSteps: 100 };

  it('matches the naive formula at every step', () => {
    for (let step = 0; step <= s.totalSteps; step++) expect(learningRateAt(step, s)).toBeCloseTo(naive(step, s), 15);
  });

  it('warms up linearly: (step+1)/warmup·peak', () => {
    expect(learningRateAt(0, s)).toBeCloseTo(3e-5, 15);
    expect(learningRateAt(4, s)).toBeCloseTo(1.5e-4, 15);
    for (let step = 1; step < s.warmupSteps; step++) {
      // constant increments of peak/warmup
      expect(learningRateAt(step, s) - learningRateAt(step - 1, s)).toBeCloseTo(s.peak / s.warmupSteps, 15);
    }
  });

  it('reaches the peak at the end of warmup and starts the cosine from it', () => {
    expect(learningRateAt(s.warmupSteps - 1, s)).toBe(s.peak);
    expect(learningRateAt(s.warmupSteps, s)).toBe(s.peak);
    expect(learningRateAt(s.warmupSteps + 1, s)).toBeLessThan(s.peak);
  });

  it('is half the peak half-way through the decay', () => {
    expect(learningRateAt(s.warmupSteps + 45, s)).toBeCloseTo(s.peak / 2, 15);
  });

  it('decays to ~0 at the last step and exactly 0 at totalSteps, never negative after', () => {
    const last = learningRateAt(s.totalSteps - 1, s);
    expect(last).toBeGreaterThan(0);
    expect(last).toBeLessThan(s.peak * 1e-3);
    expect(learningRateAt(s.totalSteps, s)).toBeCloseTo(0, 15);
    expect(learningRateAt(s.totalSteps + 5, s)).toBeCloseTo(0, 15);
    expect(learningRateAt(s.totalSteps + 5, s)).toBeGreaterThanOrEqual(0);
  });

  it('decreases strictly after warmup', () => {
    for (let step = s.warmupSteps + 1; step < s.totalSteps; step++) {
      expect(learningRateAt(step, s)).toBeLessThan(learningRateAt(step - 1, s));
    }
  });

  it('works with no warmup: peak at step 0, then cosine', () => {
    const z: Schedule = { peak: 1e-3, warmupSteps: 0, totalSteps: 20 };
    expect(learningRateAt(0, z)).toBe(1e-3);
    for (let step = 0; step < 20; step++) {
      const lr = learningRateAt(step, z);
      expect(Number.isFinite(lr)).toBe(true);
      expect(lr).toBeCloseTo(naive(step, z), 15);
      if (step > 0) expect(lr).toBeLessThan(learningRateAt(step - 1, z));
    }
    expect(learningRateAt(10, z)).toBeCloseTo(5e-4, 15);
  });

  it('a single-step run trains at the peak', () => {
    expect(learningRateAt(0, { peak: 0.1, warmupSteps: 0, totalSteps: 1 })).toBe(0.1);
    expect(learningRateAt(0, { peak: 0.1, warmupSteps: 1, totalSteps: 1 })).toBe(0.1);
  });
});
