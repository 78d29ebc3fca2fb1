// The training loop. Runs in the worker (and in Node tests). Each step lives inside tf.tidy,
// so the tensor count stays flat; losses and gradient norms stay on the device and are read
// back together every few steps with an awaited data() call, never a blocking read per step.
import * as tf from '@tensorflow/tfjs';
import type { LoadedModel } from '../models/types';
import type { Adapter } from '../peft/types';
import type { EvalPoint, ProgressPoint, RunEnd } from '../worker/protocol';
import { AdamW, clipByGlobalNorm } from './adamw';
import { causalLmLoss } from './loss';
import { learningRateAt } from './schedule';

/** One batch for causal-LM training: ids right-padded to `length`, labels −100 at padding. */
export interface TokenBatch {
  ids: Int32Array;
  labels: Int32Array;
  batch: number;
  length: number;
}

export interface TrainerOptions {
  totalSteps: number;
  learningRate: number;
  warmupSteps: number;
  weightDecay: number;
  maxGradNorm: number;
  /** Evaluate every this many steps (0: only at the end). */
  evalEvery: number;
  /** Read losses back every this many steps (they are computed every step regardless). */
  readbackEvery?: number;
}

export interface TrainerIO {
  nextBatch(): { batch: TokenBatch; epoch: number };
  evalBatches: TokenBatch[];
  onProgress(points: ProgressPoint[]): void;
  onEval(point: EvalPoint): void;
  shouldStop(): boolean;
  /** Wall clock in ms; injectable for tests. */
  now?(): number;
}

export interface TrainResult {
  reason: RunEnd;
  step: number;
  message?: string;
}

function labelCount(b: TokenBatch): number {
  let n = 0;
  for (let i = 0; i < b.labels.length; i++) if (b.labels[i] !== -100) n++;
  return n;
}

function batchLoss(model: LoadedModel, adapter: Adapter, b: TokenBatch, training: boolean): tf.Scalar {
  const ids = tf.tensor2d(b.ids, [b.batch, b.length], 'int32');
  const { logits, prepended } = model.forward(ids, adapter.hooks(training), { training });
  return causalLmLoss(logits, b.labels, prepended).loss;
}

/** Token-weighted mean loss over the batches (as one pass over the held-out split). */
export async function evaluate(model: LoadedModel, adapter: Adapter, batches: TokenBatch[]): Promise<number> {
  if (batches.length === 0) return NaN;
  let sum = tf.scalar(0);
  let tokens = 0;
  for (const b of batches) {
    const n = labelCount(b);
    tokens += n;
    const next = tf.tidy(() => tf.add(sum, tf.mul(batchLoss(model, adapter, b, false), n)));
    sum.dispose();
    sum = next as tf.Scalar;
  }
  const total = (await sum.data())[0];
  sum.dispose();
  return total / Math.max(tokens, 1);
}

/** Copies of the variables, to restore the last state whose loss was finite. */
function snapshot(vars: tf.Variable[]): tf.Tensor[] {
  return vars.map((v) => tf.clone(v));
}

export async function train(model: LoadedModel, adapter: Adapter, opts: TrainerOptions, io: TrainerIO): Promise<TrainResult> {
  const now = io.now ?? (() => performance.now());
  const vars = adapter.variables;
  const optimizer = new AdamW(vars, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: opts.weightDecay });
  const readbackEvery = Math.max(1, opts.readbackEvery ?? 4);
  const schedule = { peak: opts.learningRate, warmupSteps: opts.warmupSteps, totalSteps: opts.totalSteps };
  let lastGood = snapshot(vars);
  let pending: { step: number; epoch: number; lr: number; tokens: number; loss: tf.Scalar; norm: tf.Scalar }[] = [];
  const start = now();
  let tokensSinceFlush = 0;
  let lastFlush = start;
  let step = 0;

  const restore = () => vars.forEach((v, i) => v.assign(lastGood[i]));
  const dropPending = () => {
    for (const p of pending) (p.loss.dispose(), p.norm.dispose());
    pending = [];
  };

  // Reads back the pending losses; returns false when one was not finite.
  const flush = async (): Promise<boolean> => {
    if (pending.length === 0) return true;
    const stacked = tf.tidy(() => tf.stack(pending.flatMap((p) => [p.loss, p.norm])));
    const values = await stacked.data();
    stacked.dispose();
    const t = now();
    const elapsed = t - start;
    const tps = (tokensSinceFlush / Math.max(t - lastFlush, 1e-3)) * 1000;
    const points: ProgressPoint[] = [];
    let finite = true;
    pending.forEach((p, i) => {
      const loss = values[2 * i];
      if (!Number.isFinite(loss)) finite = false;
      const done = p.step + 1;
      const mem = tf.memory();
      points.push({
        step: done,
        totalSteps: opts.totalSteps,
        epoch: p.epoch,
        loss,
        learningRate: p.lr,
        gradNorm: values[2 * i + 1],
        tokensPerSecond: tps,
        elapsedMs: elapsed,
        etaMs: (elapsed / done) * (opts.totalSteps - done),
        numTensors: mem.numTensors,
        numBytes: mem.numBytes,
      });
    });
    dropPending();
    tokensSinceFlush = 0;
    lastFlush = t;
    if (!finite) return false;
    io.onProgress(points);
    for (const s of lastGood) s.dispose();
    lastGood = snapshot(vars);
    return true;
  };

  const runEval = async (atStep: number) => {
    if (io.evalBatches.length === 0) return;
    io.onEval({ step: atStep, evalLoss: await evaluate(model, adapter, io.evalBatches) });
  };

  try {
    await runEval(0);
    for (; step < opts.totalSteps; step++) {
      if (io.shouldStop()) {
        if (!(await flush())) throw new NonFiniteLoss();
        await runEval(step);
        return { reason: 'stopped', step };
      }
      const { batch, epoch } = io.nextBatch();
      const lr = learningRateAt(step, schedule);
      const { loss, norm } = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => batchLoss(model, adapter, batch, true), vars);
        const clipped = clipByGlobalNorm(
          vars.map((v) => grads[v.name]),
          opts.maxGradNorm,
        );
        optimizer.apply(clipped.grads, lr);
        return { loss: value, norm: clipped.norm };
      });
      pending.push({ step, epoch, lr, tokens: labelCount(batch), loss, norm });
      tokensSinceFlush += labelCount(batch);
      const last = step + 1 === opts.totalSteps;
      if (pending.length >= readbackEvery || last) {
        if (!(await flush())) throw new NonFiniteLoss();
      } else {
        // Yield so a "stop" message can arrive between steps.
        await new Promise((r) => setTimeout(r, 0));
      }
      if ((opts.evalEvery > 0 && (step + 1) % opts.evalEvery === 0) || last) await runEval(step + 1);
    }
    return { reason: 'finished', step };
  } catch (e) {
    dropPending();
    restore();
    if (e instanceof NonFiniteLoss) {
      return {
        reason: 'failed',
        step,
        message: `The loss became NaN or infinite near step ${step + 1}; the adapter was restored to its last finite state. Try a lower learning rate.`,
      };
    }
    return { reason: 'failed', step, message: (e as Error).message ?? String(e) };
  } finally {
    for (const s of lastGood) s.dispose();
    optimizer.dispose();
  }
}

class NonFiniteLoss extends Error {}
