// (c) Hugging Face PEFT → studio. PEFT makes LoRA adapters on the built-in model (B non-zero via
// init_lora_weights=False, then a couple of real AdamW steps) and saves them with
// save_pretrained; the studio imports the folder with lora.load and must compute PEFT's logits.
// The adapters must move the logits clearly, so a no-op import cannot pass.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTER_CONFIG, PEFT_PREFIX } from '../../src/export/peft-files';
import { lora, loraScaling } from '../../src/peft/lora';
import type { Adapter } from '../../src/peft/types';
import {
  cleanup,
  expectCleanPeftSave,
  expectImportedLogits,
  expectSameWeightsFile,
  importedAdapter,
  MIN_EFFECT,
  MODEL_DIR,
  openStudio,
  peftTrainIds,
  runPythonSpec,
  type Studio,
  studioLogits,
  TOLERANCE,
} from './helpers';

interface Variant {
  name: string;
  seed: number;
  steps: number;
  config: Record<string, unknown>;
  /** What the studio must make of it: modules, r, scaling. */
  expect: { modules: string[]; r: number; scaling: number };
}

const layers = [0, 1, 2, 3];
const VARIANTS: Variant[] = [
  {
    name: 'c_attn-r4',
    seed: 1,
    steps: 2,
    config: { r: 4, lora_alpha: 16, target_modules: ['c_attn'], init_lora_weights: false, fan_in_fan_out: true, task_type: 'CAUSAL_LM' },
    expect: { modules: layers.map((i) => `transformer.h.${i}.attn.c_attn`), r: 4, scaling: 16 / 4 },
  },
  {
    name: 'all-linears-rslora',
    seed: 2,
    steps: 2,
    config: {
      r: 8,
      lora_alpha: 8,
      lora_dropout: 0.1,
      use_rslora: true,
      target_modules: ['c_attn', 'c_proj', 'c_fc'],
      init_lora_weights: false,
      fan_in_fan_out: true,
      task_type: 'CAUSAL_LM',
    },
    expect: {
      modules: layers.flatMap((i) => ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'].map((m) => `transformer.h.${i}.${m}`)),
      r: 8,
      scaling: 8 / Math.sqrt(8),
    },
  },
  {
    // A string target_modules is a full-match regex over module paths in PEFT.
    name: 'regex-c_fc-odd-layers',
    seed: 3,
    steps: 0,
    config: { r: 2, lora_alpha: 4, target_modules: 'transformer\\.h\\.[13]\\.mlp\\.c_fc', init_lora_weights: false, fan_in_fan_out: true, task_type: 'CAUSAL_LM' },
    expect: { modules: ['transformer.h.1.mlp.c_fc', 'transformer.h.3.mlp.c_fc'], r: 2, scaling: 2 },
  },
];

interface VariantReport {
  logits: unknown;
  base_logits: unknown;
  losses: number[];
  trainable: number;
  scalings: Record<string, number>;
  warnings: string[];
  files: string[];
}

let studio: Studio;
let work: string;
let ids: number[][];
let baseLogits: Float32Array;
let report: Record<string, VariantReport>;
const loaded = new Map<string, Adapter>();

beforeAll(async () => {
  ({ studio, ids, baseLogits, work } = await openStudio('peft-import'));
  report = runPythonSpec<{ variants: Record<string, VariantReport> }>('peft_make_adapter.py', work, 'make', {
    model_dir: MODEL_DIR,
    ids,
    train_ids: peftTrainIds(studio, ['Adapters made by PEFT, read by the studio.', 'Two rows of thirty-two bytes each, here.']),
    variants: VARIANTS.map((v) => ({ name: v.name, seed: v.seed, steps: v.steps, config: v.config, out_dir: join(work, v.name) })),
  }).variants;
});

afterAll(() => {
  for (const a of loaded.values()) a.dispose();
  studio?.model.dispose();
  cleanup(work);
});

describe.each(VARIANTS)('lora.load on a PEFT save_pretrained folder ($name)', (v) => {
  const { folder, adapter } = importedAdapter(() => join(work, v.name), loaded, (files) => lora.load(studio.model, files));

  it('PEFT made it cleanly: the folder as save_pretrained writes it, finite training losses, no warnings', () => {
    expectCleanPeftSave(report[v.name], v.steps);
  });

  it('imports the whole folder: every module PEFT adapted, its parameter count and scaling', () => {
    const a = adapter();
    expect(a.variables.length).toBe(2 * v.expect.modules.length);
    const trainable = a.variables.reduce((s, x) => s + x.size, 0);
    expect(trainable).toBe(report[v.name].trainable);
    // PEFT's modules and scaling (alpha/r, or alpha/√r with rsLoRA) are what the studio expects,
    // and the studio's scaling rule gives the same number from the saved config.
    const scalings = report[v.name].scalings;
    expect(Object.keys(scalings).sort()).toEqual(v.expect.modules.map((m) => `${PEFT_PREFIX}${m}`).sort());
    const cfg = JSON.parse(new TextDecoder().decode(folder()[ADAPTER_CONFIG])) as Record<string, unknown>;
    const ours = loraScaling({ r: Number(cfg.r), lora_alpha: Number(cfg.lora_alpha), use_rslora: cfg.use_rslora === true, lora_dropout: 0, target_modules: [] });
    for (const [m, s] of Object.entries(scalings)) expect(s, m).toBeCloseTo(ours, 12);
    expect(ours).toBeCloseTo(v.expect.scaling, 12);
  });

  it(`computes PEFT's logits within ${TOLERANCE}, and the adapter moves them by more than ${MIN_EFFECT}`, async () => {
    expectImportedLogits(v.name, report[v.name], await studioLogits(studio.model, ids, adapter().hooks(false)), baseLogits);
  });

  it("re-exports PEFT's adapter_model.safetensors byte for byte", async () => {
    await expectSameWeightsFile(adapter(), folder());
  });
});
