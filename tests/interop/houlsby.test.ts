// Studio Houlsby adapters (AdapterHub layout) → PyTorch. AdapterHub's `adapters` library cannot
// be installed here, so houlsby_check.py rebuilds its GPT-2 adapter modules in PyTorch with the
// library's module names (from its source) on the real transformers GPT2LMHeadModel: the
// exported adapter.safetensors must load by state-dict name with nothing unexpected and
// nothing of the adapters missing, and the block applied by forward hooks on attn / mlp (before
// the residual add, as GPT2BlockWithAdapters does) must give the studio's logits within 1e-4.
// Four adapters: one trained by the real trainer with the double_seq_bn defaults, three with
// random weights covering the other non-linearities, placements and a bottleneck size that
// needs a fractional reduction_factor. Controls prove the checks can fail: a file with
// nn.Linear names that lack the Sequential's `.0.`, and the output adapter moved after the
// residual add.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERHUB_VERSION } from '../../src/export/adapterhub';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { unzipFiles, zipFiles } from '../../src/io/zip';
import { bottleneckSize, houlsby, type HoulsbyConfig } from '../../src/peft/houlsby';
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
  randomizeVariables,
  runPythonSpec,
  type Studio,
  studioLogits,
  TOLERANCE,
  trainOnText,
  writeFolder,
} from './helpers';

const D = 128;

const DEFAULTS: HoulsbyConfig = { mh_adapter: true, output_adapter: true, reduction_factor: 16, bottleneck_size: 0, non_linearity: 'swish', init_weights: 'bert', dropout: 0 };
const CASES: { name: string; config: HoulsbyConfig; trained: boolean }[] = [
  { name: 'trained-swish-both', config: DEFAULTS, trained: true },
  // 128 is not a multiple of 5: the config carries reduction_factor 128 / 5.5.
  { name: 'gelu-attention-b5', config: { ...DEFAULTS, output_adapter: false, non_linearity: 'gelu', bottleneck_size: 5 }, trained: false },
  { name: 'relu-mlp-rf8', config: { ...DEFAULTS, mh_adapter: false, non_linearity: 'relu', reduction_factor: 8, init_weights: 'houlsby' }, trained: false },
  { name: 'tanh-both-rf32', config: { ...DEFAULTS, non_linearity: 'tanh', reduction_factor: 32, init_weights: 'mam_adapter', dropout: 0.1 }, trained: false },
];

/** BnConfig's fields (configuration/adapter_config.py), i.e. DoubleSeqBnConfig.to_dict()'s keys. */
const BN_CONFIG_FIELDS = [
  'adapter_residual_before_ln', 'cross_adapter', 'dropout', 'factorized_phm_W', 'factorized_phm_rule', 'hypercomplex_nonlinearity',
  'init_weights', 'inv_adapter', 'inv_adapter_reduction_factor', 'is_parallel', 'learn_phm', 'leave_out', 'ln_after', 'ln_before',
  'mh_adapter', 'non_linearity', 'original_ln_after', 'original_ln_before', 'output_adapter', 'phm_bias', 'phm_c_init', 'phm_dim',
  'phm_init_range', 'phm_layer', 'phm_rank', 'reduction_factor', 'residual_before_ln', 'scaling', 'shared_W_phm', 'shared_phm_rule',
  'stochastic_depth', 'use_gating',
];

const TRAIN_TEXT = [
  'The quick brown fox jumps over the lazy dog, and the dog sleeps on.',
  'A bottleneck adapter squeezes each hidden state and adds the result back.',
  'Houlsby adapters sit after attention and after the feed-forward layer.',
  'Nothing leaves the browser: the data, the weights and the adapter stay here.',
];

interface Report {
  zip_names: string[];
  zip_top: string[];
  folder_files: string[];
  adapter_config: { config: Record<string, unknown> } & Record<string, unknown>;
  config_types: Record<string, string>;
  top_types: Record<string, string>;
  bottleneck: number;
  metadata: Record<string, string> | null;
  file_keys: string[];
  module_keys: string[];
  missing_keys: string[];
  unexpected_keys: string[];
  base_keys: string[];
  landed: Record<string, { found: boolean; shape: number[]; max_abs_diff: number | null }>;
  logits: unknown;
  base_logits: unknown;
  post_residual_logits: unknown;
  warnings: string[];
}

interface Case {
  name: string;
  config: HoulsbyConfig;
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
let py: { adapters: Record<string, Report>; broken: Record<string, Report> };

beforeAll(async () => {
  ({ studio, ids, baseLogits, work } = await openStudio('houlsby'));
  const adapters = [];
  for (const [i, c] of CASES.entries()) {
    const adapter = houlsby.create(studio.model, c.config, 40 + i);
    if (c.trained) {
      losses.push(...(await trainOnText(studio, adapter, TRAIN_TEXT, { steps: 4, learningRate: 1e-2 })).losses);
    } else {
      randomizeVariables(adapter, 0.2, 100 * i);
    }
    const { baseName, files } = await adapter.exportFiles();
    const zipPath = join(work, `${c.name}.zip`);
    writeFileSync(zipPath, zipFiles(files));
    expect(baseName).toBe('tiny-gpt2-houlsby');
    cases.push({ name: c.name, config: c.config, adapter, files, logits: await studioLogits(studio.model, ids, adapter.hooks(false)) });
    adapters.push({ name: c.name, zip: zipPath, control_post_residual: c.trained });
  }

  // Control: the trained adapter with `adapter_down.weight` (no Sequential index) as a naive
  // nn.Linear naming would have it.
  const folder = unzipFiles(zipFiles(cases[0].files), 'x.zip');
  const { tensors } = readSafetensors(folder['adapter.safetensors'], 'adapter.safetensors');
  const brokenDir = join(work, 'broken-names');
  writeFolder(brokenDir, {
    'adapter_config.json': folder['adapter_config.json'],
    'adapter.safetensors': writeSafetensors([...tensors].map(([k, t]) => ({ name: k.replace('.adapter_down.0.', '.adapter_down.'), shape: t.shape, data: t.data as Float32Array }))),
  });

  py = runPythonSpec('houlsby_check.py', work, 'check', { model_dir: MODEL_DIR, ids, work, adapters, broken: [{ name: 'broken-names', dir: brokenDir }] });
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

describe.each(CASES.map((c) => c.name))('the AdapterHub export in PyTorch (%s)', (name) => {
  const c = () => cases.find((x) => x.name === name)!;
  const r = () => py.adapters[name];

  it('is a zip holding one folder with adapter_config.json and adapter.safetensors, as save_adapter writes it', () => {
    expect(r().zip_names).toEqual(['tiny-gpt2-houlsby/adapter.safetensors', 'tiny-gpt2-houlsby/adapter_config.json']);
    expect(r().zip_top).toEqual(['tiny-gpt2-houlsby']);
    expect(r().folder_files).toEqual(['adapter.safetensors', 'adapter_config.json']);
    expect(r().metadata).toBeNull();
  });

  it("adapter_config.json parses in Python to AdapterHub's shape and types (scaling a float, as Adapter.__init__ requires)", () => {
    const cfg = r().adapter_config;
    expect(Object.keys(cfg).sort()).toEqual(['config', 'hidden_size', 'model_class', 'model_name', 'model_type', 'name', 'version']);
    expect(cfg).toMatchObject({ hidden_size: D, model_class: 'GPT2LMHeadModel', model_name: 'tiny-gpt2', model_type: 'gpt2', name: 'houlsby', version: ADAPTERHUB_VERSION });
    expect(Object.keys(cfg.config).sort()).toEqual(BN_CONFIG_FIELDS);
    expect(cfg.config).toMatchObject({
      mh_adapter: c().config.mh_adapter,
      output_adapter: c().config.output_adapter,
      non_linearity: c().config.non_linearity,
      init_weights: c().config.init_weights,
      original_ln_before: false,
      original_ln_after: true,
      residual_before_ln: true,
      ln_before: false,
      ln_after: false,
      is_parallel: false,
      use_gating: false,
      phm_layer: false,
      inv_adapter: null,
      leave_out: [],
      scaling: 1,
      dropout: c().config.dropout,
    });
    const t = r().config_types;
    expect({ scaling: t.scaling, dropout: t.dropout, stochastic_depth: t.stochastic_depth, phm_init_range: t.phm_init_range, leave_out: t.leave_out, mh_adapter: t.mh_adapter, inv_adapter: t.inv_adapter }).toEqual({
      scaling: 'float',
      dropout: 'float',
      stochastic_depth: 'float',
      phm_init_range: 'float',
      leave_out: 'list',
      mh_adapter: 'bool',
      inv_adapter: 'NoneType',
    });
    expect(t.reduction_factor).toBe(Number.isInteger(cfg.config.reduction_factor) ? 'int' : 'float');
    expect(r().top_types.hidden_size).toBe('int');
  });

  it("AdapterHub's bottleneck formula, in Python's arithmetic, gives the studio's size", () => {
    expect(r().bottleneck).toBe(bottleneckSize(D, c().config));
  });

  it('every tensor lands on the AdapterHub-named module, nothing unexpected, nothing of the adapters missing', () => {
    const planned = houlsby.plan(studio.model.info, c().config).tensors.map((t) => t.name).sort();
    expect(r().file_keys).toEqual(planned);
    expect(r().module_keys).toEqual(planned);
    expect(r().unexpected_keys).toEqual([]);
    expect(r().missing_keys).toEqual(r().base_keys);
    for (const [k, l] of Object.entries(r().landed)) {
      expect(l.found, k).toBe(true);
      expect(l.max_abs_diff, k).toBe(0);
    }
    expect(r().warnings).toEqual([]);
  });

  it(`gives the studio's logits within ${TOLERANCE}`, () => {
    expectStudioLogits(name, r(), c().logits, baseLogits, 'torch');
  });

  it('the downloaded zip imports back into the studio with identical outputs', async () => {
    const zipBytes = new Uint8Array(readFileSync(join(work, `${name}.zip`)));
    const files = unzipFiles(zipBytes, `${name}.zip`);
    expect(houlsby.recognizes(files)).toBe(true);
    const reloaded = houlsby.load(studio.model, files);
    expect(Array.from(await studioLogits(studio.model, ids, reloaded.hooks(false)))).toEqual(Array.from(c().logits));
    reloaded.dispose();
  });
});

describe('the checks can fail', () => {
  it('a file named without the Sequential index lands nowhere: unexpected keys and missing adapter weights', () => {
    const r = py.broken['broken-names'];
    expect(r.unexpected_keys.length).toBe(r.file_keys.length / 2);
    expect(r.unexpected_keys.every((k) => k.includes('.adapter_down.weight') || k.includes('.adapter_down.bias'))).toBe(true);
    expect(r.missing_keys.filter((k) => k.includes('adapter_down.0.'))).toHaveLength(r.file_keys.length / 2);
  });

  it('the output adapter after the residual add (a different placement) gives different logits', () => {
    const r = py.adapters['trained-swish-both'];
    expect(maxAbsDiff(flat(r.post_residual_logits), cases[0].logits)).toBeGreaterThan(MIN_EFFECT);
  });
});
