// BERT (Devlin et al. 2019), top to bottom, over a Map of Hugging Face–named tensors, as a
// masked language model; also the encoders that are the same computation under their own
// state-dict names: RoBERTa (Liu et al. 2019) and DistilBERT (Sanh et al. 2019).
//
//   h = LN(word[ids] + token_type[0] + position[positions])
//   for each layer (post-LN: the norm follows the residual add):
//     h = LN(h + attn(h))     bidirectional multi-head attention; padding keys masked
//     h = LN(h + ffn(h))      ffn(x) = down(gelu(up(x))), GELU exact (erf)
//   logits = LN(gelu(dense(h))) · wordᵀ + bias      (the MLM head; untied, a decoder weight of its own)
//
// What differs among the three is naming and two details of the embeddings. RoBERTa numbers
// positions from padding_idx + 1 and gives padding the position padding_idx (fairseq's
// make_positions), so its context is max_position_embeddings − padding_idx − 1. DistilBERT has
// no token types, and fixes every LayerNorm's epsilon at 1e-12.
//
// The PEFT surface is GPT-2's: every linear goes through `hooks.linear`, every parameter read
// through `hooks.param`, each sublayer's output through `hooks.afterSublayer` (before the
// residual add and its LayerNorm: where Houlsby adapters sit in BERT), the word embeddings through
// `hooks.inputEmbeds`, and each layer's attention may receive `hooks.kvPrefix` keys/values.
// Padding is masked by `opts.attentionMask`: a causal decoder never sees the pads on its right,
// but an encoder attends both ways. Names follow BertForMaskedLM's, RobertaForMaskedLM's and
// DistilBertForMaskedLM's state dicts, so exports need no translation.
import * as tf from '@tensorflow/tfjs';
import { recomputeInBackward } from '../autodiff/recompute';
import { modelInfoFrom, type Architecture, type SequenceClassifierSpec } from './architecture';
import { gelu, layerNorm } from './layers';
import type { ForwardOptions, ForwardResult, Hooks, LinearModule, LoadedModel, ModelConfig, ModelInfo } from './types';
import { flag, positiveInt, positiveNumber } from './config-fields';

/** The config.json "model_type" values this file computes. */
const MODEL_TYPES = ['bert', 'roberta', 'distilbert'] as const;
type ModelType = (typeof MODEL_TYPES)[number];

// ---------------------------------------------------------------------------------------------
// State-dict names

/**
 * Where each model type keeps its weights. The embeddings' four modules are named alike in all
 * three (word_embeddings, position_embeddings, token_type_embeddings, LayerNorm) under their own
 * prefix; blocks and heads are named by each.
 */
interface Naming {
  /** `bert.embeddings`, … */
  embeddings: string;
  /** The embedding modules in the order the state dict lists them (RoBERTa registers position_embeddings last). */
  embeddingOrder: readonly ('word_embeddings' | 'position_embeddings' | 'token_type_embeddings' | 'LayerNorm')[];
  /** `bert.encoder.layer`, …: block i is `${layers}.${i}`. */
  layers: string;
  /** A block's modules, relative to it: attention projections, the norm after attention, FFN, the norm after it. */
  q: string;
  k: string;
  v: string;
  o: string;
  attnNorm: string;
  up: string;
  down: string;
  ffnNorm: string;
  /** The MLM head: its transform (dense, then LayerNorm) and its decoder onto the vocabulary. */
  headDense: string;
  headNorm: string;
  decoder: string;
  /**
   * BERT and RoBERTa keep the logits' bias as a parameter of the head (`cls.predictions.bias`,
   * `lm_head.bias`), registered before the transform, which the tied decoder's bias shares;
   * DistilBERT has only the decoder's own bias (`vocab_projector.bias`).
   */
  headBias?: string;
}

function bertNaming(prefix: 'bert' | 'roberta', head: { dense: string; norm: string; decoder: string; bias: string }): Naming {
  return {
    embeddings: `${prefix}.embeddings`,
    embeddingOrder:
      prefix === 'bert'
        ? ['word_embeddings', 'position_embeddings', 'token_type_embeddings', 'LayerNorm']
        : ['word_embeddings', 'token_type_embeddings', 'LayerNorm', 'position_embeddings'],
    layers: `${prefix}.encoder.layer`,
    q: 'attention.self.query',
    k: 'attention.self.key',
    v: 'attention.self.value',
    o: 'attention.output.dense',
    attnNorm: 'attention.output.LayerNorm',
    up: 'intermediate.dense',
    down: 'output.dense',
    ffnNorm: 'output.LayerNorm',
    headDense: head.dense,
    headNorm: head.norm,
    decoder: head.decoder,
    headBias: head.bias,
  };
}

const NAMING: Record<ModelType, Naming> = {
  bert: bertNaming('bert', {
    dense: 'cls.predictions.transform.dense',
    norm: 'cls.predictions.transform.LayerNorm',
    decoder: 'cls.predictions.decoder',
    bias: 'cls.predictions.bias',
  }),
  roberta: bertNaming('roberta', { dense: 'lm_head.dense', norm: 'lm_head.layer_norm', decoder: 'lm_head.decoder', bias: 'lm_head.bias' }),
  distilbert: {
    embeddings: 'distilbert.embeddings',
    embeddingOrder: ['word_embeddings', 'position_embeddings', 'LayerNorm'],
    layers: 'distilbert.transformer.layer',
    q: 'attention.q_lin',
    k: 'attention.k_lin',
    v: 'attention.v_lin',
    o: 'attention.out_lin',
    attnNorm: 'sa_layer_norm',
    up: 'ffn.lin1',
    down: 'ffn.lin2',
    ffnNorm: 'output_layer_norm',
    headDense: 'vocab_transform',
    headNorm: 'vocab_layer_norm',
    decoder: 'vocab_projector',
  },
};

const naming = (c: ModelConfig): Naming => NAMING[c.modelType as ModelType];

/**
 * The parameter the logits add as their bias. Tied, BERT's and RoBERTa's decoder bias is the
 * head's `bias` parameter itself. Untied, transformers 5 gives the decoder a bias of its own,
 * and the head's `bias` is still a parameter (listed, counted) that the forward never reads.
 */
function logitBias(c: ModelConfig): string {
  const n = naming(c);
  return n.headBias && c.tiedHead ? n.headBias : `${n.decoder}.bias`;
}

// ---------------------------------------------------------------------------------------------
// config.json

type Raw = Record<string, unknown>;

/** The activation, which transformers reads as ACT2FN[name]: only "gelu" (exact, with erf) is computed here. */
function requireGelu(raw: Raw, field: string, fileName: string): void {
  const act = raw[field] ?? 'gelu';
  if (act !== 'gelu') throw new Error(`${fileName}: "${field}" ${JSON.stringify(act)} is not supported (gelu is)`);
}

/**
 * RoBERTa's padding_idx: the word and position embeddings' padding row, and the offset its
 * positions start after. RobertaConfig's default is 1; a null written out stays null there
 * (and transformers cannot number positions), so only an absent key takes the default.
 */
function paddingIdx(raw: Raw, fileName = 'config.json'): number {
  const v = raw.pad_token_id === undefined ? 1 : raw.pad_token_id;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new Error(`${fileName}: "pad_token_id" must be a non-negative integer for RoBERTa, whose positions start after it (got ${JSON.stringify(v)})`);
  }
  return v;
}

function parseConfig(raw: Raw, fileName: string): ModelConfig {
  const modelType = raw.model_type;
  if (!MODEL_TYPES.includes(modelType as ModelType)) {
    throw new Error(`${fileName}: "model_type" is ${JSON.stringify(modelType)}; the BERT architecture reads ${MODEL_TYPES.map((t) => `"${t}"`).join(', ')}`);
  }
  const type = modelType as ModelType;
  const distil = type === 'distilbert';
  // DistilBERT names its sizes after the paper's code (dim, n_layers, …); transformers maps them.
  const f = distil
    ? { hidden: 'dim', layers: 'n_layers', heads: 'n_heads', inner: 'hidden_dim' }
    : { hidden: 'hidden_size', layers: 'num_hidden_layers', heads: 'num_attention_heads', inner: 'intermediate_size' };
  const hiddenSize = positiveInt(raw[f.hidden], f.hidden, fileName);
  const numHeads = positiveInt(raw[f.heads], f.heads, fileName);
  if (hiddenSize % numHeads !== 0) throw new Error(`${fileName}: "${f.hidden}" (${hiddenSize}) is not divisible by "${f.heads}" (${numHeads})`);
  const positions = positiveInt(raw.max_position_embeddings, 'max_position_embeddings', fileName);
  let maxPositions = positions;
  let normEpsilon = 1e-12;
  if (distil) {
    requireGelu(raw, 'activation', fileName);
    if (flag(raw.sinusoidal_pos_embds ?? false, 'sinusoidal_pos_embds', fileName)) {
      throw new Error(`${fileName}: "sinusoidal_pos_embds": true is not supported (learned position embeddings are)`);
    }
  } else {
    requireGelu(raw, 'hidden_act', fileName);
    // transformers 5 computes absolute positions only; 4.x also read relative_key(_query), which
    // adds a distance embedding this file does not have.
    const pos = raw.position_embedding_type ?? 'absolute';
    if (pos !== 'absolute') throw new Error(`${fileName}: "position_embedding_type" ${JSON.stringify(pos)} is not supported (absolute is)`);
    // As a decoder the same weights attend causally: that is *ForCausalLM's job, not this masked LM's.
    if (flag(raw.is_decoder ?? false, 'is_decoder', fileName)) throw new Error(`${fileName}: "is_decoder": true is not supported (the masked LM attends in both directions)`);
    positiveInt(raw.type_vocab_size ?? 2, 'type_vocab_size', fileName);
    normEpsilon = positiveNumber(raw.layer_norm_eps ?? 1e-12, 'layer_norm_eps', fileName);
    if (type === 'roberta') {
      const pad = paddingIdx(raw, fileName);
      maxPositions = positions - pad - 1;
      if (maxPositions <= 0) {
        throw new Error(`${fileName}: "max_position_embeddings" (${positions}) leaves no position after "pad_token_id" (${pad}); RoBERTa's positions start at pad_token_id + 1`);
      }
    }
  }
  return {
    family: 'bert',
    modelType: type,
    hiddenSize,
    numLayers: positiveInt(raw[f.layers], f.layers, fileName),
    numHeads,
    numKeyValueHeads: numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: positiveInt(raw[f.inner], f.inner, fileName),
    maxPositions,
    vocabSize: positiveInt(raw.vocab_size, 'vocab_size', fileName),
    tiedHead: flag(raw.tie_word_embeddings ?? true, 'tie_word_embeddings', fileName),
    normEpsilon,
    raw,
  };
}

// ---------------------------------------------------------------------------------------------
// Parameters and linear modules, as the state dict names them

/**
 * The linear modules in forward order: every block's (q, k, v, o, up, down), then the MLM
 * head's transform dense (its `layer` is numLayers), all nn.Linear with a bias. The head's is
 * listed because PEFT's target_modules reach it too (`dense` matches cls.predictions.transform.
 * dense); the decoder onto the vocabulary, tied to the word embeddings, is not a target.
 */
function bertLinears(c: ModelConfig): LinearModule[] {
  const n = naming(c);
  const d = c.hiddenSize;
  const out: LinearModule[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const mk = (sub: string, inFeatures: number, outFeatures: number): LinearModule => ({
      path: `${n.layers}.${i}.${sub}`,
      name: sub.split('.').pop()!,
      inFeatures,
      outFeatures,
      fanInFanOut: false,
      hasBias: true,
      layer: i,
    });
    out.push(mk(n.q, d, d), mk(n.k, d, d), mk(n.v, d, d), mk(n.o, d, d), mk(n.up, d, c.intermediateSize), mk(n.down, c.intermediateSize, d));
  }
  out.push({ path: n.headDense, name: n.headDense.split('.').pop()!, inFeatures: d, outFeatures: d, fanInFanOut: false, hasBias: true, layer: c.numLayers });
  return out;
}

/**
 * Every parameter in the order torch's state_dict lists them: the embeddings, then per block
 * the attention projections, the norm after attention, the FFN and the norm after it, then the
 * head. nn.Linear weights are [out, in]. Tied, the decoder's weight is the word embedding and
 * its bias (BERT, RoBERTa) the head's `bias`, so neither is listed again; untied, both are.
 */
function bertParams(c: ModelConfig, linears: LinearModule[]): { name: string; shape: number[] }[] {
  const n = naming(c);
  const d = c.hiddenSize;
  // RoBERTa's table also holds the rows up to padding_idx, which no real token's position uses.
  const positionRows = c.modelType === 'roberta' ? (c.raw.max_position_embeddings as number) : c.maxPositions;
  const embeddingShapes = {
    word_embeddings: [[c.vocabSize, d]],
    position_embeddings: [[positionRows, d]],
    token_type_embeddings: [[(c.raw.type_vocab_size as number | undefined) ?? 2, d]],
    LayerNorm: [[d], [d]],
  };
  const params: { name: string; shape: number[] }[] = [];
  for (const m of n.embeddingOrder) {
    const [w, b] = embeddingShapes[m];
    params.push({ name: `${n.embeddings}.${m}.weight`, shape: w });
    if (b) params.push({ name: `${n.embeddings}.${m}.bias`, shape: b });
  }
  const linear = (path: string, inF: number, outF: number) => params.push({ name: `${path}.weight`, shape: [outF, inF] }, { name: `${path}.bias`, shape: [outF] });
  const norm = (path: string) => params.push({ name: `${path}.weight`, shape: [d] }, { name: `${path}.bias`, shape: [d] });
  for (let i = 0; i < c.numLayers; i++) {
    const block = `${n.layers}.${i}`;
    for (const l of linears.filter((m) => m.layer === i)) {
      linear(l.path, l.inFeatures, l.outFeatures);
      if (l.path === `${block}.${n.o}`) norm(`${block}.${n.attnNorm}`);
    }
    norm(`${block}.${n.ffnNorm}`);
  }
  if (n.headBias) params.push({ name: n.headBias, shape: [c.vocabSize] });
  linear(n.headDense, d, d);
  norm(n.headNorm);
  if (!c.tiedHead) params.push({ name: `${n.decoder}.weight`, shape: [c.vocabSize, d] });
  if (!c.tiedHead || !n.headBias) params.push({ name: `${n.decoder}.bias`, shape: [c.vocabSize] });
  return params;
}

function info(name: string, config: ModelConfig): ModelInfo {
  const linears = bertLinears(config);
  return modelInfoFrom(name, config, linears, bertParams(config, linears));
}

/**
 * A checkpoint's tensor name as `info` names it, or undefined for what the masked LM does not
 * read — as transformers drops them when it loads *ForMaskedLM:
 *  - buffers some versions saved: `embeddings.position_ids`, `embeddings.token_type_ids`;
 *  - the pooler (`bert.pooler.*`, `roberta.pooler.*`) and BERT's next-sentence head
 *    (`cls.seq_relationship.*`), which checkpoints saved as *Model or BertForPreTraining carry;
 *  - a tied decoder saved anyway: its weight is the word embedding, its bias the head's `bias`.
 * TensorFlow-converted checkpoints name LayerNorm's scale and shift gamma and beta;
 * transformers renames them on load, and so does this.
 */
function normaliseName(name: string, config: ModelConfig): string | undefined {
  const n = naming(config);
  if (/\.embeddings\.(position_ids|token_type_ids)$/.test(name)) return undefined;
  if (/^(bert|roberta)\.pooler\./.test(name) || name.startsWith('cls.seq_relationship.')) return undefined;
  if (config.tiedHead && (name === `${n.decoder}.weight` || (n.headBias && name === `${n.decoder}.bias`))) return undefined;
  return name.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
}

// ---------------------------------------------------------------------------------------------
// The forward pass

export class Bert implements LoadedModel {
  private readonly naming: Naming;

  constructor(
    readonly info: ModelInfo,
    readonly weights: Map<string, tf.Tensor>,
  ) {
    this.naming = naming(info.config);
  }

  private weight(name: string): tf.Tensor {
    const t = this.weights.get(name);
    if (!t) throw new Error(`weight "${name}" is missing`);
    return t;
  }

  /**
   * y = x·Wᵀ + b with W stored [out, in] (nn.Linear), then the method's `linear` hook. Wᵀ is
   * formed first rather than asked of matMul (transposeB): tfjs' wasm backend multiplied a
   * [3584, 192] by a transposed [768, 192] six times slower than by the same matrix laid out
   * [192, 768], and the transpose costs a small fraction of the product.
   */
  private linear(hooks: Hooks, w: (name: string) => tf.Tensor, path: string, x: tf.Tensor): tf.Tensor {
    const [B, T, inF] = x.shape;
    const x2 = tf.reshape(x, [B * T, inF]);
    let y = tf.add(tf.matMul(x2, tf.transpose(w(`${path}.weight`))), w(`${path}.bias`));
    if (hooks.linear) y = hooks.linear(path, x2, y);
    return tf.reshape(y, [B, T, y.shape[1]!]);
  }

  /**
   * Position ids [B, T] or [T] for T positions after P prefix slots, as each model numbers them.
   * BERT and DistilBERT count 0, 1, … (after past keys/values, from P). RoBERTa counts from
   * padding_idx + 1 and gives each pad the position padding_idx (create_position_ids_from_input_ids,
   * also from P on). Handed embeddings with virtual tokens in front, transformers cannot see the
   * pads and numbers every position padding_idx + 1, … (create_position_ids_from_inputs_embeds,
   * which ignores past keys/values): PEFT's prompt tuning runs RoBERTa that way.
   */
  private positions(ids: tf.Tensor2D, T: number, P: number, prepended: number): tf.Tensor {
    const c = this.info.config;
    if (c.modelType !== 'roberta') return tf.range(P, P + T, 1, 'int32');
    const pad = paddingIdx(c.raw);
    if (prepended > 0) return tf.range(pad + 1, pad + 1 + T, 1, 'int32');
    const real = tf.cast(tf.notEqual(ids, pad), 'int32');
    return tf.add(tf.mul(tf.add(tf.cumsum(real, 1), tf.scalar(P, 'int32')), real), tf.scalar(pad, 'int32'));
  }

  forward(ids: tf.Tensor2D, hooks: Hooks = {}, opts: ForwardOptions = {}): ForwardResult {
    const c = this.info.config;
    const n = this.naming;
    const [B, tokens] = ids.shape;
    const H = c.numHeads;
    const hd = c.headDim;
    const d = c.hiddenSize;
    const eps = c.normEpsilon;
    // No dropout while training: the frozen base runs deterministically, as GPT-2's does here.
    // Every parameter is read through the `param` hook when a method supplies one (BitFit
    // swaps in trainable biases this way); otherwise the frozen tensor itself.
    const w = (name: string) => (hooks.param ? hooks.param(name, this.weight(name)) : this.weight(name));
    const norm = (x: tf.Tensor, path: string) => layerNorm(x, w(`${path}.weight`), w(`${path}.bias`), eps);

    // Word embeddings; prompt-style methods prepend virtual tokens here, and those take
    // positions and token types too (as PEFT's prompt tuning does through inputs_embeds).
    let e = tf.gather(w(`${n.embeddings}.word_embeddings.weight`), ids) as tf.Tensor3D;
    if (hooks.inputEmbeds) e = hooks.inputEmbeds(e);
    const T = e.shape[1];
    const prepended = T - tokens;

    // Prefix methods hand every layer past keys/values; like transformers with
    // past_key_values, the real tokens' positions start after them.
    const prefixes = hooks.kvPrefix ? Array.from({ length: c.numLayers }, (_, i) => hooks.kvPrefix!(i, B)) : [];
    const P = prefixes[0]?.k.shape[2] ?? 0;
    prefixes.forEach((p, i) => {
      const want = [B, H, P, hd].join();
      if (P > 0 && (!p || p.k.shape.join() !== want || p.v.shape.join() !== want)) {
        throw new Error(`kvPrefix: layer ${i} gave keys [${p?.k.shape}] and values [${p?.v.shape}], expected [${want}] for every layer`);
      }
    });
    if (P + T > c.maxPositions) {
      throw new Error(`sequence of ${P + T} positions exceeds the model's context of ${c.maxPositions}`);
    }

    // Token types: sentence A (0) unless the options give them (a sentence pair's second
    // segment is 1); virtual tokens in front are of type 0, as PEFT's prompt learning pads them.
    // A model with a single token type (RoBERTa) reads every token as type 0: its tokenizer
    // hands it no token types, so a pair's second segment is never 1 there.
    if (n.embeddingOrder.includes('token_type_embeddings')) {
      const table = w(`${n.embeddings}.token_type_embeddings.weight`);
      const types = table.shape[0] > 1 ? opts.tokenTypeIds : undefined;
      if (types) {
        if (types.shape[0] !== B || types.shape[1] !== tokens) throw new Error(`tokenTypeIds is [${types.shape}], expected [${B},${tokens}] like the ids`);
        const all = prepended > 0 ? tf.concat([tf.zeros([B, prepended], 'int32'), types], 1) : types;
        e = tf.add(e, tf.gather(table, all));
      } else {
        e = tf.add(e, tf.slice(table, [0, 0], [1, d]));
      }
    }
    e = tf.add(e, tf.gather(w(`${n.embeddings}.position_embeddings.weight`), this.positions(ids, T, P, prepended)));
    let h = norm(e, `${n.embeddings}.LayerNorm`) as tf.Tensor3D;

    // Padding keys masked additively, [B, 1, 1, P+T] over every head and query; prefix slots
    // and virtual tokens always attended.
    let mask: tf.Tensor | undefined;
    if (opts.attentionMask) {
      const m = opts.attentionMask;
      if (m.shape[0] !== B || m.shape[1] !== tokens) throw new Error(`attentionMask is [${m.shape}], expected [${B},${tokens}] like the ids`);
      let keep = tf.cast(m, 'float32');
      if (P + prepended > 0) keep = tf.concat([tf.ones([B, P + prepended]), keep], 1);
      mask = tf.reshape(tf.mul(tf.sub(1, keep), -1e9), [B, 1, 1, P + T]);
    }

    const scale = 1 / Math.sqrt(hd);
    const heads = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [B, T, H, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
    const hidden: tf.Tensor3D[] = opts.outputHidden ? [h] : [];

    for (let i = 0; i < c.numLayers; i++) {
      const p = `${n.layers}.${i}`;
      // A scope per block: what the backward pass needs was saved by the ops themselves, so the
      // block's other intermediates go now rather than when the whole forward pass ends; a
      // training step may instead keep only the block's input and run it again backward.
      const input = h;
      h = recomputeInBackward(() => {
        let h = input;
        // Attention sublayer: every query sees every (unmasked) key.
        const q = heads(this.linear(hooks, w, `${p}.${n.q}`, h));
        let k = heads(this.linear(hooks, w, `${p}.${n.k}`, h));
        let v = heads(this.linear(hooks, w, `${p}.${n.v}`, h));
        const prefix = prefixes[i];
        if (prefix && P > 0) {
          k = tf.concat([prefix.k, k], 2);
          v = tf.concat([prefix.v, v], 2);
        }
        let scores = tf.mul(tf.matMul(q, k, false, true), scale);
        if (mask) scores = tf.add(scores, mask);
        const ctx = tf.matMul(tf.softmax(scores, -1), v);
        const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B, T, d]);
        let attnOut = this.linear(hooks, w, `${p}.${n.o}`, merged);
        if (hooks.afterSublayer) attnOut = hooks.afterSublayer(i, 'attn', attnOut);
        h = norm(tf.add(attnOut, h), `${p}.${n.attnNorm}`) as tf.Tensor3D;

        // Feed-forward sublayer.
        let ffnOut = this.linear(hooks, w, `${p}.${n.down}`, gelu(this.linear(hooks, w, `${p}.${n.up}`, h)));
        if (hooks.afterSublayer) ffnOut = hooks.afterSublayer(i, 'mlp', ffnOut);
        h = norm(tf.add(ffnOut, h), `${p}.${n.ffnNorm}`) as tf.Tensor3D;
        return h;
      });
      if (opts.outputHidden) hidden.push(h);
    }

    // The MLM head: a transform (dense, GELU, LayerNorm), then the decoder onto the vocabulary.
    // With `logitRows`, only those positions go through it (the head acts on each alone).
    const rows = opts.logitRows;
    const headIn = rows ? (tf.reshape(tf.gather(tf.reshape(h, [B * T, d]), rows), [1, rows.shape[0], d]) as tf.Tensor3D) : h;
    const t = tf.reshape(norm(gelu(this.linear(hooks, w, n.headDense, headIn)), n.headNorm), [-1, d]);
    const decoder = w(c.tiedHead ? `${n.embeddings}.word_embeddings.weight` : `${n.decoder}.weight`);
    const logitsShape: [number, number, number] = rows ? [1, rows.shape[0], c.vocabSize] : [B, T, c.vocabSize];
    const logits = tf.reshape(tf.add(tf.matMul(t, tf.transpose(decoder)), w(logitBias(c))), logitsShape) as tf.Tensor3D;
    return { logits, lastHidden: h, hidden: opts.outputHidden ? hidden : undefined, prepended };
  }

  dispose(): void {
    for (const t of this.weights.values()) t.dispose();
    this.weights.clear();
  }
}

/** The *ForMaskedLM class each model_type's checkpoints are saved as (config.json's "architectures"). */
const MASKED_LM_CLASS: Record<ModelType, string> = { bert: 'BertForMaskedLM', roberta: 'RobertaForMaskedLM', distilbert: 'DistilBertForMaskedLM' };

/**
 * Each model type's *ForSequenceClassification head, on the first token ([CLS], <s>):
 * - BERT: the pooler (dense + tanh, `bert.pooler.dense`), then `classifier`. A *ForMaskedLM
 *   checkpoint has no pooler, and transformers initialises a missing one at random, so the
 *   pooler trains with the head and PEFT saves it as a module to save ("pooler").
 * - RoBERTa: RobertaClassificationHead, `classifier.dense` + tanh then `classifier.out_proj`.
 * - DistilBERT: `pre_classifier` + ReLU, then `classifier` (PEFT's "classifier" matches both).
 */
const SEQUENCE_CLASSIFIERS: Record<ModelType, (d: number) => SequenceClassifierSpec> = {
  bert: (d) => ({
    pooling: 'first-token',
    layers: [
      { path: 'bert.pooler.dense', inFeatures: d, outFeatures: d, hasBias: true, activation: 'tanh' },
      { path: 'classifier', inFeatures: d, outFeatures: 'labels', hasBias: true, activation: 'none' },
    ],
    modulesToSave: ['pooler', 'classifier', 'score'],
    className: 'BertForSequenceClassification',
    baseModelPrefix: 'bert',
  }),
  roberta: (d) => ({
    pooling: 'first-token',
    layers: [
      { path: 'classifier.dense', inFeatures: d, outFeatures: d, hasBias: true, activation: 'tanh' },
      { path: 'classifier.out_proj', inFeatures: d, outFeatures: 'labels', hasBias: true, activation: 'none' },
    ],
    modulesToSave: ['classifier', 'score'],
    className: 'RobertaForSequenceClassification',
    baseModelPrefix: 'roberta',
  }),
  distilbert: (d) => ({
    pooling: 'first-token',
    layers: [
      { path: 'pre_classifier', inFeatures: d, outFeatures: d, hasBias: true, activation: 'relu' },
      { path: 'classifier', inFeatures: d, outFeatures: 'labels', hasBias: true, activation: 'none' },
    ],
    modulesToSave: ['classifier', 'score'],
    className: 'DistilBertForSequenceClassification',
    baseModelPrefix: 'distilbert',
  }),
};

export const bert: Architecture = {
  family: 'bert',
  modelTypes: [...MODEL_TYPES],
  // The MLM head predicts tokens hidden anywhere in the input, from both sides.
  objective: 'masked-lm',
  parseConfig,
  info,
  normaliseName,
  build: (info, weights) => new Bert(info, weights),
  blockPath: (config, layer) => `${naming(config).layers}.${layer}`,
  // PEFT's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING has bert and roberta (query,
  // value) but no distilbert, where PEFT asks for target_modules; its q_lin and v_lin are the
  // same two projections, and the studio always writes target_modules out.
  loraTargets: (config) => (config.modelType === 'distilbert' ? ['q_lin', 'v_lin'] : ['query', 'value']),
  adapterHubModelClass: (config) => MASKED_LM_CLASS[config.modelType as ModelType],
  sequenceClassifier: (config) => SEQUENCE_CLASSIFIERS[config.modelType as ModelType](config.hiddenSize),
  // adapters' BertSelfOutputAdaptersMixin / BertOutputAdaptersMixin are BottleneckLayers
  // themselves (RoBERTa reuses them): the adapter sits inside the output module, after its
  // dense layer and before its residual add and LayerNorm. DistilBERT's
  // DistilBertTransfomerBlockAdaptersMixin adds attention_adapters / output_adapters to the block.
  // DistilBertForMaskedLM has no past_key_values argument; PEFT's prefixes never reach it.
  kvPrefixUnsupported: (config) =>
    config.modelType === 'distilbert' ? 'DistilBERT takes no past keys/values in transformers, so PEFT’s prefix tuning would not reach its attention' : undefined,
  adapterHubLayerPath: (config, layer, kind) => {
    const n = naming(config);
    const block = `${n.layers}.${layer}`;
    if (config.modelType === 'distilbert') return `${block}.${kind === 'attn' ? 'attention_adapters' : 'output_adapters'}`;
    return `${block}.${(kind === 'attn' ? n.o : n.down).replace(/\.dense$/, '')}`;
  },
  // DistilBERT counts its blocks in n_layers, BERT and RoBERTa in num_hidden_layers.
  withNumLayers: (raw, numLayers) => ({ ...raw, [raw.model_type === 'distilbert' ? 'n_layers' : 'num_hidden_layers']: numLayers }),
};
