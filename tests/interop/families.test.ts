// Base models of other families, the way a person brings them: transformers saves tiny random
// Llama and Qwen2 checkpoints (the Qwen2 one in bfloat16 with its q/k/v biases, sharded), each
// folder's files are handed to the worker session as "Load model from disk" hands them over,
// and the session's model must give transformers' logits. Then LoRA trains a few steps through
// the session on a dropped dataset, the session exports the adapter, and PEFT loads it onto the
// same checkpoint with every key landing and the studio's logits; so does a P-tuning v2 export,
// whose prefixes PEFT sizes by the key/value heads under grouped-query attention, and a prompt
// tuning export.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipFiles } from '../../src/io/zip';
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
