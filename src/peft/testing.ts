// Shared by the method tests: the checks every PEFT method must pass — train on a tiny text,
// leak no tensor, leave every frozen weight bit-identical — written once.
import * as tf from '@tensorflow/tfjs';
import type { Hooks, LoadedModel } from '../models/types';
import { train, type TokenBatch, type TrainResult } from '../train/trainer';
import type { Adapter } from './types';

/** Every frozen weight's bytes, to compare after training. */
export async function weightBytes(model: LoadedModel): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const [name, t] of model.weights) out.set(name, Buffer.from(((await t.data()) as Float32Array).slice().buffer));
  return out;
}

/** Names of the weights whose bytes differ from `before`: empty when all are bit-identical. */
export async function changedWeights(model: LoadedModel, before: Map<string, Buffer>): Promise<string[]> {
  const now = await weightBytes(model);
  return [...before].filter(([name, bytes]) => !now.get(name)?.equals(bytes)).map(([name]) => name);
}

/** Trains `adapter` on one fixed batch; returns the per-step losses and how many tensors leaked. */
export async function overfit(
  model: LoadedModel,
  adapter: Adapter,
  batch: TokenBatch,
  opts: { steps: number; learningRate: number },
): Promise<{ result: TrainResult; losses: number[]; leaked: number }> {
  const losses: number[] = [];
  const before = tf.memory().numTensors;
  const result = await train(
    model,
    adapter,
    { totalSteps: opts.steps, learningRate: opts.learningRate, warmupSteps: 2, weightDecay: 0, maxGradNorm: 1, evalEvery: 0 },
    {
      nextBatch: () => ({ batch, epoch: 0 }),
      evalBatches: [],
      onProgress: (pts) => losses.push(...pts.map((p) => p.loss)),
      onEval: () => {},
      shouldStop: () => false,
    },
  );
  return { result, losses, leaked: tf.memory().numTensors - before };
}

/** A repeated sentence as byte ids, in fixed batches: a text small enough to overfit. */
export function textBatches(batch = 4, length = 24): TokenBatch {
  const bytes = Array.from(new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(4)));
  const ids = new Int32Array(batch * length);
  for (let b = 0; b < batch; b++) for (let t = 0; t < length; t++) ids[b * length + t] = bytes[b * 3 + t];
  return { ids, labels: Int32Array.from(ids), batch, length };
}

/** Logits of a fixed 2 × 16 batch of that text, with the given hooks. */
export async function logitsOf(model: LoadedModel, hooks: Hooks = {}): Promise<Float32Array> {
  const out = tf.tidy(() => model.forward(tf.tensor2d(textBatches(2, 16).ids, [2, 16], 'int32'), hooks).logits);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}
