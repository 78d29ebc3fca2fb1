// A PEFT adapter trained with a sequence-classification head, saved as PEFT saves one for
// task_type SEQ_CLS: the method's own config and tensors, "task_type": "SEQ_CLS", the head's
// modules listed in "modules_to_save", and the head's parameters next to the method's under
// the names PEFT gives modules to save — `base_model.model.<path>` beside a tuner's tensors
// (LoRA), `base_model.<path>` beside prompt learning's `prompt_embeddings`, whose PeftModel
// holds the transformers model itself as its base_model.
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import type { SequenceClassifier } from '../models/classifier';
import type { ExportedFiles } from '../peft/types';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, PEFT_PREFIX, sortedJson, type JsonValue } from './peft-files';

/** PEFT's prompt-learning types: their modules to save are saved under `base_model.` alone. */
const PROMPT_LEARNING = ['PROMPT_TUNING', 'P_TUNING', 'PREFIX_TUNING'];

/** The label names a classifier's export records, by label id. */
export type LabelNames = string[];

/**
 * `exported` (a PEFT method's adapter folder) with the head added as a SEQ_CLS adapter.
 * A method whose files are not a PEFT adapter is refused by name: BitFit and AdapterHub's
 * Houlsby adapters put the head in their own formats (Adapter.exportWithHead) and never get here.
 */
export async function withClassifierHead(exported: ExportedFiles, head: SequenceClassifier, methodLabel: string): Promise<ExportedFiles> {
  const cfgBytes = exported.files[ADAPTER_CONFIG];
  const weights = exported.files[ADAPTER_WEIGHTS];
  if (!cfgBytes || !weights) {
    throw new Error(`${methodLabel} saves its own adapter format, which has no place for a classification head`);
  }
  const config = JSON.parse(new TextDecoder().decode(cfgBytes)) as Record<string, JsonValue>;
  const prefix = PROMPT_LEARNING.includes(String(config.peft_type)) ? 'base_model.' : PEFT_PREFIX;
  const tensors = [...readSafetensors(weights, ADAPTER_WEIGHTS).tensors].map(([name, t]) => {
    if (!(t.data instanceof Float32Array)) throw new Error(`${ADAPTER_WEIGHTS}: "${name}" is ${t.dtype}, expected F32`);
    return { name, shape: t.shape, data: t.data };
  });
  for (const t of await head.tensors()) tensors.push({ ...t, name: `${prefix}${t.name}` });
  const seqCls = { ...config, task_type: 'SEQ_CLS', modules_to_save: head.spec.modulesToSave };
  return {
    baseName: `${exported.baseName}-classifier`,
    files: {
      ...exported.files,
      [ADAPTER_CONFIG]: new TextEncoder().encode(sortedJson(seqCls)),
      [ADAPTER_WEIGHTS]: writeSafetensors(tensors, { format: 'pt' }, ADAPTER_WEIGHTS),
    },
  };
}
