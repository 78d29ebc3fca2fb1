// Prefix-Tuning: Optimizing Continuous Prompts for Generation (Li & Liang 2021, arXiv 2101.00190).
//
// Every layer's attention receives n trainable key/value vectors ("the prefix") in front of the
// real tokens' keys and values; the base model stays frozen. Li & Liang found that optimising the
// prefix directly is unstable and reparameterise it through an MLP during training:
//     P = Linear₂(tanh(Linear₁(E)))   E ∈ ℝ^{n×d}, Linear₁: d→h, Linear₂: h→L·2·d
// Without the MLP the prefix is a trainable [n, L·2·d] matrix itself: that is P-tuning v2
// (src/peft/p-tuning-v2.ts, which shares this file's machinery).
//
// Layout, names, init and the saved file follow Hugging Face PEFT's PrefixTuningConfig /
// PrefixEncoder (peft/tuners/prefix_tuning/model.py) and PeftModel.get_prompt:
// - row t of P is viewed as (2L, heads, head_dim); slot 2i is layer i's key, slot 2i+1 its value
//   (get_prompt permutes to (2L, batch, heads, n, head_dim) and splits in pairs, and
//   transformers' DynamicCache reads each pair as (key, value));
// - the real tokens' positions start at n and every query sees all n prefix slots, which is
//   what GPT-2 does with past_key_values of length n (the engine's kvPrefix seam);
// - init: E ~ N(0, 1) (nn.Embedding), Linear weights and biases U(±1/√fan_in) (nn.Linear);
// - save_pretrained writes one tensor, `prompt_embeddings` = P [n, L·2·d] (the projected
//   prefix: the MLP is a training device and is not saved), so a file can always be loaded as
//   a fixed prefix, whatever its prefix_projection says.
import * as tf from '@tensorflow/tfjs';
import { architectureOf } from '../models/registry';
import type { Hooks, LoadedModel, ModelInfo } from '../models/types';
import type { Adapter, ExportedFiles, FieldSpec, PeftMethod, Plan, TensorPlan } from './types';
import { checkTensors } from '../io/tensor-check';
import { ownedVariable } from '../train/variable';
import {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  checkTaskType,
  expectField,
  peftConfigOf,
  peftTaskType,
  PROMPT_EMBEDDINGS,
  promptLearningDims,
  readPeftAdapter,
  writePeftAdapter,
} from '../export/peft-files';

// Config: the settings, what tells the two flavours apart, defaults and form fields, validation and the plan.

/** PrefixTuningConfig's keys the studio lets a person choose (the rest derive from the model). */
export interface PrefixTuningConfig {
  /** n: prefix slots per layer. */
  num_virtual_tokens: number;
  /** Reparameterise the prefix through Embedding(n, d) → Linear(d, h) → Tanh → Linear(h, L·2·d). */
  prefix_projection: boolean;
  /** h, the MLP's hidden width (PEFT defaults it to token_dim). Unused without projection. */
  encoder_hidden_size: number;
}

/** What PEFT derives from the model config (token_dim, num_layers, num_attention_heads). */
export interface PrefixGeometry {
  /** num_layers */
  layers: number;
  /** token_dim: the width of one layer's keys (or values), head dim × key/value heads; the hidden size without grouped-query attention. */
  tokenDim: number;
  /** num_attention_heads: the key/value heads, as PEFT sets it for grouped-query attention. */
  heads: number;
  headDim: number;
  /** L·2·d: the width of one prefix row. */
  width: number;
}

export function prefixGeometry(model: ModelInfo): PrefixGeometry {
  const c = model.config;
  // PEFT's _prepare_prompt_learning_config: with num_key_value_heads in config.json, token_dim
  // becomes head_dim × num_key_value_heads and num_attention_heads the key/value heads; for a
  // model without grouped-query attention both are what they were (hidden size, heads).
  const tokenDim = c.headDim * c.numKeyValueHeads;
  return { layers: c.numLayers, tokenDim, heads: c.numKeyValueHeads, headDim: c.headDim, width: c.numLayers * 2 * tokenDim };
}

/** The trainable tensors as PEFT names them in memory (adapter name `default` dropped), in its order. */
export function prefixTensors(model: ModelInfo, c: PrefixTuningConfig): TensorPlan[] {
  const g = prefixGeometry(model);
  const h = c.encoder_hidden_size;
  if (!c.prefix_projection) return [{ name: 'prompt_encoder.embedding.weight', shape: [c.num_virtual_tokens, g.width] }];
  // torch.nn.Linear stores its weight as [out, in].
  return [
    { name: 'prompt_encoder.embedding.weight', shape: [c.num_virtual_tokens, g.tokenDim] },
    { name: 'prompt_encoder.transform.0.weight', shape: [h, g.tokenDim] },
    { name: 'prompt_encoder.transform.0.bias', shape: [h] },
    { name: 'prompt_encoder.transform.2.weight', shape: [g.width, h] },
    { name: 'prompt_encoder.transform.2.bias', shape: [g.width] },
  ];
}

/** What sets prefix tuning and P-tuning v2 apart: names, the form's defaults and labels, and how each writes and claims prefix_projection. */
export interface PrefixMethodSpec {
  id: string;
  label: string;
  summary: string;
  paper: { title: string; url: string };
  /** The form's default for prefix_projection. */
  defaultProjection: boolean;
  fieldLabels: { tokens: string; tokensHelp: string; projection: [string, string] };
  /** The prefix_projection written to adapter_config.json for a run with this setting. */
  savedProjection(trainedWithProjection: boolean): boolean;
  /** Which value of a file's prefix_projection (absent = PEFT's default, false) this method claims on import. */
  claims(prefixProjection: boolean): boolean;
}

function defaults(spec: PrefixMethodSpec, model: ModelInfo): PrefixTuningConfig {
  return { num_virtual_tokens: 20, prefix_projection: spec.defaultProjection, encoder_hidden_size: prefixGeometry(model).tokenDim };
}

function fields(spec: PrefixMethodSpec, model: ModelInfo): FieldSpec[] {
  return [
    { key: 'num_virtual_tokens', label: spec.fieldLabels.tokens, kind: 'number', min: 1, max: model.config.maxPositions - 1, step: 1, integer: true, help: spec.fieldLabels.tokensHelp },
    {
      key: 'prefix_projection',
      label: 'Reparameterisation',
      kind: 'select',
      options: [
        { value: 'true', label: spec.fieldLabels.projection[0] },
        { value: 'false', label: spec.fieldLabels.projection[1] },
      ],
      help: 'With the MLP, the prefix is computed from n small embeddings during training (Li & Liang); the export holds only the resulting prefixes.',
    },
    { key: 'encoder_hidden_size', label: 'MLP hidden size', kind: 'number', min: 1, step: 1, integer: true, help: 'Hidden width h of the reparameterisation MLP (PEFT defaults it to the model width); unused without it.' },
  ];
}

function validatePrefix(model: ModelInfo, c: PrefixTuningConfig): void {
  const ctx = model.config.maxPositions;
  if (!Number.isInteger(c.num_virtual_tokens) || c.num_virtual_tokens < 1) {
    throw new Error(`num_virtual_tokens must be a positive integer (got ${c.num_virtual_tokens})`);
  }
  // The prefix takes positions from the context (real tokens start at n), so leave room for text.
  if (c.num_virtual_tokens >= ctx) {
    throw new Error(`num_virtual_tokens (${c.num_virtual_tokens}) must be below ${model.name}'s context of ${ctx} positions`);
  }
  if (typeof c.prefix_projection !== 'boolean') throw new Error(`prefix_projection must be true or false (got ${JSON.stringify(c.prefix_projection)})`);
  if (!Number.isInteger(c.encoder_hidden_size) || c.encoder_hidden_size < 1) {
    throw new Error(`encoder_hidden_size must be a positive integer (got ${c.encoder_hidden_size})`);
  }
}

function plan(model: ModelInfo, c: PrefixTuningConfig): Plan {
  validatePrefix(model, c);
  const tensors = prefixTensors(model, c);
  const trainable = tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  return { trainable, total: model.totalParams + trainable, tensors };
}

function positionsUsed(c: PrefixTuningConfig): number {
  return c.num_virtual_tokens;
}

// Adapter: the prefixes, their reparameterisation MLP and the key/value slots of each layer.

/** Li & Liang's reparameterisation MLP, with PyTorch's Linear layout ([out, in] weights). */
interface PrefixMlp {
  w1: tf.Variable; // [h, d]
  b1: tf.Variable; // [h]
  w2: tf.Variable; // [L·2·d, h]
  b2: tf.Variable; // [L·2·d]
}

/** P [n, L·2·d] from the embedding, through the MLP when there is one. */
export function projectPrefix(embedding: tf.Tensor2D, mlp?: { w1: tf.Tensor; b1: tf.Tensor; w2: tf.Tensor; b2: tf.Tensor }): tf.Tensor2D {
  if (!mlp) return embedding;
  return tf.tidy(() => {
    const hidden = tf.tanh(tf.add(tf.matMul(embedding, mlp.w1, false, true), mlp.b1));
    return tf.add(tf.matMul(hidden, mlp.w2, false, true), mlp.b2) as tf.Tensor2D;
  });
}

/**
 * Layer `layer`'s key and value prefixes, each [batch, heads, n, headDim], from P [n, L·2·d]:
 * the row viewed as (2L, heads, head_dim), slot 2·layer the key, 2·layer + 1 the value.
 */
export function layerPrefix(P: tf.Tensor2D, layer: number, batch: number, g: PrefixGeometry): { k: tf.Tensor4D; v: tf.Tensor4D } {
  return tf.tidy(() => {
    const n = P.shape[0];
    const d = g.tokenDim;
    const slot = (s: number) => {
      const cols = tf.slice(P, [0, s * d], [n, d]);
      const heads = tf.transpose(tf.reshape(cols, [1, n, g.heads, g.headDim]), [0, 2, 1, 3]);
      return (batch === 1 ? heads : tf.tile(heads, [batch, 1, 1, 1])) as tf.Tensor4D;
    };
    return { k: slot(2 * layer), v: slot(2 * layer + 1) };
  });
}

/** How a studio method writes its config into PEFT's PREFIX_TUNING layout. */
type PrefixFlavour = Pick<PrefixMethodSpec, 'id' | 'savedProjection'>;

class PrefixAdapter implements Adapter {
  readonly variables: tf.Variable[];
  private readonly geometry: PrefixGeometry;

  constructor(
    private readonly model: LoadedModel,
    private readonly flavour: PrefixFlavour,
    /** What the export writes; for a loaded file, the file's settings. */
    private readonly config: PrefixTuningConfig,
    private readonly embedding: tf.Variable,
    private readonly mlp?: PrefixMlp,
  ) {
    this.geometry = prefixGeometry(model.info);
    this.variables = mlp ? [embedding, mlp.w1, mlp.b1, mlp.w2, mlp.b2] : [embedding];
  }

  /** P [n, L·2·d]: the prefixes of every layer, as PEFT saves them. */
  prefixes(): tf.Tensor2D {
    return projectPrefix(this.embedding as tf.Tensor2D, this.mlp);
  }

  hooks(): Hooks {
    // The MLP output serves every layer of one forward pass. The engine asks for layer 0 first
    // in each forward, so P is recomputed there (inside that forward's tidy/gradient scope) and
    // reused for layers 1..L−1; a P that a finished scope disposed is never handed out.
    let P: tf.Tensor2D | undefined;
    return {
      kvPrefix: (layer: number, batch: number) => {
        if (layer === 0 || !P || P.isDisposed) P = this.prefixes();
        return layerPrefix(P, layer, batch, this.geometry);
      },
    };
  }

  async exportFiles() {
    const P = this.prefixes();
    const data = (await P.data()) as Float32Array;
    if (P !== this.embedding) P.dispose();
    return writeFiles(this.model.info, this.flavour, this.config, data);
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/** P [n, L·2·d] of a prefix-tuning / P-tuning v2 adapter (a new tensor the caller disposes). */
export function prefixesOf(adapter: Adapter): tf.Tensor2D {
  if (!(adapter instanceof PrefixAdapter)) throw new Error('not a prefix-tuning adapter');
  // tidy: with the MLP, prefixes() is a fresh tensor of its own; only the clone leaves.
  return tf.tidy(() => tf.clone(adapter.prefixes()));
}

/** U(−1/√fan_in, 1/√fan_in): nn.Linear's default for weights (kaiming_uniform, a = √5) and biases. */
function linearInit(shape: number[], fanIn: number, seed: number): tf.Variable {
  const bound = 1 / Math.sqrt(fanIn);
  return ownedVariable(tf.randomUniform(shape, -bound, bound, 'float32', seed));
}

function create(flavour: PrefixFlavour, model: LoadedModel, c: PrefixTuningConfig, seed: number): Adapter {
  validatePrefix(model.info, c);
  const g = prefixGeometry(model.info);
  const n = c.num_virtual_tokens;
  if (!c.prefix_projection) {
    const embedding = ownedVariable(tf.randomNormal([n, g.width], 0, 1, 'float32', seed));
    return new PrefixAdapter(model, flavour, { ...c }, embedding);
  }
  const h = c.encoder_hidden_size;
  const embedding = ownedVariable(tf.randomNormal([n, g.tokenDim], 0, 1, 'float32', seed));
  const mlp: PrefixMlp = {
    w1: linearInit([h, g.tokenDim], g.tokenDim, seed + 1),
    b1: linearInit([h], g.tokenDim, seed + 2),
    w2: linearInit([g.width, h], h, seed + 3),
    b2: linearInit([g.width], h, seed + 4),
  };
  return new PrefixAdapter(model, flavour, { ...c }, embedding, mlp);
}

// File format: Hugging Face PEFT's PREFIX_TUNING adapter (src/export/peft-files.ts).

/** The files of an adapter whose prefixes P [n, L·2·d] are `prefixes`. */
async function writeFiles(info: ModelInfo, flavour: PrefixFlavour, c: PrefixTuningConfig, prefixes: Float32Array): Promise<ExportedFiles> {
  const g = prefixGeometry(info);
  // The keys PrefixTuningConfig has, minus the newest ones (init_weights, peft_version) that
  // only matter before training or to PEFT's bookkeeping: older PEFT versions refuse keys they
  // do not know, and missing keys take their defaults.
  const files = writePeftAdapter(
    {
      ...promptLearningDims(info),
      token_dim: g.tokenDim,
      num_attention_heads: g.heads,
      auto_mapping: null,
      base_model_name_or_path: info.name,
      encoder_hidden_size: c.encoder_hidden_size,
      inference_mode: true,
      modules_to_save: null,
      num_virtual_tokens: c.num_virtual_tokens,
      peft_type: 'PREFIX_TUNING',
      prefix_projection: flavour.savedProjection(c.prefix_projection),
      revision: null,
      task_type: peftTaskType(info),
    },
    [{ name: PROMPT_EMBEDDINGS, shape: [c.num_virtual_tokens, g.width], data: prefixes }],
  );
  return { baseName: `${info.name}-${flavour.id}`, files };
}

function recognizes(spec: PrefixMethodSpec, files: Record<string, Uint8Array>): boolean {
  const cfg = peftConfigOf(files);
  if (cfg?.peft_type !== 'PREFIX_TUNING') return false;
  return spec.claims(cfg.prefix_projection === true);
}

/** A size PEFT derives from the model: when the file states it, it must be this model's. */
function modelField(config: Record<string, unknown>, key: string, modelValue: number, modelName: string): void {
  const v = config[key];
  if (v == null) return;
  if (v !== modelValue) throw new Error(`${ADAPTER_CONFIG}: "${key}" is ${JSON.stringify(v)}, expected ${modelValue} (${modelName}'s)`);
}

/**
 * Either flavour's files (and PEFT's, prefix_projection true or false): the saved tensor is
 * the final prefix P in both cases, so it loads as a fixed [n, L·2·d] prefix with no MLP,
 * exactly as PeftModel.from_pretrained does in inference mode.
 */
function load(flavour: PrefixFlavour, model: LoadedModel, files: Record<string, Uint8Array>): Adapter {
  const { config, tensors } = readPeftAdapter(files);
  const info = model.info;
  const g = prefixGeometry(info);
  expectField(config, 'peft_type', 'PREFIX_TUNING');
  checkTaskType(config, info);
  // Two submodules means an encoder-decoder model's prefixes; GPT-2 reads one set.
  if (config.num_transformer_submodules != null) expectField(config, 'num_transformer_submodules', 1);
  modelField(config, 'num_layers', g.layers, info.name);
  modelField(config, 'token_dim', g.tokenDim, info.name);
  modelField(config, 'num_attention_heads', g.heads, info.name);
  const n = config.num_virtual_tokens;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new Error(`${ADAPTER_CONFIG}: "num_virtual_tokens" must be a positive integer (got ${JSON.stringify(n)})`);
  }
  const projection = config.prefix_projection ?? false;
  if (typeof projection !== 'boolean') throw new Error(`${ADAPTER_CONFIG}: "prefix_projection" must be true or false (got ${JSON.stringify(projection)})`);
  const hidden = config.encoder_hidden_size ?? g.tokenDim;
  if (typeof hidden !== 'number' || !Number.isInteger(hidden) || hidden < 1) {
    throw new Error(`${ADAPTER_CONFIG}: "encoder_hidden_size" must be a positive integer (got ${JSON.stringify(hidden)})`);
  }
  const c: PrefixTuningConfig = { num_virtual_tokens: n, prefix_projection: projection, encoder_hidden_size: hidden };
  validatePrefix(info, c);

  const shape = [n, g.width];
  const data = checkTensors(ADAPTER_WEIGHTS, tensors, [{ name: PROMPT_EMBEDDINGS, shape }], `${info.name} with num_virtual_tokens ${n}`, {
    shapeNote: ' (num_virtual_tokens × num_layers·2·token_dim)',
  });
  return new PrefixAdapter(model, flavour, c, ownedVariable(tf.tensor2d(data.get(PROMPT_EMBEDDINGS)!, [n, g.width])));
}

/** A PeftMethod over PEFT's PREFIX_TUNING machinery; Prefix tuning and P-tuning v2 differ only in the spec. */
export function prefixMethod(spec: PrefixMethodSpec): PeftMethod<PrefixTuningConfig> {
  const flavour: PrefixFlavour = spec;
  return {
    id: spec.id,
    label: spec.label,
    summary: spec.summary,
    paper: spec.paper,
    defaults: (model) => defaults(spec, model),
    fields: (model) => fields(spec, model),
    unsupported: (model) => architectureOf(model).kvPrefixUnsupported?.(model.config),
    validate: validatePrefix,
    plan,
    create: (model, c, seed) => create(flavour, model, c, seed),
    positionsUsed,
    recognizes: (files) => recognizes(spec, files),
    load: (model, files) => load(flavour, model, files),
  };
}

export const prefixTuning = prefixMethod({
  id: 'prefix-tuning',
  label: 'Prefix tuning',
  summary: 'Learns key/value prefixes for every attention layer, produced by a small MLP during training; the base model stays frozen.',
  paper: { title: 'Prefix-Tuning: Optimizing Continuous Prompts for Generation (Li & Liang 2021)', url: 'https://arxiv.org/abs/2101.00190' },
  // PEFT defaults prefix_projection to false; the studio's "Prefix tuning" is Li & Liang's method
  // with its reparameterisation on (P-tuning v2 is the variant without it).
  defaultProjection: true,
  fieldLabels: {
    tokens: 'Prefix length',
    tokensHelp: 'Key/value slots put in front of every layer; the real tokens start after them, so they use up context positions.',
    projection: ['MLP over prefix embeddings (Li & Liang)', 'None: train the prefixes directly'],
  },
  // As PEFT writes it: the flag the adapter was trained with.
  savedProjection: (p) => p,
  claims: (p) => p,
});
