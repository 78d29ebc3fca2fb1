// The training loop's reports on the cpu backend: every step is reported when it finishes,
// before its loss comes back with the batched read-back; a stop ends the run after the steps
// already taken with one final evaluation (none when the model was just evaluated at that
// step); an evaluation asked to skip ends before its next held-out batch, reports nothing and
// leaves no tensor behind.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomGpt2 } from '../models/gpt2-init';
import type { LoadedModel } from '../models/types';
import { coerceConfig, getMethod } from '../peft/registry';
import type { Adapter } from '../peft/types';
import { CAUSAL_LM, type LmObjective } from './objective';
import { adapterSpec, evaluate, EvaluationSkipped, trainVariables, type EvalPoint, type ProgressPoint, type StepPoint, type TokenBatch, type TrainerIO } from './trainer';

const OPTS = { learningRate: 0.01, warmupSteps: 0, weightDecay: 0.01, maxGradNorm: 1 };

/** Batch `s` of 2 rows × 12 tokens, every token labelled: 24 real tokens. */
function batch(s: number): TokenBatch {
  const ids = Int32Array.from({ length: 24 }, (_, i) => (i * 5 + s * 3 + 1) % 100);
  return { ids, labels: Int32Array.from(ids), batch: 2, length: 12 };
}

let model: LoadedModel;
let adapter: Adapter;

/** A fresh LoRA adapter (B = 0, A seeded) on the frozen model, replacing the last test's. */
function freshAdapter(): Adapter {
  adapter?.dispose();
  const lora = getMethod('lora');
  adapter = lora.create(model, coerceConfig(lora, model.info, { r: 2 }), 5);
  return adapter;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = randomGpt2('m', { n_layer: 2, n_embd: 16, n_head: 2, n_positions: 16, vocab_size: 100 }, 3);
});

beforeEach(() => {
  freshAdapter();
});

afterAll(() => {
  adapter.dispose();
  model.dispose();
});

/** What a run reported, in order, with a clock that moves one second per batch drawn. */
function recorder(io: Partial<TrainerIO> = {}) {
  const log: ({ kind: 'step'; point: StepPoint } | { kind: 'progress'; points: ProgressPoint[] } | { kind: 'eval'; point: EvalPoint } | { kind: 'evaluating'; step: number })[] = [];
  let clock = 0;
  let drawn = 0;
  const full: TrainerIO = {
    nextBatch: () => {
      clock += 1000;
      return { batch: batch(drawn++), epoch: 0 };
    },
    evalBatches: [],
    onProgress: (points) => log.push({ kind: 'progress', points }),
    onEval: (point) => log.push({ kind: 'eval', point }),
    onStep: (point) => log.push({ kind: 'step', point }),
    onEvaluating: (step) => log.push({ kind: 'evaluating', step }),
    shouldStop: () => false,
    now: () => clock,
    ...io,
  };
  return { io: full, log, drawn: () => drawn };
}

describe('trainVariables: a report at every step', () => {
  it('reports each step as it finishes, before the read-back that brings its loss, four steps at a time', async () => {
    const { io, log } = recorder();
    const result = await trainVariables(adapterSpec(model, adapter, []), { ...OPTS, totalSteps: 10, evalEvery: 0, readbackEvery: 4 }, io);
    expect(result).toEqual({ reason: 'finished', step: 10 });

    // Losses arrive in batches of four; every step is reported once, in order.
    const reads = log.flatMap((e) => (e.kind === 'progress' ? [e.points.map((p) => p.step)] : []));
    expect(reads).toEqual([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]);
    const steps = log.flatMap((e) => (e.kind === 'step' ? [e.point] : []));
    expect(steps.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // The count moved three times before the first read-back, and each step is reported before its loss.
    expect(log.slice(0, 4).map((e) => e.kind)).toEqual(['step', 'step', 'step', 'step']);
    for (const p of steps) {
      const reportedAt = log.findIndex((e) => e.kind === 'step' && e.point.step === p.step);
      const readAt = log.findIndex((e) => e.kind === 'progress' && e.points.some((q) => q.step === p.step));
      expect(reportedAt).toBeLessThan(readAt);
    }

    // Timed on the host: one second a step, 24 real tokens each.
    steps.forEach((p, i) => {
      expect(p).toEqual({ step: i + 1, totalSteps: 10, epoch: 0, tokens: 24, tokensPerSecond: 24, elapsedMs: (i + 1) * 1000, etaMs: (9 - i) * 1000 });
    });
  });

  it('reports no step after a run that failed (a loss that turned NaN)', async () => {
    const { io, log } = recorder();
    const result = await trainVariables(adapterSpec(model, adapter, []), { ...OPTS, learningRate: 1e30, maxGradNorm: 0, totalSteps: 6, evalEvery: 0, readbackEvery: 1 }, io);
    expect(result.reason).toBe('failed');
    const steps = () => log.flatMap((e) => (e.kind === 'step' ? [e.point.step] : []));
    const reported = steps();
    // Every step taken up to the failure was reported, in order; nothing arrives after the run returned.
    expect(reported).toEqual(Array.from({ length: result.step + 1 }, (_, i) => i + 1));
    await new Promise((r) => setTimeout(r, 20));
    expect(steps()).toEqual(reported);
  });
});

describe('trainVariables: stopping', () => {
  const held = [batch(100), batch(101), batch(102)];

  it('ends after the steps taken with a final evaluation at that step', async () => {
    let r: ReturnType<typeof recorder>;
    r = recorder({ evalBatches: held, shouldStop: () => r.drawn() >= 3 });
    const result = await trainVariables(adapterSpec(model, adapter, held), { ...OPTS, totalSteps: 50, evalEvery: 0, readbackEvery: 4 }, r.io);
    expect(result).toEqual({ reason: 'stopped', step: 3 });
    expect(r.log.flatMap((e) => (e.kind === 'evaluating' ? [e.step] : []))).toEqual([0, 3]);
    expect(r.log.flatMap((e) => (e.kind === 'eval' ? [e.point.step] : []))).toEqual([0, 3]);
    // All three steps were reported and read back before the final evaluation began.
    const finalAt = r.log.findIndex((e) => e.kind === 'evaluating' && e.step === 3);
    expect(r.log.slice(0, finalAt).flatMap((e) => (e.kind === 'step' ? [e.point.step] : []))).toEqual([1, 2, 3]);
    expect(r.log.slice(0, finalAt).flatMap((e) => (e.kind === 'progress' ? e.points.map((p) => p.step) : []))).toEqual([1, 2, 3]);
  });

  it('does not evaluate again at the step it was just evaluated at', async () => {
    let r: ReturnType<typeof recorder>;
    r = recorder({ evalBatches: held, shouldStop: () => r.drawn() >= 3 });
    const result = await trainVariables(adapterSpec(model, adapter, held), { ...OPTS, totalSteps: 50, evalEvery: 3, readbackEvery: 4 }, r.io);
    expect(result).toEqual({ reason: 'stopped', step: 3 });
    expect(r.log.flatMap((e) => (e.kind === 'eval' ? [e.point.step] : []))).toEqual([0, 3]);
  });

  it('ends the final evaluation before its next held-out batch when asked to skip, reporting nothing and leaking nothing', async () => {
    const before = tf.memory().numTensors;
    let r: ReturnType<typeof recorder>;
    let checks = 0;
    // Asked before each held-out batch of the final evaluation: go on with the first, skip at the second.
    const stopping = () => r.drawn() >= 3;
    r = recorder({ evalBatches: held, shouldStop: stopping, skipEvaluation: () => stopping() && ++checks > 1 });
    const result = await trainVariables(adapterSpec(model, adapter, held), { ...OPTS, totalSteps: 50, evalEvery: 0, readbackEvery: 4 }, r.io);
    expect(result).toEqual({ reason: 'stopped', step: 3 });
    expect(checks).toBe(2);
    expect(r.log.flatMap((e) => (e.kind === 'evaluating' ? [e.step] : []))).toEqual([0, 3]);
    // The last held-out loss measured stands: the one before the first step.
    expect(r.log.flatMap((e) => (e.kind === 'eval' ? [e.point.step] : []))).toEqual([0]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('skips a final evaluation asked to before it starts', async () => {
    const before = tf.memory().numTensors;
    let r: ReturnType<typeof recorder>;
    const stopping = () => r.drawn() >= 2;
    r = recorder({ evalBatches: held, shouldStop: stopping, skipEvaluation: stopping });
    const result = await trainVariables(adapterSpec(model, adapter, held), { ...OPTS, totalSteps: 50, evalEvery: 0, readbackEvery: 4 }, r.io);
    expect(result).toEqual({ reason: 'stopped', step: 2 });
    expect(r.log.flatMap((e) => (e.kind === 'eval' ? [e.point.step] : []))).toEqual([0]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('evaluate: skipping between held-out batches', () => {
  const held = [batch(200), batch(201), batch(202)];

  /** The causal-LM objective, counting the batches it computes a loss for. */
  function counted(): { objective: LmObjective; batches: () => number } {
    let n = 0;
    return {
      objective: { ...CAUSAL_LM, batchLoss: (...args: Parameters<LmObjective['batchLoss']>) => (n++, CAUSAL_LM.batchLoss(...args)) },
      batches: () => n,
    };
  }

  it('computes what it computes without a skip check when never asked to skip', async () => {
    const hooks = adapter.hooks(false);
    const plain = await evaluate(model, hooks, held);
    expect(await evaluate(model, hooks, held, CAUSAL_LM, () => false)).toBe(plain);
  });

  it('stops before the batch it was asked to skip at, freeing its running sum', async () => {
    const before = tf.memory().numTensors;
    for (const skipAt of [0, 1, 2]) {
      const c = counted();
      let checks = 0;
      await expect(evaluate(model, adapter.hooks(false), held, c.objective, () => checks++ === skipAt)).rejects.toBeInstanceOf(EvaluationSkipped);
      expect(c.batches()).toBe(skipAt);
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});
