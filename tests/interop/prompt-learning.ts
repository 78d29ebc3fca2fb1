// Shared by the prompt-tuning and P-tuning interop tests: the reports of prompt_check.py and
// prompt_make_adapter.py, the zip round trip a download goes through, a short real training
// run, and greedy generation — everything both methods' tests do the same way.
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { makeBatch, tokenizeExamples } from '../../src/data/dataset';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from '../../src/export/peft-files';
import { readSafetensors } from '../../src/io/safetensors';
import { unzipFiles, zipFiles } from '../../src/io/zip';
import { generate } from '../../src/models/generate';
import type { Adapter } from '../../src/peft/types';
import { train } from '../../src/train/trainer';
import { readFolder, type Studio, writeFolder } from './helpers';

/** An adapter must move the logits by more than this, or a no-op could pass the comparison. */
export const MIN_EFFECT = 1e-3;

/** The text both sides train on, and the prompt both sides continue greedily. */
export const TRAIN_TEXT = [
  'The quick brown fox jumps over the lazy dog, and the dog sleeps on.',
  'A few virtual tokens in front of the text steer a frozen model.',
  'Nothing leaves the browser: the data, the weights and the adapter stay here.',
  'P-tuning makes its virtual tokens with a small encoder network.',
];
export const GEN_PROMPT = 'The quick brown';
export const GEN_NEW = 8;

export interface Counts {
  trainable: number;
  all: number;
  printed: string;
  tensors: [string, number[]][];
}

export interface AdapterReport {
  load_warnings: string[];
  metadata: Record<string, string> | null;
  file_keys: string[];
  encoder_params: Record<string, number[]>;
  landed_max_abs_diff: number | null;
  prompt: number[][];
  peft_state_keys: string[];
  peft_config: Record<string, unknown>;
  logits: unknown;
  logits_masked: unknown;
  base_logits: unknown;
  generated: number[];
  generated_logits: number[][];
  generate_warnings: string[];
  save_warnings: string[];
  resaved_equal: boolean;
  counts: Counts;
}

export interface EncoderReport {
  warnings: string[];
  counts: Counts;
  state_keys: string[];
  load_result: { missing: string[]; unexpected: string[] };
  prompt: number[][];
  logits: unknown;
}

export interface VariantReport {
  logits: unknown;
  reloaded_logits: unknown;
  base_logits: unknown;
  losses: number[];
  trainable: number;
  saved_prompt: number[][];
  warnings: string[];
  files: string[];
}

/**
 * PEFT drops the position ids generate() passes for prompt-learning methods, with this
 * warning, and GPT-2 then numbers the positions from the prepended embeddings — the
 * behaviour the studio implements; any other warning fails the test.
 */
export const POSITION_IDS_WARNING = /^UserWarning: Position ids are not supported for parameter efficient tuning\. Ignoring position ids\.$/;

/**
 * transformers derives a loss type from the class name; "GPT2LMHeadModel" contains no known one,
 * so the first forward with labels says so (any GPT-2, whatever its config).
 */
export const LOSS_TYPE_WARNING = /^transformers\.modeling_utils WARNING: `loss_type=None` was set in the config but it is unrecognized/;

/**
 * base_model_name_or_path is the studio's model id ("tiny-gpt2"), not a Hub id or a folder, so
 * PEFT's save_pretrained cannot open its config to check for resized embeddings and says so.
 * Only re-saving warns; loading does not.
 */
export const RESAVE_BASE_MODEL_WARNING = /^UserWarning: Could not find a config file in tiny-gpt2 - will assume that the vocabulary was not modified\.$/;

/** print_trainable_parameters' line, from the studio's plan. */
export function planLine(trainable: number, total: number): string {
  return `trainable params: ${trainable.toLocaleString('en-US')} || all params: ${total.toLocaleString('en-US')} || trainable%: ${((100 * trainable) / total).toFixed(4)}`;
}

export interface Exported {
  /** The files as the zip a person downloads gives them back. */
  files: Record<string, Uint8Array>;
  dir: string;
  resaveDir: string;
}

/** Exports, zips to disk, reads the zip back, unzips, and writes the folder Python loads. */
export async function exportThroughZip(work: string, name: string, adapter: Adapter, baseName: string): Promise<Exported> {
  const exported = await adapter.exportFiles();
  expect(exported.baseName).toBe(baseName);
  expect(Object.keys(exported.files).sort()).toEqual([ADAPTER_CONFIG, ADAPTER_WEIGHTS]);
  const zipPath = join(work, `${name}-${baseName}.zip`);
  writeFileSync(zipPath, zipFiles(exported.files));
  const files = unzipFiles(new Uint8Array(readFileSync(zipPath)), `${baseName}.zip`);
  for (const [k, v] of Object.entries(exported.files)) expect(Buffer.from(files[k]).equals(Buffer.from(v)), `${k} survives the zip`).toBe(true);
  const dir = join(work, name);
  writeFolder(dir, files);
  expect(Object.keys(readFolder(dir)).sort()).toEqual([ADAPTER_CONFIG, ADAPTER_WEIGHTS]);
  return { files, dir, resaveDir: join(work, `${name}-resaved`) };
}

/** The single tensor of a prompt-learning export, as [n][d] rows. */
export function promptRows(files: Record<string, Uint8Array>): number[][] {
  const t = readSafetensors(files[ADAPTER_WEIGHTS], ADAPTER_WEIGHTS).tensors.get('prompt_embeddings');
  if (!t) throw new Error('prompt_embeddings is missing');
  const [n, d] = t.shape;
  return Array.from({ length: n }, (_, i) => Array.from(t.data.subarray(i * d, (i + 1) * d)));
}

/** `steps` AdamW steps of the studio's own trainer on TRAIN_TEXT, batch 2 × 32 tokens; the losses. */
export async function trainStudio(studio: Studio, adapter: Adapter, steps: number, learningRate: number): Promise<number[]> {
  const seqs = tokenizeExamples(TRAIN_TEXT, studio.tokenizer, 32).ids;
  const losses: number[] = [];
  let step = 0;
  const result = await train(
    studio.model,
    adapter,
    { totalSteps: steps, learningRate, warmupSteps: 0, weightDecay: 0, maxGradNorm: 1, evalEvery: 0, readbackEvery: 2 },
    {
      nextBatch: () => {
        const i = (2 * step++) % seqs.length;
        return { batch: makeBatch(seqs.slice(i, i + 2), 32, studio.tokenizer.padId), epoch: 0 };
      },
      evalBatches: [],
      onProgress: (points) => losses.push(...points.map((p) => p.loss)),
      onEval: () => {},
      shouldStop: () => false,
    },
  );
  expect(result).toEqual({ reason: 'finished', step: steps });
  return losses;
}

/** The studio's greedy continuation of GEN_PROMPT under the adapter. */
export function studioGreedy(studio: Studio, adapter: Adapter): Promise<number[]> {
  return generate(studio.model, adapter.hooks(false), studio.tokenizer.encode(GEN_PROMPT), { maxNewTokens: GEN_NEW, temperature: 0, topK: 0, seed: 0 });
}

/**
 * The logits each greedy step of GEN_PROMPT + `generated` decides from, as generate() reads
 * them: the last real position of a full forward with the adapter's virtual tokens in front.
 */
export async function studioStepLogits(studio: Studio, adapter: Adapter, generated: number[]): Promise<Float32Array> {
  const prompt = studio.tokenizer.encode(GEN_PROMPT);
  const V = studio.model.info.config.vocabSize;
  const out = new Float32Array(generated.length * V);
  for (let k = 0; k < generated.length; k++) {
    const seq = [...prompt, ...generated.slice(0, k)];
    const last = tf.tidy(() => {
      const { logits, prepended } = studio.model.forward(tf.tensor2d(seq, [1, seq.length], 'int32'), adapter.hooks(false));
      return tf.slice(logits, [0, prepended + seq.length - 1, 0], [1, 1, V]);
    });
    out.set((await last.data()) as Float32Array, k * V);
    last.dispose();
  }
  return out;
}

/** The logits of the real tokens only, [rows, T, V] flattened, out of [rows, n + T, V]. */
export function realPositions(logits: Float32Array, ids: number[][], n: number, V: number): Float32Array {
  const T = ids[0].length;
  expect(logits.length).toBe(ids.length * (n + T) * V);
  const real = new Float32Array(ids.length * T * V);
  ids.forEach((_, b) => real.set(logits.subarray((b * (n + T) + n) * V, (b + 1) * (n + T) * V), b * T * V));
  return real;
}

/** Max |a − b| over two equally shaped [n][d] arrays. */
export function maxRowDiff(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  a.forEach((r, i) => {
    expect(r.length).toBe(b[i].length);
    r.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j]))));
  });
  return m;
}
