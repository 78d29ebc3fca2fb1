// Windows and packing as the Hugging Face stack does them: the studio's packed rows of plain
// text equal a real TRL SFTTrainer's with packing=True and the "wrapped" strategy (concatenate,
// then cut into full rows, as transformers' run_clm group_texts; the last, shorter row is kept),
// token for token; for prompt-completion data the -100 positions too; and the windows of one
// long sequence equal trl.pack_dataset's wrapped rows of that sequence alone.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IGNORE_INDEX, makeBatch, prepareDataset } from '../../src/data/dataset';
import { layoutRows } from '../../src/data/layout';
import { loadTokenizer, type TextTokenizer } from '../../src/tokenize/tokenizer';
import { cleanup, REPO, runPythonSpec, tempDir } from './helpers';

interface Packed {
  versions: Record<string, string>;
  packed_text: number[][];
  packed_prompt_completion: { input_ids: number[]; labels: number[] }[];
  windows: number[][][];
}

const MAX_LENGTH = 32;

const TEXTS = [
  'The cat sat on the mat and watched the rain fall on the quiet street outside, hour after hour, until the lamps came on. '.repeat(3).trim(),
  'A small boat.',
  'She opened the old book and began to read aloud: the story of a town by the sea, its bakers, its boats and its long winters.',
  'Hi.',
  'Bright stars filled the sky above the sleeping village.',
];

const EXAMPLES = [
  { prompt: 'Q: What did the cat do?\nA:', completion: ' It sat on the mat and watched the rain.' },
  { prompt: 'Translate to French: the cat.', completion: ' Le chat.' },
  { prompt: 'Continue: ', completion: 'The wind carried the smell of bread through the town, and the bakers sang.' },
];

function studioTokenizer(folder: string): TextTokenizer {
  const read = (f: string) => JSON.parse(readFileSync(join(folder, f), 'utf-8'));
  return loadTokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
}

let work: string;
beforeAll(() => {
  work = tempDir('packing');
});
afterAll(() => cleanup(work));

describe('windows and packing on studio-gpt2-en equal TRL', () => {
  const folder = join(REPO, 'public/models/studio-gpt2-en');
  const opts = { sequenceLength: MAX_LENGTH, evalFraction: 0, seed: 1 };
  let tok: TextTokenizer;
  let trl: Packed;
  let longIds: number[][];

  beforeAll(() => {
    tok = studioTokenizer(folder);
    longIds = TEXTS.slice(0, 3).map((t) => [...tok.encode(t), tok.eosId!]);
    trl = runPythonSpec<Packed>('packing_check.py', work, 'packing', { model_dir: folder, max_length: MAX_LENGTH, texts: TEXTS, examples: EXAMPLES, ids: longIds });
    console.log(`TRL ${JSON.stringify(trl.versions)}`);
  });

  it('packs plain text into the same rows', () => {
    const prepared = prepareDataset('texts.jsonl', TEXTS.map((text) => JSON.stringify({ text })).join('\n'), tok, opts);
    expect(prepared.summary.layout).toMatchObject({ long: 'windows', short: 'pack' });
    expect(prepared.train).toEqual(trl.packed_text);
    expect(prepared.train.slice(0, -1).every((r) => r.length === MAX_LENGTH)).toBe(true);
    console.log(`${TEXTS.length} texts, ${prepared.summary.tokens} tokens, packed into ${prepared.train.length} rows by both`);
  });

  it('packs prompt-completion data into the same rows with the same -100 positions', () => {
    const text = EXAMPLES.map((e) => JSON.stringify(e)).join('\n');
    const prepared = prepareDataset('qa.jsonl', text, tok, { ...opts, layout: { short: 'pack' } });
    // A row of prompt tokens only teaches nothing; the studio leaves such rows out.
    const trained = trl.packed_prompt_completion.filter((r) => r.labels.some((l) => l !== IGNORE_INDEX));
    expect(prepared.train).toEqual(trained.map((r) => r.input_ids));
    expect(prepared.summary.promptOnlyRows ?? 0).toBe(trl.packed_prompt_completion.length - trained.length);
    const batch = makeBatch(prepared.train, MAX_LENGTH, tok.padId, undefined, prepared.trained?.train);
    prepared.train.forEach((ids, r) => {
      expect(Array.from(batch.labels.subarray(r * MAX_LENGTH, r * MAX_LENGTH + ids.length)), tok.decode(ids)).toEqual(trained[r].labels);
    });
    expect(prepared.summary.untrainedTokens).toBeGreaterThan(0);
  });

  it('splits each long sequence into the same windows as pack_dataset does it alone', () => {
    expect(longIds.some((ids) => ids.length > 2 * MAX_LENGTH)).toBe(true);
    longIds.forEach((ids, i) => {
      const rows = layoutRows([ids], undefined, MAX_LENGTH, 'pad');
      expect(rows.ids).toEqual(trl.windows[i]);
    });
  });
});
