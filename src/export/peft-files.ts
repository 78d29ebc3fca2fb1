// The Hugging Face PEFT adapter folder: adapter_config.json + adapter_model.safetensors.
// PEFT saves tensors under `base_model.model.<module path>` with the adapter name dropped
// (`lora_A.weight`, not `lora_A.default.weight`), metadata {"format": "pt"}, and the config
// as JSON with sorted keys and a 2-space indent.
import { readSafetensors, writeSafetensors, type SafetensorsTensor } from '../io/safetensors';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const PEFT_PREFIX = 'base_model.model.';

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

/** The `peft_type` of an adapter_config.json, or undefined when there is none or it is not JSON. */
export function peftTypeOf(files: Record<string, Uint8Array>): string | undefined {
  const bytes = files[ADAPTER_CONFIG];
  if (!bytes) return undefined;
  try {
    const cfg: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return cfg && typeof cfg === 'object' && typeof (cfg as Record<string, unknown>).peft_type === 'string' ? ((cfg as Record<string, unknown>).peft_type as string) : undefined;
  } catch {
    return undefined;
  }
}

/** Throws unless `config[key]` equals `expected`, naming the field and both values. */
export function expectField(config: Record<string, unknown>, key: string, expected: unknown): void {
  if (config[key] !== expected) {
    throw new Error(`${ADAPTER_CONFIG}: "${key}" is ${JSON.stringify(config[key])}, expected ${JSON.stringify(expected)}`);
  }
}
