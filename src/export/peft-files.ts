// The Hugging Face PEFT adapter folder: adapter_config.json + adapter_model.safetensors.
// PEFT saves tensors under `base_model.model.<module path>` with the adapter name dropped
// (`lora_A.weight`, not `lora_A.default.weight`), metadata {"format": "pt"}, and the config
// as JSON with sorted keys and a 2-space indent.
import { readSafetensors, writeSafetensors, type SafetensorsTensor } from '../io/safetensors';
import { checkTensors } from '../io/tensor-check';
import { architectureOf } from '../models/registry';
import type { ModelInfo } from '../models/types';
import { jsonObject } from '../io/json-object';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const PEFT_PREFIX = 'base_model.model.';

/**
 * The adapter_config.json "task_type" an adapter for this model is saved with; PEFT wraps the
 * model by it when loading. A causal LM's is CAUSAL_LM. PEFT has no masked-LM task type, and
 * CAUSAL_LM's wrapper fails on a masked LM (it reads prepare_inputs_for_generation, which
 * BertForMaskedLM lacks), while a config without one loads into the plain PeftModel, which runs
 * LoRA but never puts a prompt-learning method's virtual tokens in front. FEATURE_EXTRACTION's
 * wrapper passes the inputs (and the prompt, and the prefix keys/values) on to the model itself,
 * so *ForMaskedLM returns its logits with every method applied: that is a masked LM's.
 */
export function peftTaskType(info: ModelInfo): 'CAUSAL_LM' | 'FEATURE_EXTRACTION' {
  return architectureOf(info).objective === 'causal-lm' ? 'CAUSAL_LM' : 'FEATURE_EXTRACTION';
}

/** Throws unless a saved "task_type" (null: none given) is the one this model's adapters are saved with. */
export function checkTaskType(config: Record<string, unknown>, info: ModelInfo): void {
  const expected = peftTaskType(info);
  if (config.task_type != null && config.task_type !== expected) {
    throw new Error(`${ADAPTER_CONFIG}: "task_type" is ${JSON.stringify(config.task_type)}, expected ${JSON.stringify(expected)} (what the studio saves for ${info.name})`);
  }
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** JSON with keys sorted at every level and a 2-space indent, as PEFT's save_pretrained writes. */
export function sortedJson(value: JsonValue): string {
  const sort = (v: JsonValue): JsonValue => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])]));
    }
    return v;
  };
  return JSON.stringify(sort(value), null, 2);
}

export function writePeftAdapter(
  config: Record<string, JsonValue>,
  tensors: { name: string; shape: number[]; data: Float32Array }[],
): Record<string, Uint8Array> {
  return {
    [ADAPTER_CONFIG]: new TextEncoder().encode(sortedJson(config)),
    [ADAPTER_WEIGHTS]: writeSafetensors(tensors, { format: 'pt' }),
  };
}

export interface PeftAdapterFiles {
  config: Record<string, unknown>;
  /** Tensor names with the `base_model.model.` prefix and any `.default` adapter name removed. */
  tensors: Map<string, SafetensorsTensor>;
}

/** Reads a PEFT adapter; every error names the file and the field or tensor at fault. */
export function readPeftAdapter(files: Record<string, Uint8Array>): PeftAdapterFiles {
  const cfgBytes = files[ADAPTER_CONFIG];
  if (!cfgBytes) throw new Error(`${ADAPTER_CONFIG} is missing (files present: ${Object.keys(files).join(', ') || 'none'})`);
  let config: unknown;
  try {
    config = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(cfgBytes));
  } catch (e) {
    throw new Error(`${ADAPTER_CONFIG}: not valid JSON (${(e as Error).message})`);
  }
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw new Error(`${ADAPTER_CONFIG}: expected a JSON object`);
  const weights = files[ADAPTER_WEIGHTS];
  if (!weights) {
    const hint = files['adapter_model.bin'] ? ' (adapter_model.bin is a pickle; save with safe_serialization=True)' : '';
    throw new Error(`${ADAPTER_WEIGHTS} is missing${hint}`);
  }
  const raw = readSafetensors(weights, ADAPTER_WEIGHTS).tensors;
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, t] of raw) {
    const short = (name.startsWith(PEFT_PREFIX) ? name.slice(PEFT_PREFIX.length) : name).replace(/\.default(?=\.weight$|$)/, '');
    tensors.set(short, t);
  }
  return { config: config as Record<string, unknown>, tensors };
}

/** adapter_config.json as a JSON object, or undefined when there is none or it is not one. */
export function peftConfigOf(files: Record<string, Uint8Array>): Record<string, unknown> | undefined {
  return jsonObject(files[ADAPTER_CONFIG]);
}

/** The `peft_type` of an adapter_config.json, or undefined when there is none or it is not JSON. */
export function peftTypeOf(files: Record<string, Uint8Array>): string | undefined {
  const type = peftConfigOf(files)?.peft_type;
  return typeof type === 'string' ? type : undefined;
}

/** Throws unless `config[key]` equals `expected`, naming the field and both values. */
export function expectField(config: Record<string, unknown>, key: string, expected: unknown): void {
  if (config[key] !== expected) {
    throw new Error(`${ADAPTER_CONFIG}: "${key}" is ${JSON.stringify(config[key])}, expected ${JSON.stringify(expected)}`);
  }
}

// Prompt learning (PROMPT_TUNING, P_TUNING, PREFIX_TUNING): PromptLearningConfig's fields and the
// one saved tensor, `prompt_embeddings`, stored under that bare name (no `base_model.model.`).

/** The name PEFT saves a prompt-learning adapter's tensor under (the virtual tokens or the prefixes). */
export const PROMPT_EMBEDDINGS = 'prompt_embeddings';

/**
 * The model-derived fields of PEFT's PromptLearningConfig, as `_prepare_prompt_learning_config`
 * fills them from config.json; a decoder-only model has one transformer submodule.
 */
export function promptLearningDims(info: ModelInfo) {
  return {
    token_dim: info.config.hiddenSize,
    num_transformer_submodules: 1,
    num_attention_heads: info.config.numHeads,
    num_layers: info.config.numLayers,
  };
}

/**
 * Reads and checks the config of a PEFT prompt-learning adapter made for a decoder-only model:
 * its type, task, and the model-derived fields, each refused by name when it does not fit
 * `info`. Returns the config object, the tensors and num_virtual_tokens (a positive integer;
 * whether that many fit the model's context is the method's to check).
 */
export function readPromptLearningConfig(
  info: ModelInfo,
  files: Record<string, Uint8Array>,
  peftType: 'PROMPT_TUNING' | 'P_TUNING',
): { config: Record<string, unknown>; tensors: Map<string, SafetensorsTensor>; n: number } {
  const { config, tensors } = readPeftAdapter(files);
  const field = (key: string) => `${ADAPTER_CONFIG}: "${key}" is ${JSON.stringify(config[key])}`;
  expectField(config, 'peft_type', peftType);
  checkTaskType(config, info);
  const dims = promptLearningDims(info);
  const what: Record<keyof typeof dims, string> = {
    token_dim: 'hidden size',
    num_transformer_submodules: 'number of transformer submodules (decoder-only)',
    num_attention_heads: 'number of attention heads',
    num_layers: 'number of layers',
  };
  for (const key of Object.keys(dims) as (keyof typeof dims)[]) {
    // PEFT fills missing (null) fields from the model; a value that is there must be this model's.
    if (config[key] != null && config[key] !== dims[key]) {
      throw new Error(`${field(key)}, expected ${dims[key]} (the ${what[key]} of ${info.name})`);
    }
  }
  const n = config.num_virtual_tokens;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new Error(`${field('num_virtual_tokens')}; expected a positive integer`);
  return { config, tensors, n };
}

/** The `prompt_embeddings` tensor [n, d] of a prompt-learning adapter file; nothing else may be there. */
export function readPromptEmbeddings(info: ModelInfo, tensors: Map<string, SafetensorsTensor>, n: number): Float32Array {
  const d = info.config.hiddenSize;
  return checkTensors(ADAPTER_WEIGHTS, tensors, [{ name: PROMPT_EMBEDDINGS, shape: [n, d] }], `${info.name} with ${n} virtual tokens`).get(PROMPT_EMBEDDINGS)!;
}
