// The models `npm run bench` trains besides the built-in tiny-gpt2: randomly initialised GPT-2s
// of a chosen shape over tiny-gpt2's byte-level vocabulary, written as a Hugging Face folder
// the page loads with "Choose a model folder" and PyTorch builds from the same config.json.
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../src/io/safetensors';
import { gpt2ConfigJson, initGpt2Weights } from '../src/models/gpt2-init';

const TINY = new URL('../public/models/tiny-gpt2/', import.meta.url).pathname;

/** The config.json of a GPT-2 of this shape over tiny-gpt2's vocabulary and context. */
export function gpt2Config(layers: number, width: number, heads: number): Record<string, unknown> {
  return gpt2ConfigJson({ n_layer: layers, n_embd: width, n_head: heads, n_positions: 256 });
}

/** Writes a GPT-2 folder as a person would have it on disk: config.json, model.safetensors, tiny-gpt2's tokenizer files. */
export function writeRandomGpt2Folder(dir: string, configJson: Record<string, unknown>): string {
  const folder = mkdtempSync(join(dir, 'gpt2-'));
  writeFileSync(join(folder, 'config.json'), JSON.stringify(configJson, null, 2));
  writeFileSync(join(folder, 'model.safetensors'), writeSafetensors(initGpt2Weights(configJson, 1), { format: 'pt' }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) copyFileSync(join(TINY, f), join(folder, f));
  return folder;
}
