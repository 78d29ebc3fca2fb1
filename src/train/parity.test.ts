// The parity trace and its comparison, on the cpu backend: the same steps from the same state
// trace the same numbers; the trace is what a training run computes; a gradient that is off is
// named with its tensor.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomGpt2 } from '../models/gpt2-init';
import { coerceConfig, getMethod } from '../peft/registry';
import { changeDifference, checkAgainstCpu, compareTraces, parityFailure, PARITY_TOLERANCE, readAll, traceSteps, type StepTrace } from './parity';
import { adapterSpec, train, type TokenBatch } from './trainer';

const OPTS = { totalSteps: 3, learningRate: 0.01, warmupSteps: 0, weightDecay: 0.01, maxGradNorm: 1 };

function batches(): TokenBatch[] {
  return [0, 1, 2].map((s) => {
    const ids = Int32Array.from({ length: 24 }, (_, i) => (i * 5 + s * 3 + 1) % 100);
    return { ids, labels: Int32Array.from(ids), batch: 2, length: 12 };
  });
}

function loraSide() {
  const model = randomGpt2('m', { n_layer: 2, n_embd: 16, n_head: 2, n_positions: 16, vocab_size: 100 }, 3);
  const method = getMethod('lora');
  const adapter = method.create(model, coerceConfig(method, model.info, { r: 2 }), 5);
  const names = adapter.variables.map((_, i) => `v${i}`);
  return { spec: adapterSpec(model, adapter, []), names, dispose: () => (adapter.dispose(), model.dispose()) };
}

/** A trace of three LoRA steps, with the values it started from. */
async function loraTrace(): Promise<StepTrace & { start: Float32Array[] }> {
  const side = loraSide();
  try {
    const start = await readAll(side.spec.variables);
    return { ...(await traceSteps(side.spec, side.names, batches(), OPTS)), start };
  } finally {
    side.dispose();
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('traceSteps', () => {
  it('reads back every loss, the first gradients and update, and the final weights, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const t = await loraTrace();
    expect(tf.memory().numTensors).toBe(before);
    expect(t.losses).toHaveLength(3);
    expect(t.norms.every((n) => n > 0)).toBe(true);
    expect(t.firstGrads).toHaveLength(4); // A and B of c_attn in two layers
    // B starts at zero, so A's first gradient is exactly zero and B's is not.
    expect(t.firstGrads[0].every((g) => g === 0)).toBe(true);
    expect(t.firstGrads[1].some((g) => g !== 0)).toBe(true);
    // AdamW's first step moves every B entry with a gradient by about the learning rate.
    expect(Math.max(...t.firstUpdate[1].map(Math.abs))).toBeCloseTo(0.01, 4);
    expect(t.final[1]).not.toEqual(t.firstUpdate[1]);
  });

  it('computes the same steps as a training run from the same state', async () => {
    const model = randomGpt2('m', { n_layer: 2, n_embd: 16, n_head: 2, n_positions: 16, vocab_size: 100 }, 3);
    const method = getMethod('lora');
    const adapter = method.create(model, coerceConfig(method, model.info, { r: 2 }), 5);
    const losses: number[] = [];
    let step = 0;
    await train(model, adapter, { ...OPTS, evalEvery: 0 }, {
      nextBatch: () => ({ batch: batches()[step++], epoch: 0 }),
      evalBatches: [],
      onProgress: (p) => losses.push(...p.map((x) => x.loss)),
      onEval: () => {},
      shouldStop: () => false,
    });
    const finalRun = await Promise.all(adapter.variables.map(async (v) => Float32Array.from((await v.data()) as Float32Array)));
    adapter.dispose();
    model.dispose();
    const t = await loraTrace();
    expect(t.losses).toEqual(losses);
    expect(t.final).toEqual(finalRun);
  });
});

describe('compareTraces', () => {
  it('passes two traces of the same steps with differences of exactly zero on one backend', async () => {
    const [a, b] = [await loraTrace(), await loraTrace()];
    const checks = compareTraces(a, b, b.start, b.firstUpdate);
    expect(checks.map((c) => c.name)).toEqual([
      'loss (step 1)',
      'gradients (step 1)',
      'gradient norm (step 1)',
      'AdamW update (step 1)',
      'weight change (step 1)',
      'losses (steps 1–3)',
      'weight change (steps 1–3)',
    ]);
    expect(checks.every((c) => c.ok && c.difference === 0)).toBe(true);
    expect(parityFailure(checks)).toBeUndefined();
  });

  it('fails a trace whose gradient for one tensor is off, naming that tensor', async () => {
    const want = await loraTrace();
    const got: StepTrace = { ...want, firstGrads: want.firstGrads.map((g, i) => (i === 3 ? g.map((x) => x * 1.01) : g)) };
    const checks = compareTraces(got, want, want.start, want.firstUpdate);
    const grads = checks.find((c) => c.name === 'gradients (step 1)')!;
    expect(grads.ok).toBe(false);
    expect(grads.worst).toBe('v3');
    expect(grads.difference).toBeCloseTo(0.01, 6);
    expect(parityFailure(checks)).toBe(
      `gradients (step 1): relative difference 1.0e-2 from the CPU reference (worst: v3), above the tolerance of ${PARITY_TOLERANCE.step.toExponential(1)}`,
    );
  });

  it('fails a gradient that is zero where the reference’s is not (the shape of a dropped GPU dispatch)', async () => {
    const want = await loraTrace();
    const got: StepTrace = { ...want, firstGrads: want.firstGrads.map((g) => new Float32Array(g.length)) };
    const grads = compareTraces(got, want, want.start, want.firstUpdate).find((c) => c.name === 'gradients (step 1)')!;
    expect(grads.difference).toBe(1);
    expect(grads.ok).toBe(false);
  });

  it('fails an update that is not the reference AdamW step of the same gradients', async () => {
    const want = await loraTrace();
    // The update applied twice over: what an optimiser with a wrong bias correction might do.
    const doubled = want.firstUpdate.map((u, t) => u.map((x, i) => 2 * x - want.start[t][i]));
    const checks = compareTraces({ ...want, firstUpdate: doubled }, want, want.start, want.firstUpdate);
    const update = checks.find((c) => c.name === 'AdamW update (step 1)')!;
    expect(update.ok).toBe(false);
    expect(update.worst).toBe('v1');
  });
});

describe('changeDifference', () => {
  it('is the 2-norm of the difference of two changes over the 2-norm of the reference change', () => {
    const start = [Float32Array.from([1, 1]), Float32Array.from([0])];
    const want = [Float32Array.from([1.3, 1]), Float32Array.from([0.4])]; // change (0.3, 0, 0.4): norm 0.5
    const got = [Float32Array.from([1.3, 1.05]), Float32Array.from([0.4])]; // off by 0.05 in one entry
    expect(changeDifference(got, want, start)).toBeCloseTo(0.1, 6);
    expect(changeDifference(want, want, start)).toBe(0);
    expect(changeDifference(got, start, start)).toBe(Infinity);
  });
});

describe('checkAgainstCpu', () => {
  it('on the cpu backend itself finds every quantity exactly equal, stays on cpu and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const checks = await checkAgainstCpu('cpu', () => loraSide(), batches(), OPTS);
    expect(checks).toHaveLength(7);
    expect(checks.every((c) => c.ok && c.difference === 0)).toBe(true);
    expect(tf.getBackend()).toBe('cpu');
    expect(tf.memory().numTensors).toBe(before);
  });
});
