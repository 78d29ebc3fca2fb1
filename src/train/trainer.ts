// The training loop. Runs in the worker (and in Node tests). Each step lives inside tf.tidy,
// so the tensor count stays flat; losses and gradient norms stay on the device and are read
// back together every few steps with an awaited data() call, never a blocking read per step.
// Each step is still reported when it finishes (the backend says so without a read-back), so
// the step count and throughput move at every step while the losses arrive in batches.
import * as tf from '@tensorflow/tfjs';
import { leanVariableGrads } from '../autodiff/lean-grads';
import type { Hooks, LoadedModel } from '../models/types';
import type { Adapter } from '../peft/types';
import { AdamW, globalNormClip } from './adamw';
import { CAUSAL_LM, type LmObjective } from './objective';
import type { ClassificationMetrics } from './metrics';
import { learningRateAt } from './schedule';
import { GpuRejectedWork, throwIfGpuErrors } from '../backend/webgpu-kernels';
import { workDone } from '../backend/work-done';

/** Where a run stands after one step, as the loop reports it. */
export interface ProgressPoint {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  learningRate: number;
  gradNorm: number;
  tokensPerSecond: number;
  elapsedMs: number;
  etaMs: number;
  numTensors: number;
  numBytes: number;
  /** Each named loss term at this step, for runs whose loss has several (TrainingSpec.termKeys). */
  terms?: Record<string, number>;
}

/**
 * A step as the host saw it finish, reported at every step: its loss is still on the device
 * and comes later with the batched read-back (a ProgressPoint).
 */
export interface StepPoint {
  /** Steps done, counted from 1. */
  step: number;
  totalSteps: number;
  epoch: number;
  /** Real tokens the step read. */
  tokens: number;
  /** The step's tokens over the time since the previous step finished (since the run or its last evaluation began, for the first after it). */
  tokensPerSecond: number;
  elapsedMs: number;
  etaMs: number;
}

export interface EvalPoint {
  step: number;
  evalLoss: number;
  /** A sequence classifier's held-out accuracy, macro-F1 and confusion matrix. */
  classification?: ClassificationMetrics;
}

export type RunEnd = 'finished' | 'stopped' | 'failed';

/**
 * One batch as the sampler makes it: ids right-padded to `length`, labels −100 at padding (so
 * they also say which tokens are real) and, under completion-only loss, at a prompt's tokens
 * (`tokens` then counts the real ones). The objective (./objective.ts) makes the model's inputs
 * and targets from it: as they are for a causal LM, masked for a masked LM.
 */
export interface TokenBatch {
  ids: Int32Array;
  labels: Int32Array;
  batch: number;
  length: number;
  /** Sequence classification: each row's label id [batch]. */
  classes?: Int32Array;
  /** Each token's segment [batch, length] (a sentence pair's second is 1); absent: all 0. */
  tokenTypes?: Int32Array;
  /** Real (non-padding) tokens, when some real tokens have label −100 too; absent: those with a label. */
  tokens?: number;
}

export interface TrainerOptions {
  totalSteps: number;
  learningRate: number;
  warmupSteps: number;
  weightDecay: number;
  maxGradNorm: number;
  /** Keep only each block's input for the backward pass and run the block again there (less memory, one more forward of compute). */
  recompute?: boolean;
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
  /** Each step as it finishes, before its loss is read back. */
  onStep?(point: StepPoint): void;
  /** An evaluation of the model after `step` steps on the held-out batches begins. */
  onEvaluating?(step: number): void;
  shouldStop(): boolean;
  /** Asked before each held-out batch: true abandons that evaluation, which then reports nothing. */
  skipEvaluation?(): boolean;
  /** Wall clock in ms; injectable for tests. */
  now?(): number;
}

export interface TrainResult {
  reason: RunEnd;
  step: number;
  message?: string;
}

/** The real tokens the model read: the throughput counts a prompt's tokens, which cost as much as any. */
function realTokens(b: TokenBatch): number {
  if (b.tokens !== undefined) return b.tokens;
  let n = 0;
  for (let i = 0; i < b.labels.length; i++) if (b.labels[i] !== -100) n++;
  return n;
}

/** Asked between held-out batches: true when the evaluation should end without a result. */
export type SkipCheck = () => boolean;

/** Thrown by an evaluation its SkipCheck ended; whatever it had on the device is already freed. */
export class EvaluationSkipped extends Error {
  constructor() {
    super('the evaluation was skipped');
  }
}

/**
 * Before a held-out batch of a skippable evaluation: waits until the batches before it have
 * run (so a skip asked for meanwhile is seen between batches, not after all of them were
 * queued), then throws EvaluationSkipped if `skip` says so.
 */
export async function checkSkip(skip: SkipCheck | undefined): Promise<void> {
  if (!skip) return;
  await workDone();
  if (skip()) throw new EvaluationSkipped();
}

/**
 * Held-out loss: the mean loss per predicted token over all the batches, of the model with
 * `hooks` (an adapter's, or none), on `objective` (held-out batch i drawn as { evalIndex: i }).
 * Each batch's mean is weighted by its token count. With `skip`, it is asked before each batch
 * and may end the evaluation (EvaluationSkipped).
 */
export async function evaluate(model: LoadedModel, hooks: Hooks, batches: TokenBatch[], objective: LmObjective = CAUSAL_LM, skip?: SkipCheck): Promise<number> {
  if (batches.length === 0) return NaN;
  let sum = tf.scalar(0);
  let tokens = 0;
  try {
    for (let i = 0; i < batches.length; i++) {
      await checkSkip(skip);
      const next = tf.tidy(() => {
        const r = objective.batchLoss(model, hooks, batches[i], false, { evalIndex: i });
        tokens += r.tokens;
        return tf.add(sum, tf.mul(r.loss, r.tokens));
      });
      sum.dispose();
      sum = next as tf.Scalar;
    }
    const total = (await sum.data())[0];
    return total / Math.max(tokens, 1);
  } finally {
    sum.dispose();
  }
}

/** One step's loss: the total to minimise and, optionally, named terms to chart. */
export interface StepLoss {
  total: tf.Scalar;
  terms?: Record<string, tf.Scalar>;
}

/** What a training run optimises; `train` (PEFT adapters) and `distill` (students) fill it in. */
export interface TrainingSpec {
  variables: tf.Variable[];
  /** Per variable: whether AdamW's weight decay applies (default: all). */
  decay?: boolean[];
  /** Names of the terms `stepLoss` reports, in a fixed order for the batched readback. */
  termKeys?: string[];
  /**
   * Called inside the step's tidy but outside the gradient tape (work that needs no gradient,
   * e.g. a teacher's forward, goes here); returns the function the tape records. `step` is the
   * step's number from 0 (what a masked LM's masking is drawn from).
   */
  stepLoss(batch: TokenBatch, step: number): () => StepLoss;
  /** Held-out loss of the model being trained; `skip` may end it between batches (EvaluationSkipped). */
  evaluate(skip?: SkipCheck): Promise<number>;
  /** When the model classifies sequences: the held-out loss with its accuracy, macro-F1 and confusion matrix, in one pass. */
  evaluateClassifier?(skip?: SkipCheck): Promise<{ evalLoss: number; classification: ClassificationMetrics }>;
  /** What the NaN message calls the thing that is restored ("adapter", "student"). */
  noun: string;
}

/** What one optimiser step needs besides the batch: the schedule and the update's settings. */
export type StepOptions = Pick<TrainerOptions, 'totalSteps' | 'learningRate' | 'warmupSteps' | 'weightDecay' | 'maxGradNorm' | 'recompute'>;

/** One step's results, still on the device: loss, gradient norm before clipping, terms, gradients if asked. */
export type StepResult = {
  loss: tf.Scalar;
  norm: tf.Scalar;
  terms: tf.Scalar[];
  /** The unclipped gradient of each variable, in `spec.variables` order (only with `keepGrads`). */
  grads?: tf.Tensor[];
};

/**
 * One optimiser step at a time over a spec's variables: the loss and its gradients on the tape,
 * global-norm clipping, then AdamW (decoupled weight decay on the variables `spec.decay` marks)
 * at the scheduled learning rate. Every kind of run and the backend parity check step through
 * this one object, so what is checked is what trains.
 */
export class TrainingStepper {
  private readonly groups: number[][];
  private readonly optimizers: AdamW[];
  private readonly termKeys: string[];

  constructor(
    private readonly spec: TrainingSpec,
    private readonly opts: StepOptions,
  ) {
    const vars = spec.variables;
    const decays = spec.decay ?? vars.map(() => true);
    const adam = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    this.groups = [vars.flatMap((_, i) => (decays[i] ? [i] : [])), vars.flatMap((_, i) => (decays[i] ? [] : [i]))].filter((g) => g.length > 0);
    this.optimizers = this.groups.map((g) => new AdamW(g.map((i) => vars[i]), { ...adam, weightDecay: decays[g[0]] ? opts.weightDecay : 0 }));
    this.termKeys = spec.termKeys ?? [];
  }

  learningRateAt(step: number): number {
    return learningRateAt(step, { peak: this.opts.learningRate, warmupSteps: this.opts.warmupSteps, totalSteps: this.opts.totalSteps });
  }

  /** Takes step number `step` (from 0) on `batch`; the caller disposes what it returns. */
  step(batch: TokenBatch, step: number, keepGrads = false): StepResult {
    const vars = this.spec.variables;
    const lr = this.learningRateAt(step);
    // Kept terms escape every tidy: if the step throws after keeping them, dispose them here.
    let kept: tf.Scalar[] = [];
    try {
      return tf.tidy(() => {
        const onTape = this.spec.stepLoss(batch, step);
        // tf.variableGrads' gradients, freeing each intermediate's gradient and saved tensors
        // as the backward pass leaves them behind (../autodiff/lean-grads.ts).
        const { value, grads } = leanVariableGrads(() => {
          const r = onTape();
          // The forward scope disposes everything its function made except the returned scalar;
          // the terms are kept so the step can return them for the batched readback.
          kept = this.termKeys.map((k) => tf.keep(r.terms![k]));
          return r.total;
        }, vars, { recompute: this.opts.recompute });
        // A variable the loss does not reach (a parameter the forward never reads, as an
        // untied BERT head's `cls.predictions.bias`) has no gradient: it gets zero.
        const ordered = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
        const norm = this.applyGradients(ordered, lr);
        const result: StepResult = { loss: value, norm, terms: kept };
        if (keepGrads) result.grads = ordered;
        return result;
      });
    } catch (e) {
      for (const t of kept) t.dispose();
      throw e;
    }
  }

  /**
   * The update half of a step: clips `grads` (one per variable, in order) to the global norm
   * and applies AdamW at learning rate `lr`; returns the norm before clipping. Call inside tf.tidy.
   */
  applyGradients(grads: tf.Tensor[], lr: number): tf.Scalar {
    const clip = globalNormClip(grads, this.opts.maxGradNorm);
    this.groups.forEach((g, o) => this.optimizers[o].apply(g.map((i) => grads[i]), lr, clip.coefficient));
    return clip.norm;
  }

  dispose(): void {
    for (const o of this.optimizers) o.dispose();
  }
}

/**
 * The training loop shared by every kind of run: TrainingStepper's steps, losses/norms/terms
 * read back together every few steps, the last finite state restored when a loss turns NaN,
 * stop between steps, periodic evaluation. Every step is reported when the backend has run it
 * (io.onStep), without reading its loss back. A stop ends the run after the steps already
 * queued, with a final evaluation unless the model was just evaluated at that step; an
 * evaluation that io.skipEvaluation ends reports nothing.
 */
export async function trainVariables(spec: TrainingSpec, opts: TrainerOptions, io: TrainerIO): Promise<TrainResult> {
  const now = io.now ?? (() => performance.now());
  const vars = spec.variables;
  const termKeys = spec.termKeys ?? [];
  const stepper = new TrainingStepper(spec, opts);
  const readbackEvery = Math.max(1, opts.readbackEvery ?? 4);
  const snapshot = () => vars.map((v) => tf.clone(v));
  let lastGood = snapshot();
  type Pending = { step: number; epoch: number; lr: number; loss: tf.Scalar; norm: tf.Scalar; terms: tf.Scalar[] };
  let pending: Pending[] = [];
  const start = now();
  let tokensSinceFlush = 0;
  let lastFlush = start;
  let step = 0;
  // Step reports in order, each once its step has run; none after the run has returned.
  let reported: Promise<void> = Promise.resolve();
  let lastStepDone = start;
  let returned = false;
  let lastEvalStep = -1;

  const restore = () => vars.forEach((v, i) => v.assign(lastGood[i]));
  const dropPending = () => {
    for (const p of pending) for (const t of [p.loss, p.norm, ...p.terms]) t.dispose();
    pending = [];
  };

  // Reads back the pending values in one transfer; false when a loss was not finite.
  const flush = async (): Promise<boolean> => {
    if (pending.length === 0) return true;
    const width = 2 + termKeys.length;
    const stacked = tf.tidy(() => tf.stack(pending.flatMap((p) => [p.loss, p.norm, ...p.terms])));
    const values = await stacked.data();
    stacked.dispose();
    // Every step read here is reported as done before its loss is.
    await reported;
    // A GPU that rejected any of these steps' work left stale numbers in their results.
    throwIfGpuErrors(`training steps ${pending[0].step + 1}–${pending[pending.length - 1].step + 1}`);
    const t = now();
    const elapsed = t - start;
    const tps = (tokensSinceFlush / Math.max(t - lastFlush, 1e-3)) * 1000;
    const read = pending.map(({ step, epoch, lr }) => ({ step, epoch, lr }));
    // Counted after the read-back tensors are gone, so the figure is the same at every flush.
    dropPending();
    const mem = tf.memory();
    let finite = true;
    const points = read.map((p, i): ProgressPoint => {
      const row = values.subarray(i * width, (i + 1) * width);
      if (!Number.isFinite(row[0])) finite = false;
      const done = p.step + 1;
      const point: ProgressPoint = {
        step: done,
        totalSteps: opts.totalSteps,
        epoch: p.epoch,
        loss: row[0],
        learningRate: p.lr,
        gradNorm: row[1],
        tokensPerSecond: tps,
        elapsedMs: elapsed,
        etaMs: (elapsed / done) * (opts.totalSteps - done),
        numTensors: mem.numTensors,
        numBytes: mem.numBytes,
      };
      if (termKeys.length > 0) point.terms = Object.fromEntries(termKeys.map((k, j) => [k, row[2 + j]]));
      return point;
    });
    tokensSinceFlush = 0;
    lastFlush = t;
    if (!finite) return false;
    io.onProgress(points);
    for (const s of lastGood) s.dispose();
    lastGood = snapshot();
    return true;
  };

  const reportStep = (done: number, epoch: number, tokens: number) => {
    if (returned || !io.onStep) return;
    const t = now();
    const elapsed = t - start;
    const point: StepPoint = {
      step: done,
      totalSteps: opts.totalSteps,
      epoch,
      tokens,
      tokensPerSecond: (tokens / Math.max(t - lastStepDone, 1e-3)) * 1000,
      elapsedMs: elapsed,
      etaMs: (elapsed / done) * (opts.totalSteps - done),
    };
    lastStepDone = t;
    io.onStep(point);
  };

  const skip = io.skipEvaluation && (() => io.skipEvaluation!());
  const runEval = async (atStep: number) => {
    if (io.evalBatches.length === 0) return;
    // The steps before it are reported first; the evaluation's time is not a step's.
    await reported;
    io.onEvaluating?.(atStep);
    try {
      const point: EvalPoint = spec.evaluateClassifier ? { step: atStep, ...(await spec.evaluateClassifier(skip)) } : { step: atStep, evalLoss: await spec.evaluate(skip) };
      lastEvalStep = atStep;
      io.onEval(point);
    } catch (e) {
      if (!(e instanceof EvaluationSkipped)) throw e;
    }
    lastStepDone = now();
  };

  try {
    // A run stopped before it began has nothing to measure the untrained start against.
    if (!io.shouldStop()) await runEval(0);
    for (; step < opts.totalSteps; step++) {
      if (io.shouldStop()) {
        if (!(await flush())) throw new NonFiniteLoss();
        // Nothing trained yet (stopped before the first step): nothing to evaluate either.
        if (step > 0 && lastEvalStep !== step) await runEval(step);
        return { reason: 'stopped', step };
      }
      const { batch, epoch } = io.nextBatch();
      const lr = stepper.learningRateAt(step);
      const result = stepper.step(batch, step);
      pending.push({ step, epoch, lr, ...result });
      const tokens = realTokens(batch);
      tokensSinceFlush += tokens;
      const done = step + 1;
      const ran = workDone();
      reported = reported.then(() => ran).then(() => reportStep(done, epoch, tokens));
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
        message: `The loss became NaN or infinite near step ${step + 1}; the ${spec.noun} was restored to its last finite state. Try a lower learning rate.`,
      };
    }
    if (e instanceof GpuRejectedWork) {
      return { reason: 'failed', step, message: `${e.message}. The ${spec.noun} was restored to its state before those steps; reload the page, or use ?backend=wasm.` };
    }
    return { reason: 'failed', step, message: (e as Error).message ?? String(e) };
  } finally {
    returned = true;
    // A step still running when the run failed is not reported; its wait may fail quietly.
    reported.catch(() => {});
    for (const s of lastGood) s.dispose();
    stepper.dispose();
  }
}

/**
 * What training a PEFT adapter optimises: its variables on the model's objective (causal LM by
 * default); the base stays frozen.
 */
export function adapterSpec(model: LoadedModel, adapter: Adapter, evalBatches: TokenBatch[], objective: LmObjective = CAUSAL_LM): TrainingSpec {
  return {
    variables: adapter.variables,
    stepLoss: (batch, step) => () => ({ total: objective.batchLoss(model, adapter.hooks(true), batch, true, { step }).loss }),
    evaluate: (skip) => evaluate(model, adapter.hooks(false), evalBatches, objective, skip),
    noun: 'adapter',
  };
}

/** Trains a PEFT adapter's variables on `objective` (causal LM by default); the base model stays frozen. */
export function train(model: LoadedModel, adapter: Adapter, opts: TrainerOptions, io: TrainerIO, objective: LmObjective = CAUSAL_LM): Promise<TrainResult> {
  return trainVariables(adapterSpec(model, adapter, io.evalBatches, objective), opts, io);
}

class NonFiniteLoss extends Error {}
