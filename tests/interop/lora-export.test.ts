// (b) Studio LoRA export → Hugging Face PEFT. Two adapters made by the engine on the built-in
// model: one trained for a few steps by the real trainer, one with random non-zero B (and
// rsLoRA, dropout, a target name that matches two module kinds). Each is exported, zipped and
// unzipped as a person downloads it, then loaded by PeftModel.from_pretrained. Every tensor in
// the file must land on its parameter with the same values, every LoRA module must have its
// tensors, nothing may warn, and the logits must equal the engine's. A third, deliberately
// broken adapter (keys without the `base_model.model.` prefix) proves the checks can fail.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, PEFT_PREFIX } from '../../src/export/peft-files';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { lora, loraScaling, type LoraConfig } from '../../src/peft/lora';
import type { Adapter } from '../../src/peft/types';
import type { TrainResult } from '../../src/train/trainer';
import {
  BASE_MODEL_RENAMED_WARNING,
  cleanup,
  expectFiniteLosses,
  expectPlanCounts,
  expectStudioLogits,
  exportThroughZip,
  flat,
  maxAbsDiff,
  MIN_EFFECT,
  MODEL_DIR,
  openStudio,
  type PeftCounts,
  readFolder,
  runPythonSpec,
  type Studio,
  studioLogits,
  TOLERANCE,
  trainOnText,
  writeFolder,
} from './helpers';

const TRAINED: LoraConfig = { r: 8, lora_alpha: 16, lora_dropout: 0, target_modules: ['c_attn', 'c_fc'], use_rslora: false };
// `c_proj` matches attn.c_proj (128→128) and mlp.c_proj (512→128); rsLoRA scales by alpha/√r.
const RANDOM_B: LoraConfig = { r: 4, lora_alpha: 8, lora_dropout: 0.1, target_modules: ['c_proj'], use_rslora: true };

/** A LoRA tensor for a module the trained adapter does not target (attn.c_proj). */
const EXTRA_KEY = `${PEFT_PREFIX}transformer.h.0.attn.c_proj.lora_A.weight`;

const TRAIN_TEXT = [
  'The quick brown fox jumps over the lazy dog, and the dog sleeps on.',
  'A small model learns a little from a little text, one step at a time.',
  'Low-rank adapters train two thin matrices beside each frozen weight.',
  'Nothing leaves the browser: the data, the weights and the adapter stay here.',
];

interface Landed {
  parameter: string | null;
  found: boolean;
  shape_file: number[];
  shape_param: number[] | null;
  max_abs_diff: number | null;
  nonzero: boolean;
}

interface AdapterReport {
  load_warnings: string[];
  metadata: Record<string, string> | null;
  file_keys: string[];
  landed: Record<string, Landed>;
  lora_modules: Record<string, { r: number; scaling: number; fan_in_fan_out: boolean; in_file: boolean }>;
  peft_state_keys: string[];
  reload_result: { missing_lora_keys: string[]; unexpected_keys: string[]; warnings: string[] };
  peft_config: Record<string, unknown>;
  logits: unknown;
  base_logits: unknown;
  save_warnings: string[];
}

interface CountsReport extends PeftCounts {
  r: number;
  lora_alpha: number;
  target_modules: string[] | string;
  fan_in_fan_out: boolean;
  warnings: string[];
}

interface Case {
  name: string;
  config: LoraConfig;
  adapter: Adapter;
  /** The files as the zip a person downloads gives them back. */
  files: Record<string, Uint8Array>;
  dir: string;
  resaveDir: string;
  logits: Float32Array;
}

let studio: Studio;
let work: string;
let ids: number[][];
let baseLogits: Float32Array;
let trainResult: TrainResult;
const losses: number[] = [];
const cases: Case[] = [];
let controlDir: string;
let peft: Record<string, AdapterReport>;
let counts: Record<string, CountsReport>;

/** The adapter exported through the zip a download goes through, with the engine's logits. */
async function exportCase(name: string, config: LoraConfig, adapter: Adapter): Promise<Case> {
  const exported = await exportThroughZip(work, name, adapter, 'tiny-gpt2-lora');
  return { name, config, adapter, ...exported, logits: await studioLogits(studio.model, ids, adapter.hooks(false)) };
}

function configOf(c: Case): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(c.files[ADAPTER_CONFIG])) as Record<string, unknown>;
}

function weightsOf(c: Case) {
  return readSafetensors(c.files[ADAPTER_WEIGHTS], ADAPTER_WEIGHTS);
}

/** plan tensor names as PEFT names the trainable parameters in memory. */
function inMemory(name: string): string {
  return `${PEFT_PREFIX}${name}`.replace(/\.weight$/, '.default.weight');
}

beforeAll(async () => {
  ({ studio, ids, baseLogits, work } = await openStudio('lora-export'));

  // 1. A LoRA trained by the real trainer: 4 AdamW steps at batch 2 × 32 tokens.
  const trained = lora.create(studio.model, TRAINED, 42);
  const run = await trainOnText(studio, trained, TRAIN_TEXT, { steps: 4, learningRate: 1e-2 });
  trainResult = run.result;
  losses.push(...run.losses);
  cases.push(await exportCase('trained', TRAINED, trained));

  // 2. A LoRA with random, clearly non-zero B (A stays Kaiming-uniform).
  const random = lora.create(studio.model, RANDOM_B, 7);
  random.variables.forEach((v, i) => {
    if (i % 2 === 1) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', 100 + i)));
  });
  cases.push(await exportCase('random-b', RANDOM_B, random));

  // 3. Control: the trained adapter with its keys stripped of `base_model.model.`.
  const { tensors } = weightsOf(cases[0]);
  controlDir = join(work, 'control');
  writeFolder(controlDir, {
    [ADAPTER_CONFIG]: cases[0].files[ADAPTER_CONFIG],
    [ADAPTER_WEIGHTS]: writeSafetensors(
      [...tensors].map(([name, t]) => ({ name: name.slice(PEFT_PREFIX.length), shape: t.shape, data: t.data as Float32Array })),
      { format: 'pt' },
    ),
  });

  // 4. Control: the trained adapter plus one tensor for a module it does not target.
  const extraDir = join(work, 'control-extra');
  writeFolder(extraDir, {
    [ADAPTER_CONFIG]: cases[0].files[ADAPTER_CONFIG],
    [ADAPTER_WEIGHTS]: writeSafetensors(
      [
        ...[...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data as Float32Array })),
        { name: EXTRA_KEY, shape: [TRAINED.r, 128], data: new Float32Array(TRAINED.r * 128).fill(0.5) },
      ],
      { format: 'pt' },
    ),
  });

  peft = runPythonSpec<{ adapters: Record<string, AdapterReport> }>('peft_check.py', work, 'peft', {
    model_dir: MODEL_DIR,
    ids,
    adapters: [
      ...cases.map((c) => ({ name: c.name, dir: c.dir, resave_dir: c.resaveDir })),
      { name: 'control', dir: controlDir, resave_dir: join(work, 'control-resaved') },
      { name: 'control-extra', dir: extraDir, resave_dir: join(work, 'control-extra-resaved') },
    ],
  }).adapters;

  counts = runPythonSpec<Record<string, CountsReport>>('peft_counts.py', work, 'counts', {
    model_dir: MODEL_DIR,
    configs: [
      { name: 'peft-defaults', kwargs: { task_type: 'CAUSAL_LM' } },
      { name: 'r8-c_attn', kwargs: { r: 8, target_modules: ['c_attn'], task_type: 'CAUSAL_LM' } },
      ...cases.map((c) => ({ name: c.name, adapter_dir: c.dir })),
    ],
  });
});

afterAll(() => {
  for (const c of cases) c.adapter.dispose();
  studio?.model.dispose();
  cleanup(work);
});

describe('the adapters under test', () => {
  it('the trainer ran its steps with finite losses and moved every B off zero', () => {
    expect(trainResult).toEqual({ reason: 'finished', step: 4 });
    expectFiniteLosses(losses, 4);
    for (const c of cases) {
      const { tensors } = weightsOf(c);
      const bs = [...tensors].filter(([n]) => n.endsWith('.lora_B.weight'));
      expect(bs.length).toBe(lora.plan(studio.model.info, c.config).tensors.length / 2);
      for (const [name, t] of bs) expect((t.data as Float32Array).some((x) => x !== 0), `${c.name}: ${name} is non-zero`).toBe(true);
    }
  });

  it('adapter_config.json says what PEFT needs: LORA, CAUSAL_LM, r, alpha, targets, fan_in_fan_out', () => {
    for (const c of cases) {
      expect(configOf(c)).toMatchObject({
        peft_type: 'LORA',
        task_type: 'CAUSAL_LM',
        r: c.config.r,
        lora_alpha: c.config.lora_alpha,
        lora_dropout: c.config.lora_dropout,
        target_modules: c.config.target_modules,
        use_rslora: c.config.use_rslora,
        fan_in_fan_out: true,
        bias: 'none',
        inference_mode: true,
      });
    }
  });

  it(`each adapter moves the engine's logits by more than ${MIN_EFFECT}`, () => {
    for (const c of cases) expect(maxAbsDiff(c.logits, baseLogits), c.name).toBeGreaterThan(MIN_EFFECT);
  });
});

describe.each(['trained', 'random-b'])('PeftModel.from_pretrained on the studio export (%s)', (name) => {
  const c = () => cases.find((x) => x.name === name)!;
  const report = () => peft[name];

  it('loads without a single warning; the file carries {"format": "pt"}', () => {
    expect(report().load_warnings).toEqual([]);
    expect(report().metadata).toEqual({ format: 'pt' });
  });

  it('every tensor in adapter_model.safetensors lands on its lora_X.default.weight parameter, values equal', () => {
    const { tensors } = weightsOf(c());
    expect(report().file_keys).toEqual([...tensors.keys()].sort());
    expect(Object.keys(report().landed).length).toBe(lora.plan(studio.model.info, c().config).tensors.length);
    for (const [key, l] of Object.entries(report().landed)) {
      expect(l.found, `${key} → ${l.parameter}`).toBe(true);
      expect(l.shape_param, key).toEqual(l.shape_file);
      expect(l.shape_file, key).toEqual(tensors.get(key)!.shape);
      expect(l.max_abs_diff, key).toBe(0);
    }
  });

  it("PEFT's LoRA modules are exactly the studio's targets, each with both tensors, r and scaling as configured", () => {
    const planned = [...new Set(lora.plan(studio.model.info, c().config).tensors.map((t) => PEFT_PREFIX + t.name.replace(/\.lora_[AB]\.weight$/, '')))].sort();
    expect(Object.keys(report().lora_modules).sort()).toEqual(planned);
    for (const [mod, m] of Object.entries(report().lora_modules)) {
      expect(m.in_file, `${mod} has no tensors in the file`).toBe(true);
      expect(m.r, mod).toBe(c().config.r);
      expect(m.scaling, mod).toBeCloseTo(loraScaling(c().config), 12);
      expect(m.fan_in_fan_out, mod).toBe(true);
    }
  });

  it("PEFT would save exactly the file's keys, and re-placing them reports nothing missing or unexpected", () => {
    expect(report().peft_state_keys).toEqual(report().file_keys);
    expect(report().reload_result).toEqual({ missing_lora_keys: [], unexpected_keys: [], warnings: [] });
  });

  it('PEFT parsed adapter_config.json into the same LoRA config', () => {
    const cfg = report().peft_config;
    expect(cfg).toMatchObject({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      r: c().config.r,
      lora_alpha: c().config.lora_alpha,
      lora_dropout: c().config.lora_dropout,
      use_rslora: c().config.use_rslora,
      fan_in_fan_out: true,
      bias: 'none',
      use_dora: false,
    });
    expect(cfg.target_modules).toEqual([...c().config.target_modules].sort());
  });

  it(`computes the engine's logits (adapter.hooks(false)) within ${TOLERANCE}`, () => {
    expectStudioLogits(name, report(), c().logits, baseLogits);
  });

  it("PEFT's save_pretrained writes back a byte-identical adapter_model.safetensors", () => {
    const resaved = readFolder(c().resaveDir);
    expect(Object.keys(resaved)).toContain(ADAPTER_WEIGHTS);
    expect(Buffer.from(resaved[ADAPTER_WEIGHTS]).equals(Buffer.from(c().files[ADAPTER_WEIGHTS]))).toBe(true);
  });
});

describe('the checks can fail: an adapter whose keys lack base_model.model.', () => {
  it('is caught: PEFT warns of missing keys, no tensor lands, and the logits stay at the base model', () => {
    const r = peft.control;
    expect(r.load_warnings.join('\n')).toMatch(/Found missing adapter keys while loading the checkpoint/);
    for (const [key, l] of Object.entries(r.landed)) expect(l.found, key).toBe(false);
    expect(Object.values(r.lora_modules).every((m) => !m.in_file)).toBe(true);
    expect(r.reload_result.unexpected_keys.length).toBe(r.file_keys.length);
    // The silent no-op: PEFT's output is the base model's, far from the adapter's.
    expect(maxAbsDiff(flat(r.logits), baseLogits)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(flat(r.logits), cases[0].logits)).toBeGreaterThan(MIN_EFFECT);
  });
});

describe('the checks can fail: an adapter with one tensor PEFT has no module for', () => {
  it('PEFT 0.21 ignores it without a word; the per-key check and the reload result still catch it', () => {
    const r = peft['control-extra'];
    // What PEFT does (documented here so a change in PEFT shows up): no warning at all.
    expect(r.load_warnings).toEqual([]);
    expect(r.landed[EXTRA_KEY].found).toBe(false);
    expect(Object.entries(r.landed).filter(([, l]) => !l.found).map(([k]) => k)).toEqual([EXTRA_KEY]);
    expect(r.reload_result.unexpected_keys).toEqual([EXTRA_KEY]);
    expect(r.peft_state_keys).not.toContain(EXTRA_KEY);
    // The real tensors still landed: outputs are the trained adapter's.
    expect(maxAbsDiff(flat(r.logits), cases[0].logits)).toBeLessThan(TOLERANCE);
  });
});

describe("trainable-parameter counts equal PEFT's print_trainable_parameters", () => {
  it("PEFT's LoraConfig() defaults for GPT-2 are the studio's defaults, with the same counts", () => {
    const d = lora.defaults(studio.model.info);
    const py = counts['peft-defaults'];
    expect({ r: py.r, lora_alpha: py.lora_alpha, target_modules: py.target_modules }).toEqual({ r: d.r, lora_alpha: d.lora_alpha, target_modules: d.target_modules });
    for (const name of ['peft-defaults', 'r8-c_attn']) expectPlanCounts(counts[name], lora.plan(studio.model.info, d), inMemory, name, 'any');
  });

  it.each(['trained', 'random-b'])('get_peft_model with the exported config (%s) counts what lora.plan counts', (name) => {
    const c = cases.find((x) => x.name === name)!;
    const py = counts[name];
    expectPlanCounts(py, lora.plan(studio.model.info, c.config), inMemory, undefined, 'any');
    expect(py.fan_in_fan_out).toBe(true);
    // That the config names the base model 'tiny-gpt2' while it was loaded from a folder path is
    // the only thing get_peft_model may say.
    expect(py.warnings.filter((w) => !BASE_MODEL_RENAMED_WARNING.test(w))).toEqual([]);
  });
});
