// Sequence classification: the base model's last hidden state through a classification head
// (src/models/classifier.ts), cross-entropy against each example's label. Padding is hidden from
// attention (an encoder attends both ways; a decoder never sees the pads on its right), and a
// sentence pair's second segment gets token type 1 where the model has token types.
import * as tf from '@tensorflow/tfjs';
import type { SequenceClassifier } from '../models/classifier';
import type { Hooks, LoadedModel } from '../models/types';
import { classificationLoss, IGNORE_INDEX } from './loss';
import { classificationMetrics, type ClassificationMetrics } from './metrics';
import { checkSkip, type SkipCheck, type TokenBatch, type TrainingSpec } from './trainer';

/** The head's logits [B, numLabels] for a batch. Call inside tf.tidy or a gradient tape. */
export function classifierLogits(model: LoadedModel, hooks: Hooks, head: SequenceClassifier, b: TokenBatch, training: boolean): tf.Tensor2D {
  const ids = tf.tensor2d(b.ids, [b.batch, b.length], 'int32');
  const attentionMask = tf.tensor2d(Int32Array.from(b.labels, (l) => (l === IGNORE_INDEX ? 0 : 1)), [b.batch, b.length], 'int32');
  const tokenTypeIds = b.tokenTypes ? tf.tensor2d(b.tokenTypes, [b.batch, b.length], 'int32') : undefined;
  const { lastHidden, prepended } = model.forward(ids, hooks, { training, attentionMask, tokenTypeIds });
  return head.logits(lastHidden, b.ids, prepended);
}

function classesOf(b: TokenBatch): Int32Array {
  if (!b.classes) throw new Error('a sequence classifier trains on labelled examples; this batch has no labels');
  return b.classes;
}

/**
 * Held-out loss (mean over examples) with accuracy, macro-F1 and the confusion matrix from the
 * head's argmax, over every batch in one pass and one read-back per batch. With `skip`, it is
 * asked before each batch and may end the evaluation (EvaluationSkipped).
 */
export async function evaluateClassifier(
  model: LoadedModel,
  hooks: Hooks,
  head: SequenceClassifier,
  batches: TokenBatch[],
  skip?: SkipCheck,
): Promise<{ evalLoss: number; classification: ClassificationMetrics }> {
  let lossSum = 0;
  const truth: number[] = [];
  const predicted: number[] = [];
  for (const b of batches) {
    await checkSkip(skip);
    const classes = classesOf(b);
    const [loss, argmax] = tf.tidy(() => {
      const logits = classifierLogits(model, hooks, head, b, false);
      return [tf.mul(classificationLoss(logits, classes).loss, b.batch), tf.argMax(logits, 1)];
    });
    const [l, p] = await Promise.all([loss.data(), argmax.data()]);
    loss.dispose();
    argmax.dispose();
    lossSum += l[0];
    truth.push(...classes);
    predicted.push(...p);
  }
  return { evalLoss: truth.length ? lossSum / truth.length : NaN, classification: classificationMetrics(truth, predicted, head.numLabels) };
}

/**
 * What trains under the head: a PEFT adapter's variables read through its hooks, or under full
 * fine-tuning the base's own weights; `decay` per variable as TrainingSpec.decay has it.
 */
export interface ClassifierBody {
  variables: tf.Variable[];
  hooks(training: boolean): Hooks;
  decay?: boolean[];
}

/**
 * What training a sequence classifier optimises: the body's variables (a PEFT adapter's, the
 * base stays frozen; or the base model's own under full fine-tuning) and the head's, on the
 * labels' cross-entropy. Without the body's decay mask everything decays, the head too (as
 * transformers' Trainer decays a PEFT head); with it the head's weight matrices decay and its
 * biases do not, as the body's.
 */
export function classifierSpec(model: LoadedModel, body: ClassifierBody, head: SequenceClassifier, evalBatches: TokenBatch[], noun = 'adapter and classification head'): TrainingSpec {
  return {
    variables: [...body.variables, ...head.variables],
    decay: body.decay && [...body.decay, ...head.variables.map((v) => v.rank >= 2)],
    stepLoss: (batch) => () => ({ total: classificationLoss(classifierLogits(model, body.hooks(true), head, batch, true), classesOf(batch)).loss }),
    evaluate: async (skip) => (await evaluateClassifier(model, body.hooks(false), head, evalBatches, skip)).evalLoss,
    evaluateClassifier: (skip) => evaluateClassifier(model, body.hooks(false), head, evalBatches, skip),
    noun,
  };
}
