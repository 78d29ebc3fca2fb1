// Full fine-tuning on every family (GPT-2 with its tied head, Llama untied, Qwen2 tied, BERT's
// masked LM): every parameter is a variable that gets a gradient and changes in one step; the
// base model's tensors stay bit-identical; the plan counts every parameter once (a tied head
// once); the exported checkpoint loads back as a base model computing what the fine-tuned one
// computes (so a tied head was trained as the embedding); no tensor is leaked.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBatch, tokenizeExamples } from '../data/dataset';
import { readSafetensors } from '../io/safetensors';
import { bertConfigJson, randomBert } from '../models/bert-init';
import { gpt2ConfigJson, randomGpt2 } from '../models/gpt2-init';
import { randomLlama } from '../models/llama-init';
import { buildModel, modelInfo } from '../models/load';
import type { LoadedModel } from '../models/types';
import type { Hooks } from '../models/types';
import { changedWeights, textBatches, weightBytes } from '../peft/testing';
import { loadTokenizer, type TextTokenizer } from '../tokenize/tokenizer';
import { wordPieceTokenizerFiles } from '../tokenize/word-piece';
import { getRunKind, RUN_KINDS } from '../train/registry';
import { trainVariables, TrainingStepper, type TokenBatch } from '../train/trainer';
import { FineTunedModel, FULL_FINETUNE_ID, fullFineTuning } from './full';

const GPT2_SHAPE = { n_layer: 2, n_embd: 32, n_head: 4, n_positions: 32 };
const LLAMA_SIZES = { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 48, max_position_embeddings: 32, vocab_size: 300, hidden_act: 'silu', rms_norm_eps: 1e-5 };
const LLAMA = { ...LLAMA_SIZES, model_type: 'llama', tie_word_embeddings: false };
const QWEN2 = { ...LLAMA_SIZES, model_type: 'qwen2', tie_word_embeddings: true };
const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'to', 'a', 'big', 'red', 'house', '.', '##s'];
const BERT_TEXTS = ['the cat sat on the mat.', 'a big red dog ran to the house.', 'the dogs sat on a red mat.', 'a cat ran to a big house.'];
const BASE_FILES = { 'config.json': new TextEncoder().encode('{}'), 'tokenizer.json': new TextEncoder().encode('{"tok": 1}') };
const STEP = { totalSteps: 3, learningRate: 1e-2, warmupSteps: 0, weightDecay: 0.01, maxGradNorm: 1 };


let bertTok: TextTokenizer;
interface Family {
  name: string;
  make(): LoadedModel;
  batch(): TokenBatch;
  tokenizer?: () => TextTokenizer;
  /** The config.json its checkpoint is rebuilt from. */
  config: () => Record<string, unknown>;
}

const FAMILIES: Family[] = [
  { name: 'gpt2 (tied head)', make: () => randomGpt2('tiny-gpt2', GPT2_SHAPE, 1), batch: () => textBatches(2, 16), config: () => gpt2ConfigJson(GPT2_SHAPE) },
  { name: 'llama (untied head, GQA)', make: () => randomLlama('tiny-llama', LLAMA, 2), batch: () => textBatches(2, 16), config: () => LLAMA },
  { name: 'qwen2 (tied head, q/k/v biases)', make: () => randomLlama('tiny-qwen2', QWEN2, 3), batch: () => textBatches(2, 16), config: () => QWEN2 },
  {
    name: 'bert (masked LM)',
    make: () => randomBert('tiny-bert', bertShape(), 4),
    batch: () => makeBatch(tokenizeExamples(BERT_TEXTS, bertTok, 16).ids, 16, bertTok.padId),
    tokenizer: () => bertTok,
    config: () => bertConfigJson(bertShape()),
  },
];

function bertShape() {
  return { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 32, vocab_size: bertTok.vocabSize };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  const files = wordPieceTokenizerFiles(WORDS);
  bertTok = loadTokenizer(files.tokenizer, files.tokenizerConfig, 'tokenizer.json', { requireEos: false });
});

/** Logits of the model (with hooks) on a batch's ids, as they are. */
async function logitsOn(model: LoadedModel, b: TokenBatch, hooks: Hooks = {}): Promise<Float32Array> {
  const out = tf.tidy(() => model.forward(tf.tensor2d(b.ids, [b.batch, b.length], 'int32'), hooks).logits);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

describe('full fine-tuning as a run kind', () => {
  it('is offered after the PEFT methods, compared with them, and makes a model', () => {
    expect(getRunKind(FULL_FINETUNE_ID)).toBe(fullFineTuning);
    const ids = RUN_KINDS.map((k) => k.id);
    expect(ids.indexOf(FULL_FINETUNE_ID)).toBe(ids.length - 2);
    expect(fullFineTuning).toMatchObject({ output: 'model', comparable: true, label: 'Full fine-tuning' });
  });

  it("plans GPT-2's every parameter as trainable, the tied head once: trainable = total", () => {
    const info = modelInfo('g', gpt2ConfigJson(GPT2_SHAPE));
    const d = 32;
    const V = info.config.vocabSize;
    // wte + wpe + per layer (12d² + 13d) + ln_f; lm_head is wte.
    const count = V * d + 32 * d + 2 * (12 * d * d + 13 * d) + 2 * d;
    const plan = fullFineTuning.plan(info, {});
    expect(plan).toMatchObject({ output: 'model', trainable: count, total: count });
    if (plan.output !== 'model') throw new Error('expected a model plan');
    expect(plan.tensors.reduce((n, t) => n + sizeOf(t.shape), 0)).toBe(count);
    expect(plan.tensors.map((t) => t.name)).not.toContain('lm_head.weight');
    expect(plan.tensors.map((t) => t.name)).toContain('transformer.wte.weight');
  });

  it('plans Llama with its untied head and Qwen2 without one', () => {
    const d = 32;
    const kv = 2 * 8; // key/value heads × head dim
    const V = 300;
    const block = (qkvBias: boolean) => 2 * d + d * d + 2 * d * kv + d * d + (qkvBias ? d + 2 * kv : 0) + 3 * d * 48;
    const llama = fullFineTuning.plan(modelInfo('l', LLAMA), {});
    const qwen2 = fullFineTuning.plan(modelInfo('q', QWEN2), {});
    const llamaCount = V * d + 2 * block(false) + d + V * d;
    const qwenCount = V * d + 2 * block(true) + d;
    expect(llama).toMatchObject({ trainable: llamaCount, total: llamaCount });
    expect(qwen2).toMatchObject({ trainable: qwenCount, total: qwenCount });
    if (llama.output !== 'model' || qwen2.output !== 'model') throw new Error('expected model plans');
    expect(llama.tensors.map((t) => t.name)).toContain('lm_head.weight');
    expect(qwen2.tensors.map((t) => t.name)).not.toContain('lm_head.weight');
  });
});

describe.each(FAMILIES)('full fine-tuning of $name', (family) => {
  let base: LoadedModel;
  beforeAll(() => {
    base = family.make();
  });
  afterAll(() => base.dispose());

  it('gives every parameter a non-zero gradient and changes every one in a step; the base stays bit-identical', async () => {
    const before = await weightBytes(base);
    const tensorsBefore = tf.memory().numTensors;
    const trained = fullFineTuning.create(base, {}, 7, { tokenizer: family.tokenizer?.(), baseFiles: BASE_FILES }) as FineTunedModel;
    const spec = trained.spec([]);
    expect(spec.variables.length).toBe(base.info.params.length);
    expect(spec.variables.reduce((n, v) => n + v.size, 0)).toBe(base.info.totalParams);
    expect(trained.names).toEqual(base.info.params.map((p) => p.name));
    const start = await Promise.all(spec.variables.map(async (v) => Float32Array.from((await v.data()) as Float32Array)));

    const stepper = new TrainingStepper(spec, STEP);
    const r = stepper.step(family.batch(), 0, true);
    const norms = await Promise.all(
      r.grads!.map(async (g) => {
        const n = tf.norm(g);
        const value = (await n.data())[0];
        n.dispose();
        return value;
      }),
    );
    const noGradient = trained.names.filter((_, i) => !(norms[i] > 0));
    expect(noGradient).toEqual([]);
    for (const t of [r.loss, r.norm, ...r.terms, ...r.grads!]) t.dispose();

    const unchanged: string[] = [];
    for (let i = 0; i < spec.variables.length; i++) {
      const now = (await spec.variables[i].data()) as Float32Array;
      if (now.every((x, j) => x === start[i][j])) unchanged.push(trained.names[i]);
    }
    expect(unchanged).toEqual([]);
    expect(await changedWeights(base, before)).toEqual([]);

    stepper.dispose();
    trained.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('trains on its objective with the loss falling and no tensor leaked, and exports a checkpoint that computes what it computes', async () => {
    const before = await weightBytes(base);
    const trained = fullFineTuning.create(base, {}, 7, { tokenizer: family.tokenizer?.(), baseFiles: BASE_FILES }) as FineTunedModel;
    const batch = family.batch();
    const losses: number[] = [];
    const counts: number[] = [];
    const result = await trainVariables(trained.spec([batch]), { ...STEP, totalSteps: 8, evalEvery: 0, readbackEvery: 1 }, {
      nextBatch: () => ({ batch, epoch: 0 }),
      evalBatches: [],
      onProgress: (points) => {
        losses.push(...points.map((p) => p.loss));
        counts.push(...points.map((p) => p.numTensors));
      },
      onEval: () => {},
      shouldStop: () => false,
    });
    expect(result.reason).toBe('finished');
    expect(losses.at(-1)!).toBeLessThan(losses[0]);
    // The tensor count is flat over the run.
    expect(new Set(counts).size).toBe(1);
    expect(await changedWeights(base, before)).toEqual([]);

    const { baseName, files } = await trained.exportFiles();
    expect(baseName).toBe(`${base.info.name}-full-finetune`);
    expect(Object.keys(files).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    expect(files['config.json']).toBe(BASE_FILES['config.json']);
    const { tensors, metadata } = readSafetensors(files['model.safetensors'], 'model.safetensors');
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()].sort()).toEqual(base.info.params.map((p) => p.name).sort());
    const merged = await trained.mergedWeights();
    for (const t of merged) expect(Array.from(tensors.get(t.name)!.data), t.name).toEqual(Array.from(t.data));

    // Rebuilt from the file alone (a tied head tied to the trained embedding again), the model
    // computes exactly what the fine-tuned one does, and not what the base does.
    const reloaded = buildModel('reloaded', family.config(), tensors);
    const { model, hooks } = trained.generator();
    expect(model).toBe(base);
    const mine = await logitsOn(model, batch, hooks);
    expect(await logitsOn(reloaded, batch)).toEqual(mine);
    expect(await logitsOn(base, batch)).not.toEqual(mine);
    reloaded.dispose();
    trained.dispose();
  });
});

describe('full fine-tuning refusals', () => {
  it('refuses a masked LM without a tokenizer before allocating anything', () => {
    const bert = randomBert('tiny-bert', bertShape(), 4);
    const n = tf.memory().numTensors;
    expect(() => fullFineTuning.create(bert, {}, 1, { baseFiles: BASE_FILES })).toThrow(/masked language model/);
    expect(tf.memory().numTensors).toBe(n);
    bert.dispose();
  });

  it('refuses to export without the base folder’s tokenizer.json', async () => {
    const gpt2 = randomGpt2('g', GPT2_SHAPE, 1);
    const trained = fullFineTuning.create(gpt2, {}, 1, { baseFiles: { 'config.json': BASE_FILES['config.json'] } });
    await expect(trained.exportFiles()).rejects.toThrow(/tokenizer\.json/);
    trained.dispose();
    gpt2.dispose();
  });
});
