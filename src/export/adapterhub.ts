// The AdapterHub adapter folder, as AdapterHub's `adapters` library (adapter-hub/adapters ≥ 1.1.0)
// saves it with `model.save_adapter(folder, name, use_safetensors=True)` and reads it with
// `model.load_adapter(folder, use_safetensors=True)`:
// - loading.py AdapterLoader.save, configuration/model_adapters_config.py build_full_config and
//   utils.py's file names: a folder with adapter_config.json —
//   {"config": <the adapter config's to_dict()>, "hidden_size", "model_class", "model_name",
//   "model_type", "name", "version": "adapters.<version>"}, json.dump(indent=2, sort_keys=True) —
//   and adapter.safetensors (pytorch_adapter.bin without use_safetensors) holding the
//   model.state_dict() entries containing `adapters.<name>.`, written by safetensors' save_file
//   without metadata.
// - The config is Python's json, read back by json.load: a float must keep its fraction. Adapter.__init__
//   tests `isinstance(config["scaling"], float)`, so a JSON `1` would load as an int and be
//   refused ("Unknown scaling type"); pythonJson writes `1.0`, as Python does.
// - Bottleneck adapters are configured by BnConfig (configuration/adapter_config.py);
//   DoubleSeqBnConfig ("double_seq_bn") is Houlsby's placement, an adapter after attention and
//   one after the feed-forward sublayer. Its to_dict() lists every BnConfig field.
// - Activation_Function_Class lower-cases non_linearity. Configs without a "version" key are from
//   before the activation rename and map "gelu" → "gelu_new", "gelu_orig" → "gelu"
//   (loading.py, load_weights_config with utils.ACTIVATION_RENAME).
// - A model with a static transformers head (BertForSequenceClassification) saves it beside the
//   adapter with save_adapter(folder, name, with_head=True, use_safetensors=True):
//   PredictionHeadLoader.save writes head_config.json — build_full_config(None, model.config,
//   name=None, model_name, model_class=<the model's class>, save_id2label=True) plus
//   "num_labels": {"config": null, "hidden_size", "label2id", "model_class", "model_name",
//   "model_type", "name": null, "num_labels", "version"} — and model_head.safetensors
//   (SAFE_HEAD_WEIGHTS_NAME; pytorch_model_head.bin without use_safetensors): the state-dict
//   entries that do not start with the model's base_model_prefix. load_adapter(folder,
//   use_safetensors=True) (with_head defaults to true) refuses a head whose model_class is not
//   the model's, sets config.id2label from label2id and loads every key of the file into the
//   model (WeightsLoaderHelper.load_weights_from_state_dict; the filter only decides which
//   missing keys are reported), so a key inside the base model rides along too.
import { readSafetensors, writeSafetensors, type F32TensorToWrite, type SafetensorsTensor } from '../io/safetensors';
import { jsonObject } from '../io/json-object';

export const ADAPTERHUB_CONFIG = 'adapter_config.json';
export const ADAPTERHUB_WEIGHTS = 'adapter.safetensors';
/** What save_adapter writes without use_safetensors: a pickle, which the studio does not read. */
export const ADAPTERHUB_PICKLE = 'pytorch_adapter.bin';
export const ADAPTERHUB_HEAD_CONFIG = 'head_config.json';
export const ADAPTERHUB_HEAD_WEIGHTS = 'model_head.safetensors';
/** The head's weights as save_adapter writes them without use_safetensors. */
export const ADAPTERHUB_HEAD_PICKLE = 'pytorch_model_head.bin';
/** The layout written is adapters ≥ 1.1.0's (its loader compares saved versions against
 *  1.1.0). Loaders only parse the number. */
export const ADAPTERHUB_VERSION = 'adapters.1.1.0';

// Python's json

/** A float that Python's json writes with a fraction (`1.0`), so json.load gives a float back. */
export class PyFloat {
  constructor(readonly value: number) {}
}
export type PyJson = string | number | boolean | null | PyFloat | PyJson[] | { [k: string]: PyJson };

/** json.dump(value, indent=2, sort_keys=True) as Python writes it, PyFloat included. */
export function pythonJson(value: PyJson, indent = ''): string {
  const inner = `${indent}  `;
  if (value instanceof PyFloat) {
    const v = value.value;
    if (!Number.isFinite(v)) throw new Error(`pythonJson: ${v} has no JSON spelling`);
    return Number.isInteger(v) ? `${v}.0` : String(v);
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + pythonJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    if (keys.length === 0) return '{}';
    return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${pythonJson(value[k], inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

// The bottleneck adapter config (BnConfig)

/** What a double_seq_bn config states beyond the options fixed by the placement. */
export interface BottleneckSettings {
  mh_adapter: boolean;
  output_adapter: boolean;
  reduction_factor: number;
  non_linearity: string;
  init_weights: string;
  dropout: number;
}

/** DoubleSeqBnConfig.to_dict() with these settings: every BnConfig field, Python types. */
export function doubleSeqBnConfig(s: BottleneckSettings): { [k: string]: PyJson } {
  const rf = s.reduction_factor;
  return {
    adapter_residual_before_ln: false,
    cross_adapter: false,
    dropout: new PyFloat(s.dropout),
    factorized_phm_W: true,
    factorized_phm_rule: false,
    hypercomplex_nonlinearity: 'glorot-uniform',
    init_weights: s.init_weights,
    inv_adapter: null,
    inv_adapter_reduction_factor: null,
    is_parallel: false,
    learn_phm: true,
    leave_out: [],
    ln_after: false,
    ln_before: false,
    mh_adapter: s.mh_adapter,
    non_linearity: s.non_linearity,
    original_ln_after: true,
    original_ln_before: false,
    output_adapter: s.output_adapter,
    phm_bias: true,
    phm_c_init: 'normal',
    phm_dim: 4,
    phm_init_range: new PyFloat(0.0001),
    phm_layer: false,
    phm_rank: 1,
    // AdapterHub's presets write integers (16); a computed factor is a float.
    reduction_factor: Number.isInteger(rf) ? rf : new PyFloat(rf),
    residual_before_ln: true,
    scaling: new PyFloat(1.0),
    shared_W_phm: false,
    shared_phm_rule: true,
    stochastic_depth: new PyFloat(0.0),
    use_gating: false,
  };
}

/**
 * The BnConfig options whose value must be Houlsby's (double_seq_bn's) for the adapter to be
 * the one the studio runs; a missing key takes BnConfig's default, which is this value.
 */
const FIXED_OPTIONS: [string, unknown][] = [
  ['original_ln_before', false],
  ['original_ln_after', true],
  ['residual_before_ln', true],
  ['ln_before', false],
  ['ln_after', false],
  ['is_parallel', false],
  ['use_gating', false],
  ['phm_layer', false],
  ['inv_adapter', null],
];

// Writing

/** adapter_config.json's top level besides "config" and "version" (build_full_config). */
export interface AdapterHubHeader {
  hidden_size: number;
  model_class: string;
  model_name: string;
  model_type: string;
  /** The adapter's name; every tensor name holds `adapters.<name>.`, and load_adapter loads it under this name. */
  name: string;
}

/** The folder save_adapter writes, as `folder/adapter_config.json` and `folder/adapter.safetensors`. */
export function writeAdapterHubFolder(
  folder: string,
  header: AdapterHubHeader,
  config: { [k: string]: PyJson },
  tensors: F32TensorToWrite[],
): Record<string, Uint8Array> {
  const full = { config, ...header, version: ADAPTERHUB_VERSION };
  return {
    [`${folder}/${ADAPTERHUB_CONFIG}`]: new TextEncoder().encode(pythonJson(full)),
    // safetensors.torch.save_file(state_dict) with no metadata, as AdapterHub calls it.
    [`${folder}/${ADAPTERHUB_WEIGHTS}`]: writeSafetensors(tensors, undefined, ADAPTERHUB_WEIGHTS),
  };
}

/** A static transformers head saved beside an adapter (PredictionHeadLoader.save). */
export interface AdapterHubStaticHead {
  /** The transformers class with the head (BertForSequenceClassification, GPT2ForSequenceClassification). */
  model_class: string;
  model_name: string;
  model_type: string;
  hidden_size: number;
  /** The label names by id. */
  labels: string[];
  /** The head's state-dict entries. */
  tensors: F32TensorToWrite[];
}

/** `folder/head_config.json` and `folder/model_head.safetensors`, as save_adapter(..., with_head=True) writes them. */
export function writeAdapterHubHead(folder: string, head: AdapterHubStaticHead): Record<string, Uint8Array> {
  const config: { [k: string]: PyJson } = {
    config: null,
    hidden_size: head.hidden_size,
    label2id: Object.fromEntries(head.labels.map((l, i) => [l, i])),
    model_class: head.model_class,
    model_name: head.model_name,
    model_type: head.model_type,
    name: null,
    num_labels: head.labels.length,
    version: ADAPTERHUB_VERSION,
  };
  return {
    [`${folder}/${ADAPTERHUB_HEAD_CONFIG}`]: new TextEncoder().encode(pythonJson(config)),
    [`${folder}/${ADAPTERHUB_HEAD_WEIGHTS}`]: writeSafetensors(head.tensors, undefined, ADAPTERHUB_HEAD_WEIGHTS),
  };
}

// Reading

/**
 * Whether a prediction head is saved beside the adapter (head_config.json or its weights), and
 * the model class head_config.json names (null when it names none).
 */
export function staticHead(files: Record<string, Uint8Array>): { modelClass: string | null } | undefined {
  const folder = adapterHubFiles(files);
  if (!folder[ADAPTERHUB_HEAD_CONFIG] && !folder[ADAPTERHUB_HEAD_WEIGHTS] && !folder[ADAPTERHUB_HEAD_PICKLE]) return undefined;
  const modelClass = jsonObject(folder[ADAPTERHUB_HEAD_CONFIG])?.model_class;
  return { modelClass: typeof modelClass === 'string' ? modelClass : null };
}

/** The files of an AdapterHub folder, whether at the top level or inside one folder (the zip's). */
export function adapterHubFiles(files: Record<string, Uint8Array>): Record<string, Uint8Array> {
  if (files[ADAPTERHUB_CONFIG]) return files;
  const paths = Object.keys(files);
  const slash = paths[0]?.indexOf('/') ?? -1;
  if (slash <= 0) return files;
  const folder = paths[0].slice(0, slash + 1);
  if (!paths.every((p) => p.startsWith(folder) && !p.slice(folder.length).includes('/'))) return files;
  return Object.fromEntries(paths.map((p) => [p.slice(folder.length), files[p]]));
}

/** adapter_config.json as a JSON object, or undefined when it is missing or not one. */
function parseConfig(files: Record<string, Uint8Array>): Record<string, unknown> | undefined {
  return jsonObject(adapterHubFiles(files)[ADAPTERHUB_CONFIG]);
}

/** True when adapter_config.json has the shape of an AdapterHub bottleneck adapter's (judged by the config alone). */
export function isBottleneckAdapter(files: Record<string, Uint8Array>): boolean {
  const cfg = parseConfig(files);
  const inner = cfg?.config;
  return (
    !!cfg &&
    typeof cfg.model_class === 'string' &&
    !!inner &&
    typeof inner === 'object' &&
    !Array.isArray(inner) &&
    ('mh_adapter' in inner || 'output_adapter' in inner)
  );
}

/** The model an adapter is read for: its top-level fields must be this model's. */
export interface AdapterHubTarget {
  /** The model's name, for messages. */
  name: string;
  modelType: string;
  hiddenSize: number;
}

/**
 * Reads a bottleneck adapter's adapter_config.json for `model`. Refuses, naming the field, a
 * config that is not AdapterHub's, is for another model, or describes an adapter other than
 * double_seq_bn's. Returns the adapter's name and its settings (BnConfig's defaults where keys
 * are missing); whether the settings themselves are usable is the method's to judge.
 */
export function readBottleneckConfig(rawFiles: Record<string, Uint8Array>, model: AdapterHubTarget): { name: string; settings: BottleneckSettings } {
  const files = adapterHubFiles(rawFiles);
  const F = ADAPTERHUB_CONFIG;
  if (!files[F]) throw new Error(`${F} is missing (files present: ${Object.keys(rawFiles).join(', ') || 'none'})`);
  const cfg = parseConfig(files);
  if (!cfg) throw new Error(`${F}: not a JSON object`);
  if ('peft_type' in cfg) throw new Error(`${F}: "peft_type" is ${JSON.stringify(cfg.peft_type)}; this is a Hugging Face PEFT adapter, not an AdapterHub bottleneck adapter`);
  const inner = cfg.config;
  if (!inner || typeof inner !== 'object' || Array.isArray(inner)) throw new Error(`${F}: "config" is missing; not an AdapterHub adapter`);
  const ac = inner as Record<string, unknown>;
  const field = (k: string, v: unknown) => `${F}: "config.${k}" is ${JSON.stringify(v)}`;
  if (ac.architecture != null && ac.architecture !== 'bottleneck') throw new Error(`${field('architecture', ac.architecture)}, expected a bottleneck adapter (null)`);
  if (cfg.model_type !== model.modelType) throw new Error(`${F}: "model_type" is ${JSON.stringify(cfg.model_type)}, expected ${JSON.stringify(model.modelType)} (${model.name})`);
  if (cfg.hidden_size !== model.hiddenSize) throw new Error(`${F}: "hidden_size" is ${JSON.stringify(cfg.hidden_size)}, expected ${model.hiddenSize} (${model.name})`);
  for (const [k, expected] of FIXED_OPTIONS) {
    if (k in ac && ac[k] !== expected) throw new Error(`${field(k, ac[k])}; the studio runs Houlsby adapters (double_seq_bn), which need ${JSON.stringify(expected)}`);
  }
  if ('scaling' in ac && ac.scaling !== 1) throw new Error(`${field('scaling', ac.scaling)}; only 1.0 is supported`);
  if (Array.isArray(ac.leave_out) ? ac.leave_out.length > 0 : ac.leave_out != null) throw new Error(`${field('leave_out', ac.leave_out)}; adapters in every layer are supported`);
  if (typeof ac.stochastic_depth === 'number' && ac.stochastic_depth > 0) throw new Error(`${field('stochastic_depth', ac.stochastic_depth)}; only 0 is supported`);
  if (typeof ac.reduction_factor !== 'number') throw new Error(`${field('reduction_factor', ac.reduction_factor)}; a per-layer mapping is not supported, a number is`);
  if (typeof ac.non_linearity !== 'string') throw new Error(`${field('non_linearity', ac.non_linearity)}; expected a string`);
  let act = ac.non_linearity.toLowerCase();
  // What load_weights_config does for files written before the activation rename.
  const RENAME: Record<string, string> = { gelu: 'gelu_new', gelu_orig: 'gelu' };
  if (!('version' in cfg) && act in RENAME) act = RENAME[act];
  const name = cfg.name;
  if (typeof name !== 'string' || name === '' || name.includes('.')) throw new Error(`${F}: "name" is ${JSON.stringify(name)}; expected the adapter's name`);
  return {
    name,
    settings: {
      mh_adapter: ac.mh_adapter === true,
      output_adapter: ac.output_adapter === true,
      reduction_factor: ac.reduction_factor,
      non_linearity: act,
      init_weights: (ac.init_weights ?? 'bert') as string,
      dropout: typeof ac.dropout === 'number' ? ac.dropout : 0,
    },
  };
}

/**
 * adapter.safetensors' tensors, under the model's state-dict names. `modelName` is the
 * architecture's normaliseName: a base model without its LM head (GPT2Model) saves its adapters
 * without the head model's prefix (`h.0.…` for `transformer.h.0.…`); a name it does not map is
 * kept as saved, so the tensor check names it.
 */
export function readAdapterHubWeights(rawFiles: Record<string, Uint8Array>, modelName: (saved: string) => string | undefined): Map<string, SafetensorsTensor> {
  const files = adapterHubFiles(rawFiles);
  const weights = files[ADAPTERHUB_WEIGHTS];
  if (!weights) {
    const hint = files[ADAPTERHUB_PICKLE] ? ` (${ADAPTERHUB_PICKLE} is a pickle; save with model.save_adapter(..., use_safetensors=True))` : '';
    throw new Error(`${ADAPTERHUB_WEIGHTS} is missing${hint}`);
  }
  const raw = readSafetensors(weights, ADAPTERHUB_WEIGHTS).tensors;
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [k, t] of raw) tensors.set(modelName(k) ?? k, t);
  return tensors;
}
