import { describe, expect, it } from 'vitest';
import { trainingMemory } from './memory';

describe('trainingMemory', () => {
  it('counts 4 bytes a weight, and 4 for the gradient and 8 for the AdamW moments of each trainable one', () => {
    expect(trainingMemory(10, 1000)).toEqual({ weightBytes: 4000, gradientBytes: 40, momentBytes: 80, totalBytes: 4120 });
  });

  it('costs full fine-tuning 16 bytes a parameter', () => {
    const m = trainingMemory(2_743_488, 2_743_488);
    expect(m.totalBytes).toBe(16 * 2_743_488);
  });

  it('refuses counts that cannot be a plan', () => {
    expect(() => trainingMemory(11, 10)).toThrow(/trainable ≤ total/);
    expect(() => trainingMemory(-1, 10)).toThrow(/trainable ≤ total/);
  });
});
