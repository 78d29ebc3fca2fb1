// Full fine-tuning on a labelled dataset trains a sequence classifier: the body every
// *ForSequenceClassification reads (every parameter under the family's base model prefix) and a
// fresh head, on the labels' cross-entropy. The plan counts exactly that (checked against hand
// counts); the language-model head (BERT's cls.predictions, Llama's untied lm_head) neither
// trains nor ships; every trained variable gets a gradient and changes; the base model stays
// bit-identical; the export holds the body and the head under their state-dict names with a
// config.json naming the class and the labels; no tensor is leaked.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBatch, tokenizeExamples } from '../data/dataset';
import { mulberry32 } from '../data/random';
import { readSafetensors } from '../io/safetensors';
import { bertConfigJson, randomBert } from '../models/bert-init';
import { gpt2ConfigJson, randomGpt2 } from '../models/gpt2-init';
import { randomLlama } from '../models/llama-init';
import { SequenceClassifier } from '../models/classifier';
import { modelInfo } from '../models/load';
import type { LoadedModel } from '../models/types';
import { changedWeights, weightBytes } from '../peft/testing';
import { loadTokenizer, type TextTokenizer } from '../tokenize/tokenizer';
import { wordPieceTokenizerFiles } from '../tokenize/word-piece';
import { trainVariables, TrainingStepper, type TokenBatch } from '../train/trainer';
import { classifierBody, FineTunedClassifier, fullFineTuning } from './full';

const GPT2_SHAPE = { n_layer: 2, n_embd: 32, n_head: 4, n_positions: 32 };
const LLAMA = { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 48, max_position_embeddings: 32, vocab_size: 300, hidden_act: 'silu', rms_norm_eps: 1e-5, model_type: 'llama', tie_word_embeddings: false };
const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'to', 'a', 'big', 'red', 'house', '.', '##s'];
const BERT_TEXTS = ['the cat sat on the mat.', 'a big red dog ran to the house.', 'the dogs sat.', 'a cat ran to a big house.'];
const LABELS = ['neg', 'pos', 'mixed'];
const CLASSES = [0, 1, 2, 1];
const BASE_FILES = { 'config.json': new TextEncoder().encode('{}'), 'tokenizer.json': new TextEncoder().encode('{"tok": 1}') };
const STEP = { totalSteps: 3, learningRate: 1e-2, warmupSteps: 0, weightDecay: 0.01, maxGradNorm: 1 };
const D = 32;

let bertTok: TextTokenizer;

function bertShape() {
  return { hidden_size: D, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 32, vocab_size: bertTok.vocabSize };
}


/** Four labelled rows of different lengths, right-padded with `padId` (never a token of the rows). */
function decoderBatch(vocab: number, padId: number): TokenBatch {
  const rand = mulberry32(9);
  const rows = [12, 7, 16, 3].map((n) => Array.from({ length: n }, () => 1 + Math.floor(rand() * (vocab - 2))).map((id) => (id === padId ? id + 1 : id)));
  return makeBatch(rows, 16, padId, { classes: CLASSES });
}

interface Family {
  name: string;
  make(): LoadedModel;
  padId: () => number;
  batch(): TokenBatch;
  /** What must not train: the language-model head's parameters. */
  lmHead: string[];
  className: string;
  headNames: string[];
}

const FAMILIES: Family[] = [
  {
    name: 'gpt2 (head tied to wte)',
    make: () => randomGpt2('tiny-gpt2', GPT2_SHAPE, 1),
    padId: () => 7,
    batch: () => decoderBatch(gpt2ConfigJson(GPT2_SHAPE).vocab_size as number, 7),
    lmHead: [],
    className: 'GPT2ForSequenceClassification',
    headNames: ['score.weight'],
  },
  {
    name: 'llama (untied lm_head)',
    make: () => randomLlama('tiny-llama', LLAMA, 2),
    padId: () => 5,
    batch: () => decoderBatch(300, 5),
    lmHead: ['lm_head.weight'],
    className: 'LlamaForSequenceClassification',
    headNames: ['score.weight'],
  },
  {
    name: 'bert (MLM head)',
    make: () => randomBert('tiny-bert', bertShape(), 4),
    padId: () => bertTok.padId,
    batch: () => {
      const ids = tokenizeExamples(BERT_TEXTS, bertTok, 16).ids;
      return makeBatch(ids, 16, bertTok.padId, { classes: CLASSES, tokenTypes: ids.map((r) => r.map(() => 0)) });
    },
    lmHead: ['cls.predictions.bias', 'cls.predictions.transform.dense.weight', 'cls.predictions.transform.dense.bias', 'cls.predictions.transform.LayerNorm.weight', 'cls.predictions.transform.LayerNorm.bias'],
    className: 'BertForSequenceClassification',
    headNames: ['bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'classifier.weight', 'classifier.bias'],
  },
];

beforeAll(async () => {
  await tf.setBackend('cpu');
  const files = wordPieceTokenizerFiles(WORDS);
  bertTok = loadTokenizer(files.tokenizer, files.tokenizerConfig, 'tokenizer.json', { requireEos: false });
});

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const classification = { numLabels: LABELS.length };

describe('the plan of a fully fine-tuned classifier', () => {
  it('GPT-2: every parameter (wte once: the head the classifier drops was tied to it) and the bias-free score', () => {
    const info = modelInfo('g', gpt2ConfigJson(GPT2_SHAPE));
    const V = info.config.vocabSize;
    const body = V * D + 32 * D + 2 * (12 * D * D + 13 * D) + 2 * D;
    const count = body + 3 * D;
    const plan = fullFineTuning.plan(info, {}, classification);
    expect(plan).toMatchObject({ output: 'model', trainable: count, total: count });
    if (plan.output !== 'model') throw new Error('expected a model plan');
    expect(plan.tensors.reduce((n, t) => n + sizeOf(t.shape), 0)).toBe(count);
    expect(plan.tensors.at(-1)).toEqual({ name: 'score.weight', shape: [3, D] });
  });

  it('Llama: the body without its untied lm_head, and score', () => {
    const kv = 2 * 8;
    const block = 2 * D + D * D + 2 * D * kv + D * D + 3 * D * 48;
    const count = 300 * D + 2 * block + D + 3 * D;
    const plan = fullFineTuning.plan(modelInfo('l', LLAMA), {}, classification);
    expect(plan).toMatchObject({ trainable: count, total: count });
    if (plan.output !== 'model') throw new Error('expected a model plan');
    expect(plan.tensors.map((t) => t.name)).not.toContain('lm_head.weight');
    expect(plan.tensors.every((t) => t.name.startsWith('model.') || t.name === 'score.weight')).toBe(true);
  });

  it('BERT: embeddings and encoder without the MLM head, then the pooler and the classifier', () => {
    const info = modelInfo('b', bertConfigJson(bertShape()));
    const V = bertTok.vocabSize;
    const embeddings = V * D + 32 * D + 2 * D + 2 * D;
    const layer = 4 * (D * D + D) + 2 * D + (D * 64 + 64) + (64 * D + D) + 2 * D;
    const head = D * D + D + 3 * D + 3;
    const count = embeddings + 2 * layer + head;
    const plan = fullFineTuning.plan(info, {}, classification);
    expect(plan).toMatchObject({ trainable: count, total: count });
    if (plan.output !== 'model') throw new Error('expected a model plan');
    expect(plan.tensors.filter((t) => t.name.startsWith('cls.'))).toEqual([]);
    expect(plan.tensors.slice(-4).map((t) => t.name)).toEqual(['bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'classifier.weight', 'classifier.bias']);
    // Without labels the plan is the masked LM's, its head included.
    expect(fullFineTuning.plan(info, {})).toMatchObject({ trainable: info.totalParams, total: info.totalParams });
  });
});

describe.each(FAMILIES)('a fully fine-tuned classifier on $name', (family) => {
  let base: LoadedModel;
  beforeAll(() => {
    base = family.make();
  });
  afterAll(() => base.dispose());

  const create = () =>
    fullFineTuning.create(base, {}, 7, { baseFiles: BASE_FILES, classification: { labels: LABELS, padId: family.padId() } }) as FineTunedClassifier;

  it('trains the body and the head, not the language-model head, every one with a gradient; the base stays bit-identical; nothing leaks', async () => {
    const before = await weightBytes(base);
    const tensorsBefore = tf.memory().numTensors;
    const trained = create();
    expect(trained).toBeInstanceOf(FineTunedClassifier);
    const body = classifierBody(base.info).map((p) => p.name);
    expect(trained.names).toEqual([...body, ...family.headNames]);
    for (const name of family.lmHead) {
      expect(base.info.params.map((p) => p.name)).toContain(name);
      expect(trained.names).not.toContain(name);
    }
    expect(body.length + family.lmHead.length).toBe(base.info.params.length);
    const spec = trained.spec([]);
    const plan = fullFineTuning.plan(base.info, {}, classification);
    expect(spec.variables.reduce((n, v) => n + v.size, 0)).toBe(plan.output === 'model' ? plan.trainable : NaN);
    expect(spec.variables.map((v) => v.shape)).toEqual(plan.output === 'model' ? plan.tensors.map((t) => t.shape) : []);
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
    expect(trained.names.filter((_, i) => !(norms[i] > 0))).toEqual([]);
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

  it('learns the labels with held-out metrics, and exports the body and head under their state-dict names with the class and labels in config.json', async () => {
    const before = await weightBytes(base);
    const trained = create();
    const batch = family.batch();
    const losses: number[] = [];
    const counts: number[] = [];
    const result = await trainVariables(trained.spec([batch]), { ...STEP, totalSteps: 10, evalEvery: 0, readbackEvery: 1 }, {
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
    expect(new Set(counts).size).toBe(1);
    expect(await changedWeights(base, before)).toEqual([]);

    const evaluated = await trained.spec([batch]).evaluateClassifier!();
    expect(evaluated.classification.examples).toBe(4);
    expect(evaluated.classification.confusion.flat().reduce((a, b) => a + b, 0)).toBe(4);
    expect(Number.isFinite(evaluated.evalLoss)).toBe(true);

    const { baseName, files } = await trained.exportFiles();
    expect(baseName).toBe(`${base.info.name}-full-finetune-classifier`);
    expect(Object.keys(files).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    const config = JSON.parse(new TextDecoder().decode(files['config.json']));
    expect(config).toMatchObject({
      ...base.info.config.raw,
      architectures: [family.className],
      id2label: { 0: 'neg', 1: 'pos', 2: 'mixed' },
      label2id: { neg: 0, pos: 1, mixed: 2 },
    });
    // A decoder's head finds the last real token by pad_token_id; BERT's reads [CLS] and keeps its own.
    expect(config.pad_token_id).toBe(family.className === 'BertForSequenceClassification' ? base.info.config.raw.pad_token_id : family.padId());
    const { tensors, metadata } = readSafetensors(files['model.safetensors'], 'model.safetensors');
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()].sort()).toEqual([...trained.names].sort());
    for (let i = 0; i < trained.names.length; i++) {
      const v = trained.variables[i];
      expect(tensors.get(trained.names[i])!.shape).toEqual(v.shape);
      expect(Buffer.from((tensors.get(trained.names[i])!.data as Float32Array).buffer).equals(Buffer.from(((await v.data()) as Float32Array).buffer)), trained.names[i]).toBe(true);
    }
    trained.dispose();
  });
});

describe('refusals', () => {
  it('a head for a different number of labels than the dataset has is refused', () => {
    const gpt2 = randomGpt2('g', GPT2_SHAPE, 1);
    const head = SequenceClassifier.seeded(gpt2.info, 2, 0, 1);
    const n = tf.memory().numTensors;
    expect(() => new FineTunedClassifier(gpt2, head, LABELS, BASE_FILES)).toThrow(/2 outputs for 3 labels/);
    expect(tf.memory().numTensors).toBe(n);
    head.dispose();
    gpt2.dispose();
  });
});
