// Shared by the prompt-tuning and P-tuning interop tests: the reports of prompt_check.py and
// prompt_make_adapter.py, a short real training run, and greedy generation — everything both
// methods' tests do the same way.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { ADAPTER_WEIGHTS } from '../../src/export/peft-files';
import { readSafetensors } from '../../src/io/safetensors';
import { generate } from '../../src/models/generate';
import type { Adapter } from '../../src/peft/types';
import { join } from 'node:path';
import {
  flat,
  maxAbsDiff,
  MODEL_DIR,
  type PeftCounts,
  peftTrainIds,
  type PromptFileReport,
  RESAVE_BASE_MODEL_WARNING,
  runPythonSpec,
  type Studio,
  TOLERANCE,
  trainOnText,
  type ZippedExport,
} from './helpers';

/** The text both sides train on, and the prompt both sides continue greedily. */
export const TRAIN_TEXT = [
  'The quick brown fox jumps over the lazy dog, and the dog sleeps on.',
  'A few virtual tokens in front of the text steer a frozen model.',
  'Nothing leaves the browser: the data, the weights and the adapter stay here.',
  'P-tuning makes its virtual tokens with a small encoder network.',
];
export const GEN_PROMPT = 'The quick brown';
export const GEN_NEW = 8;

export interface AdapterReport extends PromptFileReport {
  encoder_params: Record<string, number[]>;
  landed_max_abs_diff: number | null;
  prompt: number[][];
  peft_config: Record<string, unknown>;
  logits: unknown;
  logits_masked: unknown;
  base_logits: unknown;
  generated: number[];
  generated_logits: number[][];
  generate_warnings: string[];
  save_warnings: string[];
  resaved_equal: boolean;
  counts: PeftCounts;
}

export interface EncoderReport {
  warnings: string[];
  counts: PeftCounts;
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
 * prompt_check.py on the studio's exports (read from their folders, re-saved into resaveDir),
 * with GEN_PROMPT to continue and whatever else `extra` gives it to check; its report.
 */
export function runPromptCheck<T>(studio: Studio, ids: number[][], work: string, adapters: (ZippedExport & { name: string })[], extra: Record<string, unknown>): T {
  return runPythonSpec<T>('prompt_check.py', work, 'check', {
    model_dir: MODEL_DIR,
    ids,
    gen_ids: studio.tokenizer.encode(GEN_PROMPT),
    gen_new: GEN_NEW,
    adapters: adapters.map((a) => ({ name: a.name, dir: a.dir, resave_dir: a.resaveDir })),
    ...extra,
  });
}

/**
 * prompt_make_adapter.py: PEFT trains each variant on the two rows of `trainTexts` and saves it
 * into <work>/<name>; its report per name.
 */
export function makePeftPromptAdapters(studio: Studio, ids: number[][], work: string, trainTexts: string[], variants: { name: string }[]): Record<string, VariantReport> {
  return runPythonSpec<{ variants: Record<string, VariantReport> }>('prompt_make_adapter.py', work, 'make', {
    model_dir: MODEL_DIR,
    ids,
    train_ids: peftTrainIds(studio, trainTexts),
    variants: variants.map((v) => ({ ...v, out_dir: join(work, v.name) })),
  }).variants;
}

/** PEFT re-saved the loaded export warning of nothing but the base model's config, and the tensor it wrote is the file's. */
export function expectCleanResave(r: AdapterReport): void {
  expect(r.save_warnings.filter((w) => !RESAVE_BASE_MODEL_WARNING.test(w))).toEqual([]);
  expect(r.resaved_equal).toBe(true);
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
  return (await trainOnText(studio, adapter, TRAIN_TEXT, { steps, learningRate })).losses;
}

/** The studio's greedy continuation of GEN_PROMPT under the adapter. */
export function studioGreedy(studio: Studio, adapter: Adapter): Promise<number[]> {
  return generate(studio.model, adapter.hooks(false), studio.tokenizer.encode(GEN_PROMPT), { maxNewTokens: GEN_NEW, temperature: 0, topK: 0, seed: 0 });
}

/**
 * PEFT's greedy generation is the studio's: the same ids, and within TOLERANCE the same logits at
 * every step; generate() warns of nothing but the position ids it drops.
 */
export async function expectSameGreedy(studio: Studio, adapter: Adapter, r: AdapterReport): Promise<void> {
  const ours = await studioGreedy(studio, adapter);
  expect(r.generated).toEqual(ours);
  // Greedy ids alone say little on a random model; the logits of every step must agree too.
  expect(maxAbsDiff(flat(r.generated_logits), await studioStepLogits(studio, adapter, ours))).toBeLessThan(TOLERANCE);
  expect(r.generate_warnings.filter((w) => !POSITION_IDS_WARNING.test(w))).toEqual([]);
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
