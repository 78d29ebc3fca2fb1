// Completion-only loss end to end: a prompt/completion file prepared and batched as a run is,
// scored by the causal-LM objective, equals a naive cross-entropy over the completion's next
// tokens alone (the prompt's positions skipped by their byte counts, not by the batch's labels).
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchSampler, prepareDataset } from '../data/dataset';
import { randomGpt2 } from '../models/gpt2-init';
import type { LoadedModel } from '../models/types';
import { byteLevelTokenizerFiles } from '../tokenize/byte-level';
import { loadTokenizer } from '../tokenize/tokenizer';
import { CAUSAL_LM } from './objective';

const RECORDS = [
  { prompt: 'Q: 2+2?\nA:', completion: ' 4' },
  { prompt: 'Q: capital of France?\nA:', completion: ' Paris' },
  { prompt: 'Say hi:', completion: ' hello there' },
  { prompt: 'Q: é?\nA:', completion: ' ok' },
];
const LENGTH = 32;
const files = byteLevelTokenizerFiles();
const tok = loadTokenizer(files.tokenizer, files.tokenizerConfig);
let model: LoadedModel;

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = randomGpt2('tiny-gpt2', { n_layer: 2, n_embd: 32, n_head: 4, n_positions: LENGTH }, 3);
});
afterAll(() => model.dispose());

/** Mean −log p(next token) over the positions whose next token is at or after `firstTrained[row]`. */
function naiveLoss(logits: Float32Array, rows: number[][], firstTrained: number[], length: number, vocab: number): number {
  let sum = 0;
  let count = 0;
  rows.forEach((ids, r) => {
    for (let t = 0; t + 1 < ids.length; t++) {
      if (t + 1 < firstTrained[r]) continue;
      const z = logits.subarray((r * length + t) * vocab, (r * length + t + 1) * vocab);
      const max = z.reduce((m, v) => Math.max(m, v), -Infinity);
      const logSum = Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
      sum += logSum - z[ids[t + 1]];
      count++;
    }
  });
  return sum / count;
}

describe('completion-only loss', () => {
  const text = RECORDS.map((r) => JSON.stringify(r)).join('\n');
  const opts = { sequenceLength: LENGTH, evalFraction: 0, seed: 2 };

  it('equals the naive mean cross-entropy over the completions, eos included, and leaks no tensors', () => {
    const prepared = prepareDataset('qa.jsonl', text, tok, opts);
    const sampler = new BatchSampler(prepared.train, { batchSize: 4, sequenceLength: LENGTH, padId: tok.padId, seed: 2 }, undefined, prepared.trained?.train);
    const batch = sampler.batch(0, 0);
    const order = sampler.order(0);
    const rows = order.map((i) => prepared.train[i]);
    // One byte-level token per byte: a prompt is as many tokens as its UTF-8 bytes.
    const firstTrained = order.map((i) => new TextEncoder().encode(RECORDS[i].prompt).length);
    expect(rows.map((ids, r) => tok.decode(ids.slice(firstTrained[r])))).toEqual(order.map((i) => `${RECORDS[i].completion}<|endoftext|>`));

    const before = tf.memory().numTensors;
    const ours = tf.tidy(() => CAUSAL_LM.batchLoss(model, {}, batch, false, { step: 0 }).loss.dataSync()[0]);
    const logits = tf.tidy(() => model.forward(tf.tensor2d(batch.ids, [4, LENGTH], 'int32')).logits.dataSync() as Float32Array);
    expect(tf.memory().numTensors).toBe(before);

    const vocab = logits.length / (4 * LENGTH);
    expect(ours).toBeCloseTo(naiveLoss(logits, rows, firstTrained, LENGTH, vocab), 5);
    // Every next token, the prompt's too, gives another number (a random model is near-uniform, so close).
    expect(ours).not.toBeCloseTo(naiveLoss(logits, rows, rows.map(() => 1), LENGTH, vocab), 4);
  });

  it('training on the whole text equals the naive loss over every next token', () => {
    const prepared = prepareDataset('qa.jsonl', text, tok, { ...opts, completionOnly: false });
    const sampler = new BatchSampler(prepared.train, { batchSize: 4, sequenceLength: LENGTH, padId: tok.padId, seed: 2 }, undefined, prepared.trained?.train);
    const batch = sampler.batch(0, 0);
    const rows = sampler.order(0).map((i) => prepared.train[i]);
    const ours = tf.tidy(() => CAUSAL_LM.batchLoss(model, {}, batch, false, { step: 0 }).loss.dataSync()[0]);
    const logits = tf.tidy(() => model.forward(tf.tensor2d(batch.ids, [4, LENGTH], 'int32')).logits.dataSync() as Float32Array);
    expect(ours).toBeCloseTo(naiveLoss(logits, rows, rows.map(() => 1), LENGTH, logits.length / (4 * LENGTH)), 5);
  });
});
