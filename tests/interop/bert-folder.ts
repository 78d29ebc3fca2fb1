// Shared by the BERT-family interop tests: tiny random BertForMaskedLM, RobertaForMaskedLM and
// DistilBertForMaskedLM folders that transformers makes (float32 weights and the tokenizer each
// model type comes with: WordPiece from a small vocab.txt for BERT and DistilBERT, byte-level BPE
// for RoBERTa), the studio's session with such a folder dropped on it and a dataset of its words,
// and the two-row input (the second row right-padded under the attention mask) every comparison
// uses.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { IGNORE_INDEX, makeBatch, tokenizeExamples } from '../../src/data/dataset';
import type { Hooks, LoadedModel } from '../../src/models/types';
import type { TextTokenizer } from '../../src/tokenize/tokenizer';
import type { FromWorker } from '../../src/worker/protocol';
import { StudioSession } from '../../src/worker/session';
import { readFolder, readJson, runPython, writeJson } from './helpers';

export const BERT_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'to', 'a', 'big', 'red', 'house', 'and', 'saw', 'small', '.', ',', '##s', '##ed'];
export const BERT_SENTENCES = [
  'the cat sat on the mat.',
  'a big red dog ran to the house.',
  'the dogs saw a small cat, and the cat ran.',
  'a cat and a dog sat on a big red mat.',
  'the small house and the big mat.',
];
export const BERT_CONFIG = { vocab_size: BERT_VOCAB.length, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 64, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 };
export const BERT_ID = 'tiny-bert';

/** A model type of the family, as transformers makes its tiny checkpoint and tokenizer. */
export interface MaskedLmFamily {
  /** config.json's model_type; the folder and the session's model are named tiny-<modelType>. */
  modelType: 'bert' | 'roberta' | 'distilbert';
  configClass: string;
  /** The config's fields; vocab_size is the tokenizer's unless given. */
  config: Record<string, unknown>;
  tokenizer: 'wordpiece' | 'byte-bpe';
  tokenizerClass: string;
}

export const BERT_FAMILY: MaskedLmFamily = { modelType: 'bert', configClass: 'BertConfig', config: BERT_CONFIG, tokenizer: 'wordpiece', tokenizerClass: 'BertTokenizerFast' };
/** As roberta-base: one token type, two position rows below the first real one, byte-level BPE. */
export const ROBERTA_FAMILY: MaskedLmFamily = {
  modelType: 'roberta',
  configClass: 'RobertaConfig',
  config: { ...BERT_CONFIG, vocab_size: undefined, max_position_embeddings: 66, type_vocab_size: 1 },
  tokenizer: 'byte-bpe',
  tokenizerClass: 'RobertaTokenizerFast',
};
export const DISTILBERT_FAMILY: MaskedLmFamily = {
  modelType: 'distilbert',
  configClass: 'DistilBertConfig',
  config: { dim: 32, n_layers: 2, n_heads: 4, hidden_dim: 64, max_position_embeddings: 64, dropout: 0, attention_dropout: 0 },
  tokenizer: 'wordpiece',
  tokenizerClass: 'DistilBertTokenizerFast',
};

export const familyId = (f: MaskedLmFamily) => `tiny-${f.modelType}`;

export interface MakeReport {
  versions: Record<string, string>;
  class: string;
  files: string[];
  saved_dtypes: string[];
  vocab_size: number;
  encoded: number[][];
  warnings: string[];
}

/** Runs bert_lora.py in `mode` on `spec` through <work>/<mode>-spec.json and -out.json. */
export function bertPython<T>(work: string, mode: 'make' | 'check', spec: unknown): T {
  const specPath = join(work, `${mode}-spec.json`);
  const outPath = join(work, `${mode}-out.json`);
  writeJson(specPath, spec);
  runPython('bert_lora.py', [mode, specPath, outPath]);
  return readJson<T>(outPath);
}

/** transformers makes <work>/tiny-<modelType> for each family (seeds 3, 4, …) in one run; the folders and what the script reported. */
export function makeMaskedLmFolders(work: string, families: MaskedLmFamily[]): { dir: string; made: MakeReport }[] {
  const folders = families.map((f, i) => ({
    dir: join(work, familyId(f)),
    config_class: f.configClass,
    config: Object.fromEntries(Object.entries(f.config).filter(([, v]) => v !== undefined)),
    tokenizer: f.tokenizer,
    tokenizer_class: f.tokenizerClass,
    vocab: BERT_VOCAB,
    bpe_vocab_size: 300,
    seed: 3 + i,
    texts: BERT_SENTENCES,
  }));
  const out = bertPython<{ versions: Record<string, string>; folders: Omit<MakeReport, 'versions'>[] }>(work, 'make', { folders });
  return out.folders.map((made, i) => ({ dir: folders[i].dir, made: { versions: out.versions, ...made } }));
}

/** transformers makes <work>/tiny-bert (seed 3); returns the folder and what the script reported. */
export function makeBertFolder(work: string): { dir: string; made: MakeReport } {
  return makeMaskedLmFolders(work, [BERT_FAMILY])[0];
}

export interface BertSession {
  session: StudioSession;
  events: FromWorker[];
  last<T extends FromWorker['type']>(type: T): Extract<FromWorker, { type: T }> | undefined;
  tokenizer: TextTokenizer;
}

/** A cpu session with the folder dropped on it (as `name`) and 30 lines of the sentences as a dataset. */
export async function openBertSession(dir: string, sequenceLength: number, name = BERT_ID): Promise<BertSession> {
  await tf.setBackend('cpu');
  const events: FromWorker[] = [];
  const session = new StudioSession((m) => events.push(m));
  await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
  const folder = readFolder(dir);
  await session.handle({ type: 'loadModelFiles', files: Object.entries(folder).map(([n, b]) => new File([new Uint8Array(b)], n)), name });
  const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ text: BERT_SENTENCES[i % BERT_SENTENCES.length] })).join('\n');
  await session.handle({ type: 'loadDataset', file: new File([lines], 'sentences.jsonl'), sequenceLength, evalFraction: 0.1, seed: 1 });
  const last = <T extends FromWorker['type']>(type: T) => events.filter((e) => e.type === type).at(-1) as Extract<FromWorker, { type: T }> | undefined;
  const tokenizer = (session as unknown as { tokenizer: TextTokenizer }).tokenizer;
  return { session, events, last, tokenizer };
}

/** Two sentences through the tokenizer, the shorter right-padded: ids and the attention mask (1 real, 0 pad). */
export function maskedInput(tok: TextTokenizer): { ids: number[][]; mask: number[][] } {
  const rows = tokenizeExamples([BERT_SENTENCES[2], BERT_SENTENCES[0]], tok, 16).ids;
  const b = makeBatch(rows, Math.max(...rows.map((r) => r.length)), tok.padId);
  const row = <T>(a: Int32Array, i: number, f: (x: number) => T) => Array.from(a.subarray(i * b.length, (i + 1) * b.length), f);
  return {
    ids: Array.from({ length: b.batch }, (_, i) => row(b.ids, i, (x) => x)),
    mask: Array.from({ length: b.batch }, (_, i) => row(b.labels, i, (l) => (l === IGNORE_INDEX ? 0 : 1))),
  };
}

/** The studio's logits for the input under its attention mask, with `hooks`, flattened row-major. */
export async function maskedLogits(model: LoadedModel, input: { ids: number[][]; mask: number[][] }, hooks: Hooks = {}): Promise<Float32Array> {
  const [B, T] = [input.ids.length, input.ids[0].length];
  const out = tf.tidy(() => model.forward(tf.tensor2d(input.ids, [B, T], 'int32'), hooks, { attentionMask: tf.tensor2d(input.mask, [B, T], 'int32') }).logits);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}
