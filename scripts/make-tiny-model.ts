// Writes the built-in base model "tiny-gpt2" to public/models/tiny-gpt2/ in Hugging Face
// layout: a GPT-2 (4 layers, width 128, 4 heads, context 256) over a byte-level vocabulary,
// randomly initialised as GPT2LMHeadModel does (src/models/gpt2-init.ts). Seeded: the same
// bytes every run. `npm run make-tiny-model [outDir]`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../src/io/safetensors';
import { byteLevelTokenizerFiles, END_OF_TEXT_ID } from '../src/tokenize/byte-level';
import { gpt2ConfigJson, initGpt2Weights } from '../src/models/gpt2-init';

export function writeModelFolder(dir: string, config: Record<string, unknown>, tensors: { name: string; shape: number[]; data: Float32Array }[]) {
  mkdirSync(dir, { recursive: true });
  const { tokenizer, tokenizerConfig } = byteLevelTokenizerFiles({ modelMaxLength: config.n_positions as number });
  const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
  writeFileSync(join(dir, 'config.json'), json(config));
  writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  writeFileSync(join(dir, 'tokenizer.json'), json(tokenizer));
  writeFileSync(join(dir, 'tokenizer_config.json'), json(tokenizerConfig));
  writeFileSync(
    join(dir, 'generation_config.json'),
    json({ bos_token_id: END_OF_TEXT_ID, eos_token_id: END_OF_TEXT_ID, transformers_version: '4.57.0' }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? 'public/models/tiny-gpt2';
  const config = gpt2ConfigJson();
  writeModelFolder(dir, config, initGpt2Weights(config, 1234));
  console.log(`wrote ${dir}`);
}
