import { describe, expect, it } from 'vitest';
import type { ProgressPoint } from '../src/worker/protocol';
import { addEval, addProgress, thinRows } from './loss-series';

const point = (step: number, loss: number): ProgressPoint => ({
  step,
  totalSteps: 10,
  epoch: 0,
  loss,
  learningRate: 1e-4,
  gradNorm: 1,
  tokensPerSecond: 100,
  elapsedMs: 0,
  etaMs: 0,
  numTensors: 0,
  numBytes: 0,
});

describe('loss series', () => {
  it('merges training and held-out losses by step', () => {
    let rows = addProgress([], [point(1, 3), point(2, 2.5)]);
    rows = addEval(rows, { step: 2, evalLoss: 2.7 });
    rows = addProgress(rows, [point(3, 2.2)]);
    rows = addEval(rows, { step: 0, evalLoss: 3.3 });
    expect(rows).toEqual([
      { step: 0, evalLoss: 3.3 },
      { step: 1, loss: 3 },
      { step: 2, loss: 2.5, evalLoss: 2.7 },
      { step: 3, loss: 2.2 },
    ]);
  });

  it('thins long series but keeps evals and the newest row', () => {
    let rows = addProgress([], Array.from({ length: 1000 }, (_, i) => point(i + 1, 1)));
    rows = addEval(rows, { step: 501, evalLoss: 1 });
    const thin = thinRows(rows, 100);
    expect(thin.length).toBeLessThanOrEqual(102);
    expect(thin.some((r) => r.step === 501 && r.evalLoss === 1)).toBe(true);
    expect(thin[thin.length - 1].step).toBe(1000);
  });
});
