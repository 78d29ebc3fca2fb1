// Every PEFT method the studio offers, in the order the "Method" select lists them.
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

/** Settings from the page brought back to the types of a method's defaults (see train/run-kind.ts). */
export { coerceConfig } from '../train/run-kind';
