import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../src/io/safetensors';
import { modelInfo } from '../src/models/load';
import { gpt2Config, writeRandomGpt2Folder } from './bench-models';

const TINY = new URL('../public/models/tiny-gpt2/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'bench-models-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the larger benchmark model', () => {
  const config = gpt2Config(6, 384, 6);
  const folder = writeRandomGpt2Folder(dir, config);

  it('is a Hugging Face GPT-2 folder with tiny-gpt2’s tokenizer files, byte for byte', () => {
    expect(readdirSync(folder).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) expect(readFileSync(join(folder, f))).toEqual(readFileSync(join(TINY, f)));
    const json = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
    expect([json.model_type, json.n_layer, json.n_embd, json.n_head, json.n_positions, json.vocab_size]).toEqual(['gpt2', 6, 384, 6, 256, 257]);
  });

  it('holds every weight its config names, 12·384² + 13·384 a layer plus embeddings and ln_f: over ten times tiny-gpt2', () => {
    const info = modelInfo('larger', config);
    const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(folder, 'model.safetensors'))), 'model.safetensors');
    expect([...tensors.keys()].sort()).toEqual(info.params.map((p) => p.name).sort());
    const expected = 6 * (12 * 384 * 384 + 13 * 384) + 257 * 384 + 256 * 384 + 2 * 384;
    expect(info.totalParams).toBe(expected);
    const tiny = modelInfo('tiny-gpt2', JSON.parse(readFileSync(join(TINY, 'config.json'), 'utf8')));
    expect(info.totalParams / tiny.totalParams).toBeGreaterThan(10);
  });
});
