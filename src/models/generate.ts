// Autoregressive text generation: the same forward pass training uses, one token at a time,
// with or without an adapter's hooks, so the page can show what fine-tuning changed.
//
// Each step runs the whole (cropped) sequence through `model.forward` inside tf.tidy and
// reads back only the last real position's logits (one small awaited readback per token).
// Temperature, top-k and the softmax are applied in float64 in JS; the draw comes from the
// seeded mulberry32 PRNG, so the same seed gives the same tokens on any backend that gives
// the same logits. There is no key/value cache: the models are small and the forward is
// exactly the one that was trained, hooks included.
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../data/random';
import { architectureOf } from './registry';
import type { Hooks, LoadedModel, ModelInfo } from './types';

export interface GenerateOptions {
  /** How many tokens to add at most (0: none). */
  maxNewTokens: number;
  /** Softmax temperature; 0 means greedy (argmax). */
  temperature: number;
  /** Keep only the k most likely tokens before sampling; 0 keeps all. */
  topK: number;
  /** Seeds the sampler; unused when greedy. */
  seed: number;
  /** Generation stops when this token is drawn (it is not returned). */
  eosId?: number;
}

/**
 * Why a model cannot continue text, or undefined when it can: only a causal LM predicts the
 * next token from the ones before it. A masked LM predicts tokens hidden inside its input.
 */
export function generationUnsupported(info: ModelInfo): string | undefined {
  const objective = architectureOf(info).objective;
  if (objective === 'causal-lm') return undefined;
  return `${info.name} is a masked language model; text generation needs a causal LM`;
}

function checkOptions(o: GenerateOptions, vocabSize: number) {
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0) throw new Error(`maxNewTokens must be a whole number ≥ 0 (got ${o.maxNewTokens})`);
  if (!Number.isFinite(o.temperature) || o.temperature < 0) throw new Error(`temperature must be a number ≥ 0 (got ${o.temperature})`);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw new Error(`topK must be a whole number ≥ 0 (got ${o.topK})`);
  if (!Number.isInteger(o.seed)) throw new Error(`seed must be a whole number (got ${o.seed})`);
  if (o.eosId !== undefined && (!Number.isInteger(o.eosId) || o.eosId < 0 || o.eosId >= vocabSize)) {
    throw new Error(`eosId ${o.eosId} is outside the vocabulary of ${vocabSize}`);
  }
}

/**
 * How many positions the hooks put in front of the real tokens: virtual tokens an
 * `inputEmbeds` hook prepends plus the key/value prefix slots of `kvPrefix`. Both are read
 * off the hooks themselves (on a one-token probe), so a prompt longer than the context
 * can still be cropped before the first forward.
 */
export function reservedPositions(model: LoadedModel, hooks: Hooks): number {
  if (!hooks.inputEmbeds && !hooks.kvPrefix) return 0;
  return tf.tidy(() => {
    let n = 0;
    if (hooks.inputEmbeds) {
      const probe = tf.zeros([1, 1, model.info.config.hiddenSize]) as tf.Tensor3D;
      n += hooks.inputEmbeds(probe).shape[1] - 1;
    }
    if (hooks.kvPrefix) n += hooks.kvPrefix(0, 1)?.k.shape[2] ?? 0;
    return n;
  });
}

/** Index of the largest value; the lowest index wins a tie. */
function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/**
 * Picks the next token from one position's logits. Greedy when `temperature` is 0 (or
 * `topK` is 1); otherwise softmax(logits / temperature) over the `topK` most likely tokens
 * (ties broken by the lower id, as argmax does), computed in float64, sampled with `rand`.
 */
export function sampleToken(logits: ArrayLike<number>, temperature: number, topK: number, rand: () => number): number {
  const V = logits.length;
  for (let i = 0; i < V; i++) {
    const v = logits[i];
    if (Number.isNaN(v) || v === Infinity) throw new Error(`the model produced a non-finite logit (${v}) for token ${i}`);
  }
  if (temperature === 0 || topK === 1) return argmax(logits);
  let ids: number[] = Array.from({ length: V }, (_, i) => i);
  if (topK > 0 && topK < V) {
    ids.sort((a, b) => logits[b] - logits[a] || a - b);
    ids = ids.slice(0, topK);
  }
  let max = -Infinity;
  for (const i of ids) max = Math.max(max, logits[i]);
  if (max === -Infinity) throw new Error('every candidate token has probability 0');
  const weights = new Float64Array(ids.length);
  let sum = 0;
  for (let j = 0; j < ids.length; j++) {
    weights[j] = Math.exp((logits[ids[j]] - max) / temperature);
    sum += weights[j];
  }
  let r = rand() * sum;
  for (let j = 0; j < ids.length; j++) {
    r -= weights[j];
    if (r < 0) return ids[j];
  }
  // Rounding left a sliver past the last weight: the last token with any weight takes it.
  for (let j = ids.length - 1; j >= 0; j--) if (weights[j] > 0) return ids[j];
  return ids[0];
}

/**
 * Continues `promptIds` by up to `maxNewTokens` tokens and returns the new ids (never the
 * prompt, never the eos that stopped it). `onToken` is awaited after every new token, so a
 * caller can stream text out as it grows. The sequence fed to the model is cropped to its
 * last `maxPositions − reserved` tokens, where `reserved` counts the positions the hooks
 * prepend (virtual tokens, key/value prefixes).
 */
export async function generate(
  model: LoadedModel,
  hooks: Hooks,
  promptIds: number[],
  opts: GenerateOptions,
  onToken?: (id: number) => void | Promise<void>,
): Promise<number[]> {
  const unsupported = generationUnsupported(model.info);
  if (unsupported) throw new Error(unsupported);
  const c = model.info.config;
  checkOptions(opts, c.vocabSize);
  if (promptIds.length === 0) throw new Error('the prompt has no tokens; start from at least one (e.g. the end-of-text token)');
  for (const id of promptIds) {
    if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) throw new Error(`prompt token ${id} is outside the vocabulary of ${c.vocabSize}`);
  }
  if (opts.maxNewTokens === 0) return [];

  const window = c.maxPositions - reservedPositions(model, hooks);
  if (window < 1) throw new Error(`the adapter takes ${c.maxPositions - window} of the model's ${c.maxPositions} positions, leaving none for text`);

  const rand = mulberry32(opts.seed);
  const ids = [...promptIds];
  const out: number[] = [];
  while (out.length < opts.maxNewTokens) {
    const context = ids.length > window ? ids.slice(ids.length - window) : ids;
    const last = tf.tidy(() => {
      const input = tf.tensor2d(context, [1, context.length], 'int32');
      const { logits, prepended } = model.forward(input, hooks);
      return tf.reshape(tf.slice(logits, [0, prepended + context.length - 1, 0], [1, 1, c.vocabSize]), [c.vocabSize]);
    });
    let values: Float32Array;
    try {
      values = (await last.data()) as Float32Array;
    } finally {
      last.dispose();
    }
    const next = sampleToken(values, opts.temperature, opts.topK, rand);
    if (next === opts.eosId) break;
    ids.push(next);
    out.push(next);
    await onToken?.(next);
  }
  return out;
}
