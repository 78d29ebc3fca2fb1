// Node-only helpers for the built-in pretrained model (tests and scripts/pretrain-card.ts):
// read a Hugging Face model folder from disk into the studio's engine and tokenizer.
// Never imported by the page.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerFusedKernels } from '../kernels/registry';
import { registerWasmKernels } from '../backend/wasm-kernels';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../io/safetensors';
import { loadTokenizer, type TextTokenizer } from '../tokenize/tokenizer';
import { buildModel } from './load';
import { architectureOf } from './registry';
import type { LoadedModel } from './types';

export const PRETRAINED_NAME = 'studio-gpt2-en';
export const REPO_ROOT = new URL('../../', import.meta.url);
export const PRETRAINED_DIR = new URL(`public/models/${PRETRAINED_NAME}/`, REPO_ROOT);
/** The built-in masked LM, pretrained by scripts/pretrain_bert.py on the same text. */
export const PRETRAINED_MLM_NAME = 'studio-bert-en';
export const PRETRAINED_MLM_DIR = new URL(`public/models/${PRETRAINED_MLM_NAME}/`, REPO_ROOT);

const readJson = (dir: URL, file: string): unknown => JSON.parse(readFileSync(new URL(file, dir), 'utf8'));

/** The folder as it ships: config.json + model.safetensors + tokenizer.json + tokenizer_config.json. */
export function loadModelFolder(dir: URL = PRETRAINED_DIR): { model: LoadedModel; tokenizer: TextTokenizer; config: Record<string, unknown> } {
  const config = readJson(dir, 'config.json') as Record<string, unknown>;
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(new URL('model.safetensors', dir))), 'model.safetensors');
  const name = dir.pathname.split('/').filter(Boolean).at(-1)!;
  const model = buildModel(name, config, tensors);
  // A masked LM's tokenizer closes each sequence with [SEP] and has no end-of-text token.
  const requireEos = architectureOf(model.info).objective === 'causal-lm';
  const tokenizer = loadTokenizer(readJson(dir, 'tokenizer.json'), readJson(dir, 'tokenizer_config.json'), 'tokenizer.json', { requireEos });
  return { model, tokenizer, config };
}

/** A text file of an installed npm package (the training/held-out text lives in node_modules). */
export function readModuleFile(path: string): string {
  return readFileSync(new URL(`node_modules/${path}`, REPO_ROOT), 'utf8');
}

/** sha256 of the documents joined by NUL, as pretrain.py records the slice it scored. */
export function sliceDigest(docs: string[]): string {
  return createHash('sha256').update(docs.join('\0'), 'utf8').digest('hex');
}

/** The wasm backend works in Node without asset paths and is ~10× faster than cpu here. */
export async function useWasmBackend(): Promise<void> {
  // With the missing UnsortedSegmentSum kernel added, embeddings can train here too; the fused
  // LayerNorm and cross-entropy kernels make it compute what the studio's wasm backend does.
  registerWasmKernels();
  registerFusedKernels('wasm');
  if (tf.getBackend() !== 'wasm') {
    const ok = await tf.setBackend('wasm');
    if (!ok) throw new Error('the tfjs wasm backend did not start');
  }
  await tf.ready();
}
