// How tokenized examples become fixed-length rows for a language-modelling objective: a long
// example is split into consecutive windows (or cut, when the person asks for it), and short
// examples are packed end to end or given a row each. Also the exact-duplicate filter and the
// token-length histogram the page shows.
import type { Example } from './parse';

/**
 * What happens to an example longer than the sequence length. 'windows': split into consecutive
 * windows that cover it whole (transformers' run_clm `group_texts`: concatenate, then chunk).
 * 'keep-start' / 'keep-end': cut to the sequence length, as tokenizers' truncation_side
 * 'right' / 'left'.
 */
export type LongExamples = 'windows' | 'keep-start' | 'keep-end';

/**
 * How examples fill rows. 'pack': concatenated, each closed by its eos, and cut into full rows
 * (run_clm, TRL's `packing=True` with the "wrapped" strategy); rows attend across example
 * boundaries as they do there. 'pad': one example (or one window of it) per row, right-padded.
 */
export type ShortExamples = 'pack' | 'pad';

export interface SequenceLayout {
  long: LongExamples;
  short: ShortExamples;
}

/**
 * The layout a dataset gets where the person chose none: windows, never a silent cut; packing
 * for plain text (pretraining-style data, as run_clm and run_mlm do), padding for instruction
 * data (TRL's SFTTrainer default, packing=False), so each row starts at a prompt.
 */
export function defaultLayout(plainText: boolean, chosen: Partial<SequenceLayout> = {}): SequenceLayout {
  return { long: chosen.long ?? 'windows', short: chosen.short ?? (plainText ? 'pack' : 'pad') };
}

/** Consecutive slices of at most `length` items covering `items` whole: [0, L), [L, 2L), … (the last may be shorter). */
export function chunk<T extends { slice(start: number, end?: number): T; length: number }>(items: T, length: number): T[] {
  const out: T[] = [];
  for (let start = 0; start < items.length; start += length) out.push(items.slice(start, start + length));
  return out;
}

/** `ids` (and its mask) cut to `length` tokens, keeping the start or the end. */
export function cut<T extends { slice(start: number, end?: number): T; length: number }>(ids: T, length: number, side: 'keep-start' | 'keep-end'): T {
  if (ids.length <= length) return ids;
  return side === 'keep-start' ? ids.slice(0, length) : ids.slice(ids.length - length);
}

export interface Rows {
  ids: number[][];
  /** Per row, 1 where the loss reads the token; undefined where it reads every one. Absent when no row has an untrained token. */
  trained?: (Uint8Array | undefined)[];
  /** Rows of prompt tokens only, left out: every label of such a row would be ignored (TRL likewise drops fully masked examples). */
  promptOnly: number;
  /** Under padding: the rows made by splitting examples longer than a row (windows). */
  windows: number;
}

/**
 * The rows of a set of examples (ids parallel to `trained`). Under 'pack' the examples are
 * concatenated in their order and cut into rows of `length`, the last one possibly shorter;
 * under 'pad' each example gives its own windows. A window carries its slice of the example's
 * mask, so a completion's tokens stay trained in whichever window they fall in. A row with no
 * trained token (a window inside a long prompt) is left out and counted.
 */
export function layoutRows(ids: readonly number[][], trained: readonly (Uint8Array | undefined)[] | undefined, length: number, short: ShortExamples): Rows {
  const masked = trained?.some((m) => m !== undefined) ?? false;
  let rows: number[][];
  let masks: (Uint8Array | undefined)[];
  let windows = 0;
  if (short === 'pack') {
    const all = ids.flat();
    rows = chunk(all, length);
    if (masked) {
      const mask = new Uint8Array(all.length);
      let at = 0;
      ids.forEach((seq, i) => {
        mask.set(trained![i] ?? new Uint8Array(seq.length).fill(1), at);
        at += seq.length;
      });
      masks = chunk(mask, length);
    } else {
      masks = rows.map(() => undefined);
    }
  } else {
    rows = [];
    masks = [];
    ids.forEach((seq, i) => {
      const parts = chunk(seq, length);
      if (parts.length > 1) windows += parts.length;
      rows.push(...parts);
      const m = trained?.[i];
      masks.push(...(m ? chunk(m, length) : parts.map(() => undefined)));
    });
  }
  const keep = masks.map((m) => !m || m.includes(1));
  const promptOnly = keep.filter((k) => !k).length;
  const out: Rows = { ids: rows.filter((_, r) => keep[r]), promptOnly, windows };
  if (masked) out.trained = masks.filter((_, r) => keep[r]).map((m) => (m && m.includes(0) ? m : undefined));
  if (out.trained && !out.trained.some((m) => m !== undefined)) delete out.trained;
  return out;
}

/** Indices of the examples to keep: the first of each set of exact duplicates (same segments, same text). */
export function firstOccurrences(keys: readonly string[]): number[] {
  const seen = new Set<string>();
  return keys.flatMap((key, i) => {
    if (seen.has(key)) return [];
    seen.add(key);
    return [i];
  });
}

/** What makes two examples duplicates: every segment's text and whether it is trained on. */
export function exampleKey(example: Example): string {
  return JSON.stringify(example.map((s) => [s.text, s.train]));
}

export interface LengthBin {
  /** Token lengths from `from` to `to`, both included. */
  from: number;
  to: number;
  count: number;
}

export interface LengthHistogram {
  bins: LengthBin[];
  /** Examples longer than the sequence length. */
  exceeding: number;
  /** The longest example's tokens. */
  longest: number;
}

/**
 * Examples' token lengths in bins measured against the sequence length L: quarters of a row
 * (1–L/4, …, 3L/4+1–L), then doublings (L+1–2L, 2L+1–4L, …) up to the longest example, so the
 * bins above L read as "needs up to 2, 4, … windows".
 */
export function lengthHistogram(lengths: readonly number[], sequenceLength: number): LengthHistogram {
  const longest = lengths.reduce((a, b) => Math.max(a, b), 0);
  const edges: number[] = [];
  for (const q of [1, 2, 3, 4]) {
    const edge = Math.round((q * sequenceLength) / 4);
    if (edge > (edges.at(-1) ?? 0)) edges.push(edge);
  }
  while (edges.at(-1)! < longest) edges.push(edges.at(-1)! * 2);
  const bins = edges.map((to, k) => ({ from: k === 0 ? 1 : edges[k - 1] + 1, to, count: 0 }));
  for (const n of lengths) {
    const bin = bins.find((b) => n <= b.to);
    if (bin) bin.count++;
  }
  return { bins, exceeding: lengths.filter((n) => n > sequenceLength).length, longest };
}
