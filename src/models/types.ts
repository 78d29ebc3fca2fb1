// The seam between architectures and PEFT methods.
// A model's forward pass calls these hook points; a method supplies them. Neither knows the
// other's internals. Module paths are Hugging Face state-dict paths without the `.weight`
// suffix (`transformer.h.3.attn.c_attn`), so targets and exports line up with the ecosystem.
import type * as tf from '@tensorflow/tfjs';

export interface Hooks {
  /** Every parameter the forward reads, by HF name; may return a replacement (BitFit's trainable biases). */
  param?(name: string, frozen: tf.Tensor): tf.Tensor;
  /**
   * Replaces the output of the linear module at `path`: `x` is its input [N, in] (batch and
   * time flattened), `y` the frozen module's output x·Wᵀ + b [N, out], computed by the
   * architecture in its own weight layout; the result is [N, out].
   */
  linear?(path: string, x: tf.Tensor, y: tf.Tensor): tf.Tensor;
  /** Applied to a sublayer's output before the residual add (Houlsby adapters). */
  afterSublayer?(layer: number, kind: 'attn' | 'mlp', h: tf.Tensor): tf.Tensor;
  /** Receives the token embeddings [B, T, d]; may prepend virtual tokens. */
  inputEmbeds?(e: tf.Tensor3D): tf.Tensor3D;
  /** Key/value prefixes for one layer, each [B, numKeyValueHeads, n, headDim]. */
  kvPrefix?(layer: number, batch: number): { k: tf.Tensor4D; v: tf.Tensor4D } | undefined;
}

/**
 * A Hugging Face config.json as the engine reads it: the same sizes for every family, so
 * methods, plans and distillation never read a family's own field names. Only the
 * architecture's file (src/models/<family>.ts) parses config.json.
 */
export interface ModelConfig {
  /** The architecture that reads it (src/models/registry.ts): 'gpt2', … */
  family: string;
  /** config.json's "model_type" as written (gpt2, llama, qwen2, bert, …), for files that repeat it. */
  modelType: string;
  hiddenSize: number;
  numLayers: number;
  /** Query heads. */
  numHeads: number;
  /** Key/value heads (fewer than numHeads under grouped-query attention). */
  numKeyValueHeads: number;
  headDim: number;
  /** Width of the feed-forward sublayer's hidden layer. */
  intermediateSize: number;
  /** Positions the model can attend over (its context). */
  maxPositions: number;
  vocabSize: number;
  /** The output head shares the token embedding's weights. */
  tiedHead: boolean;
  /** The normalisation layers' epsilon. */
  normEpsilon: number;
  /** config.json as loaded, kept so exports can write it back unchanged. */
  raw: Record<string, unknown>;
}

export interface LinearModule {
  path: string;
  /** last path component, e.g. `c_attn`; what PEFT's target_modules match against. */
  name: string;
  inFeatures: number;
  outFeatures: number;
  /** The weight is stored [in, out] (GPT-2's Conv1D; PEFT's fan_in_fan_out: true), else nn.Linear's [out, in]. */
  fanInFanOut: boolean;
  hasBias: boolean;
  /** The block it sits in; numLayers for a module after the last block (a masked LM head's transform). */
  layer: number;
}

/** Everything `plan` needs: pure data, no tensors. */
export interface ModelInfo {
  name: string;
  config: ModelConfig;
  linears: LinearModule[];
  /** Every parameter tensor as it appears in the HF state dict (tied lm_head counted once). */
  params: { name: string; shape: number[] }[];
  totalParams: number;
}

export interface ForwardOptions {
  /** Dropout etc. only run while training. */
  training?: boolean;
  /** Also return the hidden state after every block (index 0 = embeddings). */
  outputHidden?: boolean;
  /**
   * [B, T] over the ids: 1 for a real token, 0 for padding. Encoders (BERT) attend in both
   * directions, so padding on the right is seen by every token unless masked: a padded key
   * gets −1e9 added to its attention scores (not −∞, so a row with every key masked stays
   * finite). Virtual tokens and key/value prefixes a hook adds are always attended. Without
   * it every position is attended. A causal decoder may ignore it: with padding on the
   * right, no real token ever sees a pad.
   */
  attentionMask?: tf.Tensor2D;
  /**
   * int32 rows of the flattened [B·T'] positions at which to compute logits, returned as
   * [1, N, vocab] in that order. A masked LM's head acts on each position alone, and scoring
   * masked tokens needs only theirs: the head over the whole vocabulary is most of a small
   * model's work. Honoured by the masked LMs (bert.ts); a causal LM's forward ignores it.
   */
  logitRows?: tf.Tensor1D;
  /** [B, T] over the ids: each token's segment (0, or 1 for a sentence pair's second); all 0 without it. Read by encoders with token types (BERT). */
  tokenTypeIds?: tf.Tensor2D;
}

export interface ForwardResult {
  /** [B, T', vocab]; T' includes virtual tokens a hook prepended. */
  logits: tf.Tensor3D;
  /** The final normalised hidden state [B, T', hidden] the head reads (distillation's cosine target). */
  lastHidden: tf.Tensor3D;
  /** With `outputHidden`: the hidden state after every block (index 0 = embeddings), before the final norm. */
  hidden?: tf.Tensor3D[];
  /** How many positions a hook prepended in front of the input (virtual tokens). */
  prepended: number;
}

export interface LoadedModel {
  info: ModelInfo;
  /** Frozen weights by HF name. Plain tensors, never tf.Variable: no gradient reaches them. */
  weights: Map<string, tf.Tensor>;
  forward(ids: tf.Tensor2D, hooks?: Hooks, opts?: ForwardOptions): ForwardResult;
  dispose(): void;
}
