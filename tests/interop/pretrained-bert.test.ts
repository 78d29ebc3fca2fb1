// The built-in masked LM (public/models/studio-bert-en) as it ships: transformers'
// BertForMaskedLM and AutoModelForMaskedLM load it with no missing or unexpected weights and
// compute the studio engine's logits within the interop tolerance; Python's `tokenizers` and
// AutoTokenizer give the studio tokenizer's ids; PyTorch and the studio score held-out text alike.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heldoutSlice, maskedHeldoutLoss } from '../../src/models/heldout';
import { loadModelFolder, PRETRAINED_MLM_DIR, readModuleFile, useWasmBackend } from '../../src/models/pretrained-node';
import type { LoadedModel } from '../../src/models/types';
import type { TextTokenizer } from '../../src/tokenize/tokenizer';
import { cleanup, flat, maxAbsDiff, readJson, runPython, studioLogits, tempDir, TOLERANCE, writeJson } from './helpers';

interface Report {
  classes: string[];
  loading_info: Record<string, string[]>;
  warnings: string[];
  tied: boolean;
  num_parameters: number;
  dtype: string;
  mask_token_id: number;
  logits_bert: unknown;
  logits_auto: unknown;
  slice: { nats: number; bytes: number; tokens: number; windows: number; nats_per_token: number; nats_per_byte: number };
}

const MODEL_DIR = PRETRAINED_MLM_DIR.pathname;
const evalJson = JSON.parse(readFileSync(new URL('eval.json', PRETRAINED_MLM_DIR), 'utf8')) as { eval_k: number };
const LENGTH = 40;

/** English in both cases, whitespace runs, accents, typographic punctuation, CJK, emoji, controls, the special tokens. */
const TEXTS = [
  'Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse,',
  'Mr. Speaker, Mr. Vice President, Members of Congress, my fellow Americans: the State of the Union is strong.',
  "  leading spaces, trailing spaces   and it's, we'll, I'd, they're",
  'Tabs\tand\nnewlines\r\n\n  indented',
  'Ünïcödé café naïve — “quotes” … 日本語のテキスト 한국어',
  'emoji 🎉👩‍👩‍👧 and a lone ZWJ\u200d end',
  'the [MASK] rose; [SEP] then [CLS] and [PAD]',
  'control \u0001\u007f bytes and the replacement char \ufffd',
  'A WHALE! a Whale! a whale!',
  '',
];

let model: LoadedModel;
let tokenizer: TextTokenizer;
let dir: string;
let ids: number[][];
let docs: string[];
let report: Report;

beforeAll(async () => {
  await tf.setBackend('cpu');
  ({ model, tokenizer } = loadModelFolder(PRETRAINED_MLM_DIR));
  // Two rows of LENGTH ids, each [CLS] … [SEP]: English prose with a [MASK] in it, and text with accents, CJK and emoji.
  const row = (text: string) => {
    const t = tokenizer.encode(text);
    return [...t.slice(0, LENGTH - 1), t.at(-1)!];
  };
  ids = [row(`${TEXTS[0].replace('money', '[MASK]')} ${TEXTS[1]}`), row(`${TEXTS[4]} ${TEXTS[5]} ${TEXTS[2]} ${TEXTS[1]}`)];
  for (const r of ids) expect(r).toHaveLength(LENGTH);
  expect(ids[0]).toContain(tokenizer.maskId);
  docs = heldoutSlice(readModuleFile).slice(0, 3); // three held-out chapters keep PyTorch's one-pass-per-k scoring quick
  dir = tempDir('pretrained-bert');
  writeJson(join(dir, 'ids.json'), ids);
  writeJson(join(dir, 'docs.json'), docs);
  runPython('pretrained_bert_logits.py', [MODEL_DIR, join(dir, 'ids.json'), join(dir, 'docs.json'), String(evalJson.eval_k), join(dir, 'out.json')], 600_000);
  report = readJson<Report>(join(dir, 'out.json'));
}, 600_000);

afterAll(() => {
  model?.dispose();
  cleanup(dir);
});

describe('transformers loads public/models/studio-bert-en unchanged', () => {
  it('builds BertForMaskedLM from both entry points, every weight from the file, the decoder tied', () => {
    expect(report.classes).toEqual(['BertForMaskedLM', 'BertForMaskedLM', 'BertTokenizer']);
    expect(report.loading_info).toEqual({ missing_keys: [], unexpected_keys: [], mismatched_keys: [], error_msgs: [] });
    expect(report.warnings).toEqual([]);
    expect(report.tied).toBe(true);
    expect(report.dtype).toBe('torch.float32');
    expect(report.num_parameters).toBe(model.info.totalParams);
    expect(report.mask_token_id).toBe(tokenizer.maskId);
  });

  it(`computes the engine's logits within ${TOLERANCE} (BertForMaskedLM and AutoModelForMaskedLM)`, async () => {
    const ours = await studioLogits(model, ids);
    const bert = flat(report.logits_bert);
    const auto = flat(report.logits_auto);
    expect(bert.length).toBe(ids.length * LENGTH * model.info.config.vocabSize);
    console.log(`studio-bert-en: max |transformers − studio| ${maxAbsDiff(ours, bert).toExponential(2)} (BertForMaskedLM), ${maxAbsDiff(ours, auto).toExponential(2)} (AutoModelForMaskedLM)`);
    expect(maxAbsDiff(ours, bert)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(ours, auto)).toBeLessThan(TOLERANCE);
    // A trained model is confident: its logits span a wide range.
    expect(bert.reduce((m, x) => Math.max(m, x), -Infinity) - bert.reduce((m, x) => Math.min(m, x), Infinity)).toBeGreaterThan(5);
  });

  it('scores held-out text as the studio does (same masked tokens, same nats within 1e-4 per byte)', async () => {
    await useWasmBackend();
    const ours = await maskedHeldoutLoss(model, tokenizer, docs, evalJson.eval_k);
    expect(report.slice.bytes).toBe(ours.bytes);
    expect(report.slice.tokens).toBe(ours.tokens);
    expect(report.slice.windows).toBe(ours.windows);
    console.log(`held-out chapters: PyTorch ${report.slice.nats_per_token.toFixed(5)} nats/masked token, ${report.slice.nats_per_byte.toFixed(5)} nats/byte; studio ${ours.natsPerToken.toFixed(5)}, ${ours.natsPerByte.toFixed(5)}`);
    expect(Math.abs(report.slice.nats_per_byte - ours.natsPerByte)).toBeLessThan(1e-4);
    expect(Math.abs(report.slice.nats_per_token - ours.natsPerToken)).toBeLessThan(5e-4);
  }, 600_000);
});

describe("Python's tokenizers agree with the studio's tokenizer on the WordPiece vocabulary", () => {
  it('tokenizers.Tokenizer and AutoTokenizer give the same ids', () => {
    const cases = TEXTS.map((text) => ({ text, ids: tokenizer.encode(text) }));
    // Case folded: the three whales are one token.
    const whales = cases.find((c) => c.text.startsWith('A WHALE'))!.ids;
    expect(new Set([whales[2], whales[5], whales[8]]).size).toBe(1);
    // The special tokens written in text are the special tokens.
    const specials = cases.find((c) => c.text.startsWith('the [MASK]'))!.ids;
    expect(specials).toContain(tokenizer.maskId);
    const path = join(dir, 'tokenizer-cases.json');
    writeJson(path, cases);
    const { stdout } = runPython('tokenizer_check.py', [MODEL_DIR, path]);
    expect(stdout).toMatch(new RegExp(`^OK ${cases.length} cases`, 'm'));
  });

  it('tokenizer_check.py fails when the ids differ (the check can fail)', () => {
    const wrong = [...tokenizer.encode('Call me Ishmael.')];
    wrong[1] += 1;
    const path = join(dir, 'tokenizer-wrong.json');
    writeJson(path, [{ text: 'Call me Ishmael.', ids: wrong }]);
    expect(() => runPython('tokenizer_check.py', [MODEL_DIR, path])).toThrow(/the studio gave/);
  });
});
