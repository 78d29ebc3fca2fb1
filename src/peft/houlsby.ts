// Adapter tuning: Parameter-Efficient Transfer Learning for NLP (Houlsby et al. 2019,
// arXiv 1902.00751), in the form AdapterHub's `adapters` library calls `double_seq_bn`
// (DoubleSeqBnConfig), so that `model.load_adapter(folder, use_safetensors=True)` takes the export.
//
// A bottleneck module sits on the output of the attention sublayer (mh_adapter) and of the
// feed-forward sublayer (output_adapter) of every block, before the block's residual add:
//
//     adapter(h) = h + up(act(down(h)))          down: d → m, up: m → d, m = d // reduction_factor
//     block:  x = x + adapter(attn(ln_1(x)));  x = x + adapter(mlp(ln_2(x)))
//
// What this file matches in the adapters library (adapter-hub/adapters ≥ 1.1.0):
// - src/adapters/models/gpt2/modeling_gpt2.py, GPT2BlockWithAdapters.forward: the block calls
//   `self.attention_adapters(attn_output, residual, None)` and
//   `self.output_adapters(feed_forward_hidden_states, residual, None)`: the sublayer output
//   (after c_proj and resid_dropout, before the residual add) goes in, with layer_norm = None.
// - src/adapters/methods/modeling.py, Adapter.pre_forward with original_ln_before = false and
//   residual_before_ln = true: the adapter's own residual is that sublayer output, and it is
//   also the adapter's input. Adapter.forward: output = up(act(down(x))) · scaling (1.0), then
//   dropout, then + residual (ln_after false, so adapter_residual_before_ln does not matter).
//   Adapter.post_forward with original_ln_after = true and layer_norm None adds the block's
//   residual: x + adapter(h). The studio's `afterSublayer` hook returns adapter(h) and the model
//   adds x: the same sum.
// - Adapter.__init__: adapter_down = nn.Sequential(nn.Linear(d, m), activation) — hence the `.0.`
//   in `adapter_down.0.weight` (ln_before false puts nothing in front) — and adapter_up =
//   nn.Linear(m, d). m = int(hidden_size // reduction_factor), at least 1
//   (BottleneckLayer.add_adapter and Adapter.__init__ in methods/bottleneck.py / modeling.py).
// - init_weights "bert" (BnConfig's default): both Linear weights N(0, 0.02), biases zero
//   (Adapter.init_bert_weights) — small, so the adapted model starts near the base model but not
//   exactly at it. "houlsby": weights truncated N(0, 0.01) cut at ±0.02, biases zero.
//   "mam_adapter": down Kaiming-uniform (a = √5), up weight and every bias zero: exactly the base.
// - Activation_Function_Class lower-cases non_linearity and takes transformers' ACT2FN entry:
//   "swish" is SiLU x·σ(x), "gelu" is the exact erf GELU, "gelu_new" the tanh approximation.
// - The state-dict names: for GPT2LMHeadModel (and GPT2AdapterModel) an adapter's tensors are
//   `transformer.h.<i>.attention_adapters.adapters.<name>.adapter_down.0.weight` / `.bias`,
//   `….adapter_up.weight` / `.bias`, and the same under `output_adapters`
//   (GPT2DecoderBlockAdaptersMixin in models/gpt2/mixin_gpt2.py names the two BottleneckLayers;
//   BottleneckLayer keeps its adapters in the ModuleDict `adapters`). BERT and RoBERTa make the
//   sublayers' output modules the BottleneckLayers (models/bert/mixin_bert.py,
//   BertSelfOutputAdaptersMixin and BertOutputAdaptersMixin): `bert.encoder.layer.<i>.attention.
//   output.adapters.<name>.…` and `bert.encoder.layer.<i>.output.adapters.<name>.…`; the adapter
//   acts on the output dense layer's result before the residual add and LayerNorm
//   (models/bert/modeling_bert.py, bottleneck_layer_forward with original_ln_after: LayerNorm(
//   adapter(h) + input)), which is where the encoder calls `afterSublayer`. Where the adapter layer
//   sits and the model_class written beside it come from the architecture
//   (adapterHubLayerPath, adapterHubModelClass).
// The files are AdapterHub's adapter folder (src/export/adapterhub.ts). Trained with a
// sequence-classification head (a labelled dataset), the folder is what AdapterHub saves for a
// model with a static transformers head (BertForSequenceClassification, …): save_adapter(folder,
// name, with_head=True) adds head_config.json and model_head.safetensors beside the adapter, and
// adapter_config.json names that class. Such a folder loads with
//     model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=N)
//     adapters.init(model); model.load_adapter(folder, use_safetensors=True); model.set_active_adapters(name)
import * as tf from '@tensorflow/tfjs';
import {
  ADAPTERHUB_CONFIG,
  ADAPTERHUB_HEAD_CONFIG,
  ADAPTERHUB_WEIGHTS,
  doubleSeqBnConfig,
  isBottleneckAdapter,
  readAdapterHubWeights,
  readBottleneckConfig,
  staticHead,
  writeAdapterHubFolder,
  writeAdapterHubHead,
} from '../export/adapterhub';
import { checkTensors } from '../io/tensor-check';
import type { SequenceClassifier } from '../models/classifier';
import { gelu, geluNew } from '../models/layers';
import { architectureOf } from '../models/registry';
import type { LoadedModel, ModelInfo } from '../models/types';
import { ownedVariable } from '../train/variable';
import type { Adapter, ExportedFiles, FieldSpec, PeftMethod, Plan, TensorPlan } from './types';

// Config: the settings, their defaults and form fields, validation and the plan.

/** The adapter's name inside the files (`adapters.<name>.`); AdapterHub loads it under this name. */
export const ADAPTER_NAME = 'houlsby';

const INIT_WEIGHTS = ['bert', 'houlsby', 'mam_adapter'] as const;
export type InitWeights = (typeof INIT_WEIGHTS)[number];
/** What the form offers (the AdapterHub names of the four usual choices); loading accepts all of ACTIVATIONS. */
const OFFERED_ACTIVATIONS = ['swish', 'relu', 'gelu', 'tanh'];

export interface HoulsbyConfig {
  /** Adapter after the attention sublayer (AdapterHub's mh_adapter). */
  mh_adapter: boolean;
  /** Adapter after the feed-forward sublayer (AdapterHub's output_adapter). */
  output_adapter: boolean;
  /** Bottleneck m = hidden_size // reduction_factor (at least 1), as AdapterHub computes it. */
  reduction_factor: number;
  /** 0: use reduction_factor. Otherwise the bottleneck size itself; the export then writes a
   *  reduction_factor from which AdapterHub derives exactly this size. */
  bottleneck_size: number;
  non_linearity: string;
  init_weights: InitWeights;
  /** Dropout on the up-projection's output, training only (BnConfig.dropout). */
  dropout: number;
}

function defaults(): HoulsbyConfig {
  // AdapterHub's DoubleSeqBnConfig ("double_seq_bn", the Houlsby preset) and BnConfig defaults.
  return { mh_adapter: true, output_adapter: true, reduction_factor: 16, bottleneck_size: 0, non_linearity: 'swish', init_weights: 'bert', dropout: 0 };
}

function fields(): FieldSpec[] {
  const bool = (on: string, off: string) => [
    { value: 'true', label: on },
    { value: 'false', label: off },
  ];
  return [
    { key: 'mh_adapter', label: 'After attention', kind: 'select', options: bool('adapter', 'none'), help: 'An adapter on the attention sublayer’s output (AdapterHub mh_adapter).' },
    { key: 'output_adapter', label: 'After MLP', kind: 'select', options: bool('adapter', 'none'), help: 'An adapter on the feed-forward sublayer’s output (AdapterHub output_adapter).' },
    { key: 'reduction_factor', label: 'Reduction factor', kind: 'number', min: 0.001, step: 1, help: 'Bottleneck size = hidden size // reduction factor.' },
    { key: 'bottleneck_size', label: 'Bottleneck size', kind: 'number', min: 0, step: 1, integer: true, help: '0 uses the reduction factor; otherwise the bottleneck width itself.' },
    {
      key: 'non_linearity',
      label: 'Non-linearity',
      kind: 'select',
      options: OFFERED_ACTIVATIONS.map((a) => ({ value: a, label: a === 'swish' ? 'swish (SiLU)' : a === 'gelu' ? 'gelu (erf)' : a })),
    },
    {
      key: 'init_weights',
      label: 'Initialisation',
      kind: 'select',
      options: [
        { value: 'bert', label: 'bert: N(0, 0.02), biases 0' },
        { value: 'houlsby', label: 'houlsby: truncated N(0, 0.01)' },
        { value: 'mam_adapter', label: 'mam_adapter: up-projection 0 (exact identity)' },
      ],
    },
    { key: 'dropout', label: 'Dropout', kind: 'number', min: 0, max: 0.99, step: 0.05, help: 'On the adapter’s output, during training only.' },
  ];
}

/** Python's float `a // b` for positive operands (floatobject.c float_floor_div: (a − fmod(a, b)) / b,
 *  then rounded to the nearest integer), which can differ from Math.floor(a / b): 1 // 0.1 is 9. */
export function pythonFloorDiv(a: number, b: number): number {
  const mod = a % b;
  const div = (a - mod) / b;
  let floor = Math.floor(div);
  if (div - floor > 0.5) floor += 1;
  return floor;
}

/** The bottleneck size m for hidden size d, as AdapterHub's Adapter computes it. */
export function bottleneckSize(d: number, c: Pick<HoulsbyConfig, 'reduction_factor' | 'bottleneck_size'>): number {
  if (c.bottleneck_size > 0) return c.bottleneck_size;
  const m = Number.isInteger(c.reduction_factor) ? Math.floor(d / c.reduction_factor) : pythonFloorDiv(d, c.reduction_factor);
  return Math.max(1, m);
}

/**
 * The reduction_factor to write so that AdapterHub derives bottleneck size m from hidden size d:
 * d / m when that divides (an integer, as AdapterHub's own factors are), otherwise d / (m + ½),
 * whose quotient lies half a unit away from either integer so float rounding cannot tip it.
 */
export function reductionFactorFor(d: number, c: Pick<HoulsbyConfig, 'reduction_factor' | 'bottleneck_size'>): number {
  if (c.bottleneck_size <= 0) return c.reduction_factor;
  const m = c.bottleneck_size;
  const rf = d % m === 0 ? d / m : d / (m + 0.5);
  if (bottleneckSize(d, { reduction_factor: rf, bottleneck_size: 0 }) !== m) {
    throw new Error(`bottleneck_size: no reduction_factor gives ${m} for hidden size ${d}`);
  }
  return rf;
}

function validate(model: ModelInfo, c: HoulsbyConfig): void {
  if (typeof c.mh_adapter !== 'boolean' || typeof c.output_adapter !== 'boolean') throw new Error('mh_adapter and output_adapter must be true or false');
  if (!c.mh_adapter && !c.output_adapter) throw new Error('mh_adapter / output_adapter: place the adapter after attention, after the MLP, or both');
  if (!(c.reduction_factor > 0) || !Number.isFinite(c.reduction_factor)) throw new Error(`reduction_factor must be a positive number (got ${c.reduction_factor})`);
  if (!Number.isInteger(c.bottleneck_size) || c.bottleneck_size < 0) throw new Error(`bottleneck_size must be 0 (use reduction_factor) or a positive integer (got ${c.bottleneck_size})`);
  if (c.bottleneck_size > 0) reductionFactorFor(model.config.hiddenSize, c);
  if (!(c.non_linearity in ACTIVATIONS)) throw new Error(`non_linearity: "${c.non_linearity}" is not supported (${Object.keys(ACTIVATIONS).join(', ')})`);
  if (!INIT_WEIGHTS.includes(c.init_weights)) throw new Error(`init_weights: "${c.init_weights}" is not one of ${INIT_WEIGHTS.join(', ')}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw new Error(`dropout must be in [0, 1) (got ${c.dropout})`);
}

type Kind = 'attn' | 'mlp';

function kinds(c: HoulsbyConfig): Kind[] {
  return [...(c.mh_adapter ? (['attn'] as const) : []), ...(c.output_adapter ? (['mlp'] as const) : [])];
}

/**
 * `<adapter layer>.adapters.<name>` — where AdapterHub keeps one adapter: GPT-2's
 * `transformer.h.<i>.attention_adapters.adapters.<name>`, BERT's
 * `bert.encoder.layer.<i>.attention.output.adapters.<name>` (Architecture.adapterHubLayerPath).
 */
function modulePath(model: ModelInfo, layer: number, kind: Kind, name: string): string {
  return `${architectureOf(model).adapterHubLayerPath(model.config, layer, kind)}.adapters.${name}`;
}

/** The four tensors of one adapter module, torch nn.Linear layout ([out, in]). */
function moduleTensors(prefix: string, d: number, m: number): TensorPlan[] {
  return [
    { name: `${prefix}.adapter_down.0.weight`, shape: [m, d] },
    { name: `${prefix}.adapter_down.0.bias`, shape: [m] },
    { name: `${prefix}.adapter_up.weight`, shape: [d, m] },
    { name: `${prefix}.adapter_up.bias`, shape: [d] },
  ];
}

function planTensors(model: ModelInfo, c: HoulsbyConfig, name = ADAPTER_NAME): TensorPlan[] {
  const d = model.config.hiddenSize;
  const m = bottleneckSize(d, c);
  const out: TensorPlan[] = [];
  for (let i = 0; i < model.config.numLayers; i++) for (const k of kinds(c)) out.push(...moduleTensors(modulePath(model, i, k, name), d, m));
  return out;
}

function plan(model: ModelInfo, c: HoulsbyConfig): Plan {
  validate(model, c);
  const tensors = planTensors(model, c);
  const trainable = tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  return { trainable, total: model.totalParams + trainable, tensors };
}

// Adapter: the bottleneck modules and their math.

/** Non-linearities by their transformers ACT2FN names, as AdapterHub resolves them. */
const ACTIVATIONS: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  relu: (x) => tf.relu(x),
  gelu,
  gelu_new: geluNew,
  swish: (x) => tf.mul(x, tf.sigmoid(x)),
  silu: (x) => tf.mul(x, tf.sigmoid(x)),
  tanh: (x) => tf.tanh(x),
};

export function applyNonLinearity(name: string, x: tf.Tensor): tf.Tensor {
  const f = ACTIVATIONS[name];
  if (!f) throw new Error(`non_linearity: "${name}" is not supported (${Object.keys(ACTIVATIONS).join(', ')})`);
  return f(x);
}

interface Bottleneck {
  downW: tf.Variable; // [m, d]
  downB: tf.Variable; // [m]
  upW: tf.Variable; // [d, m]
  upB: tf.Variable; // [d]
}

const key = (layer: number, kind: Kind) => `${layer}:${kind}`;

class HoulsbyAdapter implements Adapter {
  readonly variables: tf.Variable[];

  constructor(
    private readonly model: LoadedModel,
    private readonly config: HoulsbyConfig,
    private readonly modules: Map<string, Bottleneck>,
    private readonly name: string,
  ) {
    this.variables = [...modules.values()].flatMap((b) => [b.downW, b.downB, b.upW, b.upB]);
  }

  hooks(training: boolean) {
    const act = this.config.non_linearity;
    const dropout = training ? this.config.dropout : 0;
    return {
      afterSublayer: (layer: number, kind: Kind, h: tf.Tensor) => {
        const b = this.modules.get(key(layer, kind));
        if (!b) return h;
        const d = h.shape[h.shape.length - 1]!;
        const x = tf.reshape(h, [-1, d]);
        const down = applyNonLinearity(act, tf.add(tf.matMul(x, b.downW, false, true), b.downB));
        let up = tf.add(tf.matMul(down, b.upW, false, true), b.upB);
        if (dropout > 0) up = tf.dropout(up, dropout);
        // The adapter's own residual (residual_before_ln: the sublayer output itself).
        return tf.add(h, tf.reshape(up, h.shape));
      },
    };
  }

  exportFiles() {
    return writeFiles(this.model.info, this.config, this.modules, this.name);
  }

  exportWithHead(head: SequenceClassifier, labels: string[]) {
    return writeFiles(this.model.info, this.config, this.modules, this.name, { head, labels });
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

function create(model: LoadedModel, c: HoulsbyConfig, seed: number): Adapter {
  validate(model.info, c);
  const d = model.info.config.hiddenSize;
  const m = bottleneckSize(d, c);
  const modules = new Map<string, Bottleneck>();
  let n = 0;
  for (let i = 0; i < model.info.config.numLayers; i++) {
    for (const k of kinds(c)) {
      const s = seed + 2 * n++;
      let downW: tf.Tensor;
      let upW: tf.Tensor;
      if (c.init_weights === 'bert') {
        downW = tf.randomNormal([m, d], 0, 0.02, 'float32', s);
        upW = tf.randomNormal([d, m], 0, 0.02, 'float32', s + 1);
      } else if (c.init_weights === 'houlsby') {
        // trunc_normal_(std=1e-2, a=-2e-2, b=2e-2): tfjs re-draws beyond two std, the same cut.
        downW = tf.truncatedNormal([m, d], 0, 0.01, 'float32', s);
        upW = tf.truncatedNormal([d, m], 0, 0.01, 'float32', s + 1);
      } else {
        // kaiming_uniform_(a=√5) on [m, d]: bound = 1/√fan_in = 1/√d; up starts at zero.
        const bound = 1 / Math.sqrt(d);
        downW = tf.randomUniform([m, d], -bound, bound, 'float32', s);
        upW = tf.zeros([d, m]);
      }
      modules.set(key(i, k), {
        downW: ownedVariable(downW),
        downB: ownedVariable(tf.zeros([m])),
        upW: ownedVariable(upW),
        upB: ownedVariable(tf.zeros([d])),
      });
    }
  }
  return new HoulsbyAdapter(model, { ...c }, modules, ADAPTER_NAME);
}

// File format: AdapterHub's adapter folder (src/export/adapterhub.ts).

async function writeFiles(info: ModelInfo, c: HoulsbyConfig, modules: Map<string, Bottleneck>, name: string, classifier?: { head: SequenceClassifier; labels: string[] }): Promise<ExportedFiles> {
  const d = info.config.hiddenSize;
  const tensors = [];
  for (const [k, b] of modules) {
    const [layer, kind] = k.split(':') as [string, Kind];
    const prefix = modulePath(info, Number(layer), kind, name);
    for (const [part, v] of [
      ['adapter_down.0.weight', b.downW],
      ['adapter_down.0.bias', b.downB],
      ['adapter_up.weight', b.upW],
      ['adapter_up.bias', b.upB],
    ] as const) {
      tensors.push({ name: `${prefix}.${part}`, shape: v.shape, data: (await v.data()) as Float32Array });
    }
  }
  const config = doubleSeqBnConfig({
    mh_adapter: c.mh_adapter,
    output_adapter: c.output_adapter,
    reduction_factor: reductionFactorFor(d, c),
    non_linearity: c.non_linearity,
    init_weights: c.init_weights,
    dropout: c.dropout,
  });
  // save_adapter records the class of the model it saves from: the classifier's, with a head.
  const modelClass = classifier ? classifier.head.spec.className : architectureOf(info).adapterHubModelClass(info.config);
  const header = { hidden_size: d, model_class: modelClass, model_name: info.name, model_type: info.config.modelType, name };
  const baseName = `${info.name}-houlsby${classifier ? '-classifier' : ''}`;
  // A folder inside the zip, as save_adapter writes one and load_adapter reads one.
  const files = writeAdapterHubFolder(baseName, header, config, tensors);
  if (!classifier) return { baseName, files };
  // The head's whole state dict: `classifier.*` / `score.*` are what AdapterHub's filter saves
  // (outside base_model_prefix), and BERT's `bert.pooler.dense.*` lies inside it. A masked-LM
  // checkpoint has no pooler, so the pooler is initialised afresh and trains with the head here;
  // load_adapter loads every key in the file, so it rides in the same file and lands.
  const head = { model_class: modelClass, model_name: info.name, model_type: info.config.modelType, hidden_size: d, labels: classifier.labels, tensors: await classifier.head.tensors() };
  return { baseName, files: { ...files, ...writeAdapterHubHead(baseName, head) } };
}

function recognizes(files: Record<string, Uint8Array>): boolean {
  return isBottleneckAdapter(files);
}

function load(model: LoadedModel, files: Record<string, Uint8Array>): Adapter {
  const info = model.info;
  // An adapter trained for a classification head: the studio's language models have no place
  // for the head, and the adapter alone was not trained to be used without it.
  const head = staticHead(files);
  if (head) {
    const cls = head.modelClass;
    throw new Error(`${ADAPTERHUB_HEAD_CONFIG}: this adapter was saved with a ${cls ?? 'prediction'} head, which the studio does not import (it imports adapters of a language model); load it in Python with load_adapter(folder, use_safetensors=True) on ${cls ? `a ${cls}` : 'the model class it was trained on'}`);
  }
  const { name, settings } = readBottleneckConfig(files, { name: info.name, modelType: info.config.modelType, hiddenSize: info.config.hiddenSize });
  const c: HoulsbyConfig = {
    mh_adapter: settings.mh_adapter,
    output_adapter: settings.output_adapter,
    reduction_factor: settings.reduction_factor,
    bottleneck_size: 0,
    non_linearity: settings.non_linearity,
    init_weights: settings.init_weights as InitWeights,
    dropout: settings.dropout,
  };
  try {
    validate(info, c);
  } catch (e) {
    throw new Error(`${ADAPTERHUB_CONFIG}: ${(e as Error).message}`);
  }

  const arch = architectureOf(info);
  const tensors = readAdapterHubWeights(files, (saved) => arch.normaliseName(saved, info.config));
  const d = info.config.hiddenSize;
  const m = bottleneckSize(d, c);
  const layout = Array.from({ length: info.config.numLayers }, (_, i) => kinds(c).map((k) => ({ i, k, tensors: moduleTensors(modulePath(info, i, k, name), d, m) }))).flat();
  const data = checkTensors(ADAPTERHUB_WEIGHTS, tensors, layout.flatMap((l) => l.tensors), `${info.name} with this config`);
  const modules = new Map<string, Bottleneck>();
  for (const { i, k, tensors: parts } of layout) {
    const [downW, downB, upW, upB] = parts.map(({ name: tn, shape }) => ownedVariable(tf.tensor(data.get(tn)!, shape, 'float32')));
    modules.set(key(i, k), { downW, downB, upW, upB });
  }
  return new HoulsbyAdapter(model, c, modules, name);
}

export const houlsby: PeftMethod<HoulsbyConfig> = {
  id: 'houlsby',
  label: 'Adapter (Houlsby)',
  summary: 'Inserts a small bottleneck MLP with its own residual after the attention and feed-forward sublayers of every block; only the adapters train.',
  paper: { title: 'Parameter-Efficient Transfer Learning for NLP (Houlsby et al. 2019)', url: 'https://arxiv.org/abs/1902.00751' },
  defaults,
  fields,
  validate,
  plan,
  create,
  recognizes,
  load,
};
