// A model the studio trained as a complete Hugging Face checkpoint: what the base model's class's
// `save_pretrained` would write for it. config.json, model.safetensors with the state dict
// names the architecture gives (a tied head left out: transformers saves tied weights once,
// under the embedding's name, and ties the head again on load), and the base folder's
// tokenizer files unchanged, since the trained model shares the base model's vocabulary. The
// same folder loads back into the studio as a base model (src/models/load.ts reads exactly
// these names). A distilled student and a fully fine-tuned model are both written this way.
import type * as tf from '@tensorflow/tfjs';
import { writeSafetensors } from '../io/safetensors';
import { WEIGHTS_FILE } from '../models/load';
import type { ModelInfo } from '../models/types';
import type { ExportedFiles } from '../peft/types';

export const CONFIG_FILE = 'config.json';

/** Files of the base folder that travel with a trained checkpoint unchanged (when present). */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'special_tokens_map.json', 'vocab.json', 'merges.txt', 'vocab.txt', 'generation_config.json'];

/** One tensor of a state dict as model.safetensors stores it. */
export interface StateTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * Every parameter of `info` under its state-dict name, read from `weightOf` (the trained
 * model's tensors), in `info.params` order.
 */
export async function stateDict(info: ModelInfo, weightOf: (name: string) => tf.Tensor | undefined): Promise<StateTensor[]> {
  return Promise.all(
    info.params.map(async ({ name, shape }) => {
      const t = weightOf(name);
      if (!t) throw new Error(`${info.name} has no weight "${name}"`);
      const data = await t.data();
      if (!(data instanceof Float32Array)) throw new Error(`"${name}" is ${t.dtype}, expected float32`);
      // A copy: data() of a variable may be a view the backend reuses.
      return { name, shape: [...shape], data: Float32Array.from(data) };
    }),
  );
}

/**
 * The checkpoint folder: `config` is config.json as written (the base's bytes, or a config of
 * the trained model's own shape), `weights` its state dict, and `baseFiles` the base folder as
 * loaded (name → bytes), whose tokenizer files are copied. A base folder without
 * tokenizer.json is refused: the checkpoint would not load as a model with a tokenizer, in
 * transformers or in the studio.
 */
export function checkpointFiles(baseName: string, config: Uint8Array, weights: StateTensor[], baseFiles: Record<string, Uint8Array>): ExportedFiles {
  if (!baseFiles['tokenizer.json']) throw new Error('the base model folder has no tokenizer.json to ship with the checkpoint');
  const files: Record<string, Uint8Array> = {};
  for (const name of TOKENIZER_FILES) if (baseFiles[name]) files[name] = baseFiles[name];
  files[CONFIG_FILE] = config;
  // {"format": "pt"} is the metadata torch's save_pretrained writes; transformers checks it.
  files[WEIGHTS_FILE] = writeSafetensors(weights, { format: 'pt' }, WEIGHTS_FILE);
  return { baseName, files };
}
