// The training objective a model's architecture names: causal LM for GPT-2, masked LM for BERT,
// with the masked LM's masking drawn per step from the run's seed, held-out batches masked by
// their index alone, padding hidden from attention, and a tokenizer without a mask token refused.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { IGNORE_INDEX, makeBatch, tokenizeExamples } from '../data/dataset';
import { maskTokens } from '../data/masking';
import { randomBert } from '../models/bert-init';
import { randomGpt2 } from '../models/gpt2-init';
import type { LoadedModel } from '../models/types';
import { loadTokenizer, type TextTokenizer } from '../tokenize/tokenizer';
import { wordPieceTokenizerFiles } from '../tokenize/word-piece';
import { maskedLmLoss } from './loss';
import { CAUSAL_LM, maskingSeed, objectiveFor, type LmObjective } from './objective';
import { evaluate } from './trainer';

const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'to', 'a', 'big', 'red', 'house', '.', '##s'];
const TEXTS = ['the cat sat on the mat.', 'a big red dog ran to the house.', 'the dogs sat.', 'a cat ran to a big mat.', 'the red house.'];

let model: LoadedModel;
let tok: TextTokenizer;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const files = wordPieceTokenizerFiles(WORDS);
  tok = loadTokenizer(files.tokenizer, files.tokenizerConfig, 'tokenizer.json', { requireEos: false });
  model = randomBert('tiny-bert', { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 64, vocab_size: files.vocab.length }, 1);
});

function batch(length = 16) {
  return makeBatch(tokenizeExamples(TEXTS, tok, length).ids, length, tok.padId);
}

const lossOf = (objective: LmObjective, b: ReturnType<typeof batch>, draw: { step: number } | { evalIndex: number }) =>
  tf.tidy(() => objective.batchLoss(model, {}, b, false, draw).loss.dataSync()[0]);

describe('objectiveFor', () => {
  it('is the causal LM for GPT-2, without needing a tokenizer', () => {
    const gpt2 = randomGpt2('g', { n_layer: 1, n_embd: 16, n_head: 2, n_positions: 32 }, 1);
    expect(objectiveFor(gpt2.info, undefined, 0)).toBe(CAUSAL_LM);
    gpt2.dispose();
  });

  it('is the masked LM for BERT, and refuses a tokenizer without a mask token, naming the file and field', () => {
    expect(objectiveFor(model.info, tok, 0).name).toBe('masked-lm');
    const noMask = wordPieceTokenizerFiles(WORDS, { maskToken: false });
    const t = loadTokenizer(noMask.tokenizer, noMask.tokenizerConfig, 'tokenizer.json', { requireEos: false });
    expect(t.maskId).toBeUndefined();
    expect(() => objectiveFor(model.info, t, 0)).toThrow(/^tokenizer_config\.json: "mask_token" is missing; tiny-bert is a masked language model/);
    expect(() => objectiveFor(model.info, undefined, 0)).toThrow(/tiny-bert is a masked language model/);
  });
});

describe('the masked-LM objective', () => {
  it('reads the BERT tokenizer: [CLS] … [SEP], no eos appended, the specials known', () => {
    expect(tok.eosId).toBeUndefined();
    expect(tok.maskId).toBe(4);
    expect(tok.padId).toBe(0);
    expect(tok.specialIds).toEqual([0, 1, 2, 3, 4]);
    expect(tokenizeExamples(['the cats sat.'], tok, 16).ids[0]).toEqual([2, 5, 6, 18, 7, 17, 3]);
  });

  it('is the masked-LM loss of the forward on the masked ids, with padding hidden from attention', () => {
    const b = batch();
    const seed = 9;
    const objective = objectiveFor(model.info, tok, seed);
    const got = lossOf(objective, b, { step: 3 });
    const want = tf.tidy(() => {
      const m = maskTokens(b, { maskId: tok.maskId!, specialIds: tok.specialIds, vocabSize: tok.vocabSize }, maskingSeed(seed, { step: 3 }));
      const mask = tf.tensor2d(Int32Array.from(b.labels, (l) => (l === IGNORE_INDEX ? 0 : 1)), [b.batch, b.length], 'int32');
      const { logits } = model.forward(tf.tensor2d(m.ids, [b.batch, b.length], 'int32'), {}, { attentionMask: mask });
      return maskedLmLoss(logits, m.labels).loss.dataSync()[0];
    });
    expect(got).toBe(want);
    expect(Number.isFinite(got) && got > 0).toBe(true);
  });

  it('does not see what fills the padding', () => {
    const b = batch();
    const other = { ...b, ids: Int32Array.from(b.ids, (id, i) => (b.labels[i] === IGNORE_INDEX ? 7 : id)) };
    const objective = objectiveFor(model.info, tok, 1);
    expect(Math.abs(lossOf(objective, other, { step: 0 }) - lossOf(objective, b, { step: 0 }))).toBeLessThan(1e-5);
  });

  it('masks the same way for the same seed and step, differently for another step or seed', () => {
    const b = batch();
    const a = objectiveFor(model.info, tok, 5);
    expect(lossOf(objectiveFor(model.info, tok, 5), b, { step: 2 })).toBe(lossOf(a, b, { step: 2 }));
    expect(lossOf(a, b, { step: 3 })).not.toBe(lossOf(a, b, { step: 2 }));
    expect(lossOf(objectiveFor(model.info, tok, 6), b, { step: 2 })).not.toBe(lossOf(a, b, { step: 2 }));
  });

  it('masks held-out batches by their index alone, so every evaluation (and every run) reads the same positions', async () => {
    const held = [batch(), makeBatch(tokenizeExamples(TEXTS.slice(0, 3), tok, 16).ids, 16, tok.padId)];
    const first = await evaluate(model, {}, held, objectiveFor(model.info, tok, 1));
    expect(await evaluate(model, {}, held, objectiveFor(model.info, tok, 1))).toBe(first);
    expect(await evaluate(model, {}, held, objectiveFor(model.info, tok, 2))).toBe(first);
    expect(maskingSeed(1, { evalIndex: 0 })).toBe(maskingSeed(2, { evalIndex: 0 }));
    expect(maskingSeed(1, { evalIndex: 0 })).not.toBe(maskingSeed(1, { evalIndex: 1 }));
    expect(maskingSeed(1, { step: 0 })).not.toBe(maskingSeed(1, { evalIndex: 0 }));
    // A random masked LM predicts about uniformly over the vocabulary.
    expect(Math.abs(first - Math.log(tok.vocabSize))).toBeLessThan(0.5);
  });
});

describe('what an objective feeds a model', () => {
  it('is the batch as it is for the causal LM, and for the masked LM the masking of its seed and draw with padding marked', () => {
    const b = batch();
    expect(CAUSAL_LM.inputs(b, { step: 3 })).toEqual({ ids: b.ids, targets: b.labels });
    const objective = objectiveFor(model.info, tok, 9);
    const inp = objective.inputs(b, { step: 3 });
    const masked = maskTokens(b, { maskId: 4, specialIds: tok.specialIds, vocabSize: tok.vocabSize }, maskingSeed(9, { step: 3 }));
    expect(Array.from(inp.ids)).toEqual(Array.from(masked.ids));
    expect(Array.from(inp.targets)).toEqual(Array.from(masked.labels));
    expect(Array.from(inp.attentionMask!)).toEqual(Array.from(b.labels, (l) => (l === IGNORE_INDEX ? 0 : 1)));
    // batchLoss is the objective's loss on the forward over those inputs.
    const direct = tf.tidy(() => {
      const out = model.forward(tf.tensor2d(inp.ids, [b.batch, b.length], 'int32'), {}, { attentionMask: tf.tensor2d(inp.attentionMask!, [b.batch, b.length], 'int32') });
      return objective.loss(out.logits, inp.targets, 0).loss.dataSync()[0];
    });
    expect(lossOf(objective, b, { step: 3 })).toBe(direct);
  });
});
