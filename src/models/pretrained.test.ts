// The built-in base model (public/models/studio-gpt2-en) as it ships: the studio's engine loads
// it and reproduces the held-out loss its model card states, on the documented slice.
import * as tf from '@tensorflow/tfjs';
import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELDOUT, heldoutLoss, heldoutSlice } from './heldout';
import { loadModelFolder, PRETRAINED_DIR, readModuleFile, sliceDigest, useWasmBackend } from './pretrained-node';
import type { LoadedModel } from './types';
import type { TextTokenizer } from '../tokenize/tokenizer';

interface EvalJson {
  heldout: { moby_dick: string[]; sotu: string[]; pytorch_nats_per_byte: number };
  slice: { chars_per_document: number; sha256: string; bytes: number; tokens: number; pytorch_nats_per_byte: number; studio_nats_per_byte: number };
  params: number;
}

const evalJson = JSON.parse(readFileSync(new URL('eval.json', PRETRAINED_DIR), 'utf8')) as EvalJson;
const card = readFileSync(new URL('README.md', PRETRAINED_DIR), 'utf8');
const config = JSON.parse(readFileSync(new URL('config.json', PRETRAINED_DIR), 'utf8')) as Record<string, unknown>;

let model: LoadedModel;
let tokenizer: TextTokenizer;
beforeAll(async () => {
  await useWasmBackend();
  ({ model, tokenizer } = loadModelFolder());
});
afterAll(() => model?.dispose());

describe('built-in base model studio-gpt2-en', () => {
  it('ships a GPT-2 config within the size limits, without dropout, with a tied head', () => {
    expect(config.model_type).toBe('gpt2');
    expect(config.n_positions).toBeGreaterThanOrEqual(256);
    expect(config.tie_word_embeddings).toBe(true);
    expect(config.activation_function).toBe('gelu_new');
    for (const k of ['attn_pdrop', 'embd_pdrop', 'resid_pdrop']) expect(config[k], k).toBe(0);
    expect(statSync(new URL('model.safetensors', PRETRAINED_DIR)).size).toBeLessThanOrEqual(12_000_000);
    expect(model.info.totalParams).toBe(evalJson.params);
    expect(tokenizer.vocabSize).toBe(config.vocab_size);
    expect(tokenizer.decode(tokenizer.encode('Call me Ishmael — “whale”\n\tÆ'))).toBe('Call me Ishmael — “whale”\n\tÆ');
  });

  it('the card states the figures eval.json holds, and the held-out set is the documented one', () => {
    expect(card).toContain(`**${evalJson.heldout.pytorch_nats_per_byte.toFixed(4)} nats per byte**`);
    expect(card).toContain(`**${evalJson.slice.studio_nats_per_byte.toFixed(4)} nats/byte** in the studio's own engine`);
    expect(evalJson.heldout.moby_dick).toEqual(HELDOUT.mobyDick);
    expect(evalJson.heldout.sotu).toEqual(HELDOUT.sotu);
    expect(evalJson.slice.chars_per_document).toBe(HELDOUT.sliceChars);
  });

  it("reproduces the card's held-out loss on the documented slice within 0.02 nats/byte", async () => {
    const docs = heldoutSlice(readModuleFile);
    expect(sliceDigest(docs)).toBe(evalJson.slice.sha256);
    const before = tf.memory().numTensors;
    const got = await heldoutLoss(model, tokenizer, docs);
    expect(tf.memory().numTensors).toBe(before);
    expect(got.bytes).toBe(evalJson.slice.bytes);
    expect(got.tokens).toBe(evalJson.slice.tokens);
    expect(Math.abs(got.natsPerByte - evalJson.slice.studio_nats_per_byte)).toBeLessThanOrEqual(0.02);
    // PyTorch scored the same tokens; the engines agree far more closely than the 0.02 budget.
    expect(Math.abs(got.natsPerByte - evalJson.slice.pytorch_nats_per_byte)).toBeLessThanOrEqual(0.02);
  });
});
