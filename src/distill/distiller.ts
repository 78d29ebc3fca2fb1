// The distillation loop: the trainer's loop (src/train/trainer.ts) with a teacher forward in
// front and DistilBERT's three-term loss in place of the LM loss. Same mechanics: AdamW over
// the trainable variables only (here: every student parameter), linear warmup then cosine
// decay, global-norm clipping, each step inside tf.tidy, losses read back together every few
// steps with an awaited data(), restore of the last finite state on NaN.
//
// The teacher runs forward only, outside the gradient tape: its logits and last hidden state
// are computed before tf.variableGrads starts recording, so no gradient is computed for it,
// none of its intermediates are held for a backward pass, and its weights (plain tensors) are
// never assigned.
import * as tf from '@tensorflow/tfjs';
import type { LoadedModel, ModelInfo } from '../models/types';
import type { FieldSpec } from '../peft/types';
import { AdamW, clipByGlobalNorm } from '../train/adamw';
import { causalLmLoss } from '../train/loss';
import { learningRateAt } from '../train/schedule';
import type { TokenBatch, TrainerIO, TrainerOptions, TrainResult } from '../train/trainer';
import type { ProgressPoint } from '../worker/protocol';
import { DISTILBERT_RECIPE, distillationLoss, lmOutputs, type DistillLossConfig, type LossTerms, type LmOutputs } from './losses';
import { checkEmbeddingGradients } from '../backend/wasm-kernels';
import { checkStudentLayers, defaultStudentLayers, type Student } from './student';

/** Everything the page sets for "Distillation (DistilBERT)": the student's depth and the loss. */
export interface DistillConfig extends DistillLossConfig {
  student_layers: number;
}

export function distillDefaults(teacher: ModelInfo): DistillConfig {
  return { student_layers: defaultStudentLayers(teacher.config.nLayer), ...DISTILBERT_RECIPE };
}

/** Throws a message naming the field when a setting is invalid for this teacher. */
export function validateDistillConfig(teacher: ModelInfo, c: DistillConfig): void {
  checkStudentLayers(teacher.config.nLayer, c.student_layers);
  if (!(c.temperature > 0) || !Number.isFinite(c.temperature)) throw new Error(`temperature must be a positive number, got ${c.temperature}`);
  for (const k of ['alpha_ce', 'alpha_clm', 'alpha_cos'] as const) {
    if (!(c[k] >= 0) || !Number.isFinite(c[k])) throw new Error(`${k} must be a number ≥ 0, got ${c[k]}`);
  }
  if (c.alpha_ce + c.alpha_clm + c.alpha_cos <= 0) throw new Error('alpha_ce, alpha_clm and alpha_cos are all 0: nothing would train');
}

/** The form the page renders, with DistilBERT's recipe as the defaults it shows. */
export function distillFields(teacher: ModelInfo): FieldSpec[] {
  const L = teacher.config.nLayer;
  return [
    { key: 'student_layers', label: 'Student layers', kind: 'number', min: 1, max: L - 1, step: 1, integer: true, help: `Teacher has ${L}; the student starts from every other teacher layer (DistilBERT: 12 → 6 from layers 0, 2, 4, 7, 9, 11).` },
    { key: 'temperature', label: 'Temperature T', kind: 'number', min: 0.1, step: 0.5, help: 'Softens both distributions in the soft-target loss (DistilBERT: 2.0).' },
    { key: 'alpha_ce', label: 'α_ce (soft targets)', kind: 'number', min: 0, step: 0.5, help: 'Weight of KL(teacher ‖ student) at temperature T, × T² (DistilBERT: 5.0).' },
    { key: 'alpha_clm', label: 'α_clm (LM loss)', kind: 'number', min: 0, step: 0.5, help: 'Weight of the ordinary language-modelling loss on the data (DistilBERT’s α_mlm: 2.0).' },
    { key: 'alpha_cos', label: 'α_cos (hidden cosine)', kind: 'number', min: 0, step: 0.5, help: 'Weight of 1 − cos between student and teacher last hidden states (DistilBERT: 1.0).' },
  ];
}

/** A trainer progress point plus each loss term's value at that step (absent when its α is 0). */
export interface DistillProgressPoint extends ProgressPoint {
  terms: LossTerms<number>;
}

export interface DistillIO extends Omit<TrainerIO, 'onProgress'> {
  onProgress(points: DistillProgressPoint[]): void;
  /** Called once before the first step with the teacher's held-out LM loss (the student's target). */
  onTeacherEval?(evalLoss: number): void;
}

function labelCount(b: TokenBatch): number {
  let n = 0;
  for (let i = 0; i < b.labels.length; i++) if (b.labels[i] !== -100) n++;
  return n;
}

/** Mean causal-LM loss of `model` per predicted token over all the batches: its held-out loss. */
export async function evaluateLm(model: LoadedModel, batches: TokenBatch[]): Promise<number> {
  if (batches.length === 0) return NaN;
  let sum = tf.scalar(0);
  let tokens = 0;
  for (const b of batches) {
    let predicted = 0;
    const next = tf.tidy(() => {
      const { logits } = model.forward(tf.tensor2d(b.ids, [b.batch, b.length], 'int32'));
      // causalLmLoss is the mean over this batch's predicted tokens; weight it by their number.
      const r = causalLmLoss(logits, b.labels);
      predicted = r.tokens;
      return tf.add(sum, tf.mul(r.loss, r.tokens));
    });
    sum.dispose();
    sum = next as tf.Scalar;
    tokens += predicted;
  }
  const total = (await sum.data())[0];
  sum.dispose();
  return total / Math.max(tokens, 1);
}

/**
 * Distils `teacher` into `student` (see initStudent). `loss` picks the terms; with
 * α_ce = α_cos = 0 the teacher is not run at all and this is plain LM training of the student,
 * the baseline the note compares distillation against.
 */
export async function distill(
  teacher: LoadedModel,
  student: Student,
  loss: DistillLossConfig,
  opts: TrainerOptions,
  io: DistillIO,
): Promise<TrainResult> {
  const now = io.now ?? (() => performance.now());
  // Fail before the first step with a message, not inside the backward pass with a kernel name.
  checkEmbeddingGradients();
  const needTeacher = loss.alpha_ce > 0 || loss.alpha_cos > 0;
  const vars = student.variables;
  // Decoupled weight decay on matrices and embeddings only; biases and LayerNorm gains are not
  // pulled toward 0 (they were trained, in the teacher, to be near 1 or a learned offset).
  const groups = [vars.flatMap((v, i) => (v.rank >= 2 ? [i] : [])), vars.flatMap((v, i) => (v.rank < 2 ? [i] : []))];
  const adam = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
  const optimizers = [
    new AdamW(groups[0].map((i) => vars[i]), { ...adam, weightDecay: opts.weightDecay }),
    new AdamW(groups[1].map((i) => vars[i]), { ...adam, weightDecay: 0 }),
  ];
  const readbackEvery = Math.max(1, opts.readbackEvery ?? 4);
  const schedule = { peak: opts.learningRate, warmupSteps: opts.warmupSteps, totalSteps: opts.totalSteps };
  const termKeys = (['ce', 'clm', 'cos'] as const).filter((k) => loss[`alpha_${k}`] > 0);
  let lastGood = vars.map((v) => tf.clone(v));
  type Pending = { step: number; epoch: number; lr: number; loss: tf.Scalar; norm: tf.Scalar; terms: tf.Scalar[] };
  let pending: Pending[] = [];
  const start = now();
  let tokensSinceFlush = 0;
  let lastFlush = start;
  let step = 0;

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
    const t = now();
    const elapsed = t - start;
    const tps = (tokensSinceFlush / Math.max(t - lastFlush, 1e-3)) * 1000;
    const read = pending.map(({ step, epoch, lr }) => ({ step, epoch, lr }));
    // Counted after the read-back tensors are gone, so the figure is the same at every flush.
    dropPending();
    const mem = tf.memory();
    let finite = true;
    const points = read.map((p, i): DistillProgressPoint => {
      const row = values.subarray(i * width, (i + 1) * width);
      if (!Number.isFinite(row[0])) finite = false;
      const terms: LossTerms<number> = {};
      termKeys.forEach((k, j) => (terms[k] = row[2 + j]));
      const done = p.step + 1;
      return {
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
        terms,
      };
    });
    tokensSinceFlush = 0;
    lastFlush = t;
    if (!finite) return false;
    io.onProgress(points);
    for (const s of lastGood) s.dispose();
    lastGood = vars.map((v) => tf.clone(v));
    return true;
  };

  const runEval = async (atStep: number) => {
    if (io.evalBatches.length === 0) return;
    io.onEval({ step: atStep, evalLoss: await evaluateLm(student, io.evalBatches) });
  };

  try {
    if (io.onTeacherEval && io.evalBatches.length > 0) io.onTeacherEval(await evaluateLm(teacher, io.evalBatches));
    await runEval(0);
    for (; step < opts.totalSteps; step++) {
      if (io.shouldStop()) {
        if (!(await flush())) throw new NonFiniteLoss();
        await runEval(step);
        return { reason: 'stopped', step };
      }
      const { batch, epoch } = io.nextBatch();
      const lr = learningRateAt(step, schedule);
      // Kept tensors escape every tidy: if the step throws after keeping them, dispose them here.
      let terms: LossTerms<tf.Scalar> = {};
      const runStep = () => tf.tidy(() => {
        const ids = tf.tensor2d(batch.ids, [batch.batch, batch.length], 'int32');
        // Teacher first, off the tape; its own tidy frees its per-layer intermediates now.
        const target: LmOutputs | undefined = needTeacher ? tf.tidy(() => lmOutputs(teacher, ids, false)) : undefined;
        const { value, grads } = tf.variableGrads(() => {
          const r = distillationLoss(lmOutputs(student, ids, true), target, batch.labels, loss);
          // variableGrads disposes everything its function made except the returned scalar;
          // the terms are kept so the step can return them for the batched readback.
          terms = r.terms;
          for (const t of Object.values(terms)) tf.keep(t);
          return r.total;
        }, vars);
        const clipped = clipByGlobalNorm(
          vars.map((v) => grads[v.name]),
          opts.maxGradNorm,
        );
        optimizers.forEach((o, g) => o.apply(groups[g].map((i) => clipped.grads[i]), lr));
        return { loss: value, norm: clipped.norm, terms: termKeys.map((k) => terms[k]!) };
      });
      let result: ReturnType<typeof runStep>;
      try {
        result = runStep();
      } catch (e) {
        for (const t of Object.values(terms)) t.dispose();
        throw e;
      }
      pending.push({ step, epoch, lr, ...result });
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
        message: `The loss became NaN or infinite near step ${step + 1}; the student was restored to its last finite state. Try a lower learning rate.`,
      };
    }
    return { reason: 'failed', step, message: (e as Error).message ?? String(e) };
  } finally {
    for (const s of lastGood) s.dispose();
    for (const o of optimizers) o.dispose();
  }
}

class NonFiniteLoss extends Error {}
