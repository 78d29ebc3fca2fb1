// Prefix tuning and P-tuning v2 against the real Hugging Face PEFT (PREFIX_TUNING), both ways.
//
// Studio → PEFT: three adapters made by the engine on the built-in model (prefix tuning with its
// MLP and P-tuning v2, each trained a few steps by the real trainer; P-tuning v2 with the optional
// MLP, untrained) are exported, zipped and unzipped as a person downloads them, and loaded with
// PeftModel.from_pretrained. The saved prefix must land on PEFT's prompt encoder, PEFT's per-layer
// keys/values (get_prompt → DynamicCache) must be the engine's kvPrefix tensors, the logits and a
// greedy generation must equal the engine's, and PEFT must count what `plan` counts. A control
// with each layer's key and value swapped proves that the comparison sees the layout.
//
// PEFT → studio: PEFT trains PREFIX_TUNING adapters (prefix_projection true and false) and saves
// them; the studio picks the right method from the files alone, loads them and computes PEFT's
// logits.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from '../../src/export/peft-files';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { generate } from '../../src/models/generate';
import { lora } from '../../src/peft/lora';
import { prefixGeometry, prefixTuning, type PrefixTuningConfig } from '../../src/peft/prefix-tuning';
import { pTuningV2 } from '../../src/peft/p-tuning-v2';
import type { Adapter, PeftMethod } from '../../src/peft/types';
import { causalLmLoss } from '../../src/train/loss';
import {
  BASE_MODEL_RENAMED_WARNING,
  cleanup,
  expectCleanPeftSave,
  expectFiniteLosses,
  expectImportedLogits,
  expectPlanCounts,
  expectPromptFileLoaded,
  expectSameWeightsFile,
  expectStudioLogits,
  exportThroughZip,
  flat,
  importedAdapter,
  maxAbsDiff,
  MIN_EFFECT,
  MODEL_DIR,
  openStudio,
  type PeftCounts,
  peftTrainIds,
  promptEncoderInMemory,
  type PromptFileReport,
  readFolder,
  RESAVE_BASE_MODEL_WARNING,
  runPythonSpec,
  type Studio,
  studioLogits,
  TOLERANCE,
  trainOnText,
  writeFolder,
} from './helpers';

const GEN_NEW = 8;

const TRAIN_TEXT = [
  'The quick brown fox jumps over the lazy dog, and the dog sleeps on.',
  'A small model learns a little from a little text, one step at a time.',
  'Prefixes sit in front of every layer and steer what attention reads.',
  'Nothing leaves the browser: the data, the weights and the adapter stay here.',
];

interface StudioCaseSpec {
  name: string;
  method: PeftMethod<PrefixTuningConfig>;
  config: (d: number) => PrefixTuningConfig;
  trainSteps: number;
  learningRate: number;
  /** prefix_projection as the export must write it. */
  savedProjection: boolean;
}

const STUDIO_CASES: StudioCaseSpec[] = [
  { name: 'prefix-tuning-trained', method: prefixTuning, config: (d) => ({ num_virtual_tokens: 20, prefix_projection: true, encoder_hidden_size: d }), trainSteps: 3, learningRate: 1e-2, savedProjection: true },
  { name: 'p-tuning-v2-trained', method: pTuningV2, config: (d) => ({ num_virtual_tokens: 20, prefix_projection: false, encoder_hidden_size: d }), trainSteps: 3, learningRate: 1e-1, savedProjection: false },
  { name: 'p-tuning-v2-mlp', method: pTuningV2, config: () => ({ num_virtual_tokens: 7, prefix_projection: true, encoder_hidden_size: 32 }), trainSteps: 0, learningRate: 0, savedProjection: false },
];

interface CountsReport extends PeftCounts {
  warnings: string[];
}

interface LayerPrompt {
  keys: unknown;
  values: unknown;
  shape: number[];
}

interface CheckReport extends PromptFileReport {
  landed: { encoder_params: Record<string, number[]>; max_abs_diff: number | null };
  peft_config: Record<string, unknown>;
  prompt: LayerPrompt[];
  logits: unknown;
  loss: number;
  base_logits: unknown;
  generated: number[];
  generate_warnings: string[];
  save_warnings: string[];
  counts: CountsReport;
}

interface StudioCase {
  spec: StudioCaseSpec;
  config: PrefixTuningConfig;
  adapter: Adapter;
  files: Record<string, Uint8Array>;
  dir: string;
  resaveDir: string;
  logits: Float32Array;
  generated: number[];
  losses: number[];
}

interface Variant {
  name: string;
  seed: number;
  steps: number;
  config: Record<string, unknown>;
  /** The studio method that must claim the files, and the settings it reads from them. */
  expect: { method: string; config: PrefixTuningConfig };
}

const VARIANTS: Variant[] = [
  {
    name: 'peft-projection',
    seed: 1,
    steps: 2,
    config: { task_type: 'CAUSAL_LM', num_virtual_tokens: 6, prefix_projection: true, encoder_hidden_size: 48 },
    expect: { method: 'prefix-tuning', config: { num_virtual_tokens: 6, prefix_projection: true, encoder_hidden_size: 48 } },
  },
  {
    name: 'peft-direct',
    seed: 2,
    steps: 2,
    config: { task_type: 'CAUSAL_LM', num_virtual_tokens: 10 },
    expect: { method: 'p-tuning-v2', config: { num_virtual_tokens: 10, prefix_projection: false, encoder_hidden_size: 128 } },
  },
];

interface VariantReport extends CountsReport {
  logits: unknown;
  base_logits: unknown;
  losses: number[];
  files: string[];
}

interface DefaultsReport extends CountsReport {
  resolved: Record<string, unknown>;
}

let studio: Studio;
let work: string;
let ids: number[][];
let genIds: number[];
let baseLogits: Float32Array;
let baseGenerated: number[];
const cases: StudioCase[] = [];
let swappedLogits: Float32Array;
let peft: Record<string, CheckReport>;
let made: { variants: Record<string, VariantReport>; counts: Record<string, DefaultsReport> };
const imported = new Map<string, Adapter>();

/** PEFT's counts are the method's plan for `config` (prompt-encoder parameters named as PEFT holds them). */
function expectCounts(py: CountsReport, method: PeftMethod<PrefixTuningConfig>, config: PrefixTuningConfig, label: string) {
  expectPlanCounts(py, method.plan(studio.model.info, config), promptEncoderInMemory, label);
}

/** `steps` steps of the studio's trainer on TRAIN_TEXT, reading every loss back; none for 0 steps. */
async function trainFor(adapter: Adapter, steps: number, learningRate: number): Promise<number[]> {
  if (steps === 0) return [];
  return (await trainOnText(studio, adapter, TRAIN_TEXT, { steps, learningRate, readbackEvery: 1 })).losses;
}

const greedy = { maxNewTokens: GEN_NEW, temperature: 0, topK: 0, seed: 0 };

beforeAll(async () => {
  ({ studio, ids, baseLogits, work } = await openStudio('prefix-tuning'));
  genIds = studio.tokenizer.encode('The quick brown');
  baseGenerated = await generate(studio.model, {}, genIds, { ...greedy, eosId: studio.tokenizer.eosId });
  const d = studio.model.info.config.hiddenSize;

  for (const [i, spec] of STUDIO_CASES.entries()) {
    const config = spec.config(d);
    const adapter = spec.method.create(studio.model, config, 40 + i);
    const losses = await trainFor(adapter, spec.trainSteps, spec.learningRate);
    const exported = await exportThroughZip(work, spec.name, adapter);
    const logits = await studioLogits(studio.model, ids, adapter.hooks(false));
    const generated = await generate(studio.model, adapter.hooks(false), genIds, { ...greedy, eosId: studio.tokenizer.eosId });
    cases.push({ spec, config, adapter, ...exported, logits, generated, losses });
  }

  // Control: the trained prefix-tuning export with every layer's key and value slots swapped.
  const g = prefixGeometry(studio.model.info);
  const original = readSafetensors(cases[0].files[ADAPTER_WEIGHTS], ADAPTER_WEIGHTS).tensors.get('prompt_embeddings')!;
  const P = original.data as Float32Array;
  const swapped = new Float32Array(P.length);
  const n = original.shape[0];
  for (let t = 0; t < n; t++) {
    for (let layer = 0; layer < g.layers; layer++) {
      const row = t * g.width;
      const k = row + 2 * layer * g.tokenDim;
      const v = k + g.tokenDim;
      swapped.set(P.subarray(v, v + g.tokenDim), k);
      swapped.set(P.subarray(k, k + g.tokenDim), v);
    }
  }
  const swappedDir = join(work, 'control-swapped-kv');
  writeFolder(swappedDir, {
    [ADAPTER_CONFIG]: cases[0].files[ADAPTER_CONFIG],
    [ADAPTER_WEIGHTS]: writeSafetensors([{ name: 'prompt_embeddings', shape: original.shape, data: swapped }], { format: 'pt' }),
  });
  const swappedAdapter = prefixTuning.load(studio.model, readFolder(swappedDir));
  swappedLogits = await studioLogits(studio.model, ids, swappedAdapter.hooks(false));
  swappedAdapter.dispose();

  peft = runPythonSpec<{ adapters: Record<string, CheckReport> }>('prefix_check.py', work, 'check', {
    model_dir: MODEL_DIR,
    ids,
    gen_ids: genIds,
    gen_new: GEN_NEW,
    adapters: [
      ...cases.map((c) => ({ name: c.spec.name, dir: c.dir, resave_dir: c.resaveDir })),
      { name: 'control-swapped-kv', dir: swappedDir, resave_dir: join(work, 'control-resaved') },
    ],
  }).adapters;

  made = runPythonSpec('prefix_make_adapter.py', work, 'make', {
    model_dir: MODEL_DIR,
    ids,
    train_ids: peftTrainIds(studio, ['Prefixes made by PEFT, read by the studio.', 'Two rows of thirty-two bytes each, here.']),
    variants: VARIANTS.map((v) => ({ name: v.name, seed: v.seed, steps: v.steps, config: v.config, out_dir: join(work, v.name) })),
    counts: [
      { name: 'peft-defaults', config: { task_type: 'CAUSAL_LM', num_virtual_tokens: 20 } },
      { name: 'peft-defaults-projection', config: { task_type: 'CAUSAL_LM', num_virtual_tokens: 20, prefix_projection: true } },
    ],
  });
});

afterAll(() => {
  for (const c of cases) c.adapter.dispose();
  for (const a of imported.values()) a.dispose();
  studio?.model.dispose();
  cleanup(work);
});

describe('the studio adapters under test', () => {
  it('the trainer ran its steps with finite losses; every adapter moves the logits and the greedy continuation', () => {
    for (const c of cases) {
      expectFiniteLosses(c.losses, c.spec.trainSteps, c.spec.name);
      expect(maxAbsDiff(c.logits, baseLogits), c.spec.name).toBeGreaterThan(MIN_EFFECT);
      expect(c.generated.length, c.spec.name).toBeGreaterThan(0);
    }
    // The built-in model is random and its greedy text collapses to one repeated byte; the
    // trained prefix-tuning adapter changes it, so the generation comparison below is not
    // only comparing the base model's text.
    expect(cases[0].generated).not.toEqual(baseGenerated);
  });

  it('adapter_config.json says PREFIX_TUNING for CAUSAL_LM with the model-derived sizes, prefix_projection as each method saves it', () => {
    for (const c of cases) {
      const cfg = JSON.parse(new TextDecoder().decode(c.files[ADAPTER_CONFIG])) as Record<string, unknown>;
      expect(cfg, c.spec.name).toMatchObject({
        peft_type: 'PREFIX_TUNING',
        task_type: 'CAUSAL_LM',
        num_virtual_tokens: c.config.num_virtual_tokens,
        prefix_projection: c.spec.savedProjection,
        encoder_hidden_size: c.config.encoder_hidden_size,
        token_dim: 128,
        num_layers: 4,
        num_attention_heads: 4,
        num_transformer_submodules: 1,
        inference_mode: true,
      });
    }
  });
});

describe.each(STUDIO_CASES.map((s) => s.name))('PeftModel.from_pretrained on the studio export (%s)', (name) => {
  const c = () => cases.find((x) => x.spec.name === name)!;
  const report = () => peft[name];

  it('loads without a single warning; the file carries {"format": "pt"} and one tensor, prompt_embeddings', () => {
    expectPromptFileLoaded(report());
  });

  it("prompt_embeddings lands on PEFT's prompt encoder (inference mode: one [n, L·2·d] embedding), values equal", () => {
    const n = c().config.num_virtual_tokens;
    expect(report().landed.encoder_params).toEqual({ 'default.embedding.weight': [n, 4 * 2 * 128] });
    expect(report().landed.max_abs_diff).toBe(0);
  });

  it('PEFT parsed adapter_config.json into the same PrefixTuningConfig', () => {
    expect(report().peft_config).toMatchObject({
      peft_type: 'PREFIX_TUNING',
      task_type: 'CAUSAL_LM',
      num_virtual_tokens: c().config.num_virtual_tokens,
      token_dim: 128,
      num_layers: 4,
      num_attention_heads: 4,
      num_transformer_submodules: 1,
      prefix_projection: c().spec.savedProjection,
      encoder_hidden_size: c().config.encoder_hidden_size,
      inference_mode: true,
    });
  });

  it("PEFT's per-layer keys and values (get_prompt → DynamicCache) are the engine's kvPrefix tensors, exactly", async () => {
    const hooks = c().adapter.hooks(false);
    const n = c().config.num_virtual_tokens;
    expect(report().prompt).toHaveLength(4);
    for (const [layer, p] of report().prompt.entries()) {
      expect(p.shape, `layer ${layer}`).toEqual([1, 4, n, 32]);
      const kv = hooks.kvPrefix!(layer, 1)!;
      const [k, v] = (await Promise.all([kv.k.data(), kv.v.data()])) as Float32Array[];
      tf.dispose([kv.k, kv.v]);
      expect(maxAbsDiff(flat(p.keys), k), `layer ${layer} keys`).toBe(0);
      expect(maxAbsDiff(flat(p.values), v), `layer ${layer} values`).toBe(0);
    }
  });

  it(`computes the engine's logits (adapter.hooks(false)) within ${TOLERANCE}`, () => {
    expectStudioLogits(name, report(), c().logits, baseLogits);
  });

  it("the training loss is PEFT's: labels are not shifted for the prefix (it is in the cache, not the sequence)", () => {
    const labels = Int32Array.from(ids.flat());
    const loss = tf.tidy(() => causalLmLoss(tf.tensor3d(c().logits, [ids.length, ids[0].length, 257]), labels, 0).loss.dataSync()[0]);
    expect(Math.abs(report().loss - loss)).toBeLessThan(TOLERANCE);
  });

  it("greedy generation with PEFT's generate() gives the studio's generate() tokens", () => {
    expect(report().generated).toEqual(c().generated);
  });

  it("PEFT's save_pretrained writes back a byte-identical adapter_model.safetensors", () => {
    // The export names the base model 'tiny-gpt2' (its id, not a path); PEFT looks for that
    // folder to see whether the vocabulary changed and says it cannot. Nothing else may warn.
    expect(report().save_warnings.filter((w) => !RESAVE_BASE_MODEL_WARNING.test(w))).toEqual([]);
    const resaved = readFolder(c().resaveDir);
    expect(Buffer.from(resaved[ADAPTER_WEIGHTS]).equals(Buffer.from(c().files[ADAPTER_WEIGHTS]))).toBe(true);
  });

  it("get_peft_model with the exported config counts what the method's plan counts for it", () => {
    const cfg = JSON.parse(new TextDecoder().decode(c().files[ADAPTER_CONFIG])) as Record<string, unknown>;
    // The config as the file describes it (P-tuning v2 with its optional MLP saves prefix_projection false).
    const described: PrefixTuningConfig = { ...c().config, prefix_projection: cfg.prefix_projection === true };
    expectCounts(report().counts, c().spec.method, described, name);
    expect(report().counts.warnings.filter((w) => !BASE_MODEL_RENAMED_WARNING.test(w))).toEqual([]);
  });
});

describe('the checks can fail: an export with each layer\'s key and value swapped', () => {
  it("PEFT loads it silently, and its keys are the original's values: the logits comparison tells them apart", async () => {
    const r = peft['control-swapped-kv'];
    expect(r.load_warnings).toEqual([]);
    const hooks = cases[0].adapter.hooks(false);
    const kv = hooks.kvPrefix!(2, 1)!;
    const v = (await kv.v.data()) as Float32Array;
    tf.dispose([kv.k, kv.v]);
    expect(maxAbsDiff(flat(r.prompt[2].keys), v)).toBe(0);
    // PEFT agrees with the studio reading the same swapped file, and both are far from the original.
    expect(maxAbsDiff(flat(r.logits), swappedLogits)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(flat(r.logits), cases[0].logits)).toBeGreaterThan(MIN_EFFECT);
  });
});

describe.each(VARIANTS)('PEFT-trained PREFIX_TUNING adapter → studio ($name)', (v) => {
  const methods = [prefixTuning, pTuningV2];
  const { folder, adapter } = importedAdapter(() => join(work, v.name), imported, (files) => methods.find((m) => m.recognizes(files))!.load(studio.model, files));

  it('PEFT made it cleanly: the folder as save_pretrained writes it, finite training losses, no warnings', () => {
    expectCleanPeftSave(made.variants[v.name], v.steps);
  });

  it(`is claimed by ${v.expect.method} alone (and not by LoRA), from adapter_config.json`, () => {
    const claimed = [...methods, lora].filter((m) => m.recognizes(folder())).map((m) => m.id);
    expect(claimed).toEqual([v.expect.method]);
  });

  it("imports as a fixed [n, L·2·d] prefix; PEFT's trainable count for its training config is the method's plan", () => {
    const n = v.expect.config.num_virtual_tokens;
    expect(adapter().variables.map((x) => x.shape)).toEqual([[n, 4 * 2 * 128]]);
    const method = methods.find((m) => m.id === v.expect.method)!;
    expectCounts(made.variants[v.name], method, v.expect.config, v.name);
  });

  it(`computes PEFT's logits within ${TOLERANCE}, and the adapter moves them by more than ${MIN_EFFECT}`, async () => {
    expectImportedLogits(v.name, made.variants[v.name], await studioLogits(studio.model, ids, adapter().hooks(false)), baseLogits);
  });

  it("re-exports PEFT's adapter_model.safetensors byte for byte", async () => {
    await expectSameWeightsFile(adapter(), folder());
  });
});

describe("defaults and counts against PEFT's PrefixTuningConfig", () => {
  it("P-tuning v2's defaults are PEFT's PrefixTuningConfig defaults, with the same counts", () => {
    const py = made.counts['peft-defaults'];
    const d = pTuningV2.defaults(studio.model.info);
    expect(py.resolved).toEqual({ num_virtual_tokens: 20, token_dim: 128, num_layers: 4, num_attention_heads: 4, num_transformer_submodules: 1, encoder_hidden_size: d.encoder_hidden_size, prefix_projection: d.prefix_projection });
    expectCounts(py, pTuningV2, d, 'peft-defaults');
  });

  it("Prefix tuning's defaults are PEFT's with prefix_projection on (h = token_dim), with the same counts", () => {
    const py = made.counts['peft-defaults-projection'];
    const d = prefixTuning.defaults(studio.model.info);
    expect(py.resolved).toMatchObject({ num_virtual_tokens: d.num_virtual_tokens, encoder_hidden_size: d.encoder_hidden_size, prefix_projection: true });
    expectCounts(py, prefixTuning, d, 'peft-defaults-projection');
    for (const name of ['peft-defaults', 'peft-defaults-projection']) expect(made.counts[name].warnings, name).toEqual([]);
  });
});
