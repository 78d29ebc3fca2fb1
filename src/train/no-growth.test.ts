// Long runs hold a constant number of tensors: every kind of run the Method select offers —
// each PEFT method, full fine-tuning and distillation — trains 500 steps on the wasm backend
// (the browser's fallback; the cpu backend's leaks are checked per method in shorter runs)
// while the tensor count and bytes are recorded each time the losses are read back (every
// few steps; until then each step's loss is a pending tensor by design). Once the
// first steps have allocated AdamW's moments nothing more may stay behind: a tensor kept per
// step would run a browser tab out of memory in an afternoon of training.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { registerWasmKernels } from '../backend/wasm-kernels';
import { randomGpt2 } from '../models/gpt2-init';
import { textBatches } from '../peft/testing';
import { RUN_KINDS } from './registry';
import { trainVariables } from './trainer';

const STEPS = 500;

interface Footprint {
  tensors: number;
  bytes: number;
}

/** Trains `kindId` for STEPS steps; the tensor footprint after each read-back of losses, and around the whole run. */
async function footprints(kindId: string) {
  const kind = RUN_KINDS.find((k) => k.id === kindId)!;
  const model = randomGpt2('tiny', { n_layer: 2, n_embd: 16, n_head: 2, n_positions: 64 }, 1);
  const before = tf.memory().numTensors;
  const config = kind.defaults(model.info);
  if ('student_layers' in config) (config as { student_layers: number }).student_layers = 1;
  const trained = kind.create(model, config, 3, { baseFiles: {} });
  const batch = textBatches(1, 8);
  const readbacks: Footprint[] = [];
  let stepsDone = 0;
  const result = await trainVariables(
    trained.spec([]),
    { totalSteps: STEPS, learningRate: 1e-3, warmupSteps: 10, weightDecay: 0.01, maxGradNorm: 1, evalEvery: 0 },
    {
      nextBatch: () => ({ batch, epoch: 0 }),
      evalBatches: [],
      onProgress: () => readbacks.push({ tensors: tf.memory().numTensors, bytes: tf.memory().numBytes }),
      onEval: () => {},
      onStep: () => stepsDone++,
      shouldStop: () => false,
    },
  );
  trained.dispose();
  const leftAfterDispose = tf.memory().numTensors - before;
  model.dispose();
  return { result, readbacks, stepsDone, leftAfterDispose };
}

describe('500 training steps on the wasm backend', () => {
  it.each(RUN_KINDS.map((k) => k.id))('%s holds the same tensors from its second read-back of losses to its last, and frees them all', async (id) => {
    registerWasmKernels();
    await tf.setBackend('wasm');
    await tf.ready();
    const { result, readbacks, stepsDone, leftAfterDispose } = await footprints(id);
    expect(result).toMatchObject({ reason: 'finished', step: STEPS });
    expect(stepsDone).toBe(STEPS);
    expect(readbacks.length).toBeGreaterThan(STEPS / 10);
    // The first steps allocate the optimizer's moments; from then on the footprint must not move.
    const settled = readbacks[1];
    const moved = readbacks.map((f, i) => ({ readback: i + 1, ...f })).filter((f, i) => i >= 1 && (f.tensors !== settled.tensors || f.bytes !== settled.bytes));
    expect(moved).toEqual([]);
    expect(leftAfterDispose).toBe(0);
  });
});
