// GPT-2 (Radford et al. 2019), top to bottom, over a Map of Hugging Face–named tensors.
//
//   h = wte[ids] + wpe[positions]
//   for each block:  h = h + attn(ln_1(h));  h = h + mlp(ln_2(h))
//   logits = ln_f(h) · wteᵀ            (lm_head is tied to the token embedding)
//
// Every linear layer goes through `hooks.linear`, every sublayer output through
// `hooks.afterSublayer`, the token embeddings through `hooks.inputEmbeds`, and each layer's
// attention may receive `hooks.kvPrefix` keys/values: that is the whole surface a PEFT
// method sees. Names follow GPT2LMHeadModel's state dict so exports need no translation.
// The file ends with `gpt2`, the Architecture the registry (./registry.ts) lists.
import * as tf from '@tensorflow/tfjs';
import type {
  ForwardOptions,
  ForwardResult,
  Hooks,
  LinearModule,
  LoadedModel,
  ModelConfig,
  ModelInfo,
} from './types';
import { recomputeInBackward } from '../autodiff/recompute';
import { modelInfoFrom, type Architecture } from './architecture';
import { geluNew, layerNorm } from './layers';

/** Reads the GPT-2 fields of a Hugging Face config.json; throws naming the missing field. */
export function gpt2Config(raw: Record<string, unknown>, fileName = 'config.json'): ModelConfig {
  const int = (key: string, fallback?: number): number => {
    const v = raw[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new Error(`${fileName}: "${key}" must be a positive integer (got ${JSON.stringify(v)})`);
    }
    return v;
  };
  if (raw.model_type !== 'gpt2') {
    throw new Error(`${fileName}: "model_type" is ${JSON.stringify(raw.model_type)}; this loader reads "gpt2"`);
  }
  const hiddenSize = int('n_embd');
  const numHeads = int('n_head');
  if (hiddenSize % numHeads !== 0) throw new Error(`${fileName}: "n_embd" (${hiddenSize}) is not divisible by "n_head" (${numHeads})`);
  if (raw.n_inner != null && raw.n_inner !== 4 * hiddenSize) {
    throw new Error(`${fileName}: "n_inner" other than 4·n_embd is not supported (got ${String(raw.n_inner)})`);
  }
  const act = raw.activation_function ?? 'gelu_new';
  if (act !== 'gelu_new') throw new Error(`${fileName}: "activation_function" ${JSON.stringify(act)} is not supported (gelu_new is)`);
  // The engine ties lm_head to wte (GPT2LMHeadModel's default); an untied head would be dropped.
  if (raw.tie_word_embeddings === false) throw new Error(`${fileName}: "tie_word_embeddings": false is not supported (GPT-2 ties lm_head to wte)`);
  for (const key of ['scale_attn_by_inverse_layer_idx', 'reorder_and_upcast_attn'] as const) {
    if (raw[key] === true) throw new Error(`${fileName}: "${key}": true is not supported`);
  }
  if (raw.scale_attn_weights === false) throw new Error(`${fileName}: "scale_attn_weights": false is not supported`);
  const eps = raw.layer_norm_epsilon ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0)) throw new Error(`${fileName}: "layer_norm_epsilon" must be a positive number`);
  return {
    family: 'gpt2',
    modelType: 'gpt2',
    hiddenSize,
    numLayers: int('n_layer'),
    numHeads,
    // GPT-2 has no grouped-query attention: every query head has its own keys and values.
    numKeyValueHeads: numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: 4 * hiddenSize,
    maxPositions: int('n_positions', raw.n_ctx as number | undefined),
    vocabSize: int('vocab_size'),
    tiedHead: true,
    normEpsilon: eps,
    raw,
  };
}

/** Block `layer`'s state-dict path: GPT2LMHeadModel keeps its blocks in `transformer.h`. */
const blockPath = (layer: number) => `transformer.h.${layer}`;

/** The linear (Conv1D) modules of every block, in forward order. */
function gpt2Linears(c: ModelConfig): LinearModule[] {
  const d = c.hiddenSize;
  const f = c.intermediateSize;
  const out: LinearModule[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const p = blockPath(i);
    const mk = (sub: string, inF: number, outF: number): LinearModule => ({
      path: `${p}.${sub}`,
      name: sub.split('.').pop()!,
      inFeatures: inF,
      outFeatures: outF,
      fanInFanOut: true,
      hasBias: true,
      layer: i,
    });
    out.push(mk('attn.c_attn', d, 3 * d), mk('attn.c_proj', d, d), mk('mlp.c_fc', d, f), mk('mlp.c_proj', f, d));
  }
  return out;
}

/** Every parameter of GPT2LMHeadModel as its state dict names it (lm_head tied, so absent). */
function gpt2Params(c: ModelConfig): { name: string; shape: number[] }[] {
  const d = c.hiddenSize;
  const f = c.intermediateSize;
  const params = [
    { name: 'transformer.wte.weight', shape: [c.vocabSize, d] },
    { name: 'transformer.wpe.weight', shape: [c.maxPositions, d] },
  ];
  for (let i = 0; i < c.numLayers; i++) {
    const p = blockPath(i);
    params.push(
      { name: `${p}.ln_1.weight`, shape: [d] },
      { name: `${p}.ln_1.bias`, shape: [d] },
      { name: `${p}.attn.c_attn.weight`, shape: [d, 3 * d] },
      { name: `${p}.attn.c_attn.bias`, shape: [3 * d] },
      { name: `${p}.attn.c_proj.weight`, shape: [d, d] },
      { name: `${p}.attn.c_proj.bias`, shape: [d] },
      { name: `${p}.ln_2.weight`, shape: [d] },
      { name: `${p}.ln_2.bias`, shape: [d] },
      { name: `${p}.mlp.c_fc.weight`, shape: [d, f] },
      { name: `${p}.mlp.c_fc.bias`, shape: [f] },
      { name: `${p}.mlp.c_proj.weight`, shape: [f, d] },
      { name: `${p}.mlp.c_proj.bias`, shape: [d] },
    );
  }
  params.push({ name: 'transformer.ln_f.weight', shape: [d] }, { name: 'transformer.ln_f.bias', shape: [d] });
  return params;
}

export function gpt2Info(name: string, config: ModelConfig): ModelInfo {
  return modelInfoFrom(name, config, gpt2Linears(config), gpt2Params(config));
}

/**
 * Brings a checkpoint's names to GPT2LMHeadModel's: GPT2Model checkpoints (the original
 * `gpt2` on the Hub) lack the `transformer.` prefix; `lm_head.weight` is tied and dropped;
 * the causal-mask buffers old versions saved (`attn.bias`, `attn.masked_bias`) are not weights.
 */
export function normaliseGpt2Name(name: string): string | undefined {
  if (name === 'lm_head.weight') return undefined;
  if (/\.attn\.(masked_)?bias$/.test(name)) return undefined;
  return name.startsWith('transformer.') ? name : `transformer.${name}`;
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

export class Gpt2 implements LoadedModel {
  constructor(
    readonly info: ModelInfo,
    readonly weights: Map<string, tf.Tensor>,
  ) {}

  private weight(name: string): tf.Tensor {
    const t = this.weights.get(name);
    if (!t) throw new Error(`weight "${name}" is missing`);
    return t;
  }

  /** A Conv1D: x·W + b with W stored [in, out]; a method's `linear` hook sees x and that output. */
  private linear(hooks: Hooks, param: (name: string) => tf.Tensor, path: string, x: tf.Tensor): tf.Tensor {
    const [B, T, inF] = x.shape;
    const x2 = tf.reshape(x, [B * T, inF]);
    const y = tf.add(tf.matMul(x2, param(`${path}.weight`)), param(`${path}.bias`));
    const out = hooks.linear ? hooks.linear(path, x2, y) : y;
    return tf.reshape(out, [B, T, out.shape[1]!]);
  }

  forward(ids: tf.Tensor2D, hooks: Hooks = {}, opts: ForwardOptions = {}): ForwardResult {
    const c = this.info.config;
    const [B] = ids.shape;
    const H = c.numHeads;
    const hd = c.headDim;
    const eps = c.normEpsilon;
    // Every parameter is read through the `param` hook when a method supplies one (BitFit
    // swaps in trainable biases this way); otherwise the frozen tensor itself.
    const w = (name: string) => (hooks.param ? hooks.param(name, this.weight(name)) : this.weight(name));

    // Token embeddings; prompt-style methods prepend virtual tokens here, so positions
    // below count them too (as PEFT's prompt tuning does through inputs_embeds).
    let e = tf.gather(w('transformer.wte.weight'), ids) as tf.Tensor3D;
    const tokens = e.shape[1];
    if (hooks.inputEmbeds) e = hooks.inputEmbeds(e);
    const T = e.shape[1];
    const prepended = T - tokens;

    // Prefix methods hand every layer past keys/values; like Hugging Face with
    // past_key_values, the real tokens' positions start after the prefix.
    const prefixes = hooks.kvPrefix ? Array.from({ length: c.numLayers }, (_, i) => hooks.kvPrefix!(i, B)) : [];
    const P = prefixes[0]?.k.shape[2] ?? 0;
    if (P + T > c.maxPositions) {
      throw new Error(`sequence of ${P + T} positions exceeds the model's context of ${c.maxPositions}`);
    }
    const positions = tf.range(P, P + T, 1, 'int32');
    let h = tf.add(e, tf.gather(w('transformer.wpe.weight'), positions)) as tf.Tensor3D;

    const mask = causalMask(T, P);
    const hidden: tf.Tensor3D[] = opts.outputHidden ? [h] : [];
    const scale = 1 / Math.sqrt(hd);
    const heads = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [B, T, H, hd]), [0, 2, 1, 3]) as tf.Tensor4D;

    for (let i = 0; i < c.numLayers; i++) {
      const p = blockPath(i);
      // A scope per block: what the backward pass needs was saved by the ops themselves, so the
      // block's other intermediates go now rather than when the whole forward pass ends; a
      // training step may instead keep only the block's input and run it again backward.
      const input = h;
      h = recomputeInBackward(() => {
        // Attention sublayer.
        const a = layerNorm(input, w(`${p}.ln_1.weight`), w(`${p}.ln_1.bias`), eps);
        const qkv = this.linear(hooks, w, `${p}.attn.c_attn`, a);
        const [q, k0, v0] = tf.split(qkv, 3, -1).map(heads);
        const prefix = prefixes[i];
        const k = prefix ? tf.concat([prefix.k, k0], 2) : k0;
        const v = prefix ? tf.concat([prefix.v, v0], 2) : v0;
        const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), scale), mask);
        const ctx = tf.matMul(tf.softmax(scores, -1), v);
        const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B, T, c.hiddenSize]);
        let attnOut = this.linear(hooks, w, `${p}.attn.c_proj`, merged);
        if (hooks.afterSublayer) attnOut = hooks.afterSublayer(i, 'attn', attnOut);
        const x = tf.add(input, attnOut) as tf.Tensor3D;

        // Feed-forward sublayer.
        const m = layerNorm(x, w(`${p}.ln_2.weight`), w(`${p}.ln_2.bias`), eps);
        let mlpOut = this.linear(hooks, w, `${p}.mlp.c_proj`, geluNew(this.linear(hooks, w, `${p}.mlp.c_fc`, m)));
        if (hooks.afterSublayer) mlpOut = hooks.afterSublayer(i, 'mlp', mlpOut);
        return tf.add(x, mlpOut) as tf.Tensor3D;
      });
      if (opts.outputHidden) hidden.push(h);
    }

    const f = layerNorm(h, w('transformer.ln_f.weight'), w('transformer.ln_f.bias'), eps) as tf.Tensor3D;
    const logits = tf.reshape(
      tf.matMul(tf.reshape(f, [B * T, c.hiddenSize]), w('transformer.wte.weight'), false, true),
      [B, T, c.vocabSize],
    ) as tf.Tensor3D;
    return { logits, lastHidden: f, hidden: opts.outputHidden ? hidden : undefined, prepended };
  }

  dispose(): void {
    for (const t of this.weights.values()) t.dispose();
    this.weights.clear();
  }
}

/** GPT-2 as the registry sees it: PEFT's default LoRA target is the fused query/key/value projection. */
export const gpt2: Architecture = {
  family: 'gpt2',
  modelTypes: ['gpt2'],
  objective: 'causal-lm',
  parseConfig: gpt2Config,
  info: gpt2Info,
  normaliseName: normaliseGpt2Name,
  build: (info, weights) => new Gpt2(info, weights),
  blockPath: (_config, layer) => blockPath(layer),
  loraTargets: () => ['c_attn'],
  adapterHubModelClass: () => 'GPT2LMHeadModel',
  // GPT2ForSequenceClassification: a bias-free `score` over the last non-padding token.
  sequenceClassifier: (config) => ({
    pooling: 'last-token',
    layers: [{ path: 'score', inFeatures: config.hiddenSize, outFeatures: 'labels', hasBias: false, activation: 'none' }],
    modulesToSave: ['classifier', 'score'],
    className: 'GPT2ForSequenceClassification',
    baseModelPrefix: 'transformer',
  }),
  // adapters' GPT2DecoderBlockAdaptersMixin.
  adapterHubLayerPath: (_config, layer, kind) => `${blockPath(layer)}.${kind === 'attn' ? 'attention_adapters' : 'output_adapters'}`,
  withNumLayers: (raw, numLayers) => ({ ...raw, n_layer: numLayers }),
};
