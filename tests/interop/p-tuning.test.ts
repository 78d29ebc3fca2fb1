// P-tuning against the real Hugging Face PEFT 0.21, on the built-in model.
// (a) The encoder itself: the studio's MLP and LSTM prompt encoders (trained by the studio's
//     trainer, and an untrained 3-layer LSTM) are loaded with strict=True into PEFT's own
//     PromptEncoder built from the same PromptEncoderConfig — so every tensor name and shape
//     matches — and PEFT computes the same virtual tokens and the same logits. PEFT's
//     print_trainable_parameters equals the studio's plan for MLP and LSTM.
// (b) Studio → PEFT: the exports (the encoder's output as `prompt_embeddings`, as PEFT saves
//     P-tuning) load with PeftModel.from_pretrained with the tensor landing on PEFT's inference
//     embedding, no warning, equal logits and equal greedy generation.
// (c) PEFT → studio: PEFT trains MLP and LSTM P-tuning with AdamW and saves them; pTuning.load
//     restores the fixed prompt, says so, and computes the logits of PEFT's trained model.
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/io/safetensors';
import { PTuningAdapter, pTuning, type PTuningConfig } from '../../src/peft/p-tuning';
import type { Adapter } from '../../src/peft/types';
import {
  cleanup,
  expectCleanPeftSave,
  expectFiniteLosses,
  expectPlanCounts,
  expectPromptFileLoaded,
  expectSameWeightsFile,
  exportThroughZip,
  flat,
  importedAdapter,
  maxAbsDiff,
  MIN_EFFECT,
  openStudio,
  promptEncoderInMemory,
  type Studio,
  studioLogits,
  TOLERANCE,
  type ZippedExport,
} from './helpers';
import {
  type AdapterReport,
  type EncoderReport,
  expectCleanResave,
  expectSameGreedy,
  makePeftPromptAdapters,
  maxRowDiff,
  promptRows,
  realPositions,
  runPromptCheck,
  trainStudio,
  type VariantReport,
} from './prompt-learning';

const D = 128;

interface Case extends ZippedExport {
  name: string;
  config: PTuningConfig;
  adapter: PTuningAdapter;
  logits: Float32Array;
  prompt: number[][];
  losses: number[];
}

const STUDIO_CASES: { name: string; config: PTuningConfig; steps: number }[] = [
  // PEFT's defaults: MLP with encoder_hidden_size = token_dim.
  { name: 'mlp', config: { num_virtual_tokens: 10, encoder_reparameterization_type: 'MLP', encoder_hidden_size: D, encoder_num_layers: 2, encoder_dropout: 0 }, steps: 4 },
  { name: 'lstm', config: { num_virtual_tokens: 6, encoder_reparameterization_type: 'LSTM', encoder_hidden_size: 32, encoder_num_layers: 2, encoder_dropout: 0.1 }, steps: 4 },
  // Checked as an encoder only (not exported): three stacked layers, untrained.
  { name: 'lstm-3-layers', config: { num_virtual_tokens: 4, encoder_reparameterization_type: 'LSTM', encoder_hidden_size: 16, encoder_num_layers: 3, encoder_dropout: 0 }, steps: 0 },
];
const EXPORTED = ['mlp', 'lstm'];

const PEFT_VARIANTS: { name: string; seed: number; config: PTuningConfig }[] = [
  { name: 'peft-mlp', seed: 1, config: { num_virtual_tokens: 8, encoder_reparameterization_type: 'MLP', encoder_hidden_size: D, encoder_num_layers: 2, encoder_dropout: 0 } },
  { name: 'peft-lstm', seed: 2, config: { num_virtual_tokens: 6, encoder_reparameterization_type: 'LSTM', encoder_hidden_size: 32, encoder_num_layers: 2, encoder_dropout: 0 } },
];

let studio: Studio;
let work: string;
let ids: number[][];
let baseLogits: Float32Array;
const cases: Case[] = [];
let peft: { adapters: Record<string, AdapterReport>; encoders: Record<string, EncoderReport> };
let made: Record<string, VariantReport>;
const imported = new Map<string, Adapter>();

/** The virtual tokens the adapter prepends in eval mode, as [n][d]. */
async function promptOf(adapter: PTuningAdapter): Promise<number[][]> {
  const p = tf.tidy(() => tf.clone(adapter.prompt(false)));
  const data = (await p.data()) as Float32Array;
  const [n, d] = p.shape;
  p.dispose();
  return Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * d, (i + 1) * d)));
}

/** PromptEncoderConfig kwargs for a studio config. */
function peftKwargs(c: PTuningConfig) {
  return { task_type: 'CAUSAL_LM', ...c };
}

beforeAll(async () => {
  ({ studio, ids, baseLogits, work } = await openStudio('p-tuning'));

  const encoders = [];
  for (const [i, c] of STUDIO_CASES.entries()) {
    const adapter = pTuning.create(studio.model, c.config, 50 + i) as PTuningAdapter;
    const losses = c.steps ? await trainStudio(studio, adapter, c.steps, 1e-2) : [];
    // The whole encoder state under PEFT's PromptEncoder names, for (a).
    const state = join(work, `${c.name}-encoder.safetensors`);
    const tensors = [];
    for (const [name, v] of adapter.params) tensors.push({ name, shape: v.shape, data: (await v.data()) as Float32Array });
    writeFileSync(state, writeSafetensors(tensors, { format: 'pt' }));
    encoders.push({ name: c.name, config: peftKwargs(c.config), state });
    const exported = EXPORTED.includes(c.name) ? await exportThroughZip(work, c.name, adapter, 'tiny-gpt2-p-tuning') : { files: {}, dir: '', resaveDir: '' };
    cases.push({ name: c.name, config: c.config, adapter, ...exported, logits: await studioLogits(studio.model, ids, adapter.hooks(false)), prompt: await promptOf(adapter), losses });
  }

  peft = runPromptCheck(studio, ids, work, cases.filter((c) => EXPORTED.includes(c.name)), { encoders });
  made = makePeftPromptAdapters(
    studio,
    ids,
    work,
    ['Prompt encoders that PEFT trained, read by the studio.', 'Two rows of thirty-two bytes each, right here.'],
    PEFT_VARIANTS.map((v) => ({ name: v.name, seed: v.seed, steps: 2, lr: 1e-2, peft_type: 'P_TUNING', config: peftKwargs(v.config) })),
  );
});

afterAll(() => {
  for (const c of cases) c.adapter.dispose();
  for (const a of imported.values()) a.dispose();
  studio?.model.dispose();
  cleanup(work);
});

describe('the studio adapters under test', () => {
  it('trained with finite losses; each moves the real positions’ logits by more than the minimum effect', () => {
    for (const c of cases) {
      const steps = STUDIO_CASES.find((x) => x.name === c.name)!.steps;
      expectFiniteLosses(c.losses, steps, c.name);
      const real = realPositions(c.logits, ids, c.config.num_virtual_tokens, studio.model.info.config.vocabSize);
      expect(maxAbsDiff(real, baseLogits), c.name).toBeGreaterThan(MIN_EFFECT);
    }
  });
});

describe.each(STUDIO_CASES.map((c) => c.name))("PEFT's PromptEncoder with the studio's encoder weights (%s)", (name) => {
  const c = () => cases.find((x) => x.name === name)!;
  const r = () => peft.encoders[name];

  it('takes every tensor by name and shape (load_state_dict strict), with no warning', () => {
    expect(r().warnings).toEqual([]);
    expect(r().load_result).toEqual({ missing: [], unexpected: [] });
    expect(r().state_keys).toEqual([...c().adapter.params.keys()].sort());
  });

  it("counts what the studio's plan counts: print_trainable_parameters, and the same tensors in the same order", () => {
    expectPlanCounts(r().counts, pTuning.plan(studio.model.info, c().config), promptEncoderInMemory);
  });

  it(`computes the same virtual tokens and, through the encoder, the same logits within ${TOLERANCE}`, () => {
    const prompt = maxRowDiff(r().prompt, c().prompt);
    const logits = maxAbsDiff(flat(r().logits), c().logits);
    console.log(`${name}: max |PEFT − studio| prompt ${prompt.toExponential(2)}, logits ${logits.toExponential(2)}`);
    expect(prompt).toBeLessThan(1e-5);
    expect(logits).toBeLessThan(TOLERANCE);
  });
});

describe.each(EXPORTED)('PeftModel.from_pretrained on the studio export (%s)', (name) => {
  const c = () => cases.find((x) => x.name === name)!;
  const r = () => peft.adapters[name];

  it('loads without a single warning; the file is {"format": "pt"} with the one tensor prompt_embeddings', () => {
    expectPromptFileLoaded(r());
  });

  it("the file holds the encoder's output; PEFT (inference mode, no encoder) prepends exactly it", () => {
    const n = c().config.num_virtual_tokens;
    expect(maxRowDiff(promptRows(c().files), c().prompt)).toBe(0);
    expect(r().encoder_params).toEqual({ 'embedding.weight': [n, D] });
    expect(r().landed_max_abs_diff).toBe(0);
    expect(maxRowDiff(r().prompt, c().prompt)).toBe(0);
  });

  it('PEFT parsed adapter_config.json into the same PromptEncoderConfig', () => {
    expect(r().peft_config).toMatchObject({
      peft_type: 'P_TUNING',
      task_type: 'CAUSAL_LM',
      token_dim: D,
      num_transformer_submodules: 1,
      num_attention_heads: 4,
      num_layers: 4,
      inference_mode: true,
      ...c().config,
    });
  });

  it(`computes the studio's logits within ${TOLERANCE} at every position, with or without an attention mask`, () => {
    const peftLogits = r().logits as number[][][];
    expect(peftLogits[0].length).toBe(c().config.num_virtual_tokens + ids[0].length);
    const adapted = maxAbsDiff(flat(peftLogits), c().logits);
    console.log(`${name}: max |PEFT − studio| adapted ${adapted.toExponential(2)}`);
    expect(maxAbsDiff(flat(r().base_logits), baseLogits)).toBeLessThan(TOLERANCE);
    expect(adapted).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(flat(r().logits_masked), flat(peftLogits))).toBe(0);
  });

  it('generates the same greedy continuation as the studio', async () => {
    await expectSameGreedy(studio, c().adapter, r());
  });

  it('PEFT re-saves the same tensor', () => {
    expectCleanResave(r());
    // Training-mode PEFT on the exported config counts what the studio planned.
    const p = pTuning.plan(studio.model.info, c().config);
    expect([r().counts.trainable, r().counts.all]).toEqual([p.trainable, p.total]);
  });
});

describe.each(PEFT_VARIANTS.map((v) => v.name))('pTuning.load on a PEFT save_pretrained folder (%s)', (name) => {
  const { folder, adapter } = importedAdapter(() => join(work, name), imported, (files) => pTuning.load(studio.model, files));

  it('PEFT made it cleanly: trained with finite losses, saved the folder, no warnings', () => {
    const r = made[name];
    expectCleanPeftSave(r, 2);
    // PEFT's trainable count for this config is the studio's plan for the same config.
    expect(pTuning.plan(studio.model.info, PEFT_VARIANTS.find((x) => x.name === name)!.config).trainable).toBe(r.trainable);
  });

  it('imports a fixed prompt — the saved encoder output, no encoder — and says so', async () => {
    const a = adapter();
    expect(a).toBeInstanceOf(PTuningAdapter);
    expect((a as PTuningAdapter).params.size).toBe(0);
    expect(a.variables.map((v) => v.shape)).toEqual([[PEFT_VARIANTS.find((v) => v.name === name)!.config.num_virtual_tokens, D]]);
    expect((a as PTuningAdapter).notice).toMatch(/fixed prompt/);
    expect(maxRowDiff(await promptOf(a as PTuningAdapter), made[name].saved_prompt.map((r) => r.map((v) => Math.fround(v))))).toBe(0);
  });

  it(`computes the logits of PEFT's trained model (prompt through its encoder) within ${TOLERANCE}`, async () => {
    const r = made[name];
    const ours = await studioLogits(studio.model, ids, adapter().hooks(false));
    const adapted = maxAbsDiff(flat(r.logits), ours);
    console.log(`${name}: max |PEFT − studio| ${adapted.toExponential(2)}`);
    expect(maxAbsDiff(flat(r.base_logits), baseLogits)).toBeLessThan(TOLERANCE);
    expect(adapted).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(flat(r.reloaded_logits), ours)).toBeLessThan(TOLERANCE);
    const n = PEFT_VARIANTS.find((v) => v.name === name)!.config.num_virtual_tokens;
    expect(maxAbsDiff(realPositions(ours, ids, n, studio.model.info.config.vocabSize), baseLogits)).toBeGreaterThan(MIN_EFFECT);
  });

  it("re-exports PEFT's adapter_model.safetensors byte for byte", async () => {
    await expectSameWeightsFile(adapter(), folder());
  });
});
