// Every kind of run the Method select offers, in its order: the PEFT methods, then full
// fine-tuning (the baseline they are compared against), then distillation.
import { distillation } from '../distill/run';
import { fullFineTuning } from '../finetune/full';
import { METHODS } from '../peft/registry';
import { peftRun } from '../peft/run';
import type { RunKind } from './run-kind';

export const RUN_KINDS: RunKind<any>[] = [...METHODS.map(peftRun), fullFineTuning, distillation];

export function getRunKind(id: string): RunKind<any> {
  const k = RUN_KINDS.find((x) => x.id === id);
  if (!k) throw new Error(`unknown method "${id}" (known: ${RUN_KINDS.map((x) => x.id).join(', ')})`);
  return k;
}
