// BitFit: Simple Parameter-efficient Fine-tuning for Transformer-based Masked Language-models
// (Ben Zaken, Ravfogel & Goldberg 2021, arXiv 2106.10199).
//
// Only bias terms train; every weight matrix, embedding and LayerNorm gain stays frozen. The
// model reads every parameter through the `param` hook, and for each chosen bias this method
// hands back a tf.Variable initialised from the frozen bias instead of it — so LayerNorm biases
// (which never pass through a linear layer) train exactly like the linear ones.
//
// Hugging Face PEFT has no BitFit type. The export is the trained biases under the base
// model's state-dict names (GPT2LMHeadModel's, BertForMaskedLM's, …) in
// `bitfit_model.safetensors` plus `bitfit_config.json` (our own small config), which load onto
// the base model with
//     model.load_state_dict(safetensors.torch.load_file("bitfit_model.safetensors"), strict=False)
// (no unexpected keys; exactly the non-bias keys missing). Because a BitFit model is the base
// architecture with other bias values, it also merges into a full checkpoint (`mergedWeights`).
//
// The paper's setting is a classifier: the biases and a task head train, nothing else. Trained
// with a head (a labelled dataset), the same file holds the body's biases and the head's tensors
// under *ForSequenceClassification's state-dict names (`bert.pooler.dense.weight`,
// `classifier.weight`, `score.weight`), and the config says so ("task_type": "SEQ_CLS",
// "num_labels", …), which loads with
//     model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=N)
//     model.load_state_dict(safetensors.torch.load_file("bitfit_model.safetensors"), strict=False)
// The LM head's biases (`cls.predictions.bias`) have no place in that model and no gradient
// from the labels, so they are left out.
import * as tf from '@tensorflow/tfjs';
import { sortedJson, type JsonValue } from '../export/peft-files';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import { checkTensors } from '../io/tensor-check';
import { backbonePrefix, type SequenceClassifier } from '../models/classifier';
import type { LoadedModel, ModelInfo } from '../models/types';
import { ownedVariable } from '../train/variable';
import type { Adapter, CreateContext, ExportedFiles, FieldSpec, PeftMethod, Plan, PlanContext } from './types';
import { jsonObject } from '../io/json-object';

// Config: the settings, their defaults and form fields, validation and the plan.

/**
 * Which biases train:
 * - `all` — every parameter named `*.bias`: for GPT-2 the attention (c_attn, c_proj), MLP
 *   (c_fc, c_proj) and LayerNorm (ln_1, ln_2, ln_f) biases, for BERT also the embeddings' and
 *   the MLM head's, as the paper trains all of them;
 * - `attention` — the biases of the blocks' linear modules inside an attention module (a path
 *   component `attn`, `attention` or `self_attn`): GPT-2's c_attn and attn.c_proj, BERT's
 *   query, key, value and attention.output.dense;
 * - `mlp` — the biases of the blocks' other linear modules, the feed-forward sublayer's: GPT-2's
 *   c_fc and mlp.c_proj, BERT's intermediate.dense and output.dense.
 * LayerNorm biases sit outside both sublayers' linears, so only `all` trains them.
 */
export type BiasSet = 'all' | 'attention' | 'mlp';
const BIAS_SETS: BiasSet[] = ['all', 'attention', 'mlp'];

export interface BitFitConfig {
  trainable_biases: BiasSet;
}

const ATTENTION_MODULES = new Set(['attn', 'attention', 'self_attn']);

/** The bias parameters this config trains, in the model's parameter order. */
export function chosenBiases(model: ModelInfo, c: BitFitConfig, ctx: PlanContext = {}): { name: string; shape: number[] }[] {
  // A classifier's biases are the body's: the LM head's (BERT's cls.predictions.*) get no gradient from the labels.
  const body = ctx.classifier ? backbonePrefix(model) : '';
  if (c.trainable_biases === 'all') return model.params.filter((p) => p.name.endsWith('.bias') && p.name.startsWith(body));
  // A block linear is attention's when a component of its path names an attention module
  // (transformer.h.0.attn.c_attn, bert.encoder.layer.0.attention.self.query), else the MLP's.
  const inAttention = (path: string) => path.split('.').some((part) => ATTENTION_MODULES.has(part));
  const inBlock = (layer: number) => layer < model.config.numLayers;
  const wanted = new Set(model.linears.filter((l) => l.hasBias && inBlock(l.layer) && inAttention(l.path) === (c.trainable_biases === 'attention')).map((l) => `${l.path}.bias`));
  return model.params.filter((p) => wanted.has(p.name));
}

function defaults(): BitFitConfig {
  return { trainable_biases: 'all' };
}

function fields(): FieldSpec[] {
  return [
    {
      key: 'trainable_biases',
      label: 'Biases',
      kind: 'select',
      options: [
        { value: 'all', label: 'all (attention, MLP and LayerNorm)' },
        { value: 'attention', label: 'attention only (the attention sublayer’s linears)' },
        { value: 'mlp', label: 'MLP only (the feed-forward sublayer’s linears)' },
      ],
      help: 'Which bias terms train; every weight matrix stays frozen.',
    },
  ];
}

function unsupported(model: ModelInfo): string | undefined {
  return model.params.some((p) => p.name.endsWith('.bias')) ? undefined : `${model.name} has no bias parameters, so BitFit has nothing to train`;
}

function validate(model: ModelInfo, c: BitFitConfig): void {
  const reason = unsupported(model);
  if (reason) throw new Error(reason);
  if (!BIAS_SETS.includes(c.trainable_biases)) throw new Error(`trainable_biases: "${c.trainable_biases}" is not one of ${BIAS_SETS.join(', ')}`);
  if (chosenBiases(model, c).length === 0) throw new Error(`trainable_biases: ${model.name} has no ${c.trainable_biases} biases`);
}

function plan(model: ModelInfo, c: BitFitConfig, ctx?: PlanContext): Plan {
  validate(model, c);
  const tensors = chosenBiases(model, c, ctx).map((p) => ({ name: p.name, shape: [...p.shape] }));
  const trainable = tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  // The biases are the model's own parameters, made trainable: nothing is added, so "all
  // params" is the base count (what print_trainable_parameters prints for such a model).
  return { trainable, total: model.totalParams, tensors };
}

// Adapter: trainable copies of the chosen biases, swapped in through the param hook.

class BitFitAdapter implements Adapter {
  readonly variables: tf.Variable[];

  constructor(
    private readonly model: LoadedModel,
    private readonly config: BitFitConfig,
    private readonly biases: Map<string, tf.Variable>,
  ) {
    this.variables = [...biases.values()];
  }

  hooks() {
    // No dropout or other training-only behaviour: the same hooks train and evaluate.
    return { param: (name: string, frozen: tf.Tensor) => this.biases.get(name) ?? frozen };
  }

  exportFiles() {
    return writeFiles(this.model.info, this.config, this.biases);
  }

  exportWithHead(head: SequenceClassifier, labels: string[]) {
    return writeFiles(this.model.info, this.config, this.biases, { head, labels });
  }

  async mergedWeights() {
    const out = [];
    for (const p of this.model.info.params) {
      const t = this.biases.get(p.name) ?? this.model.weights.get(p.name);
      if (!t) throw new Error(`weight "${p.name}" is missing`);
      out.push({ name: p.name, shape: [...p.shape], data: ((await t.data()) as Float32Array).slice() });
    }
    return out;
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

function create(model: LoadedModel, c: BitFitConfig, _seed: number, ctx?: CreateContext): Adapter {
  validate(model.info, c);
  const biases = new Map<string, tf.Variable>();
  for (const p of chosenBiases(model.info, c, ctx)) {
    const frozen = model.weights.get(p.name);
    if (!frozen) throw new Error(`weight "${p.name}" is missing`);
    // tf.clone shares the frozen buffer (reference-counted, no read-back, so it works on
    // WebGPU too); the optimizer's assign() swaps in a new buffer, never writes into this one.
    biases.set(p.name, ownedVariable(tf.clone(frozen)));
  }
  return new BitFitAdapter(model, { ...c }, biases);
}

// File format: the studio's own bitfit_config.json + bitfit_model.safetensors.

export const BITFIT_CONFIG = 'bitfit_config.json';
export const BITFIT_WEIGHTS = 'bitfit_model.safetensors';

/** A head trained with the biases, and the label names by id. */
interface TrainedHead {
  head: SequenceClassifier;
  labels: string[];
}

async function writeFiles(info: ModelInfo, c: BitFitConfig, biases: Map<string, tf.Variable>, classifier?: TrainedHead): Promise<ExportedFiles> {
  const tensors = [];
  for (const [name, v] of biases) tensors.push({ name, shape: v.shape, data: (await v.data()) as Float32Array });
  if (classifier) tensors.push(...(await classifier.head.tensors()));
  const config: Record<string, JsonValue> = {
    base_model_name_or_path: info.name,
    method: 'bitfit',
    model_type: info.config.modelType,
    paper: 'https://arxiv.org/abs/2106.10199',
    trainable_biases: c.trainable_biases,
    num_tensors: tensors.length,
    trainable_params: tensors.reduce((s, t) => s + t.data.length, 0),
    load_with: 'model.load_state_dict(safetensors.torch.load_file("bitfit_model.safetensors"), strict=False)',
  };
  if (classifier) Object.assign(config, classifierFields(info, classifier));
  return {
    baseName: `${info.name}-bitfit${classifier ? '-classifier' : ''}`,
    files: {
      [BITFIT_CONFIG]: new TextEncoder().encode(sortedJson(config)),
      [BITFIT_WEIGHTS]: writeSafetensors(tensors, { format: 'pt' }, BITFIT_WEIGHTS),
    },
  };
}

/** What the config adds for a classifier: the task, the labels, the head and how to load both. */
function classifierFields(info: ModelInfo, { head, labels }: TrainedHead): Record<string, JsonValue> {
  const spec = head.spec;
  // The pad id matters to a last-token head (GPT2ForSequenceClassification reads the last
  // non-padding token and refuses a batch without one); it is the studio's, which a decoder's
  // config.json may not name.
  const build = `AutoModelForSequenceClassification.from_pretrained(${JSON.stringify(info.name)}, num_labels=${head.numLabels}, pad_token_id=${head.padId})`;
  return {
    task_type: 'SEQ_CLS',
    model_class: spec.className,
    num_labels: head.numLabels,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    pad_token_id: head.padId,
    head_modules: spec.layers.map((l) => l.path),
    load_with: `model = ${build}; model.load_state_dict(safetensors.torch.load_file("bitfit_model.safetensors"), strict=False)`,
  };
}

function parseConfig(files: Record<string, Uint8Array>): Record<string, unknown> | undefined {
  return jsonObject(files[BITFIT_CONFIG]);
}

function recognizes(files: Record<string, Uint8Array>): boolean {
  return parseConfig(files)?.method === 'bitfit';
}

function load(model: LoadedModel, files: Record<string, Uint8Array>): Adapter {
  const F = BITFIT_CONFIG;
  if (!files[F]) throw new Error(`${F} is missing (files present: ${Object.keys(files).join(', ') || 'none'})`);
  const cfg = parseConfig(files);
  if (!cfg) throw new Error(`${F}: not a JSON object`);
  const info = model.info;
  if (cfg.method !== 'bitfit') throw new Error(`${F}: "method" is ${JSON.stringify(cfg.method)}, expected "bitfit"`);
  // A classifier's biases were trained for its head, which the studio's language models have no
  // place for: better refused than read as a language model's biases.
  if (cfg.task_type != null) {
    throw new Error(`${F}: "task_type" is ${JSON.stringify(cfg.task_type)}: these biases were trained with a ${String(cfg.model_class ?? 'classification')} head, which the studio does not import (it imports BitFit adapters of a language model); load them in Python as "load_with" says`);
  }
  if (cfg.model_type !== undefined && cfg.model_type !== info.config.modelType) {
    throw new Error(`${F}: "model_type" is ${JSON.stringify(cfg.model_type)}, expected ${JSON.stringify(info.config.modelType)}`);
  }
  // The file holds absolute bias values, not a change to them: on another base model of the
  // same shapes they would silently replace that model's biases. So the base must be named.
  if (cfg.base_model_name_or_path !== info.name) {
    throw new Error(`${F}: "base_model_name_or_path" is ${JSON.stringify(cfg.base_model_name_or_path)}, expected ${JSON.stringify(info.name)}`);
  }
  const c: BitFitConfig = { trainable_biases: cfg.trainable_biases as BiasSet };
  try {
    validate(info, c);
  } catch (e) {
    throw new Error(`${F}: ${(e as Error).message}`);
  }
  const bytes = files[BITFIT_WEIGHTS];
  if (!bytes) throw new Error(`${BITFIT_WEIGHTS} is missing`);
  const tensors = readSafetensors(bytes, BITFIT_WEIGHTS).tensors;
  const expected = chosenBiases(info, c);
  const data = checkTensors(BITFIT_WEIGHTS, tensors, expected, c.trainable_biases === 'all' ? info.name : `the ${c.trainable_biases} biases of ${info.name}`);
  const biases = new Map<string, tf.Variable>();
  for (const p of expected) biases.set(p.name, ownedVariable(tf.tensor(data.get(p.name)!, p.shape, 'float32')));
  return new BitFitAdapter(model, c, biases);
}

export const bitfit: PeftMethod<BitFitConfig> = {
  id: 'bitfit',
  label: 'BitFit',
  summary: 'Trains only the bias terms of the model (attention, MLP and LayerNorm biases); every weight matrix stays frozen.',
  paper: { title: 'BitFit: Simple Parameter-efficient Fine-tuning for Transformer-based Masked Language-models (Ben Zaken et al. 2021)', url: 'https://arxiv.org/abs/2106.10199' },
  defaults,
  fields,
  unsupported,
  validate,
  plan,
  create,
  recognizes,
  load,
};
