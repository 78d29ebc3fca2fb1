// What a batch of tokens teaches a model, by the objective its architecture names
// (Architecture.objective): the inputs its forward pass gets and the loss on its logits.
//
// - causal-lm: the ids as they are; each position predicts the next token (causalLmLoss).
// - masked-lm: 15% of the real tokens masked (src/data/masking.ts); each masked position
//   predicts its original token (maskedLmLoss); padding is hidden from attention by the
//   attention mask, since an encoder attends both ways. Which tokens are masked is drawn from
//   the run's seed and the step number, so a run and the backend check see the same masking on
//   every backend; held-out batches are masked by their index alone, so every evaluation of a
//   run (and of every run) reads the same positions and the held-out losses are comparable.
import * as tf from '@tensorflow/tfjs';
import { maskTokens, type MaskingTokens } from '../data/masking';
import { deriveSeed } from '../data/random';
import type { TrainingObjective } from '../models/architecture';
import { architectureOf } from '../models/registry';
import type { Hooks, LoadedModel, ModelInfo } from '../models/types';
import type { TextTokenizer } from '../tokenize/tokenizer';
import { causalLmLoss, IGNORE_INDEX, maskedLmLoss } from './loss';
import type { TokenBatch } from './trainer';

/** Which draw a batch is: training step `step` (from 0), or held-out batch `evalIndex`. */
export type BatchDraw = { step: number } | { evalIndex: number };

/**
 * What a model reads for one batch and what it is scored against: the input ids (masked ones for
 * a masked LM), the attention mask when padding must be hidden (an encoder attends both ways),
 * and the targets its loss reads, IGNORE_INDEX where nothing is predicted.
 */
export interface LmInputs {
  ids: Int32Array;
  /** [batch, length] row-major, 1 for a real token and 0 for padding; absent for a causal LM. */
  attentionMask?: Int32Array;
  /** The labels the objective's `loss` reads (a causal LM's are shifted there, a masked LM's are not). */
  targets: Int32Array;
}

export interface LmObjective {
  readonly name: TrainingObjective;
  /** The inputs and targets of one batch, drawn as `draw` (a masked LM's masking depends on it). Pure. */
  inputs(batch: TokenBatch, draw: BatchDraw): LmInputs;
  /** Mean loss per predicted token of `logits` against `inputs(…).targets`, and how many tokens it predicted. */
  loss(logits: tf.Tensor3D, targets: Int32Array, prepended: number): { loss: tf.Scalar; tokens: number };
  /**
   * The mean loss per predicted token of `model` with `hooks` on one batch, and how many tokens
   * it predicted. Call inside tf.tidy (or a gradient tape).
   */
  batchLoss(model: LoadedModel, hooks: Hooks, batch: TokenBatch, training: boolean, draw: BatchDraw): { loss: tf.Scalar; tokens: number };
}

/** Runs `model` on the inputs `objective` makes of the batch and scores its logits. */
function batchLossOf(objective: Pick<LmObjective, 'inputs' | 'loss'>, model: LoadedModel, hooks: Hooks, b: TokenBatch, training: boolean, draw: BatchDraw) {
  const inp = objective.inputs(b, draw);
  const ids = tf.tensor2d(inp.ids, [b.batch, b.length], 'int32');
  const attentionMask = inp.attentionMask ? tf.tensor2d(inp.attentionMask, [b.batch, b.length], 'int32') : undefined;
  const { logits, prepended } = model.forward(ids, hooks, { training, attentionMask });
  return objective.loss(logits, inp.targets, prepended);
}

/** Next-token prediction on the batch as it is. */
export const CAUSAL_LM: LmObjective = {
  name: 'causal-lm',
  inputs: (b) => ({ ids: b.ids, targets: b.labels }),
  loss: (logits, targets, prepended) => causalLmLoss(logits, targets, prepended),
  batchLoss(model, hooks, b, training, draw) {
    return batchLossOf(CAUSAL_LM, model, hooks, b, training, draw);
  },
};

/** Stream of the masking PRNG for held-out batches, apart from every training step's. */
const EVAL_MASKING_SEED = 0x6d4c4d;

/** The seed a batch is masked with: the run's seed and the step, or the held-out batch's index alone. */
export function maskingSeed(seed: number, draw: BatchDraw): number {
  return 'step' in draw ? deriveSeed(seed, draw.step) : deriveSeed(EVAL_MASKING_SEED, draw.evalIndex);
}

/** Masked-token prediction: each batch masked as BERT is, padding hidden from attention. */
export function maskedLm(tokens: MaskingTokens, seed: number): LmObjective {
  const objective: LmObjective = {
    name: 'masked-lm',
    inputs(b, draw) {
      const masked = maskTokens(b, tokens, maskingSeed(seed, draw));
      const attentionMask = Int32Array.from(b.labels, (l) => (l === IGNORE_INDEX ? 0 : 1));
      return { ids: masked.ids, attentionMask, targets: masked.labels };
    },
    loss: (logits, targets, prepended) => maskedLmLoss(logits, targets, prepended),
    batchLoss: (model, hooks, b, training, draw) => batchLossOf(objective, model, hooks, b, training, draw),
  };
  return objective;
}

/**
 * The objective `model` trains on, from its architecture. A masked LM needs the tokenizer's
 * mask token and special ids; a tokenizer without a mask token is refused, naming the file and
 * field. `seed` (the run's) seeds the training batches' masking.
 */
export function objectiveFor(model: ModelInfo, tokenizer: TextTokenizer | undefined, seed: number): LmObjective {
  const objective = architectureOf(model).objective;
  if (objective === 'causal-lm') return CAUSAL_LM;
  if (!tokenizer) throw new Error(`${model.name} is a masked language model; training it needs its tokenizer (for the mask token)`);
  if (tokenizer.maskId === undefined) {
    throw new Error(`tokenizer_config.json: "mask_token" is missing; ${model.name} is a masked language model, and masked-LM training replaces the tokens it hides with the mask token`);
  }
  return maskedLm({ maskId: tokenizer.maskId, specialIds: tokenizer.specialIds, vocabSize: tokenizer.vocabSize }, seed);
}
