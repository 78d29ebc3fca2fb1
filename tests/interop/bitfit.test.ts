// Studio BitFit → transformers. Three BitFit adapters on the built-in model (one trained by the
// real trainer on every bias, two with perturbed attention-only / MLP-only biases) are exported
// and zipped as a person downloads them. In Python, bitfit_model.safetensors loads onto
// GPT2LMHeadModel with load_state_dict(strict=False): no unexpected key, exactly the keys the
// file does not hold missing (for "all": every non-bias key), every value landed, and the
// logits equal the studio's within 1e-4. The merged checkpoint (config.json and tokenizer files
// of the base + model.safetensors from mergedWeights, what the session's "Export merged model"
// zips) loads with AutoModelForCausalLM.from_pretrained with nothing missing or unexpected and
// gives the same logits.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/io/safetensors';
import { unzipFiles, zipFiles } from '../../src/io/zip';
import { bitfit, type BitFitConfig } from '../../src/peft/bitfit';
import type { Adapter } from '../../src/peft/types';
import {
  cleanup,
  expectFiniteLosses,
  expectStudioLogits,
  flat,
  maxAbsDiff,
  MIN_EFFECT,
  MODEL_DIR,
  openStudio,
  runPythonSpec,
  type Studio,
  studioLogits,
  TOLERANCE,
  trainOnText,
  writeFolder,
  writeMergedCheckpoint,
} from './helpers';

const CASES: { name: string; config: BitFitConfig; trained: boolean }[] = [
  { name: 'trained-all', config: { trainable_biases: 'all' }, trained: true },
  { name: 'attention', config: { trainable_biases: 'attention' }, trained: false },
  { name: 'mlp', config: { trainable_biases: 'mlp' }, trained: false },
];
const TEXT = 'The quick brown fox — Ünïcödé 🎉 <|endoftext|>';

const TRAIN_TEXT = [
  'The quick brown fox jumps over the lazy dog, and the dog sleeps on.',
  'BitFit trains the bias terms and leaves every weight matrix frozen.',
  'A small model learns a little from a little text, one step at a time.',
  'Nothing leaves the browser: the data, the weights and the adapter stay here.',
];

interface Report {
  bias_file: {
    metadata: Record<string, string> | null;
    file_keys: string[];
    state_keys: string[];
    missing_keys: string[];
    unexpected_keys: string[];
    landed: Record<string, { found: boolean; max_abs_diff: number | null }>;
    logits: unknown;
    base_logits: unknown;
    warnings: string[];
  };
  merged: {
    class: string;
    loading_info: Record<string, string[]>;
    warnings: string[];
    logits: unknown;
    max_param_diff_vs_bias_file: number;
    same_parameter_names: boolean;
    tied: boolean;
    tokenizer_equal: boolean;
    token_count: number;
  };
}

interface Case {
  name: string;
  config: BitFitConfig;
  adapter: Adapter;
  files: Record<string, Uint8Array>;
  logits: Float32Array;
}

let studio: Studio;
let work: string;
let ids: number[][];
let baseLogits: Float32Array;
const losses: number[] = [];
const cases: Case[] = [];
let py: Record<string, Report>;

beforeAll(async () => {
  ({ studio, ids, baseLogits, work } = await openStudio('bitfit'));
  const specCases = [];
  for (const [i, c] of CASES.entries()) {
    const adapter = bitfit.create(studio.model, c.config, i);
    if (c.trained) {
      losses.push(...(await trainOnText(studio, adapter, TRAIN_TEXT, { steps: 4, learningRate: 3e-2 })).losses);
    } else {
      adapter.variables.forEach((v, k) => tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 10 * i + k)))));
    }
    const { baseName, files } = await adapter.exportFiles();
    expect(baseName).toBe('tiny-gpt2-bitfit');
    const unzipped = unzipFiles(zipFiles(files), `${baseName}.zip`);
    const dir = join(work, c.name);
    writeFolder(dir, unzipped);

    const mergedDir = join(work, `${c.name}-merged`);
    await writeMergedCheckpoint(mergedDir, adapter);

    cases.push({ name: c.name, config: c.config, adapter, files: unzipped, logits: await studioLogits(studio.model, ids, adapter.hooks(false)) });
    specCases.push({ name: c.name, dir, merged_dir: mergedDir });
  }
  py = runPythonSpec<{ cases: Record<string, Report> }>('bitfit_check.py', work, 'check', { model_dir: MODEL_DIR, ids, text: TEXT, cases: specCases }).cases;
});

afterAll(() => {
  for (const c of cases) c.adapter.dispose();
  studio?.model.dispose();
  cleanup(work);
});

describe('the adapters under test', () => {
  it('the trainer ran with finite losses, and every adapter moves the logits by more than 1e-3', () => {
    expectFiniteLosses(losses, 4);
    for (const c of cases) expect(maxAbsDiff(c.logits, baseLogits), c.name).toBeGreaterThan(MIN_EFFECT);
  });
});

describe.each(CASES.map((c) => c.name))('BitFit export in transformers (%s)', (name) => {
  const c = () => cases.find((x) => x.name === name)!;
  const r = () => py[name];

  it('bitfit_model.safetensors holds the planned biases under their GPT2LMHeadModel names', () => {
    const planned = bitfit.plan(studio.model.info, c().config).tensors.map((t) => t.name).sort();
    expect(r().bias_file.file_keys).toEqual(planned);
    expect(r().bias_file.metadata).toEqual({ format: 'pt' });
    const { tensors } = readSafetensors(c().files['bitfit_model.safetensors'], 'bitfit_model.safetensors');
    expect([...tensors.keys()].sort()).toEqual(planned);
  });

  it('load_state_dict(strict=False): no unexpected keys, exactly the keys not in the file missing, every value landed', () => {
    const b = r().bias_file;
    expect(b.unexpected_keys).toEqual([]);
    expect(b.missing_keys).toEqual(b.state_keys.filter((k) => !b.file_keys.includes(k)));
    if (c().config.trainable_biases === 'all') expect(b.missing_keys).toEqual(b.state_keys.filter((k) => !k.endsWith('.bias')));
    for (const [k, l] of Object.entries(b.landed)) {
      expect(l.found, k).toBe(true);
      expect(l.max_abs_diff, k).toBe(0);
    }
    expect(b.warnings).toEqual([]);
  });

  it(`the biases loaded that way give the studio's logits within ${TOLERANCE}`, () => {
    expectStudioLogits(name, r().bias_file, c().logits, baseLogits, 'torch');
  });

  it('the merged checkpoint loads with from_pretrained, nothing missing or unexpected, lm_head tied, same weights and logits', () => {
    const m = r().merged;
    expect(m.class).toBe('GPT2LMHeadModel');
    expect(m.loading_info.missing_keys).toEqual([]);
    expect(m.loading_info.unexpected_keys).toEqual([]);
    expect(m.loading_info.mismatched_keys ?? []).toEqual([]);
    expect(m.loading_info.error_msgs ?? []).toEqual([]);
    expect(m.warnings).toEqual([]);
    expect(m.tied).toBe(true);
    expect(m.same_parameter_names).toBe(true);
    expect(m.max_param_diff_vs_bias_file).toBe(0);
    expect(maxAbsDiff(flat(m.logits), c().logits)).toBeLessThan(TOLERANCE);
  });

  it("the merged folder's tokenizer is the base model's", () => {
    expect(r().merged.tokenizer_equal).toBe(true);
    expect(r().merged.token_count).toBeGreaterThan(10);
  });

  it('the exported folder imports back into the studio with identical outputs', async () => {
    expect(bitfit.recognizes(c().files)).toBe(true);
    const reloaded = bitfit.load(studio.model, c().files);
    expect(Array.from(await studioLogits(studio.model, ids, reloaded.hooks(false)))).toEqual(Array.from(c().logits));
    reloaded.dispose();
  });
});

describe('the checks can fail', () => {
  it("an attention-only file leaves the MLP and LayerNorm biases missing, and its logits are not the trained 'all' adapter's", () => {
    const b = py.attention.bias_file;
    expect(b.missing_keys).toContain('transformer.h.0.mlp.c_fc.bias');
    expect(b.missing_keys).toContain('transformer.ln_f.bias');
    expect(maxAbsDiff(flat(b.logits), cases[0].logits)).toBeGreaterThan(MIN_EFFECT);
  });
});
