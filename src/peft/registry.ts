// Every PEFT method the studio offers, in the order the "Method" select lists them.
import type { ModelInfo } from '../models/types';
import type { PeftMethod } from './types';
import { lora } from './lora';
import { houlsby } from './houlsby';
import { bitfit } from './bitfit';
import { prefixTuning } from './prefix-tuning';
import { pTuningV2 } from './p-tuning-v2';
import { promptTuning } from './prompt-tuning';
import { pTuning } from './p-tuning';

export const METHODS: PeftMethod<any>[] = [lora, houlsby, promptTuning, prefixTuning, pTuning, pTuningV2, bitfit];

export function getMethod(id: string): PeftMethod<any> {
  const m = METHODS.find((x) => x.id === id);
  if (!m) throw new Error(`unknown method "${id}" (known: ${METHODS.map((x) => x.id).join(', ')})`);
  return m;
}

/**
 * Brings a config that crossed the worker boundary (form values are strings) back to the
 * types of the method's defaults: numbers, booleans, string lists. Unknown keys are refused
 * so a typo never silently falls back to a default.
 */
export function coerceConfig(method: PeftMethod<any>, model: ModelInfo, raw: Record<string, unknown>): Record<string, unknown> {
  const defaults = method.defaults(model) as Record<string, unknown>;
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in defaults)) throw new Error(`${method.label}: unknown setting "${key}"`);
    const d = defaults[key];
    if (typeof d === 'number') {
      const n = typeof value === 'number' ? value : Number(value);
      if (!Number.isFinite(n)) throw new Error(`${method.label}: "${key}" must be a number (got ${JSON.stringify(value)})`);
      out[key] = n;
    } else if (typeof d === 'boolean') {
      out[key] = value === true || value === 'true';
    } else if (Array.isArray(d)) {
      if (!Array.isArray(value)) throw new Error(`${method.label}: "${key}" must be a list`);
      out[key] = value.map(String);
    } else {
      out[key] = value;
    }
  }
  return out;
}
