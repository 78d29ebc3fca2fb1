// Language-modelling losses, as Hugging Face computes them. Causal: logits at position t
// predict the label at t+1; labels of -100 (padding, or prompt tokens when training on
// completions only) are ignored; the mean is over the remaining tokens. Masked: logits at
// position t predict the label at t itself (no shift); only the masked positions carry a label.
import * as tf from '@tensorflow/tfjs';
import { canFuseCrossEntropy, fusedCrossEntropy } from '../kernels/cross-entropy';

export const IGNORE_INDEX = -100;

/**
 * Shifted targets for a batch of `length` real tokens per row. Without virtual tokens,
 * positions 0..T-2 predict labels 1..T-1. With virtual tokens in front, PEFT pads the labels
 * with ignored entries for them, so the last virtual position predicts the first real token:
 * then there are T predictions, targets labels 0..T-1. Returns target ids (ignored ones set
 * to 0), a 0/1 weight per prediction, and where the predicting positions start.
 */
export function shiftLabels(
  labels: Int32Array,
  batch: number,
  length: number,
  prepended = 0,
): { targets: Int32Array; weights: Float32Array; count: number; start: number; perRow: number } {
  const offset = prepended > 0 ? 1 : 0;
  const perRow = length - 1 + offset;
  const targets = new Int32Array(batch * perRow);
  const weights = new Float32Array(batch * perRow);
  let count = 0;
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < perRow; k++) {
      const y = labels[b * length + k + 1 - offset];
      if (y !== IGNORE_INDEX) {
        targets[b * perRow + k] = y;
        weights[b * perRow + k] = 1;
        count++;
      }
    }
  }
  return { targets, weights, count, start: prepended - offset, perRow };
}

/**
 * Mean cross-entropy of `z` [N, V] against `targets` over the rows whose weight is 1, divided by
 * `count`: through the fused kernels where the active backend has them, else the stock chain.
 */
function weightedCrossEntropy(z: tf.Tensor2D, targets: Int32Array, weights: Float32Array, count: number): tf.Scalar {
  if (canFuseCrossEntropy(z.shape[0])) return fusedCrossEntropy(z, targets, weights, count);
  return stockCrossEntropy(z, targets, weights, count);
}

/**
 * The same through tfjs' own ops. Written with a custom gradient (softmax − onehot) so no gather
 * gradient is needed: the wasm backend lacks the UnsortedSegmentSum kernel that tf.gather's
 * gradient uses.
 */
export function stockCrossEntropy(z: tf.Tensor2D, targets: Int32Array, weights: Float32Array, count: number): tf.Scalar {
  const denom = Math.max(count, 1);
  const onehot = tf.oneHot(tf.tensor1d(targets, 'int32'), z.shape[1]);
  const w = tf.tensor1d(weights);
  const ce = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x2 = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const logp = tf.logSoftmax(x2);
    // Everything the backward pass reads must be saved: variableGrads tidies the forward
    // scope away, and saving is what keeps a tensor alive for the gradient.
    save([logp, onehot, w]);
    const perToken = tf.neg(tf.sum(tf.mul(logp, onehot), -1));
    const value = tf.div(tf.sum(tf.mul(perToken, w)), denom) as tf.Scalar;
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedLogp, savedOnehot, savedW] = saved;
        const scale = tf.mul(tf.reshape(savedW, [-1, 1]), tf.div(dy, denom));
        return [tf.mul(tf.sub(tf.exp(savedLogp), savedOnehot), scale)];
      },
    };
  });
  return ce(z) as tf.Scalar;
}

/**
 * Mean token cross-entropy of next-token prediction. `logits` is [B, P+T, V] where the first
 * `prepended` positions are virtual tokens a method put in front; they predict nothing but the
 * last of them predicts the first real token (see shiftLabels).
 */
export function causalLmLoss(logits: tf.Tensor3D, labels: Int32Array, prepended = 0): { loss: tf.Scalar; tokens: number } {
  const [B, total, V] = logits.shape;
  const T = total - prepended;
  const { targets, weights, count, start, perRow } = shiftLabels(labels, B, T, prepended);
  const z = tf.reshape(tf.slice(logits, [0, start, 0], [B, perRow, V]), [B * perRow, V]) as tf.Tensor2D;
  return { loss: weightedCrossEntropy(z, targets, weights, count), tokens: count };
}

/**
 * Mean token cross-entropy of masked-token prediction, as BertForMaskedLM computes it: the
 * logits at each position against the label at the same position, over the positions whose
 * label is not IGNORE_INDEX (the masked ones). `logits` is [B, P+T, V] with `prepended`
 * virtual tokens in front, which predict nothing; `labels` is [B, T] over the real positions.
 */
export function maskedLmLoss(logits: tf.Tensor3D, labels: Int32Array, prepended = 0): { loss: tf.Scalar; tokens: number } {
  const [B, total, V] = logits.shape;
  const T = total - prepended;
  if (labels.length !== B * T) throw new Error(`maskedLmLoss: ${labels.length} labels for ${B}×${T} positions`);
  const targets = new Int32Array(B * T);
  const weights = new Float32Array(B * T);
  let count = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === IGNORE_INDEX) continue;
    targets[i] = labels[i];
    weights[i] = 1;
    count++;
  }
  const z = tf.reshape(tf.slice(logits, [0, prepended, 0], [B, T, V]), [B * T, V]) as tf.Tensor2D;
  return { loss: weightedCrossEntropy(z, targets, weights, count), tokens: count };
}

/**
 * Mean cross-entropy of sequence classification, as *ForSequenceClassification computes it for
 * integer labels (single_label_classification): `logits` [B, numLabels] against each row's
 * label id in `labels` [B].
 */
export function classificationLoss(logits: tf.Tensor2D, labels: Int32Array): { loss: tf.Scalar; examples: number } {
  const [B, L] = logits.shape;
  if (labels.length !== B) throw new Error(`classificationLoss: ${labels.length} labels for ${B} rows`);
  for (const y of labels) if (!(y >= 0 && y < L)) throw new Error(`classificationLoss: label ${y} is outside 0..${L - 1}`);
  return { loss: weightedCrossEntropy(logits, labels, new Float32Array(B).fill(1), B), examples: B };
}
