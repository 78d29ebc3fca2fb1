import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { evalBatches, makeBatch } from '../data/dataset';
import { mulberry32 } from '../data/random';
import { randomBert } from '../models/bert-init';
import { SequenceClassifier } from '../models/classifier';
import { randomGpt2 } from '../models/gpt2-init';
import type { LoadedModel } from '../models/types';
import { lora } from '../peft/lora';
import { changedWeights, weightBytes } from '../peft/testing';
import { classifierSpec, evaluateClassifier } from './classification';
import { classificationLoss } from './loss';
import { trainVariables, type EvalPoint } from './trainer';

const PAD = 0;

/**
 * A toy task a classifier can learn in a few dozen steps: label 1 when the text holds token 7,
 * else 0; the rest are tokens 8..19 drawn at random, 3 to 6 of them, right-padded.
 */
function toyExamples(n: number, seed: number): { ids: number[][]; classes: number[] } {
  const rand = mulberry32(seed);
  const ids: number[][] = [];
  const classes: number[] = [];
  for (let i = 0; i < n; i++) {
    const len = 3 + Math.floor(rand() * 4);
    const row = Array.from({ length: len }, () => 8 + Math.floor(rand() * 12));
    const label = i % 2;
    if (label) row[Math.floor(rand() * len)] = 7;
    ids.push(row);
    classes.push(label);
  }
  return { ids, classes };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('classificationLoss', () => {
  it('is the mean cross-entropy of each row’s label, as a naive log-softmax gives', async () => {
    const z = [
      [1, 2, 0.5],
      [-1, 0, 3],
    ];
    const labels = [1, 0];
    const naive =
      labels.map((y, r) => {
        const m = Math.max(...z[r]);
        const lse = m + Math.log(z[r].reduce((s, v) => s + Math.exp(v - m), 0));
        return lse - z[r][y];
      }).reduce((a, b) => a + b, 0) / 2;
    const { loss, examples } = classificationLoss(tf.tensor2d(z), Int32Array.from(labels));
    expect(examples).toBe(2);
    expect(Math.abs((await loss.data())[0] - naive)).toBeLessThan(1e-6);
    expect(() => classificationLoss(tf.tensor2d(z), Int32Array.from([0, 3]))).toThrow(/label 3 is outside 0..2/);
  });
});

const FAMILIES: [string, () => LoadedModel, string[]][] = [
  ['BERT (pooler + classifier on [CLS])', () => randomBert('toy-bert', { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 16, vocab_size: 24 }, 3), ['query', 'value']],
  ['GPT-2 (score on the last real token)', () => randomGpt2('toy-gpt2', { n_layer: 2, n_embd: 32, n_head: 4, n_positions: 16, vocab_size: 24 }, 3), ['c_attn']],
];

describe('training LoRA with a classification head', () => {
  for (const [label, make, targets] of FAMILIES) {
    it(`${label}: the loss falls, held-out accuracy rises, frozen weights stay bit-identical, no tensor leaks`, async () => {
      const model = make();
      const frozen = await weightBytes(model);
      const train = toyExamples(48, 1);
      const held = toyExamples(16, 2);
      const heldBatches = evalBatches(held.ids, 8, 8, PAD, { classes: held.classes });
      const before = tf.memory().numTensors;
      const adapter = lora.create(model, { r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: targets, use_rslora: false }, 1);
      const head = SequenceClassifier.seeded(model.info, 2, PAD, 1);
      const losses: number[] = [];
      const evals: EvalPoint[] = [];
      const result = await trainVariables(
        classifierSpec(model, adapter, head, heldBatches),
        { totalSteps: 60, learningRate: 1e-2, warmupSteps: 3, weightDecay: 0, maxGradNorm: 1, evalEvery: 30 },
        {
          nextBatch: () => {
            const k = (losses.length * 8) % train.ids.length;
            const rows = Array.from({ length: 8 }, (_, i) => (k + i) % train.ids.length);
            return { batch: makeBatch(rows.map((r) => train.ids[r]), 8, PAD, { classes: rows.map((r) => train.classes[r]) }), epoch: 0 };
          },
          evalBatches: heldBatches,
          onProgress: (pts) => losses.push(...pts.map((p) => p.loss)),
          onEval: (p) => evals.push(p),
          shouldStop: () => false,
        },
      );
      expect(result.reason).toBe('finished');
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(losses.slice(-10))).toBeLessThan(0.5 * mean(losses.slice(0, 10)));
      // Evaluations at steps 0, 30 and 60, each with metrics over the 16 held-out examples.
      expect(evals.map((e) => e.step)).toEqual([0, 30, 60]);
      const last = evals.at(-1)!.classification!;
      expect(last.examples).toBe(16);
      expect(last.confusion.flat().reduce((a, b) => a + b, 0)).toBe(16);
      expect(last.accuracy).toBeGreaterThanOrEqual(0.75);
      expect(last.accuracy).toBeGreaterThan(evals[0].classification!.accuracy);
      expect(evals.at(-1)!.evalLoss).toBeLessThan(evals[0].evalLoss);
      // The evaluation's loss is the mean over examples of the same loss the step minimises.
      const again = await evaluateClassifier(model, adapter.hooks(false), head, heldBatches);
      expect(again.evalLoss).toBeCloseTo(evals.at(-1)!.evalLoss, 6);
      expect(await changedWeights(model, frozen)).toEqual([]);
      adapter.dispose();
      head.dispose();
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }
});
