// DistilBERT's training objective (Sanh et al. 2019, arXiv 1910.01108, §3), as Hugging Face's
// reference distiller computes it (examples/research_projects/distillation/distiller.py,
// `Distiller.step`) for a masked-LM teacher (BERT → DistilBERT, RoBERTa → DistilRoBERTa) and for
// a causal one (GPT-2 → DistilGPT2):
//
//   L = α_ce · L_ce + α_mlm · L_mlm + α_cos · L_cos      (masked-LM teacher)
//   L = α_ce · L_ce + α_clm · L_clm + α_cos · L_cos      (causal-LM teacher)
//
//   L_ce   soft-target loss: KL(softmax(t/T) ‖ softmax(s/T)) · T², torch's
//          KLDivLoss(reduction='batchmean') over the positions the mask keeps, i.e. summed over
//          the vocabulary and averaged over those positions. T² keeps the gradient's scale
//          independent of T (Hinton et al. 2015, §2).
//   L_mlm  the masked-LM loss: cross-entropy of the student's logits against the original
//          tokens at the masked positions (src/train/loss.ts maskedLmLoss).
//   L_clm  the ordinary causal-LM loss on the data's labels (src/train/loss.ts).
//   L_cos  CosineEmbeddingLoss(target = 1) between student and teacher last hidden states:
//          mean over kept positions of 1 − cos(h_s, h_t). "Last hidden state" is what
//          transformers' GPT2Model returns as hidden_states[-1]: the output of the final
//          LayerNorm ln_f, the vector the tied head multiplies by wteᵀ. For BERT it is the last
//          block's output (after its LayerNorm), before the MLM head's transform.
//
// Causal teacher: the mask is the reference's attention mask, every real (non-padding) token,
// including the last one of a row, which has no next-token label but still has a teacher
// distribution to match. The studio's batches are right-padded with labels −100 at padding, so
// the mask is `labels ≠ −100` (for completion-only data, where prompt labels are −100 too, this
// restricts L_ce and L_cos to the completion).
//
// Masked-LM teacher: teacher and student read the same masked ids under the same attention
// mask. L_cos is over every real token. L_ce is over every real token too, by default: the
// reference restricts it to the masked positions only with --restrict_ce_to_mask, a flag that
// is off unless given and that DistilBERT's published training command does not give.
import * as tf from '@tensorflow/tfjs';
import type { LoadedModel } from '../models/types';
import { causalLmLoss, IGNORE_INDEX, maskedLmLoss } from '../train/loss';

/** The weights of the three terms and the softmax temperature (reference argument names). */
export interface DistillLossConfig {
  temperature: number;
  alpha_ce: number;
  alpha_clm: number;
  alpha_cos: number;
}

/**
 * DistilBERT's published recipe (the training command in the reference's README: temperature
 * 2.0, α_ce 5.0, α_mlm 2.0, α_cos 1.0, α_clm 0), with the masked-LM weight moved to the causal
 * LM loss because GPT-2 is a causal model: the studio's default. The reference script's
 * argparse defaults (α_ce 0.5, α_clm 0.5, α_cos 0) are placeholders that DistilBERT was not
 * trained with, and they leave out the hidden-state cosine loss, which the paper's ablation
 * (Table 4) found to help.
 */
export const DISTILBERT_RECIPE: DistillLossConfig = { temperature: 2.0, alpha_ce: 5.0, alpha_clm: 2.0, alpha_cos: 1.0 };

/** The weights and temperature for a masked-LM teacher, under the reference's argument names. */
export interface MaskedDistillLossConfig {
  temperature: number;
  alpha_ce: number;
  alpha_mlm: number;
  alpha_cos: number;
  /** L_ce over the masked positions only, instead of every real token (the reference's flag; off by default). */
  restrict_ce_to_mask: boolean;
}

/** DistilBERT's published recipe as it was trained: T 2.0, α_ce 5.0, α_mlm 2.0, α_cos 1.0, L_ce over every real token. */
export const DISTILBERT_MLM_RECIPE: MaskedDistillLossConfig = { temperature: 2.0, alpha_ce: 5.0, alpha_mlm: 2.0, alpha_cos: 1.0, restrict_ce_to_mask: false };

/** Whether a loss config is for a masked-LM teacher (it weighs L_mlm) rather than a causal one. */
export function isMaskedConfig(c: DistillLossConfig | MaskedDistillLossConfig): c is MaskedDistillLossConfig {
  return 'alpha_mlm' in c;
}

/** The per-term values; a term whose α is 0 is not computed (as in the reference). */
export type LossTerms<T> = {
  ce?: T;
  clm?: T;
  mlm?: T;
  cos?: T;
};

/** 1 at real tokens (label ≠ −100), 0 at padding, and how many real tokens there are. */
export function tokenMask(labels: Int32Array): { mask: Float32Array; count: number } {
  const mask = new Float32Array(labels.length);
  let count = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== IGNORE_INDEX) {
      mask[i] = 1;
      count++;
    }
  }
  return { mask, count };
}

/**
 * L_ce: Σ_kept KL(softmax(t/T) ‖ softmax(s/T)) / kept · T². `student` and `teacher` are logits
 * [B, T, V] (or [N, V]); `mask` has one 0/1 entry per position. The teacher is a constant: the
 * custom gradient returns d/ds only, T·(softmax(s/T) − softmax(t/T))·mask/kept, so nothing of the
 * teacher's graph is kept for the backward pass.
 */
export function softTargetLoss(student: tf.Tensor, teacher: tf.Tensor, mask: Float32Array, temperature: number): tf.Scalar {
  if (!(temperature > 0)) throw new Error(`temperature must be positive, got ${temperature}`);
  if (student.shape.join() !== teacher.shape.join()) throw new Error(`student logits [${student.shape}] and teacher logits [${teacher.shape}] differ in shape`);
  const V = student.shape[student.shape.length - 1];
  const N = student.size / V;
  if (mask.length !== N) throw new Error(`mask has ${mask.length} entries for ${N} positions`);
  const kept = mask.reduce((a, b) => a + b, 0);
  const denom = Math.max(kept, 1);
  const T = temperature;
  const m = tf.tensor1d(mask);
  const logPt = tf.logSoftmax(tf.div(tf.reshape(teacher, [N, V]), T));
  const pt = tf.exp(logPt);
  const kl = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const s2 = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const logPs = tf.logSoftmax(tf.div(s2, T));
    // Saved, not captured: variableGrads disposes the forward scope before the backward runs.
    save([logPs, pt, m]);
    const perRow = tf.sum(tf.mul(pt, tf.sub(logPt, logPs)), -1);
    const value = tf.mul(tf.div(tf.sum(tf.mul(perRow, m)), denom), T * T) as tf.Scalar;
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sLogPs, sPt, sM] = saved;
        // ∂/∂s [T²·KL(p_t ‖ softmax(s/T))] = T²·(p_s − p_t)/T = T·(p_s − p_t), per kept row / kept.
        const scale = tf.mul(tf.reshape(sM, [-1, 1]), tf.mul(dy, T / denom));
        return [tf.mul(tf.sub(tf.exp(sLogPs), sPt), scale)];
      },
    };
  });
  return kl(tf.reshape(student, [N, V])) as tf.Scalar;
}

/**
 * L_cos: mean over kept positions of 1 − cos(h_s, h_t), with torch's cosine_embedding_loss
 * guard: cos = ⟨s, t⟩ / √((‖s‖² + 1e-12)(‖t‖² + 1e-12)). Hidden states are [B, T, d] (or [N, d]).
 */
export function cosineEmbeddingLoss(student: tf.Tensor, teacher: tf.Tensor, mask: Float32Array): tf.Scalar {
  if (student.shape.join() !== teacher.shape.join()) throw new Error(`student hidden [${student.shape}] and teacher hidden [${teacher.shape}] differ in shape`);
  const d = student.shape[student.shape.length - 1];
  const N = student.size / d;
  if (mask.length !== N) throw new Error(`mask has ${mask.length} entries for ${N} positions`);
  const kept = mask.reduce((a, b) => a + b, 0);
  const s = tf.reshape(student, [N, d]);
  const t = tf.reshape(teacher, [N, d]);
  const EPS = 1e-12;
  const dot = tf.sum(tf.mul(s, t), -1);
  const denom = tf.sqrt(tf.mul(tf.add(tf.sum(tf.square(s), -1), EPS), tf.add(tf.sum(tf.square(t), -1), EPS)));
  const oneMinusCos = tf.sub(1, tf.div(dot, denom));
  return tf.div(tf.sum(tf.mul(oneMinusCos, tf.tensor1d(mask))), Math.max(kept, 1)) as tf.Scalar;
}

/** What the loss reads from one forward pass. (A type alias, not an interface, so tf.tidy may return it.) */
export type LmOutputs = {
  /** [B, T, V] */
  logits: tf.Tensor3D;
  /** [B, T, d]: transformers' hidden_states[-1] (GPT-2: after ln_f; BERT: the last block's output). */
  lastHidden: tf.Tensor3D;
};

/**
 * Runs `model` on `ids` (under `attentionMask`, for an encoder reading a padded batch) and
 * returns its logits and last hidden state. The forward computes the final norm with the
 * model's own (possibly trainable) weights, so L_cos's gradient reaches the student's final norm
 * (GPT-2's ln_f) as it does in PyTorch.
 */
export function lmOutputs(model: LoadedModel, ids: tf.Tensor2D, training: boolean, attentionMask?: tf.Tensor2D): LmOutputs {
  const { logits, lastHidden, prepended } = model.forward(ids, {}, { training, attentionMask });
  if (prepended !== 0) throw new Error('distillation runs the models without hooks');
  return { logits, lastHidden };
}

/** Where one batch's terms are read, and the LM term on the student's logits. */
interface TermInputs {
  /** 0/1 per position: where L_ce compares the two distributions. */
  ceMask: Float32Array;
  /** 0/1 per position: where L_cos compares the two hidden states. */
  cosMask: Float32Array;
  /** Which LM term, under its reference name, with its weight, computed on the student's logits. */
  lm: { key: 'clm' | 'mlm'; alpha: number; loss: (logits: tf.Tensor3D) => tf.Scalar };
}

/** α_ce·L_ce + α_lm·L_lm + α_cos·L_cos over the terms whose weight is not 0. */
function weightedTerms(
  student: LmOutputs,
  teacher: LmOutputs | undefined,
  inputs: TermInputs,
  c: { temperature: number; alpha_ce: number; alpha_cos: number },
): { total: tf.Scalar; terms: LossTerms<tf.Scalar> } {
  const alphas = { alpha_ce: c.alpha_ce, [`alpha_${inputs.lm.key}`]: inputs.lm.alpha, alpha_cos: c.alpha_cos };
  for (const [k, v] of Object.entries(alphas)) {
    if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`${k} must be a finite number ≥ 0, got ${v}`);
  }
  const names = Object.keys(alphas).join(', ');
  if (c.alpha_ce + inputs.lm.alpha + c.alpha_cos <= 0) throw new Error(`at least one of ${names} must be positive`);
  if ((c.alpha_ce > 0 || c.alpha_cos > 0) && !teacher) throw new Error('alpha_ce and alpha_cos need the teacher’s outputs');
  const terms: LossTerms<tf.Scalar> = {};
  const parts: tf.Scalar[] = [];
  if (c.alpha_ce > 0) {
    terms.ce = softTargetLoss(student.logits, teacher!.logits, inputs.ceMask, c.temperature);
    parts.push(tf.mul(terms.ce, c.alpha_ce) as tf.Scalar);
  }
  if (inputs.lm.alpha > 0) {
    const lm = inputs.lm.loss(student.logits);
    terms[inputs.lm.key] = lm;
    parts.push(tf.mul(lm, inputs.lm.alpha) as tf.Scalar);
  }
  if (c.alpha_cos > 0) {
    terms.cos = cosineEmbeddingLoss(student.lastHidden, teacher!.lastHidden, inputs.cosMask);
    parts.push(tf.mul(terms.cos, c.alpha_cos) as tf.Scalar);
  }
  return { total: tf.addN(parts) as tf.Scalar, terms };
}

/**
 * The weighted sum and each term, for one batch of a causal-LM teacher. `teacher` may be
 * undefined only when α_ce = α_cos = 0 (plain LM training of the student, the baseline
 * distillation is compared to).
 */
export function distillationLoss(
  student: LmOutputs,
  teacher: LmOutputs | undefined,
  labels: Int32Array,
  c: DistillLossConfig,
): { total: tf.Scalar; terms: LossTerms<tf.Scalar> } {
  const { mask } = tokenMask(labels);
  return weightedTerms(student, teacher, { ceMask: mask, cosMask: mask, lm: { key: 'clm', alpha: c.alpha_clm, loss: (z) => causalLmLoss(z, labels).loss } }, c);
}

/**
 * The weighted sum and each term, for one batch of a masked-LM teacher, both models having read
 * the same masked ids. `labels` are the batch's own (−100 exactly at padding: they say which
 * tokens are real); `mlmLabels` the masking's targets (the original id at each masked
 * position, −100 elsewhere).
 */
export function maskedDistillationLoss(
  student: LmOutputs,
  teacher: LmOutputs | undefined,
  labels: Int32Array,
  mlmLabels: Int32Array,
  c: MaskedDistillLossConfig,
): { total: tf.Scalar; terms: LossTerms<tf.Scalar> } {
  if (mlmLabels.length !== labels.length) throw new Error(`${mlmLabels.length} masked-LM labels for ${labels.length} positions`);
  const real = tokenMask(labels).mask;
  const ceMask = c.restrict_ce_to_mask ? tokenMask(mlmLabels).mask : real;
  return weightedTerms(student, teacher, { ceMask, cosMask: real, lm: { key: 'mlm', alpha: c.alpha_mlm, loss: (z) => maskedLmLoss(z, mlmLabels).loss } }, c);
}
