// Base models of other families, the way a person brings them: transformers saves tiny random
// Llama and Qwen2 checkpoints (the Qwen2 one in bfloat16 with its q/k/v biases, sharded), each
// folder's files are handed to the worker session as "Load model from disk" hands them over,
// and the session's model must give transformers' logits. Then LoRA trains a few steps through
// the session on a dropped dataset, the session exports the adapter, and PEFT loads it onto the
// same checkpoint with every key landing and the studio's logits; so does a P-tuning v2 export,
// whose prefixes PEFT sizes by the key/value heads under grouped-query attention, and a prompt
// tuning export. P-tuning, prefix tuning, Houlsby adapters and BitFit (or its refusal) follow on
// the same checkpoints.
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/io/safetensors';
import { unzipFiles } from '../../src/io/zip';
import { generate } from '../../src/models/generate';
import { BITFIT_WEIGHTS } from '../../src/peft/bitfit';
import type { FromWorker, TrainConfig } from '../../src/worker/protocol';
import { StudioSession } from '../../src/worker/session';
import { cleanup, fixedIds, flat, loadStudioModel, maxAbsDiff, MIN_EFFECT, MODEL_DIR, readFolder, runPythonSpec, studioLogits, tempDir, TOLERANCE, writeFolder } from './helpers';

/** The sizes every variant shares; vocab 5000 holds the built-in tokenizer, copied beside each. */
const SIZES = { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 128, vocab_size: 5000, max_position_embeddings: 256 };

interface Variant {
  name: string;
  class: string;
  config: Record<string, unknown>;
  dtype: 'float32' | 'bfloat16';
  max_shard_size: string | null;
  /** PEFT's default LoRA targets for the family, which the studio must pick by itself. */
  targets: string[];
}

const VARIANTS: Variant[] = [
  { name: 'llama', class: 'LlamaConfig', config: { ...SIZES, tie_word_embeddings: false }, dtype: 'float32', max_shard_size: null, targets: ['q_proj', 'v_proj'] },
  { name: 'qwen2', class: 'Qwen2Config', config: { ...SIZES, tie_word_embeddings: true, rope_theta: 1_000_000 }, dtype: 'bfloat16', max_shard_size: '300KB', targets: ['q_proj', 'v_proj'] },
];

interface Made {
  files: string[];
  dtypes: string[];
  warnings: string[];
  num_parameters: number;
  logits: unknown;
}

interface Landed {
  found: boolean;
  max_abs_diff: number | null;
}

interface PeftReport {
  load_warnings: string[];
  file_keys: string[];
  landed: Record<string, Landed>;
  lora_modules: Record<string, { in_file: boolean; fan_in_fan_out: boolean }>;
  reload_result: { missing_lora_keys: string[]; unexpected_keys: string[] };
  logits: unknown;
  base_logits: unknown;
}

interface PrefixReport {
  load_warnings: string[];
  landed: { max_abs_diff: number | null };
  peft_config: Record<string, unknown>;
  prompt: { shape: number[] }[];
  logits: unknown;
}

interface PromptReport {
  load_warnings: string[];
  landed_max_abs_diff: number | null;
  logits: unknown;
}

const TRAIN: TrainConfig = { steps: 3, epochs: 1, batchSize: 2, sequenceLength: 24, learningRate: 0.05, warmupSteps: 0, weightDecay: 0, maxGradNorm: 1, evalFraction: 0, evalEvery: 0, seed: 7 };
const DATASET = Array.from({ length: 8 }, (_, i) => JSON.stringify({ text: `Line ${i}: a small model learns a little from a little text, one step at a time.` })).join('\n');

let work: string;
let ids: number[][];
let made: Record<string, Made>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = tempDir('families');
  const builtIn = loadStudioModel();
  ids = fixedIds(builtIn.tokenizer);
  builtIn.model.dispose();
  made = runPythonSpec<{ variants: Record<string, Made> }>('families_make.py', work, 'make', {
    ids,
    tokenizer_dir: MODEL_DIR,
    variants: VARIANTS.map((v) => ({ ...v, dir: join(work, v.name) })),
  }).variants;
}, 600_000);

afterAll(() => cleanup(work));

/** A session on the cpu backend, with every message it sends kept. */
async function session() {
  const events: FromWorker[] = [];
  const s = new StudioSession((m) => events.push(m));
  await s.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
  const last = <T extends FromWorker['type']>(type: T) => events.filter((e): e is Extract<FromWorker, { type: T }> => e.type === type).at(-1);
  return { s, events, last };
}

describe.each(VARIANTS)('$name from disk', (v) => {
  it('is saved as asked: its dtype, its shards, the tokenizer beside it', () => {
    const m = made[v.name];
    expect(m.warnings).toEqual([]);
    expect(m.dtypes).toEqual([v.dtype === 'float32' ? 'F32' : 'BF16']);
    if (v.max_shard_size) expect(m.files).toContain('model.safetensors.index.json');
    else expect(m.files).toContain('model.safetensors');
  });

  it("loads through the session with transformers' logits, LoRA-trains on its q/v projections, then P-tuning v2 with key/value-head prefixes and prompt tuning, and PEFT loads each export with every key landing and the studio's logits", async () => {
    const { s, events, last } = await session();
    const files = Object.entries(readFolder(join(work, v.name))).map(([name, bytes]) => new File([new Uint8Array(bytes)], name));
    await s.handle({ type: 'loadModelFiles', files, name: `tiny-${v.name}` });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    const summary = last('modelLoaded')!.model;
    expect(summary).toMatchObject({ id: `tiny-${v.name}`, source: 'disk', modelType: v.name, totalParams: made[v.name].num_parameters });
    const model = s.current.model!;
    const base = await studioLogits(model, ids);
    const baseDiff = maxAbsDiff(flat(made[v.name].logits), base);
    console.log(`${v.name} (${v.dtype}${v.max_shard_size ? ', sharded' : ''}): max |transformers − studio| ${baseDiff.toExponential(2)}`);
    expect(baseDiff).toBeLessThan(TOLERANCE);

    // Every method is offered or says why not; LoRA picks PEFT's targets for the family.
    const methods = last('methods')!.methods;
    const lora = methods.find((m) => m.id === 'lora')!;
    expect(lora.unsupported).toBeUndefined();
    expect(lora.defaults.target_modules).toEqual(v.targets);
    for (const m of methods) if (m.unsupported) expect(m.unsupported.length).toBeGreaterThan(10);

    await s.handle({ type: 'loadDataset', file: new File([DATASET], 'notes.jsonl'), sequenceLength: TRAIN.sequenceLength, evalFraction: 0, seed: 1 });
    await s.handle({ type: 'train', methodId: 'lora', config: { r: 4, lora_alpha: 8 }, train: TRAIN });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished', step: 3 });
    const losses = events.flatMap((e) => (e.type === 'progress' ? e.points.map((p) => p.loss) : []));
    expect(losses).toHaveLength(3);
    for (const l of losses) expect(Number.isFinite(l)).toBe(true);

    await s.handle({ type: 'export' });
    const exported = last('exported')!;
    expect(exported.fileName).toBe(`tiny-${v.name}-lora.zip`);
    const files2 = unzipFiles(exported.bytes, exported.fileName);
    const adapterDir = join(work, `${v.name}-adapter`);
    writeFolder(adapterDir, Object.fromEntries(Object.entries(files2).map(([name, bytes]) => [name.split('/').at(-1)!, bytes])));
    const ours = await studioLogits(model, ids, s.current.adapter!.hooks(false));

    const r = runPythonSpec<{ adapters: Record<string, PeftReport> }>('peft_check.py', work, `${v.name}-peft`, {
      model_dir: join(work, v.name),
      ids,
      adapters: [{ name: v.name, dir: adapterDir, resave_dir: join(work, `${v.name}-resaved`) }],
    }).adapters[v.name];
    expect(r.load_warnings).toEqual([]);
    // 2 layers × q_proj, v_proj × lora_A, lora_B, every one on its parameter with the same values.
    expect(r.file_keys).toHaveLength(2 * v.targets.length * 2);
    for (const [key, landed] of Object.entries(r.landed)) {
      expect(landed.found, key).toBe(true);
      expect(landed.max_abs_diff, key).toBe(0);
    }
    expect(Object.keys(r.lora_modules).sort()).toEqual([0, 1].flatMap((i) => v.targets.map((t) => `base_model.model.model.layers.${i}.self_attn.${t}`)).sort());
    for (const m of Object.values(r.lora_modules)) expect(m).toEqual(expect.objectContaining({ in_file: true, fan_in_fan_out: false }));
    expect(r.reload_result).toEqual(expect.objectContaining({ missing_lora_keys: [], unexpected_keys: [] }));
    const adapted = maxAbsDiff(flat(r.logits), ours);
    const effect = maxAbsDiff(ours, base);
    console.log(`${v.name} LoRA: max |PEFT − studio| ${adapted.toExponential(2)}; adapter effect ${effect.toExponential(2)}`);
    expect(maxAbsDiff(flat(r.base_logits), base)).toBeLessThan(TOLERANCE);
    expect(adapted).toBeLessThan(TOLERANCE);
    expect(effect).toBeGreaterThan(MIN_EFFECT);

    // P-tuning v2 (prefix tuning): the prefixes have the key/value heads' width under
    // grouped-query attention, as PEFT sizes them; PEFT's cache holds them and gives our logits.
    await s.handle({ type: 'train', methodId: 'p-tuning-v2', config: { num_virtual_tokens: 4 }, train: TRAIN });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished', step: 3 });
    await s.handle({ type: 'export' });
    const prefix = last('exported')!;
    const prefixDir = join(work, `${v.name}-prefix`);
    writeFolder(prefixDir, Object.fromEntries(Object.entries(unzipFiles(prefix.bytes, prefix.fileName)).map(([name, bytes]) => [name.split('/').at(-1)!, bytes])));
    const withPrefix = await studioLogits(model, ids, s.current.adapter!.hooks(false));
    const p = runPythonSpec<{ adapters: Record<string, PrefixReport> }>('prefix_check.py', work, `${v.name}-prefix`, {
      model_dir: join(work, v.name),
      ids,
      gen_ids: ids[0].slice(0, 4),
      gen_new: 2,
      adapters: [{ name: v.name, dir: prefixDir, resave_dir: join(work, `${v.name}-prefix-resaved`) }],
    }).adapters[v.name];
    expect(p.load_warnings).toEqual([]);
    expect(p.landed.max_abs_diff).toBe(0);
    const kvHeads = SIZES.num_key_value_heads;
    const headDim = SIZES.hidden_size / SIZES.num_attention_heads;
    expect(p.peft_config).toMatchObject({ token_dim: kvHeads * headDim, num_attention_heads: kvHeads, num_layers: SIZES.num_hidden_layers });
    for (const layer of p.prompt) expect(layer.shape).toEqual([1, kvHeads, 4, headDim]);
    const prefixDiff = maxAbsDiff(flat(p.logits), withPrefix);
    console.log(`${v.name} P-tuning v2: max |PEFT − studio| ${prefixDiff.toExponential(2)}; prefix effect ${maxAbsDiff(withPrefix, base).toExponential(2)}`);
    expect(prefixDiff).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(withPrefix, base)).toBeGreaterThan(MIN_EFFECT);

    // Prompt tuning: virtual tokens of the hidden size in front of the input embeddings.
    await s.handle({ type: 'train', methodId: 'prompt-tuning', config: { num_virtual_tokens: 4 }, train: TRAIN });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    await s.handle({ type: 'export' });
    const prompt = last('exported')!;
    const promptDir = join(work, `${v.name}-prompt`);
    writeFolder(promptDir, Object.fromEntries(Object.entries(unzipFiles(prompt.bytes, prompt.fileName)).map(([name, bytes]) => [name.split('/').at(-1)!, bytes])));
    const withPrompt = await studioLogits(model, ids, s.current.adapter!.hooks(false));
    const q = runPythonSpec<{ adapters: Record<string, PromptReport> }>('prompt_check.py', work, `${v.name}-prompt`, {
      model_dir: join(work, v.name),
      ids,
      gen_ids: ids[0].slice(0, 4),
      gen_new: 2,
      adapters: [{ name: v.name, dir: promptDir, resave_dir: join(work, `${v.name}-prompt-resaved`) }],
    }).adapters[v.name];
    expect(q.load_warnings).toEqual([]);
    expect(q.landed_max_abs_diff).toBe(0);
    const promptDiff = maxAbsDiff(flat(q.logits), withPrompt);
    console.log(`${v.name} prompt tuning: max |PEFT − studio| ${promptDiff.toExponential(2)}; prompt effect ${maxAbsDiff(withPrompt.subarray(withPrompt.length - base.length), base).toExponential(2)}`);
    expect(promptDiff).toBeLessThan(TOLERANCE);
    s.current.adapter?.dispose();
    model.dispose();
  }, 600_000);
});

// The other methods on the same two checkpoints: P-tuning (an MLP prompt encoder), prefix
// tuning (with its reparameterisation MLP), Houlsby adapters in AdapterHub's Llama layout and
// BitFit, each trained a few steps through the session and exported as a person downloads it;
// each kind is checked by its Python script once for both checkpoints. BitFit trains Qwen2's
// q/k/v biases; the Llama checkpoint has no bias, and the session says so.

const OTHER_RUNS: { id: string; config: Record<string, unknown> }[] = [
  { id: 'p-tuning', config: { num_virtual_tokens: 4, encoder_hidden_size: 16 } },
  { id: 'prefix-tuning', config: { num_virtual_tokens: 3, encoder_hidden_size: 16 } },
  { id: 'houlsby', config: { bottleneck_size: 8 } },
  { id: 'bitfit', config: { trainable_biases: 'all' } },
];
const GEN_NEW = 2;

interface LandedPromptReport {
  load_warnings: string[];
  landed_max_abs_diff?: number | null;
  landed?: { max_abs_diff: number | null };
  logits: unknown;
  base_logits: unknown;
  generated: number[];
}

interface HoulsbyReport {
  zip_top: string[];
  adapter_config: Record<string, unknown>;
  file_keys: string[];
  module_keys: string[];
  missing_keys: string[];
  unexpected_keys: string[];
  base_keys: string[];
  landed: Record<string, { found: boolean; max_abs_diff: number | null }>;
  logits: unknown;
  base_logits: unknown;
  warnings: string[];
}

interface BitFitReport {
  bias_file: {
    file_keys: string[];
    state_keys: string[];
    missing_keys: string[];
    unexpected_keys: string[];
    landed: Record<string, { found: boolean; max_abs_diff: number | null }>;
    logits: unknown;
    base_logits: unknown;
    warnings: string[];
  };
  merged: { class: string; loading_info: Record<string, string[]>; warnings: string[]; logits: unknown; max_param_diff_vs_bias_file: number; tied: boolean };
}

describe('P-tuning, prefix tuning, Houlsby and BitFit on both checkpoints', () => {
  /** Per variant: the studio's logits and greedy continuation with each method, the plain model's logits, and the session's refusals. */
  const runs = new Map<string, { base: Float32Array; logits: Map<string, Float32Array>; generated: Map<string, number[]>; refused: Map<string, { reason: string; error: string }>; planned: Map<string, string[]> }>();
  const dirOf = (v: string, id: string) => join(work, `${v}-${id}`);
  let prompt: Record<string, LandedPromptReport>;
  let prefix: Record<string, LandedPromptReport>;
  let houlsby: Record<string, HoulsbyReport>;
  let bitfit: Record<string, BitFitReport>;

  beforeAll(async () => {
    for (const v of VARIANTS) {
      const { s, events, last } = await session();
      const files = Object.entries(readFolder(join(work, v.name))).map(([name, bytes]) => new File([new Uint8Array(bytes)], name));
      await s.handle({ type: 'loadModelFiles', files, name: `tiny-${v.name}` });
      await s.handle({ type: 'loadDataset', file: new File([DATASET], 'notes.jsonl'), sequenceLength: TRAIN.sequenceLength, evalFraction: 0, seed: 1 });
      const model = s.current.model!;
      const run = { base: await studioLogits(model, ids), logits: new Map(), generated: new Map(), refused: new Map(), planned: new Map() };
      runs.set(v.name, run);
      const methods = last('methods')!.methods;
      for (const r of OTHER_RUNS) {
        const reason = methods.find((m) => m.id === r.id)!.unsupported;
        const seen = events.length;
        await s.handle({ type: 'train', methodId: r.id, config: r.config, train: TRAIN });
        const error = events.slice(seen).find((e) => e.type === 'error');
        if (reason || error) {
          run.refused.set(r.id, { reason: reason ?? '', error: error?.type === 'error' ? error.message : '' });
          continue;
        }
        expect(last('trainingEnded'), `${v.name} ${r.id}`).toMatchObject({ reason: 'finished', step: TRAIN.steps });
        await s.handle({ type: 'export' });
        const exported = last('exported')!;
        if (r.id === 'houlsby') writeFileSync(`${dirOf(v.name, r.id)}.zip`, exported.bytes);
        else writeFolder(dirOf(v.name, r.id), unzipFiles(exported.bytes, exported.fileName));
        if (r.id === 'bitfit') {
          run.planned.set(r.id, [...readSafetensors(unzipFiles(exported.bytes, exported.fileName)[BITFIT_WEIGHTS], BITFIT_WEIGHTS).tensors.keys()].sort());
          await s.handle({ type: 'exportMerged' });
          const merged = last('exported')!;
          writeFolder(`${dirOf(v.name, r.id)}-merged`, unzipFiles(merged.bytes, merged.fileName));
        }
        const hooks = s.current.adapter!.hooks(false);
        run.logits.set(r.id, await studioLogits(model, ids, hooks));
        run.generated.set(r.id, await generate(model, hooks, ids[0].slice(0, 4), { maxNewTokens: GEN_NEW, temperature: 0, topK: 0, seed: 0 }));
      }
      // Nothing failed but what the session refused.
      expect(events.filter((e) => e.type === 'error')).toHaveLength(run.refused.size);
      s.current.adapter?.dispose();
      model.dispose();
    }
    const trained = (id: string) => VARIANTS.filter((v) => runs.get(v.name)!.logits.has(id));
    const promptSpec = (id: string) => ({
      model_dir: join(work, VARIANTS[0].name),
      ids,
      gen_ids: ids[0].slice(0, 4),
      gen_new: GEN_NEW,
      adapters: trained(id).map((v) => ({ name: v.name, model_dir: join(work, v.name), dir: dirOf(v.name, id), resave_dir: `${dirOf(v.name, id)}-resaved` })),
    });
    prompt = runPythonSpec<{ adapters: Record<string, LandedPromptReport> }>('prompt_check.py', work, 'p-tuning', promptSpec('p-tuning')).adapters;
    prefix = runPythonSpec<{ adapters: Record<string, LandedPromptReport> }>('prefix_check.py', work, 'prefix-tuning', promptSpec('prefix-tuning')).adapters;
    houlsby = runPythonSpec<{ adapters: Record<string, HoulsbyReport> }>('houlsby_check.py', work, 'houlsby', {
      model_dir: join(work, VARIANTS[0].name),
      ids,
      work,
      adapters: trained('houlsby').map((v) => ({ name: v.name, model_dir: join(work, v.name), zip: `${dirOf(v.name, 'houlsby')}.zip` })),
    }).adapters;
    bitfit = runPythonSpec<{ cases: Record<string, BitFitReport> }>('bitfit_check.py', work, 'bitfit', {
      model_dir: join(work, VARIANTS[0].name),
      ids,
      text: 'A small model learns a little.',
      cases: trained('bitfit').map((v) => ({ name: v.name, model_dir: join(work, v.name), dir: dirOf(v.name, 'bitfit'), merged_dir: `${dirOf(v.name, 'bitfit')}-merged` })),
    }).cases;
  }, 600_000);

  /** The studio's logits for `id` on variant `v`, PEFT's or torch's within TOLERANCE, the base too, and the method moved them. */
  function expectSameLogits(v: string, id: string, py: { logits: unknown; base_logits: unknown }) {
    const run = runs.get(v)!;
    const ours = run.logits.get(id)!;
    const diff = maxAbsDiff(flat(py.logits), ours);
    // Virtual tokens add positions in front: the real ones are the last rows × length × vocab.
    const effect = maxAbsDiff(ours.subarray(ours.length - run.base.length), run.base);
    console.log(`${v} ${id}: max |Python − studio| ${diff.toExponential(2)}; effect ${effect.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(flat(py.base_logits), run.base)).toBeLessThan(TOLERANCE);
    expect(effect).toBeGreaterThan(MIN_EFFECT);
  }

  describe.each(VARIANTS.map((v) => v.name))('%s', (v) => {
    it('P-tuning: PEFT loads the prompt encoder without a warning and gives the studio’s logits and greedy continuation', () => {
      const r = prompt[v];
      expect(r.load_warnings).toEqual([]);
      expect(r.landed_max_abs_diff).toBe(0);
      expectSameLogits(v, 'p-tuning', r);
      expect(r.generated).toEqual(runs.get(v)!.generated.get('p-tuning'));
    });

    it('prefix tuning with its reparameterisation: PEFT loads the prefixes without a warning and gives the studio’s logits and greedy continuation', () => {
      const r = prefix[v];
      expect(r.load_warnings).toEqual([]);
      expect(r.landed!.max_abs_diff).toBe(0);
      expectSameLogits(v, 'prefix-tuning', r);
      expect(r.generated).toEqual(runs.get(v)!.generated.get('prefix-tuning'));
    });

    it(`Houlsby: every tensor lands on AdapterHub's model.layers.<i>.attention_adapters / output_adapters modules and the studio's logits follow`, () => {
      const r = houlsby[v];
      expect(r.zip_top).toEqual([`tiny-${v}-houlsby`]);
      expect(r.adapter_config).toMatchObject({ model_class: v === 'llama' ? 'LlamaForCausalLM' : 'Qwen2ForCausalLM', model_type: v, hidden_size: SIZES.hidden_size });
      expect(r.file_keys).toEqual(r.module_keys);
      expect(r.file_keys).toContain('model.layers.0.attention_adapters.adapters.houlsby.adapter_down.0.weight');
      expect(r.file_keys).toContain('model.layers.1.output_adapters.adapters.houlsby.adapter_up.bias');
      expect(r.unexpected_keys).toEqual([]);
      expect(r.missing_keys).toEqual(r.base_keys);
      for (const [k, l] of Object.entries(r.landed)) expect(l, k).toEqual({ found: true, shape: expect.any(Array), max_abs_diff: 0 });
      expect(r.warnings).toEqual([]);
      expectSameLogits(v, 'houlsby', r);
    });
  });

  it('BitFit on Llama without biases is refused, saying why', () => {
    expect(runs.get('llama')!.refused.get('bitfit')).toEqual({
      reason: 'tiny-llama has no bias parameters, so BitFit has nothing to train',
      error: 'cannot be used with tiny-llama: tiny-llama has no bias parameters, so BitFit has nothing to train',
    });
    expect([...runs.get('llama')!.refused.keys()]).toEqual(['bitfit']);
    expect([...runs.get('qwen2')!.refused.keys()]).toEqual([]);
  });

  it("BitFit on Qwen2: its q/k/v biases load onto the model with load_state_dict(strict=False), nothing unexpected, and give the studio's logits; so does the merged checkpoint", () => {
    const r = bitfit.qwen2;
    expect(r.bias_file.file_keys).toEqual(runs.get('qwen2')!.planned.get('bitfit'));
    expect(r.bias_file.file_keys).toEqual([0, 1].flatMap((i) => ['k', 'q', 'v'].map((p) => `model.layers.${i}.self_attn.${p}_proj.bias`)));
    expect(r.bias_file.unexpected_keys).toEqual([]);
    expect(r.bias_file.missing_keys).toEqual(r.bias_file.state_keys.filter((k) => !r.bias_file.file_keys.includes(k)));
    for (const [k, l] of Object.entries(r.bias_file.landed)) expect(l, k).toEqual({ found: true, max_abs_diff: 0 });
    expect(r.bias_file.warnings).toEqual([]);
    expectSameLogits('qwen2', 'bitfit', r.bias_file);
    expect(r.merged.class).toBe('Qwen2ForCausalLM');
    expect(r.merged.loading_info).toEqual({ missing_keys: [], unexpected_keys: [], mismatched_keys: [], error_msgs: [] });
    expect(r.merged.warnings).toEqual([]);
    expect(r.merged.tied).toBe(true);
    expect(r.merged.max_param_diff_vs_bias_file).toBe(0);
    expect(maxAbsDiff(flat(r.merged.logits), runs.get('qwen2')!.logits.get('bitfit')!)).toBeLessThan(TOLERANCE);
  });
});
