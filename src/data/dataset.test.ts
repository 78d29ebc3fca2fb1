import { describe, expect, it } from 'vitest';
import { byteLevelTokenizerFiles, END_OF_TEXT } from '../tokenize/byte-level';
import { loadTokenizer } from '../tokenize/tokenizer';
import {
  BatchSampler,
  IGNORE_INDEX,
  evalBatches,
  makeBatch,
  prepareDataset,
  splitHeldOut,
  summarize,
  tokenizeExamples,
} from './dataset';
import { DatasetError, promptCompletion } from './parse';

const files = byteLevelTokenizerFiles();
const tok = loadTokenizer(files.tokenizer, files.tokenizerConfig);
const EOS = 256;

describe('tokenizeExamples', () => {
  it('appends eos, truncates to sequenceLength and counts', () => {
    const out = tokenizeExamples(['Hi', 'abcdef', 'é'], tok, 4);
    expect(out.ids).toEqual([[72, 105, EOS], [97, 98, 99, 100], [0xc3, 0xa9, EOS]]);
    expect(out.truncated).toBe(1);
    expect(out.tokens).toBe(3 + 4 + 3);
  });

  it('an example exactly filling the length with eos is not truncated', () => {
    expect(tokenizeExamples(['abc'], tok, 4)).toEqual({ ids: [[97, 98, 99, EOS]], lengths: [4], tokens: 4, untrained: 0, nothingTrained: 0, truncated: 0 });
  });

  it('does not repeat an eos the post-processor already closed the sequence with', () => {
    const post_processor = {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: END_OF_TEXT, type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: END_OF_TEXT, type_id: 1 } }],
      special_tokens: { [END_OF_TEXT]: { id: END_OF_TEXT, ids: [EOS], tokens: [END_OF_TEXT] } },
    };
    const closed = loadTokenizer({ ...files.tokenizer, post_processor }, files.tokenizerConfig);
    expect(closed.encode('Hi')).toEqual([72, 105, EOS]);
    expect(tokenizeExamples(['Hi', ''], closed, 4).ids).toEqual([[72, 105, EOS], [EOS]]);
  });

  it('rejects a sequence length below 2', () => {
    expect(() => tokenizeExamples(['a'], tok, 1)).toThrow(/sequenceLength must be an integer ≥ 2/);
  });
});

describe('completion-only tokens', () => {
  it("marks the prompt's tokens untrained and the completion's and eos trained", () => {
    // Byte-level: one token per byte, so 'Q:' is 2 tokens and ' A' is 2.
    const out = tokenizeExamples([promptCompletion('Q:', ' A'), 'Hi'], tok, 8);
    expect(out.ids).toEqual([[81, 58, 32, 65, EOS], [72, 105, EOS]]);
    expect(out.trained).toEqual([Uint8Array.from([0, 0, 1, 1, 1]), undefined]);
    expect(out.untrained).toBe(2);
    expect(out.tokens).toBe(8);
  });

  it('cuts the mask with the ids; a prompt longer than the sequence leaves nothing trained', () => {
    const out = tokenizeExamples([promptCompletion('abcdef', 'gh'), promptCompletion('ab', 'cdefgh')], tok, 4);
    expect(out.ids).toEqual([[97, 98, 99, 100], [97, 98, 99, 100]]);
    expect(out.trained).toEqual([Uint8Array.from([0, 0, 0, 0]), Uint8Array.from([0, 0, 1, 1])]);
    expect(out.untrained).toBe(6);
    expect(out.nothingTrained).toBe(1);
    expect(out.truncated).toBe(2);
  });

  it('has no masks when every token is trained on', () => {
    expect(tokenizeExamples(['ab', [{ text: 'cd', train: true }]], tok, 8).trained).toBeUndefined();
  });

  it('puts -100 in the labels exactly at untrained tokens and at padding', () => {
    const b = makeBatch([[1, 2, 3], [4, 5], [6, 7, 8, 9]], 4, 0, undefined, [Uint8Array.from([0, 1, 1]), undefined, Uint8Array.from([0, 0, 0, 1])]);
    expect(Array.from(b.ids)).toEqual([1, 2, 3, 0, 4, 5, 0, 0, 6, 7, 8, 9]);
    expect(Array.from(b.labels)).toEqual([IGNORE_INDEX, 2, 3, IGNORE_INDEX, 4, 5, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, 9]);
    // The real tokens, prompts included, for the throughput; not given without masks.
    expect(b.tokens).toBe(9);
    expect(makeBatch([[1, 2, 3]], 4, 0).tokens).toBeUndefined();
  });

  it('the sampler and the held-out batches keep each sequence with its own mask', () => {
    const seqs = Array.from({ length: 6 }, (_, i) => [10 * i + 1, 10 * i + 2, 10 * i + 3]);
    // Sequence i leaves its first i % 3 tokens untrained, so a row's labels say which sequence it is.
    const masks = seqs.map((_, i) => Uint8Array.from([0, 1, 2].map((t) => (t < i % 3 ? 0 : 1))));
    const expected = (row: Int32Array, k: number) => Array.from(row.slice(k * 4, k * 4 + 3));
    const check = (b: ReturnType<typeof makeBatch>) => {
      for (let k = 0; k < b.batch; k++) {
        const i = (b.ids[k * 4] - 1) / 10;
        expect(expected(b.labels, k)).toEqual(seqs[i].map((id, t) => (t < i % 3 ? IGNORE_INDEX : id)));
      }
    };
    const sampler = new BatchSampler(seqs, { batchSize: 4, sequenceLength: 4, padId: 0, seed: 5 }, undefined, masks);
    for (const b of sampler.epoch(0)) check(b);
    for (const b of evalBatches(seqs, 4, 4, 0, undefined, masks)) check(b);
  });

  it('prepares Alpaca data: the summary counts the prompt tokens left out, or none when training on the whole text', () => {
    const rows = [
      { instruction: 'Say hi.', output: 'hi' },
      { instruction: 'Echo.', input: 'x', output: 'x' },
      { instruction: 'Say bye.', output: 'bye' },
    ];
    const text = rows.map((r) => JSON.stringify(r)).join('\n');
    const byteLength = (s: string) => new TextEncoder().encode(s).length;
    const promptBytes =
      3 * byteLength('Below is an instruction that describes a task') +
      2 * byteLength('. Write a response that appropriately completes the request.\n\n### Instruction:\n\n\n### Response:') +
      byteLength(', paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n\n\n### Input:\n\n\n### Response:') +
      byteLength('Say hi.Echo.xSay bye.');
    const opts = { sequenceLength: 512, evalFraction: 0.34, seed: 1 };
    const out = prepareDataset('alpaca.jsonl', text, tok, opts);
    expect(out.summary).toMatchObject({ format: 'jsonl', kind: 'alpaca', completionOnly: true, untrainedTokens: promptBytes, tokens: promptBytes + byteLength('hixbye') + 3 });
    expect(out.trained!.train).toHaveLength(out.train.length);
    expect(out.trained!.eval).toHaveLength(out.eval.length);
    out.train.forEach((ids, k) => {
      const mask = out.trained!.train[k]!;
      expect(mask).toHaveLength(ids.length);
      // Trained: the completion's bytes and eos, after every prompt byte.
      expect(tok.decode(ids.filter((_, t) => mask[t] === 1))).toMatch(/^(hi|x|bye)<\|endoftext\|>$/);
      expect(ids.at(-1)).toBe(EOS);
      expect(mask.at(-1)).toBe(1);
    });
    const whole = prepareDataset('alpaca.jsonl', text, tok, { ...opts, completionOnly: false });
    expect(whole.summary).toMatchObject({ kind: 'alpaca', completionOnly: false, untrainedTokens: 0, tokens: out.summary.tokens });
    expect(whole.trained).toBeUndefined();
    expect(whole.train).toEqual(out.train);
    expect(out.summary.nothingTrained).toBeUndefined();
  });

  it('leaves out, as TRL does, the examples cut before their completion begins, and refuses a file of nothing else', () => {
    const rows = [
      { prompt: 'abcdefghij', completion: 'k' }, // 10 prompt tokens: cut at 8 with nothing trained
      { prompt: 'ab', completion: 'cd' }, // 2 untrained, 3 trained with eos
      { prompt: 'abcdefg', completion: 'hi' }, // 7 untrained, 1 trained: kept
    ];
    const text = rows.map((r) => JSON.stringify(r)).join('\n');
    const keepStart = { long: 'keep-start' } as const;
    const out = prepareDataset('qa.jsonl', text, tok, { sequenceLength: 8, evalFraction: 0, seed: 1, layout: keepStart });
    expect(out.summary).toMatchObject({ kind: 'prompt-completion', examples: 3, trainExamples: 2, evalExamples: 0, nothingTrained: 1, tokens: 5 + 8, untrainedTokens: 2 + 7, truncated: 2 });
    expect(out.train.map((ids) => tok.decode(ids))).toEqual(['abcd<|endoftext|>', 'abcdefgh']);
    expect(out.trained!.train).toEqual([Uint8Array.from([0, 0, 1, 1, 1]), Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 1])]);
    expect(() => prepareDataset('qa.jsonl', JSON.stringify(rows[0]), tok, { sequenceLength: 8, evalFraction: 0, seed: 1, layout: keepStart })).toThrow(
      "qa.jsonl: every example's prompt fills the 8 tokens of the sequence length, leaving no completion to train on; raise the sequence length",
    );
  });

  it('plain text is trained everywhere and says nothing of completion-only loss', () => {
    const out = prepareDataset('a.txt', 'one\ntwo\nthree', tok, { sequenceLength: 8, evalFraction: 0.34, seed: 1 });
    expect(out.summary.kind).toBe('text');
    expect(out.summary.untrainedTokens).toBe(0);
    expect(out.summary.completionOnly).toBeUndefined();
    expect(out.trained).toBeUndefined();
  });
});

describe('splitHeldOut', () => {
  const all = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

  it('sizes the eval set as round(n·fraction), at least 1, never everything', () => {
    const sizes = (n: number, f: number): [number, number] => {
      const s = splitHeldOut(n, f, 0);
      return [s.train.length, s.eval.length];
    };
    expect(sizes(100, 0.1)).toEqual([90, 10]);
    expect(sizes(10, 0.25)).toEqual([7, 3]); // round(2.5) = 3
    expect(sizes(5, 0.01)).toEqual([4, 1]); // at least one held out
    expect(sizes(2, 0.5)).toEqual([1, 1]);
    expect(sizes(3, 0.9)).toEqual([1, 2]); // never all of it
    expect(sizes(1, 0.5)).toEqual([1, 0]); // a single example trains
    expect(sizes(50, 0)).toEqual([50, 0]);
    expect(sizes(0, 0.1)).toEqual([0, 0]);
  });

  it('is deterministic per seed, disjoint and covers every index', () => {
    const a = splitHeldOut(200, 0.2, 11);
    expect(splitHeldOut(200, 0.2, 11)).toEqual(a);
    expect(splitHeldOut(200, 0.2, 12).eval).not.toEqual(a.eval);
    const evalSet = new Set(a.eval);
    expect(a.train.some((i) => evalSet.has(i))).toBe(false);
    expect([...a.train, ...a.eval].sort((x, y) => x - y)).toEqual(all(200));
    // A random split, not simply the tail.
    expect(a.eval).not.toEqual(all(200).slice(160));
  });

  it('rejects fractions outside [0, 1)', () => {
    expect(() => splitHeldOut(10, 1, 0)).toThrow(/evalFraction must be in \[0, 1\)/);
    expect(() => splitHeldOut(10, -0.1, 0)).toThrow(/evalFraction/);
    expect(() => splitHeldOut(10, Number.NaN, 0)).toThrow(/evalFraction/);
  });
});

describe('makeBatch', () => {
  it('right-pads ids with padId to the full length and masks padding in labels', () => {
    const b = makeBatch([[1, 2, 3], [4], [5, 6, 7, 8]], 4, 9);
    expect(b.batch).toBe(3);
    expect(b.length).toBe(4);
    expect([...b.ids]).toEqual([1, 2, 3, 9, 4, 9, 9, 9, 5, 6, 7, 8]);
    expect([...b.labels]).toEqual([1, 2, 3, IGNORE_INDEX, 4, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, 5, 6, 7, 8]);
  });

  it('keeps the label of a real eos even when pad equals eos', () => {
    const b = makeBatch([[72, EOS]], 4, EOS);
    expect([...b.ids]).toEqual([72, EOS, EOS, EOS]);
    expect([...b.labels]).toEqual([72, EOS, IGNORE_INDEX, IGNORE_INDEX]);
  });

  it('refuses sequences longer than the length', () => {
    expect(() => makeBatch([[1, 2, 3]], 2, 0)).toThrow(/exceeds sequenceLength 2/);
  });
});

describe('BatchSampler', () => {
  // Sequence i is [i, i, ...] of length 1 + (i % 3), so each batch row reveals its example.
  const sequences = Array.from({ length: 10 }, (_, i) => Array.from({ length: 1 + (i % 3) }, () => i));
  const sampler = new BatchSampler(sequences, { batchSize: 4, sequenceLength: 5, padId: 99, seed: 3 });
  const rowsOf = (b: { ids: Int32Array; batch: number; length: number }): number[] =>
    Array.from({ length: b.batch }, (_, r) => b.ids[r * b.length]);

  it('makes fixed-shape batches, keeping a smaller last batch', () => {
    expect(sampler.batchesPerEpoch).toBe(3);
    const batches = [...sampler.epoch(0)];
    expect(batches.map((b) => b.batch)).toEqual([4, 4, 2]);
    for (const b of batches) {
      expect(b.length).toBe(5);
      expect(b.ids).toHaveLength(b.batch * 5);
      expect(b.labels).toHaveLength(b.batch * 5);
      for (let r = 0; r < b.batch; r++) {
        const example = b.ids[r * 5];
        const used = 1 + (example % 3);
        for (let c = 0; c < 5; c++) {
          expect(b.ids[r * 5 + c]).toBe(c < used ? example : 99);
          expect(b.labels[r * 5 + c]).toBe(c < used ? example : IGNORE_INDEX);
        }
      }
    }
  });

  it('covers every example exactly once per epoch, in a different order each epoch', () => {
    const orders = [0, 1, 2].map((e) => [...sampler.epoch(e)].flatMap(rowsOf));
    for (const order of orders) expect([...order].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(orders[0]).not.toEqual(orders[1]);
    expect(orders[1]).not.toEqual(orders[2]);
  });

  it('is reproducible from its seed and addressable by global step', () => {
    const again = new BatchSampler(sequences, { batchSize: 4, sequenceLength: 5, padId: 99, seed: 3 });
    expect([...again.epoch(1)].flatMap(rowsOf)).toEqual([...sampler.epoch(1)].flatMap(rowsOf));
    const other = new BatchSampler(sequences, { batchSize: 4, sequenceLength: 5, padId: 99, seed: 4 });
    expect([...other.epoch(0)].flatMap(rowsOf)).not.toEqual([...sampler.epoch(0)].flatMap(rowsOf));
    const atStep = sampler.batchAtStep(7); // epoch 2, batch 1
    expect(atStep.epoch).toBe(2);
    expect(atStep.index).toBe(1);
    expect(rowsOf(atStep.batch)).toEqual(rowsOf(sampler.batch(2, 1)));
  });

  it('validates its inputs', () => {
    expect(() => new BatchSampler([], { batchSize: 1, sequenceLength: 4, padId: 0, seed: 0 })).toThrow(/no training sequences/);
    expect(() => new BatchSampler([[1]], { batchSize: 0, sequenceLength: 4, padId: 0, seed: 0 })).toThrow(/batchSize/);
    expect(() => sampler.batch(0, 3)).toThrow(/outside 0\.\.2/);
  });
});

describe('evalBatches', () => {
  it('keeps the held-out order and batches it unshuffled', () => {
    const seqs = [[1], [2, 2], [3], [4], [5]];
    const batches = evalBatches(seqs, 2, 3, 0);
    expect(batches.map((b) => b.batch)).toEqual([2, 2, 1]);
    expect([...batches[0].ids]).toEqual([1, 0, 0, 2, 2, 0]);
    expect([...batches[0].labels]).toEqual([1, IGNORE_INDEX, IGNORE_INDEX, 2, 2, IGNORE_INDEX]);
    expect([...batches[2].ids]).toEqual([5, 0, 0]);
    expect(evalBatches([], 2, 3, 0)).toEqual([]);
  });
});

describe('summarize / prepareDataset', () => {
  it('builds the protocol summary with a 5-example, 400-character preview', () => {
    const long = '😀'.repeat(500);
    const examples = [long, 'b', 'c', 'd', 'e', 'f'];
    const lengths = { bins: [{ from: 1, to: 16, count: 6 }], exceeding: 0, longest: 2 };
    const summary = summarize({
      fileName: 'x.txt',
      format: 'txt',
      examples,
      tokenized: { tokens: 123, truncated: 2 },
      split: { train: [0, 1, 2, 3, 4], eval: [5] },
      sequenceLength: 64,
      rows: { train: 7, eval: 1 },
      duplicates: 0,
      lengths,
    });
    expect(summary).toEqual({
      fileName: 'x.txt',
      format: 'txt',
      examples: 6,
      duplicates: 0,
      trainExamples: 5,
      evalExamples: 1,
      trainRows: 7,
      evalRows: 1,
      tokens: 123,
      truncated: 2,
      sequenceLength: 64,
      lengths,
      preview: ['😀'.repeat(400), 'b', 'c', 'd', 'e'],
    });
  });

  it('goes from file text to summary and split id sequences', () => {
    const text = Array.from({ length: 10 }, (_, i) => JSON.stringify({ text: `example ${i}` })).join('\n');
    const out = prepareDataset('d.jsonl', text, tok, { sequenceLength: 8, evalFraction: 0.2, seed: 1, layout: { long: 'keep-start', short: 'pad' } });
    expect(out.summary).toMatchObject({ format: 'jsonl', examples: 10, trainExamples: 8, evalExamples: 2, trainRows: 8, evalRows: 2, truncated: 10, tokens: 80 });
    expect(out.train).toHaveLength(8);
    expect(out.eval).toHaveLength(2);
    expect(tok.decode(out.eval[0])).toMatch(/^example /);
    expect(() => prepareDataset('d.jsonl', '{"text":1}', tok, { sequenceLength: 8, evalFraction: 0.2, seed: 1 })).toThrow(
      DatasetError,
    );
  });
});

describe('prepareDataset: windows, packing, cuts, duplicates', () => {
  // Byte-level: one token per byte, then eos.
  const paragraph = (i: number, n: number) => `${String.fromCharCode(97 + (i % 26))}${i}`.padEnd(n, '.');
  const encoded = (text: string) => [...new TextEncoder().encode(text), EOS];

  it('splits a long plain text into windows that together are its whole token sequence, and packs by default', () => {
    const long = paragraph(0, 50);
    const out = prepareDataset('a.txt', `${long}\nhi`, tok, { sequenceLength: 16, evalFraction: 0, seed: 1 });
    expect(out.summary.layout).toEqual({ long: 'windows', short: 'pack', shortByDefault: true });
    expect(out.train.flat()).toEqual([...encoded(long), ...encoded('hi')]);
    expect(out.train.map((r) => r.length)).toEqual([16, 16, 16, 6]);
    expect(out.summary).toMatchObject({ examples: 2, trainExamples: 2, trainRows: 4, evalRows: 0, truncated: 0, tokens: 51 + 3, duplicates: 0 });
    expect(out.summary.lengths.exceeding).toBe(1);
    expect(out.summary.lengths.longest).toBe(51);
    expect(out.summary.windows).toBeUndefined();
  });

  it('with padding gives each example its windows, the last of each shorter', () => {
    const long = paragraph(0, 40);
    const out = prepareDataset('a.txt', `${long}\nhi`, tok, { sequenceLength: 16, evalFraction: 0, seed: 1, layout: { short: 'pad' } });
    expect(out.train.map((r) => r.length)).toEqual([16, 16, 9, 3]);
    expect(out.train.slice(0, 3).flat()).toEqual(encoded(long));
    expect(out.summary).toMatchObject({ layout: { long: 'windows', short: 'pad', shortByDefault: false }, windows: 3, trainRows: 4, truncated: 0 });
  });

  it('cuts only when asked, keeping the start or the end, and counts the cuts', () => {
    const long = paragraph(0, 40);
    const start = prepareDataset('a.txt', `${long}\nhi`, tok, { sequenceLength: 16, evalFraction: 0, seed: 1, layout: { long: 'keep-start', short: 'pad' } });
    expect(start.train).toEqual([encoded(long).slice(0, 16), encoded('hi')]);
    expect(start.summary).toMatchObject({ truncated: 1, tokens: 16 + 3 });
    const end = prepareDataset('a.txt', `${long}\nhi`, tok, { sequenceLength: 16, evalFraction: 0, seed: 1, layout: { long: 'keep-end', short: 'pad' } });
    expect(end.train).toEqual([encoded(long).slice(-16), encoded('hi')]);
    expect(end.train[0].at(-1)).toBe(EOS);
    expect(end.summary.truncated).toBe(1);
  });

  it("keeps a long instruction example's completion trained in every window it reaches; prompt-only windows are left out and counted", () => {
    const prompt = 'p'.repeat(20);
    const completion = 'c'.repeat(10);
    const text = JSON.stringify({ prompt, completion });
    const out = prepareDataset('qa.jsonl', text, tok, { sequenceLength: 8, evalFraction: 0, seed: 1 });
    expect(out.summary.layout).toEqual({ long: 'windows', short: 'pad', shortByDefault: true });
    // 31 tokens in windows of 8: [0,8) and [8,16) are prompt only; [16,24) and [24,31) hold the completion.
    expect(out.summary).toMatchObject({ promptOnlyRows: 2, trainRows: 2, windows: 4, tokens: 15, untrainedTokens: 4 });
    expect(out.train).toEqual([encoded(prompt + completion).slice(16, 24), encoded(prompt + completion).slice(24)]);
    expect(out.trained!.train).toEqual([Uint8Array.from([0, 0, 0, 0, 1, 1, 1, 1]), undefined]);
    // The kept windows' labels are the example's own labels at those positions.
    const labels = makeBatch(out.train, 8, EOS, undefined, out.trained!.train).labels;
    expect(tok.decode(Array.from(labels).filter((l) => l !== IGNORE_INDEX))).toBe(`${completion}<|endoftext|>`);
  });

  it('drops exact duplicates before the split and counts them', () => {
    const lines = ['one', 'two', 'one', 'three', 'two', 'one'];
    const out = prepareDataset('a.txt', lines.join('\n'), tok, { sequenceLength: 16, evalFraction: 0, seed: 1, layout: { short: 'pad' } });
    expect(out.summary).toMatchObject({ examples: 6, duplicates: 3, trainExamples: 3, trainRows: 3 });
    expect(out.train.map((r) => tok.decode(r))).toEqual(['one<|endoftext|>', 'two<|endoftext|>', 'three<|endoftext|>']);
    const pairs = [{ prompt: 'a', completion: 'b' }, { prompt: 'a', completion: 'b' }, { prompt: 'a', completion: 'c' }].map((r) => JSON.stringify(r)).join('\n');
    expect(prepareDataset('qa.jsonl', pairs, tok, { sequenceLength: 16, evalFraction: 0, seed: 1 }).summary).toMatchObject({ examples: 3, duplicates: 1, trainExamples: 2 });
    const csv = 'text,label\ngood,pos\ngood,pos\ngood,neg\nbad,neg\n';
    const labelled = prepareDataset('l.csv', csv, tok, { sequenceLength: 16, evalFraction: 0, seed: 1 });
    expect(labelled.summary).toMatchObject({ examples: 4, duplicates: 1, trainExamples: 3, trainRows: 3 });
    expect(labelled.summary.classification!.counts).toEqual([2, 1]);
  });

  it('splits by example before windowing and packing: no held-out token is in a training row', () => {
    // 30 paragraphs, each with its own letters, several longer than a row.
    const paragraphs = Array.from({ length: 30 }, (_, i) => `${String.fromCharCode(65 + (i % 26))}${i}:`.padEnd(5 + ((i * 7) % 40), String.fromCharCode(97 + (i % 26))));
    for (const short of ['pack', 'pad'] as const) {
      const out = prepareDataset('a.txt', paragraphs.join('\n'), tok, { sequenceLength: 16, evalFraction: 0.2, seed: 7, layout: { short } });
      expect(out.summary).toMatchObject({ trainExamples: 24, evalExamples: 6 });
      const heldText = tok.decode(out.eval.flat());
      const trainText = tok.decode(out.train.flat());
      const held = paragraphs.filter((p) => heldText.includes(`${p}<|endoftext|>`));
      expect(held).toHaveLength(6);
      for (const p of held) expect(trainText.includes(p.slice(0, p.indexOf(':') + 1))).toBe(false);
      expect(out.summary.trainRows).toBe(out.train.length);
      expect(out.summary.evalRows).toBe(out.eval.length);
      expect(out.summary.tokens).toBe(paragraphs.reduce((n, p) => n + p.length + 1, 0));
    }
  });

  it('keeps a labelled dataset one row per example, cut keeping the start, with its lengths binned', () => {
    const csv = `text,label\n${'x'.repeat(30)},a\nshort,b\n`;
    const out = prepareDataset('l.csv', csv, tok, { sequenceLength: 16, evalFraction: 0, seed: 1, layout: { long: 'windows', short: 'pack' } });
    expect(out.train.map((r) => r.length)).toEqual([16, 5]);
    expect(out.summary).toMatchObject({ truncated: 1, trainRows: 2, tokens: 21 });
    expect(out.summary.layout).toBeUndefined();
    expect(out.summary.lengths).toMatchObject({ exceeding: 1, longest: 30 });
  });
});
