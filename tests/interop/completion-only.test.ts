// Completion-only loss as TRL's SFTTrainer does it: for prompt-completion data (and Alpaca
// records, which the studio reads as prompt + completion), the studio's prepared training rows
// and their batch labels — token ids on the completion and its eos, -100 on the prompt — equal
// the rows and labels of a real SFTTrainer's prepared dataset and data collator on the same
// tokenizer, including a prompt that ends inside a word (the prompt owns as many tokens as it
// encodes to alone), rows cut at max_length, and rows cut before their completion (dropped).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IGNORE_INDEX, makeBatch, prepareDataset } from '../../src/data/dataset';
import { parseDataset, type Example } from '../../src/data/parse';
import { loadTokenizer, type TextTokenizer } from '../../src/tokenize/tokenizer';
import { cleanup, REPO, runPythonSpec, tempDir } from './helpers';

interface SftRows {
  versions: Record<string, string>;
  completion_only_loss: boolean;
  rows: { input_ids: number[]; labels: number[]; collated_labels: number[] }[];
}

const MAX_LENGTH = 64;

const RECORDS = [
  { instruction: 'Give three tips for staying healthy.', input: '', output: '1. Eat well.\n2. Sleep.\n3. Move every day.' },
  { instruction: 'Translate to French.', input: 'The cat sat on the mat.', output: 'Le chat était assis sur le tapis.' },
  { instruction: 'Name a colour.', output: ' Blue' },
  // Long enough to be cut at MAX_LENGTH inside the completion.
  { instruction: 'Write a sentence.', output: 'The quick brown fox jumps over the lazy dog, again and again, until the sun goes down over the quiet hills.' },
  { prompt: 'Q: What is 2+2?\nA:', completion: ' 4' },
  { prompt: 'Hello wor', completion: 'ld, said the cat.' }, // the boundary inside a word
  { prompt: 'Ünïcödé café → ', completion: 'naïve 日本語 🎉' },
  { prompt: 'Stop here:', completion: ' done<|endoftext|>' }, // already ends with eos: none added
].map((r) => JSON.stringify(r)).join('\n');

function studioTokenizer(folder: string): TextTokenizer {
  const read = (f: string) => JSON.parse(readFileSync(join(folder, f), 'utf-8'));
  return loadTokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
}

/** The prompt (untrained) and completion (trained) texts of a prompt-completion example. */
function split(example: Example): { prompt: string; completion: string } {
  expect(example.map((s) => s.train)).toEqual([false, true]);
  return { prompt: example[0].text, completion: example[1].text };
}

let work: string;
beforeAll(() => {
  work = tempDir('completion-only');
});
afterAll(() => cleanup(work));

describe.each(['studio-gpt2-en', 'tiny-gpt2'])('completion-only labels on %s equal TRL SFTTrainer', (modelId) => {
  const folder = join(REPO, 'public/models', modelId);
  const examples = parseDataset('sft.jsonl', RECORDS).examples;
  let trl: SftRows;
  let tok: TextTokenizer;

  beforeAll(() => {
    tok = studioTokenizer(folder);
    trl = runPythonSpec<SftRows>('sft_mask_check.py', work, modelId, { model_dir: folder, max_length: MAX_LENGTH, examples: examples.map(split) });
    console.log(`${modelId}: TRL ${JSON.stringify(trl.versions)}`);
  });

  it('TRL trains on the completion only by default for this data', () => {
    expect(trl.completion_only_loss).toBe(true);
  });

  it('the same rows kept, the same ids and, token for token, the same -100 positions', () => {
    // No held-out split: the training rows are the kept examples in file order, as TRL's are.
    // TRL's defaults: no packing, and examples cut at max_length keeping their start.
    const prepared = prepareDataset('sft.jsonl', RECORDS, tok, { sequenceLength: MAX_LENGTH, evalFraction: 0, seed: 1, layout: { long: 'keep-start', short: 'pad' } });
    expect(prepared.eval).toEqual([]);
    expect(prepared.train).toHaveLength(trl.rows.length);
    expect(prepared.summary.examples - (prepared.summary.nothingTrained ?? 0)).toBe(trl.rows.length);
    const batch = makeBatch(prepared.train, MAX_LENGTH, tok.padId, undefined, prepared.trained?.train);
    let untrained = 0;
    prepared.train.forEach((ids, r) => {
      const want = trl.rows[r];
      const text = tok.decode(ids);
      expect(ids, text).toEqual(want.input_ids);
      const labels = Array.from(batch.labels.subarray(r * MAX_LENGTH, r * MAX_LENGTH + ids.length));
      expect(labels, text).toEqual(want.labels);
      expect(labels).toEqual(want.collated_labels);
      // Padding past the row's length is ignored too.
      expect(Array.from(batch.labels.subarray(r * MAX_LENGTH + ids.length, (r + 1) * MAX_LENGTH)).every((l) => l === IGNORE_INDEX)).toBe(true);
      untrained += want.labels.filter((l) => l === IGNORE_INDEX).length;
    });
    // The summary's counts are TRL's: tokens of the kept rows, and of them those labelled -100.
    expect(prepared.summary.untrainedTokens).toBe(untrained);
    expect(prepared.summary.tokens).toBe(trl.rows.reduce((n, r) => n + r.input_ids.length, 0));
    console.log(`${modelId}: ${examples.length} examples, ${trl.rows.length} kept by both, ${untrained} of ${prepared.summary.tokens} tokens not trained on, ${prepared.summary.truncated} cut`);
    expect(untrained).toBeGreaterThan(0);
    expect(prepared.summary.truncated).toBeGreaterThanOrEqual(1);
  });
});
