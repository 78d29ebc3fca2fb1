import { describe, expect, it } from 'vitest';
import { chunk, cut, defaultLayout, exampleKey, firstOccurrences, layoutRows, lengthHistogram } from './layout';
import { promptCompletion, textExample } from './parse';

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('chunk / cut', () => {
  it('chunks into consecutive slices whose concatenation is the whole', () => {
    const ids = range(1, 23);
    const parts = chunk(ids, 5);
    expect(parts.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
    expect(parts.flat()).toEqual(ids);
    expect(chunk(range(1, 10), 5).map((p) => p.length)).toEqual([5, 5]);
    expect(chunk([], 5)).toEqual([]);
  });

  it('cuts keeping the start (right truncation) or the end (left truncation)', () => {
    const ids = range(1, 6);
    expect(cut(ids, 4, 'keep-start')).toEqual([1, 2, 3, 4]);
    expect(cut(ids, 4, 'keep-end')).toEqual([3, 4, 5, 6]);
    expect(cut(Uint8Array.from([0, 0, 1, 1, 1, 1]), 3, 'keep-end')).toEqual(Uint8Array.from([1, 1, 1]));
    expect(cut(ids, 8, 'keep-end')).toBe(ids);
  });
});

describe('defaultLayout', () => {
  it('splits long examples into windows; packs plain text and pads instruction data; a choice wins', () => {
    expect(defaultLayout(true)).toEqual({ long: 'windows', short: 'pack' });
    expect(defaultLayout(false)).toEqual({ long: 'windows', short: 'pad' });
    expect(defaultLayout(true, { short: 'pad', long: 'keep-end' })).toEqual({ long: 'keep-end', short: 'pad' });
  });
});

describe('layoutRows', () => {
  it('pads: a long example becomes windows whose concatenation is the example; short ones keep a row each', () => {
    const long = range(100, 11);
    const rows = layoutRows([[1, 2], long, [3]], undefined, 4, 'pad');
    expect(rows.ids).toEqual([[1, 2], [100, 101, 102, 103], [104, 105, 106, 107], [108, 109, 110], [3]]);
    expect(rows.ids.slice(1, 4).flat()).toEqual(long);
    expect(rows.windows).toBe(3);
    expect(rows.promptOnly).toBe(0);
    expect(rows.trained).toBeUndefined();
  });

  it('packs: the examples end to end cut into full rows, only the last shorter, no token lost', () => {
    const examples = [range(1, 3), range(10, 9), range(30, 2), range(40, 5)];
    const rows = layoutRows(examples, undefined, 4, 'pack');
    expect(rows.ids.slice(0, -1).every((r) => r.length === 4)).toBe(true);
    expect(rows.ids.at(-1)).toHaveLength(19 % 4);
    expect(rows.ids.flat()).toEqual(examples.flat());
    expect(rows.ids).toHaveLength(Math.ceil(19 / 4));
    expect(rows.windows).toBe(0);
  });

  it("keeps each window's slice of its example's mask, and leaves out rows of prompt tokens only", () => {
    // A 10-token prompt then 3 trained tokens, in rows of 4: [p p p p] [p p p p] [p p c c] [c].
    const ids = range(1, 13);
    const mask = Uint8Array.from([...Array(10).fill(0), 1, 1, 1]);
    const rows = layoutRows([ids, [50, 51]], [mask, undefined], 4, 'pad');
    expect(rows.promptOnly).toBe(2);
    expect(rows.ids).toEqual([[9, 10, 11, 12], [13], [50, 51]]);
    expect(rows.trained).toEqual([Uint8Array.from([0, 0, 1, 1]), undefined, undefined]);
    // The kept rows' masks, laid back in place, are the example's mask from the first kept token on.
    expect(Array.from(rows.trained![0]!)).toEqual(Array.from(mask.slice(8, 12)));
  });

  it('packs masks with their tokens, an unmasked example trained everywhere', () => {
    const rows = layoutRows([[1, 2, 3], [4, 5, 6, 7, 8]], [Uint8Array.from([0, 1, 1]), undefined], 3, 'pack');
    expect(rows.ids).toEqual([[1, 2, 3], [4, 5, 6], [7, 8]]);
    expect(rows.trained).toEqual([Uint8Array.from([0, 1, 1]), undefined, undefined]);
    const allPrompt = layoutRows([[1, 2, 3, 4], [5, 6]], [Uint8Array.from([0, 0, 0, 0]), Uint8Array.from([0, 1])], 2, 'pack');
    expect(allPrompt.ids).toEqual([[5, 6]]);
    expect(allPrompt.promptOnly).toBe(2);
  });
});

describe('duplicates', () => {
  it('keeps the first of each exact duplicate, by text and by which segments are trained', () => {
    const examples = [textExample('a'), promptCompletion('a', 'b'), textExample('a'), promptCompletion('a', 'b'), textExample('ab'), textExample('a ')];
    expect(firstOccurrences(examples.map(exampleKey))).toEqual([0, 1, 4, 5]);
  });
});

describe('lengthHistogram', () => {
  it('bins by quarters of the sequence length, then doublings up to the longest, and counts those longer than a row', () => {
    const h = lengthHistogram([1, 16, 17, 40, 64, 65, 128, 129, 300], 64);
    expect(h.bins).toEqual([
      { from: 1, to: 16, count: 2 },
      { from: 17, to: 32, count: 1 },
      { from: 33, to: 48, count: 1 },
      { from: 49, to: 64, count: 1 },
      { from: 65, to: 128, count: 2 },
      { from: 129, to: 256, count: 1 },
      { from: 257, to: 512, count: 1 },
    ]);
    expect(h.exceeding).toBe(4);
    expect(h.longest).toBe(300);
    expect(h.bins.reduce((n, b) => n + b.count, 0)).toBe(9);
  });

  it('has no bins above the row when nothing exceeds it, and distinct edges for tiny rows', () => {
    expect(lengthHistogram([3, 4], 4)).toEqual({ bins: [{ from: 1, to: 1, count: 0 }, { from: 2, to: 2, count: 0 }, { from: 3, to: 3, count: 1 }, { from: 4, to: 4, count: 1 }], exceeding: 0, longest: 4 });
    expect(lengthHistogram([2, 5], 2).bins).toEqual([{ from: 1, to: 1, count: 0 }, { from: 2, to: 2, count: 1 }, { from: 3, to: 4, count: 0 }, { from: 5, to: 8, count: 1 }]);
  });
});
