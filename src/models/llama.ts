// Llama (Touvron et al. 2023), top to bottom, over a Map of Hugging Face–named tensors; also
// the checkpoints whose decoder is the same computation under another model_type: Qwen2
// (biases on q/k/v) and Mistral (when its sliding window never narrows the context).
//
//   h = embed_tokens[ids]
//   for each layer:  h = h + attn(input_layernorm(h));  h = h + mlp(post_attention_layernorm(h))
//     attn: q, k, v projections; rotary position embeddings (RoPE, Su et al. 2021) on q and k;
//           grouped-query attention (Ainslie et al. 2023): numHeads query heads share
//           numKeyValueHeads key/value heads; o projection
//     mlp:  down(silu(gate(x)) · up(x))        (SwiGLU, Shazeer 2020)
//   logits = norm(h) · lm_headᵀ               (lm_head is embed_tokens when tied)
//
// All norms are RMSNorm (Zhang & Sennrich 2019): no mean, no bias. There is no position table:
// positions enter only through the rotation of q and k, so the context is a config number
// (max_position_embeddings), not a weight's shape.
//
// The PEFT surface is GPT-2's: every linear goes through `hooks.linear`, every parameter read
// through `hooks.param`, each sublayer's output through `hooks.afterSublayer`, the token
// embeddings through `hooks.inputEmbeds`, and each layer's attention may receive
// `hooks.kvPrefix` keys/values. Names follow LlamaForCausalLM's state dict (Qwen2ForCausalLM and
// MistralForCausalLM name theirs the same), so exports need no translation.
import * as tf from '@tensorflow/tfjs';
import { recomputeInBackward } from '../autodiff/recompute';
import { modelInfoFrom, type Architecture } from './architecture';
import type { ForwardOptions, ForwardResult, Hooks, LinearModule, LoadedModel, ModelConfig, ModelInfo } from './types';
import { flag, positiveInt, positiveNumber } from './config-fields';

/** The config.json "model_type" values whose decoder this file computes exactly. */
const MODEL_TYPES = ['llama', 'qwen2', 'mistral'] as const;
type ModelType = (typeof MODEL_TYPES)[number];

// ---------------------------------------------------------------------------------------------
// config.json

type Raw = Record<string, unknown>;

/**
 * Which linear modules carry a bias. Llama reads `attention_bias` (all four attention
 * projections) and `mlp_bias` from config.json; Qwen2's modeling code fixes biases on
 * q/k/v and none on o or the MLP whatever the config says (its config has neither key);
 * Mistral's fixes no bias anywhere.
 */
interface Biases {
  qkv: boolean;
  o: boolean;
  mlp: boolean;
}

function biasesOf(modelType: ModelType, raw: Raw, fileName: string): Biases {
  switch (modelType) {
    case 'llama': {
      const attn = flag(raw.attention_bias ?? false, 'attention_bias', fileName);
      return { qkv: attn, o: attn, mlp: flag(raw.mlp_bias ?? false, 'mlp_bias', fileName) };
    }
    case 'qwen2':
      return { qkv: true, o: false, mlp: false };
    case 'mistral':
      return { qkv: false, o: false, mlp: false };
  }
}

/**
 * RoPE's frequencies as transformers derives them (modeling_rope_utils.py). `default` is the
 * paper's θ^(−2j/d); `linear` divides every frequency by `factor` (position interpolation,
 * Chen et al. 2023); `llama3` (Llama 3.1) divides only the low frequencies, leaves the high
 * ones, and blends in between.
 */
export type RopeScaling =
  | { type: 'default' }
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export interface Rope {
  theta: number;
  scaling: RopeScaling;
}

/**
 * Reads RoPE's settings with transformers 5's precedence: `rope_scaling` (the 4.x key most
 * Hub checkpoints carry) when set, else `rope_parameters` (what 5.x writes); `rope_theta` inside
 * that object, else at the top level, else 10000; the type from `rope_type`, else `type`.
 */
export function readRope(raw: Raw, fileName: string, maxPositions: number): Rope {
  const isObject = (v: unknown): v is Raw => v != null && typeof v === 'object' && !Array.isArray(v);
  let key = 'rope_scaling';
  let params: unknown = raw.rope_scaling;
  if (params == null || (isObject(params) && Object.keys(params).length === 0)) {
    key = 'rope_parameters';
    params = raw.rope_parameters ?? {};
  }
  if (!isObject(params)) throw new Error(`${fileName}: "${key}" must be an object or null (got ${JSON.stringify(params)})`);
  // Models with several attention types may nest one RoPE per layer type; these three never do.
  for (const nested of ['full_attention', 'sliding_attention']) {
    if (isObject(params[nested])) throw new Error(`${fileName}: "${key}.${nested}": per-layer-type RoPE parameters are not supported`);
  }
  const field = (name: string) => `${key}.${name}`;
  const theta = params.rope_theta != null ? positiveNumber(params.rope_theta, field('rope_theta'), fileName) : positiveNumber(raw.rope_theta ?? 10000, 'rope_theta', fileName);
  // Rotating only part of each head is another model's design; refused rather than ignored.
  for (const [where, v] of [[field('partial_rotary_factor'), params.partial_rotary_factor], ['partial_rotary_factor', raw.partial_rotary_factor]] as const) {
    if (v != null && v !== 1) throw new Error(`${fileName}: "${where}" ${JSON.stringify(v)} is not supported (every dimension of a head is rotated)`);
  }
  const typeField = params.rope_type != null ? 'rope_type' : 'type';
  const type = params[typeField] ?? 'default';
  switch (type) {
    case 'default':
      return { theta, scaling: { type: 'default' } };
    case 'linear':
      return { theta, scaling: { type: 'linear', factor: positiveNumber(params.factor, field('factor'), fileName) } };
    case 'llama3': {
      const factor = positiveNumber(params.factor, field('factor'), fileName);
      const lowFreqFactor = positiveNumber(params.low_freq_factor, field('low_freq_factor'), fileName);
      const highFreqFactor = positiveNumber(params.high_freq_factor, field('high_freq_factor'), fileName);
      if (!(highFreqFactor > lowFreqFactor)) {
        throw new Error(`${fileName}: "${field('high_freq_factor')}" (${highFreqFactor}) must be greater than "${field('low_freq_factor')}" (${lowFreqFactor})`);
      }
      // transformers 5 prefers a top-level original_max_position_embeddings, then the
      // object's, then the model's own context.
      const original =
        raw.original_max_position_embeddings != null
          ? positiveInt(raw.original_max_position_embeddings, 'original_max_position_embeddings', fileName)
          : params.original_max_position_embeddings != null
            ? positiveInt(params.original_max_position_embeddings, field('original_max_position_embeddings'), fileName)
            : maxPositions;
      return { theta, scaling: { type: 'llama3', factor, lowFreqFactor, highFreqFactor, originalMaxPositions: original } };
    }
    default:
      throw new Error(`${fileName}: "${field(typeField)}" ${JSON.stringify(type)} is not supported (default, linear and llama3 are)`);
  }
}

/**
 * A sliding window limits each query to the last `sliding_window` keys; with a window at
 * least as wide as the context it never removes a key, so the model is plain causal
 * attention. Where it would narrow attention the checkpoint is refused: this file computes
 * full causal attention only, and a model trained with a window would silently see more
 * than it was trained to.
 */
function refuseSlidingWindow(modelType: ModelType, raw: Raw, fileName: string, numLayers: number, maxPositions: number): void {
  const window = raw.sliding_window;
  // transformers masks key j for query i when i − j ≥ window; the widest gap is maxPositions − 1.
  const narrows = typeof window === 'number' && window < maxPositions;
  const why = `this engine computes full causal attention, and a window of ${String(window)} keys is narrower than the context of ${maxPositions}`;
  if (modelType === 'mistral' && narrows) {
    throw new Error(`${fileName}: "sliding_window" ${window} is not supported: ${why}`);
  }
  if (modelType === 'qwen2' && raw.use_sliding_window === true && narrows) {
    // Qwen2 windows only the layers `layer_types` marks sliding, by default those from max_window_layers on.
    const types = raw.layer_types;
    const sliding = Array.isArray(types)
      ? types.slice(0, numLayers).includes('sliding_attention')
      : positiveIntOrZero(raw.max_window_layers ?? 28) < numLayers;
    if (sliding) throw new Error(`${fileName}: "use_sliding_window": true is not supported: ${why}`);
  }
}

const positiveIntOrZero = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);

function parseConfig(raw: Raw, fileName: string): ModelConfig {
  const modelType = raw.model_type;
  if (!MODEL_TYPES.includes(modelType as ModelType)) {
    throw new Error(`${fileName}: "model_type" is ${JSON.stringify(modelType)}; the Llama architecture reads ${MODEL_TYPES.map((t) => `"${t}"`).join(', ')}`);
  }
  const type = modelType as ModelType;
  const hiddenSize = positiveInt(raw.hidden_size, 'hidden_size', fileName);
  const numLayers = positiveInt(raw.num_hidden_layers, 'num_hidden_layers', fileName);
  const numHeads = positiveInt(raw.num_attention_heads, 'num_attention_heads', fileName);
  const numKeyValueHeads = positiveInt(raw.num_key_value_heads ?? numHeads, 'num_key_value_heads', fileName);
  if (numHeads % numKeyValueHeads !== 0) {
    throw new Error(`${fileName}: "num_key_value_heads" (${numKeyValueHeads}) must divide "num_attention_heads" (${numHeads})`);
  }
  if (raw.head_dim == null && hiddenSize % numHeads !== 0) {
    throw new Error(`${fileName}: "hidden_size" (${hiddenSize}) is not divisible by "num_attention_heads" (${numHeads}) and there is no "head_dim"`);
  }
  const headDim = positiveInt(raw.head_dim ?? hiddenSize / numHeads, 'head_dim', fileName);
  // rotate_half pairs dimension j with j + headDim/2.
  if (headDim % 2 !== 0) throw new Error(`${fileName}: "head_dim" (${headDim}) must be even for rotary position embeddings`);
  const maxPositions = positiveInt(raw.max_position_embeddings, 'max_position_embeddings', fileName);
  const act = raw.hidden_act ?? 'silu';
  if (act !== 'silu') throw new Error(`${fileName}: "hidden_act" ${JSON.stringify(act)} is not supported (silu is)`);
  const normEpsilon = positiveNumber(raw.rms_norm_eps ?? 1e-6, 'rms_norm_eps', fileName);
  biasesOf(type, raw, fileName);
  readRope(raw, fileName, maxPositions);
  refuseSlidingWindow(type, raw, fileName, numLayers, maxPositions);
  return {
    family: 'llama',
    modelType: type,
    hiddenSize,
    numLayers,
    numHeads,
    numKeyValueHeads,
    headDim,
    intermediateSize: positiveInt(raw.intermediate_size, 'intermediate_size', fileName),
    maxPositions,
    vocabSize: positiveInt(raw.vocab_size, 'vocab_size', fileName),
    tiedHead: flag(raw.tie_word_embeddings ?? false, 'tie_word_embeddings', fileName),
    normEpsilon,
    raw,
  };
}

// ---------------------------------------------------------------------------------------------
// Parameters and linear modules, as the state dict names them

/** The linear modules of every layer, in forward order (q, k, v, o, gate, up, down). */
function llamaLinears(c: ModelConfig): LinearModule[] {
  const b = biasesOf(c.modelType as ModelType, c.raw, 'config.json');
  const d = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKeyValueHeads * c.headDim;
  const out: LinearModule[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const mk = (sub: string, inFeatures: number, outFeatures: number, hasBias: boolean): LinearModule => ({
      path: `model.layers.${i}.${sub}`,
      name: sub.split('.').pop()!,
      inFeatures,
      outFeatures,
      fanInFanOut: false,
      hasBias,
      layer: i,
    });
    out.push(
      mk('self_attn.q_proj', d, q, b.qkv),
      mk('self_attn.k_proj', d, kv, b.qkv),
      mk('self_attn.v_proj', d, kv, b.qkv),
      mk('self_attn.o_proj', q, d, b.o),
      mk('mlp.gate_proj', d, c.intermediateSize, b.mlp),
      mk('mlp.up_proj', d, c.intermediateSize, b.mlp),
      mk('mlp.down_proj', c.intermediateSize, d, b.mlp),
    );
  }
  return out;
}

/**
 * Every parameter in the order torch's state_dict lists them (each layer's attention, MLP,
 * then its two norms, as the modules are registered); nn.Linear weights are [out, in].
 * lm_head.weight is absent when tied: it is embed_tokens.
 */
function llamaParams(c: ModelConfig, linears: LinearModule[]): { name: string; shape: number[] }[] {
  const d = c.hiddenSize;
  const params = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, d] }];
  for (let i = 0; i < c.numLayers; i++) {
    for (const l of linears.filter((m) => m.layer === i)) {
      params.push({ name: `${l.path}.weight`, shape: [l.outFeatures, l.inFeatures] });
      if (l.hasBias) params.push({ name: `${l.path}.bias`, shape: [l.outFeatures] });
    }
    params.push({ name: `model.layers.${i}.input_layernorm.weight`, shape: [d] }, { name: `model.layers.${i}.post_attention_layernorm.weight`, shape: [d] });
  }
  params.push({ name: 'model.norm.weight', shape: [d] });
  if (!c.tiedHead) params.push({ name: 'lm_head.weight', shape: [c.vocabSize, d] });
  return params;
}

function info(name: string, config: ModelConfig): ModelInfo {
  const linears = llamaLinears(config);
  return modelInfoFrom(name, config, linears, llamaParams(config, linears));
}

/**
 * A checkpoint's tensor name as `info` names it. Checkpoints from transformers 4.x and older
 * saved RoPE's frequencies (`…self_attn.rotary_emb.inv_freq`): a buffer derived from the
 * config, not a weight. A tied head saved anyway is the embedding again; transformers ignores
 * it, and so does this — but only with the config to say the head is tied.
 */
function normaliseName(name: string, config: ModelConfig): string | undefined {
  if (name.endsWith('.rotary_emb.inv_freq')) return undefined;
  if (name === 'lm_head.weight' && config.tiedHead) return undefined;
  return name;
}

// ---------------------------------------------------------------------------------------------
// Rotary position embeddings

/**
 * The inverse frequencies inv_freq[j] for j < headDim/2, as transformers computes them in
 * float32 (_compute_default_rope_parameters, _compute_linear_scaling_rope_parameters,
 * _compute_llama3_parameters). Math.fround after each float32 step of theirs keeps the
 * tables within an ulp of theirs.
 */
export function ropeInverseFrequencies(rope: Rope, headDim: number): Float32Array {
  const f = Math.fround;
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let j = 0; j < half; j++) inv[j] = f(1 / f(Math.pow(rope.theta, f((2 * j) / headDim))));
  const s = rope.scaling;
  if (s.type === 'linear') {
    for (let j = 0; j < half; j++) inv[j] = f(inv[j] / s.factor);
  } else if (s.type === 'llama3') {
    const lowFreqWavelen = s.originalMaxPositions / s.lowFreqFactor;
    const highFreqWavelen = s.originalMaxPositions / s.highFreqFactor;
    for (let j = 0; j < half; j++) {
      const wavelen = (2 * Math.PI) / inv[j];
      // Long wavelengths (low frequencies) are interpolated by `factor`, short ones kept.
      const scaled = wavelen > lowFreqWavelen ? inv[j] / s.factor : inv[j];
      // Between the two, a blend that is continuous at both ends.
      const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      const medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
      inv[j] = f(medium ? ((1 - smooth) * scaled) / s.factor + smooth * scaled : scaled);
    }
  }
  return inv;
}

/**
 * cos and sin of position·inv_freq for positions [start, start + n), each [n, headDim]: the
 * frequencies repeated over both halves of a head, as LlamaRotaryEmbedding concatenates them.
 */
function rotaryTables(invFreq: Float32Array, start: number, n: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const half = invFreq.length;
  const hd = 2 * half;
  const cos = new Float32Array(n * hd);
  const sin = new Float32Array(n * hd);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < half; j++) {
      const angle = Math.fround((start + t) * invFreq[j]);
      cos[t * hd + j] = cos[t * hd + half + j] = Math.cos(angle);
      sin[t * hd + j] = sin[t * hd + half + j] = Math.sin(angle);
    }
  }
  return { cos: tf.tensor2d(cos, [n, hd]), sin: tf.tensor2d(sin, [n, hd]) };
}

/**
 * Rotates each (x[j], x[j + d/2]) pair by its position's angle: x·cos + rotate_half(x)·sin with
 * rotate_half(x) = [−x₂, x₁], transformers' layout (the halves, not interleaved pairs).
 */
function applyRotary(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
  const [x1, x2] = tf.split(x, 2, -1);
  return tf.add(tf.mul(x, cos), tf.mul(tf.concat([tf.neg(x2), x1], -1), sin)) as tf.Tensor4D;
}

// ---------------------------------------------------------------------------------------------
// The forward pass

/** x · rsqrt(mean(x²) + eps) · w over the last axis. */
function rmsNorm(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  return tf.mul(w, tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))));
}

/** SiLU (swish): x · σ(x). */
function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/**
 * Additive attention mask [T, P+T]: query i sees every prefix slot and keys 0..i.
 * -1e9 rather than -Infinity so a fully masked row can never produce NaN.
 */
function causalMask(t: number, prefix: number): tf.Tensor2D {
  const m = new Float32Array(t * (prefix + t));
  for (let i = 0; i < t; i++) for (let j = prefix + i + 1; j < prefix + t; j++) m[i * (prefix + t) + j] = -1e9;
  return tf.tensor2d(m, [t, prefix + t]);
}

export class Llama implements LoadedModel {
  /** RoPE's inverse frequencies, fixed by the config. */
  private readonly invFreq: Float32Array;
  /** Paths of the linear modules that add a bias. */
  private readonly biased: Set<string>;

  constructor(
    readonly info: ModelInfo,
    readonly weights: Map<string, tf.Tensor>,
  ) {
    const c = info.config;
    this.invFreq = ropeInverseFrequencies(readRope(c.raw, 'config.json', c.maxPositions), c.headDim);
    this.biased = new Set(info.linears.filter((l) => l.hasBias).map((l) => l.path));
  }

  private weight(name: string): tf.Tensor {
    const t = this.weights.get(name);
    if (!t) throw new Error(`weight "${name}" is missing`);
    return t;
  }

  /** y = x·Wᵀ + b with W stored [out, in] (nn.Linear), then the method's `linear` hook. */
  private linear(hooks: Hooks, w: (name: string) => tf.Tensor, path: string, x: tf.Tensor): tf.Tensor {
    const [B, T, inF] = x.shape;
    const x2 = tf.reshape(x, [B * T, inF]);
    let y = tf.matMul(x2, w(`${path}.weight`), false, true);
    if (this.biased.has(path)) y = tf.add(y, w(`${path}.bias`));
    if (hooks.linear) y = hooks.linear(path, x2, y);
    return tf.reshape(y, [B, T, y.shape[1]!]);
  }

  forward(ids: tf.Tensor2D, hooks: Hooks = {}, opts: ForwardOptions = {}): ForwardResult {
    const c = this.info.config;
    const [B] = ids.shape;
    const H = c.numHeads;
    const KV = c.numKeyValueHeads;
    const hd = c.headDim;
    // Each key/value head serves `group` consecutive query heads (transformers' repeat_kv).
    const group = H / KV;
    const eps = c.normEpsilon;
    // No dropout while training: these checkpoints ship attention_dropout 0, and the decoder
    // has no other.
    // Every parameter is read through the `param` hook when a method supplies one (BitFit
    // swaps in trainable biases this way); otherwise the frozen tensor itself.
    const w = (name: string) => (hooks.param ? hooks.param(name, this.weight(name)) : this.weight(name));

    // Token embeddings; prompt-style methods prepend virtual tokens here, and those take
    // positions too (as PEFT's prompt tuning does through inputs_embeds).
    let h = tf.gather(w('model.embed_tokens.weight'), ids) as tf.Tensor3D;
    const tokens = h.shape[1];
    if (hooks.inputEmbeds) h = hooks.inputEmbeds(h);
    const T = h.shape[1];
    const prepended = T - tokens;

    // Prefix methods hand every layer past keys/values, already rotated, with numKeyValueHeads
    // heads; like transformers with past_key_values, the real tokens' positions start after them.
    const prefixes = hooks.kvPrefix ? Array.from({ length: c.numLayers }, (_, i) => hooks.kvPrefix!(i, B)) : [];
    const P = prefixes[0]?.k.shape[2] ?? 0;
    prefixes.forEach((p, i) => {
      const want = [B, KV, P, hd].join();
      if (P > 0 && (!p || p.k.shape.join() !== want || p.v.shape.join() !== want)) {
        throw new Error(`kvPrefix: layer ${i} gave keys [${p?.k.shape}] and values [${p?.v.shape}], expected [${want}] for every layer`);
      }
    });
    if (P + T > c.maxPositions) {
      throw new Error(`sequence of ${P + T} positions exceeds the model's context of ${c.maxPositions}`);
    }
    const { cos, sin } = rotaryTables(this.invFreq, P, T);
    const mask = causalMask(T, P);
    const scale = 1 / Math.sqrt(hd);
    const heads = (x: tf.Tensor, n: number) => tf.transpose(tf.reshape(x, [B, T, n, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
    const hidden: tf.Tensor3D[] = opts.outputHidden ? [h] : [];

    for (let i = 0; i < c.numLayers; i++) {
      const p = `model.layers.${i}`;
      // A scope per block: what the backward pass needs was saved by the ops themselves, so the
      // block's other intermediates go now rather than when the whole forward pass ends; a
      // training step may instead keep only the block's input and run it again backward.
      const input = h;
      h = recomputeInBackward(() => {
        let h = input;
        // Attention sublayer.
        const a = rmsNorm(h, w(`${p}.input_layernorm.weight`), eps);
        const q = applyRotary(heads(this.linear(hooks, w, `${p}.self_attn.q_proj`, a), H), cos, sin);
        let k = applyRotary(heads(this.linear(hooks, w, `${p}.self_attn.k_proj`, a), KV), cos, sin);
        let v = heads(this.linear(hooks, w, `${p}.self_attn.v_proj`, a), KV);
        const prefix = prefixes[i];
        if (prefix && P > 0) {
          k = tf.concat([prefix.k, k], 2);
          v = tf.concat([prefix.v, v], 2);
        }
        // Grouped-query attention without copying keys/values: the `group` query heads that
        // share a key/value head are stacked along time, [B, KV, group·T, hd], so one batched
        // matMul per key/value head serves all of them. Query head h meets key/value head
        // ⌊h/group⌋, exactly as repeat_kv arranges it.
        const S = P + T;
        const scores = tf.reshape(tf.mul(tf.matMul(tf.reshape(q, [B, KV, group * T, hd]), k, false, true), scale), [B, H, T, S]);
        const probs = tf.reshape(tf.softmax(tf.add(scores, mask), -1), [B, KV, group * T, S]);
        const ctx = tf.reshape(tf.matMul(probs, v), [B, H, T, hd]);
        const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B, T, H * hd]);
        let attnOut = this.linear(hooks, w, `${p}.self_attn.o_proj`, merged);
        if (hooks.afterSublayer) attnOut = hooks.afterSublayer(i, 'attn', attnOut);
        h = tf.add(h, attnOut) as tf.Tensor3D;

        // Feed-forward sublayer (SwiGLU).
        const m = rmsNorm(h, w(`${p}.post_attention_layernorm.weight`), eps);
        const gated = tf.mul(silu(this.linear(hooks, w, `${p}.mlp.gate_proj`, m)), this.linear(hooks, w, `${p}.mlp.up_proj`, m));
        let mlpOut = this.linear(hooks, w, `${p}.mlp.down_proj`, gated);
        if (hooks.afterSublayer) mlpOut = hooks.afterSublayer(i, 'mlp', mlpOut);
        h = tf.add(h, mlpOut) as tf.Tensor3D;
        return h;
      });
      if (opts.outputHidden) hidden.push(h);
    }

    const lastHidden = rmsNorm(h, w('model.norm.weight'), eps) as tf.Tensor3D;
    const head = w(c.tiedHead ? 'model.embed_tokens.weight' : 'lm_head.weight');
    const logits = tf.reshape(tf.matMul(tf.reshape(lastHidden, [B * T, c.hiddenSize]), head, false, true), [B, T, c.vocabSize]) as tf.Tensor3D;
    return { logits, lastHidden, hidden: opts.outputHidden ? hidden : undefined, prepended };
  }

  dispose(): void {
    for (const t of this.weights.values()) t.dispose();
    this.weights.clear();
  }
}

/** The model class each model_type's checkpoints are saved as (config.json's "architectures"). */
export function causalLmClass(modelType: string): string {
  return ({ llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', mistral: 'MistralForCausalLM' } as Record<string, string>)[modelType] ?? 'LlamaForCausalLM';
}

export const llama: Architecture = {
  family: 'llama',
  modelTypes: [...MODEL_TYPES],
  objective: 'causal-lm',
  parseConfig,
  info,
  normaliseName,
  build: (info, weights) => new Llama(info, weights),
  blockPath: (_config, layer) => `model.layers.${layer}`,
  // PEFT's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING, the same for llama, qwen2 and mistral.
  loraTargets: () => ['q_proj', 'v_proj'],
  adapterHubModelClass: (config) => causalLmClass(config.modelType),
  // GenericForSequenceClassification: a bias-free `score` over the last non-padding token.
  sequenceClassifier: (config) => ({
    pooling: 'last-token',
    layers: [{ path: 'score', inFeatures: config.hiddenSize, outFeatures: 'labels', hasBias: false, activation: 'none' }],
    modulesToSave: ['classifier', 'score'],
    className: causalLmClass(config.modelType).replace(/ForCausalLM$/, 'ForSequenceClassification'),
    baseModelPrefix: 'model',
  }),
  // adapters' LlamaDecoderLayerMixin (Qwen2's and Mistral's mixins name them alike).
  adapterHubLayerPath: (_config, layer, kind) => `model.layers.${layer}.${kind === 'attn' ? 'attention_adapters' : 'output_adapters'}`,
};
