// Prompt tuning against the real Hugging Face PEFT 0.21, on the built-in model.
// (a) Studio → PEFT: a soft prompt trained by the studio's trainer and a TEXT-initialised one
//     are exported, zipped and unzipped as a person downloads them, then loaded by
//     PeftModel.from_pretrained. The file's `prompt_embeddings` must land on PEFT's prompt
//     embedding, PEFT must prepend exactly it, nothing may warn, and PEFT's logits — virtual
//     positions included, with or without an attention mask — and its greedy generation must
//     equal the studio's. PEFT's parameter count for the same config equals the studio's plan,
//     and PEFT's own TEXT initialisation equals the studio's for a text that is cut and one
//     that is repeated.
// (b) PEFT → studio: PEFT trains soft prompts (RANDOM and TEXT init) with AdamW and saves them;
//     promptTuning.load must compute PEFT's logits and re-export its tensor byte for byte.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promptTuning, type PromptTuningConfig } from '../../src/peft/prompt-tuning';
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

interface Case extends ZippedExport {
  name: string;
  config: PromptTuningConfig;
  adapter: Adapter;
  logits: Float32Array;
}

const STUDIO_CASES: { name: string; config: PromptTuningConfig; steps: number }[] = [
  { name: 'random-trained', config: { num_virtual_tokens: 8, prompt_tuning_init: 'RANDOM', prompt_tuning_init_text: '' }, steps: 4 },
  // 8 byte-level tokens repeated to 12: "Hi there" + "Hi t".
  { name: 'text-init', config: { num_virtual_tokens: 12, prompt_tuning_init: 'TEXT', prompt_tuning_init_text: 'Hi there' }, steps: 0 },
];

/** PEFT's TEXT init vs the studio's: one text longer than n (cut), one shorter (repeated). */
const TEXT_INITS = [
  { name: 'cut', n: 5, text: 'Summarise this article:' },
  { name: 'repeat', n: 11, text: 'Tl;dr' },
];

const PEFT_VARIANTS = [
  { name: 'peft-random', seed: 1, steps: 2, lr: 0.1, config: { task_type: 'CAUSAL_LM', num_virtual_tokens: 6 } },
  { name: 'peft-text', seed: 2, steps: 2, lr: 0.1, config: { task_type: 'CAUSAL_LM', num_virtual_tokens: 10, prompt_tuning_init: 'TEXT', prompt_tuning_init_text: 'Adapters' } },
];

let studio: Studio;
let work: string;
let ids: number[][];
let baseLogits: Float32Array;
const cases: Case[] = [];
const trainLosses: number[] = [];
let peft: { adapters: Record<string, AdapterReport>; text_inits: Record<string, { prompt: number[][] }> };
let made: Record<string, VariantReport>;
const imported = new Map<string, Adapter>();
const textInitAdapters = new Map<string, Adapter>();

beforeAll(async () => {
  ({ studio, ids, baseLogits, work } = await openStudio('prompt-tuning'));

  for (const [i, c] of STUDIO_CASES.entries()) {
    const adapter = promptTuning.create(studio.model, c.config, 40 + i, { tokenizer: studio.tokenizer });
    if (c.steps) trainLosses.push(...(await trainStudio(studio, adapter, c.steps, 0.1)));
    const exported = await exportThroughZip(work, c.name, adapter, 'tiny-gpt2-prompt-tuning');
    cases.push({ name: c.name, config: c.config, adapter, ...exported, logits: await studioLogits(studio.model, ids, adapter.hooks(false)) });
  }
  for (const t of TEXT_INITS) {
    textInitAdapters.set(t.name, promptTuning.create(studio.model, { num_virtual_tokens: t.n, prompt_tuning_init: 'TEXT', prompt_tuning_init_text: t.text }, 0, { tokenizer: studio.tokenizer }));
  }

  peft = runPromptCheck(studio, ids, work, cases, {
    text_inits: TEXT_INITS.map((t) => ({ name: t.name, config: { task_type: 'CAUSAL_LM', num_virtual_tokens: t.n, prompt_tuning_init: 'TEXT', prompt_tuning_init_text: t.text } })),
  });
  made = makePeftPromptAdapters(
    studio,
    ids,
    work,
    ['Soft prompts that PEFT trained, read by the studio.', 'Two rows of thirty-two bytes each, right here.'],
    PEFT_VARIANTS.map((v) => ({ ...v, peft_type: 'PROMPT_TUNING' })),
  );
});

afterAll(() => {
  for (const c of cases) c.adapter.dispose();
  for (const a of [...imported.values(), ...textInitAdapters.values()]) a.dispose();
  studio?.model.dispose();
  cleanup(work);
});

describe('the studio adapters under test', () => {
  it('trained with finite losses; each moves the logits by more than the minimum effect', () => {
    expectFiniteLosses(trainLosses, 4);
    // The real positions' logits (after the n virtual ones) differ from the plain model's.
    for (const c of cases) {
      const real = realPositions(c.logits, ids, c.config.num_virtual_tokens, studio.model.info.config.vocabSize);
      expect(maxAbsDiff(real, baseLogits), c.name).toBeGreaterThan(MIN_EFFECT);
    }
  });
});

describe.each(STUDIO_CASES.map((c) => c.name))('PeftModel.from_pretrained on the studio export (%s)', (name) => {
  const c = () => cases.find((x) => x.name === name)!;
  const r = () => peft.adapters[name];

  it('loads without a single warning; the file is {"format": "pt"} with the one tensor prompt_embeddings', () => {
    expectPromptFileLoaded(r());
  });

  it("the file's prompt_embeddings lands on PEFT's prompt embedding, and PEFT prepends exactly it", () => {
    const n = c().config.num_virtual_tokens;
    expect(r().encoder_params).toEqual({ 'embedding.weight': [n, 128] });
    expect(r().landed_max_abs_diff).toBe(0);
    expect(maxRowDiff(r().prompt, promptRows(c().files))).toBe(0);
  });

  it('PEFT parsed adapter_config.json into the same PromptTuningConfig', () => {
    const cfg = c().config;
    expect(r().peft_config).toMatchObject({
      peft_type: 'PROMPT_TUNING',
      task_type: 'CAUSAL_LM',
      num_virtual_tokens: cfg.num_virtual_tokens,
      token_dim: 128,
      num_transformer_submodules: 1,
      num_attention_heads: 4,
      num_layers: 4,
      prompt_tuning_init: cfg.prompt_tuning_init,
      prompt_tuning_init_text: cfg.prompt_tuning_init === 'TEXT' ? cfg.prompt_tuning_init_text : null,
      inference_mode: true,
    });
  });

  it(`computes the studio's logits within ${TOLERANCE} at every position (virtual ones included), with or without an attention mask`, () => {
    const n = c().config.num_virtual_tokens;
    const peftLogits = r().logits as number[][][];
    expect(peftLogits[0].length).toBe(n + ids[0].length);
    const base = maxAbsDiff(flat(r().base_logits), baseLogits);
    const adapted = maxAbsDiff(flat(peftLogits), c().logits);
    console.log(`${name}: max |PEFT − studio| base ${base.toExponential(2)}, adapted ${adapted.toExponential(2)}`);
    expect(base).toBeLessThan(TOLERANCE);
    expect(adapted).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(flat(r().logits_masked), flat(peftLogits))).toBe(0);
  });

  it('generates the same greedy continuation as the studio (positions shift the same way while decoding)', async () => {
    await expectSameGreedy(studio, c().adapter, r());
  });

  it("PEFT re-saves the same tensor, and counts what the studio's plan counts", () => {
    expectCleanResave(r());
    expectPlanCounts(r().counts, promptTuning.plan(studio.model.info, c().config), promptEncoderInMemory);
  });
});

describe("PEFT's own TEXT initialisation", () => {
  it.each(TEXT_INITS.map((t) => t.name))('equals the studio’s exactly (%s)', async (name) => {
    const t = TEXT_INITS.find((x) => x.name === name)!;
    const ids = studio.tokenizer.encode(t.text);
    // The case does what its name says.
    expect(name === 'cut' ? ids.length > t.n : ids.length < t.n).toBe(true);
    const adapter = textInitAdapters.get(name)!;
    const data = (await adapter.variables[0].data()) as Float32Array;
    const ours = Array.from({ length: t.n }, (_, i) => Array.from(data.subarray(i * 128, (i + 1) * 128)));
    expect(maxRowDiff(peft.text_inits[name].prompt, ours)).toBe(0);
  });
});

describe.each(PEFT_VARIANTS.map((v) => v.name))('promptTuning.load on a PEFT save_pretrained folder (%s)', (name) => {
  const { folder, adapter } = importedAdapter(() => join(work, name), imported, (files) => promptTuning.load(studio.model, files));

  it('PEFT made it cleanly: trained with finite losses, saved the folder, no warnings', () => {
    expectCleanPeftSave(made[name], 2);
  });

  it('imports the soft prompt as the one trainable tensor, PEFT’s parameter count', async () => {
    const a = adapter();
    expect(a.variables).toHaveLength(1);
    expect(a.variables[0].size).toBe(made[name].trainable);
    const data = (await a.variables[0].data()) as Float32Array;
    expect(Array.from(data)).toEqual(made[name].saved_prompt.flat().map((v) => Math.fround(v)));
  });

  it(`computes PEFT's logits within ${TOLERANCE}, and the prompt moves them by more than ${MIN_EFFECT}`, async () => {
    const r = made[name];
    const ours = await studioLogits(studio.model, ids, adapter().hooks(false));
    const adapted = maxAbsDiff(flat(r.logits), ours);
    console.log(`${name}: max |PEFT − studio| ${adapted.toExponential(2)}`);
    expect(maxAbsDiff(flat(r.base_logits), baseLogits)).toBeLessThan(TOLERANCE);
    expect(adapted).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(flat(r.reloaded_logits), flat(r.logits))).toBe(0);
    // The real positions must have moved away from the base model's.
    const n = PEFT_VARIANTS.find((v) => v.name === name)!.config.num_virtual_tokens;
    expect(maxAbsDiff(realPositions(ours, ids, n, studio.model.info.config.vocabSize), baseLogits)).toBeGreaterThan(MIN_EFFECT);
  });

  it("re-exports PEFT's adapter_model.safetensors byte for byte", async () => {
    await expectSameWeightsFile(adapter(), folder());
  });
});
