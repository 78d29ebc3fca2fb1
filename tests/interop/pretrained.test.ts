// The built-in pretrained model (public/models/studio-gpt2-en) as it ships: transformers'
// GPT2LMHeadModel and AutoModelForCausalLM load it with no missing or unexpected weights and
// compute the studio engine's logits within 1e-4; Python's `tokenizers` and AutoTokenizer give
// the studio tokenizer's ids; PyTorch and the studio score the held-out slice alike.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heldoutLoss, heldoutSlice } from '../../src/models/heldout';
import { loadModelFolder, PRETRAINED_DIR, readModuleFile, useWasmBackend } from '../../src/models/pretrained-node';
import type { LoadedModel } from '../../src/models/types';
import type { TextTokenizer } from '../../src/tokenize/tokenizer';
import { cleanup, flat, maxAbsDiff, readJson, runPython, studioLogits, tempDir, TOLERANCE, writeJson } from './helpers';

interface Report {
  versions: Record<string, string>;
  classes: string[];
  loading_info: Record<string, string[]>;
  warnings: string[];
  tied: boolean;
  num_parameters: number;
  dtype: string;
  eos_token_id: number;
  logits_gpt2: unknown;
  logits_auto: unknown;
  slice: { nats: number; bytes: number; tokens: number; nats_per_byte: number };
}

const MODEL_DIR = PRETRAINED_DIR.pathname;
const LENGTH = 40;

/** English, whitespace runs, accents, typographic punctuation, CJK, emoji, controls, the special token. */
const TEXTS = [
  'Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse,',
  'Mr. Speaker, Mr. Vice President, Members of Congress, my fellow Americans: the State of the Union is strong.',
  "  leading spaces, trailing spaces   and it's, we'll, I'd, they're",
  'Tabs\tand\nnewlines\r\n\n  indented',
  'Ünïcödé café naïve — “quotes” … 日本語のテキスト 한국어',
  'emoji 🎉👩‍👩‍👧 and a lone ZWJ\u200d end',
  'first<|endoftext|>second <|endoftext|> third',
  'control \u0001\u007f bytes and the replacement char \ufffd',
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
  ({ model, tokenizer } = loadModelFolder());
  // Two rows of LENGTH ids: English prose, and text with multi-byte characters ending on <|endoftext|>.
  ids = [
    tokenizer.encode(`${TEXTS[0]} ${TEXTS[1]}`).slice(0, LENGTH),
    [...tokenizer.encode(`${TEXTS[4]} ${TEXTS[5]} ${TEXTS[2]}`), tokenizer.eosId!].slice(-LENGTH),
  ];
  for (const row of ids) expect(row).toHaveLength(LENGTH);
  docs = heldoutSlice(readModuleFile).slice(0, 3); // three held-out chapters keep the cpu backend quick
  dir = tempDir('pretrained');
  writeJson(join(dir, 'ids.json'), ids);
  writeJson(join(dir, 'docs.json'), docs);
  runPython('pretrained_logits.py', [MODEL_DIR, join(dir, 'ids.json'), join(dir, 'docs.json'), join(dir, 'out.json')]);
  report = readJson<Report>(join(dir, 'out.json'));
});

afterAll(() => {
  model?.dispose();
  cleanup(dir);
});

describe('transformers loads public/models/studio-gpt2-en unchanged', () => {
  it('builds GPT2LMHeadModel from both entry points, every weight from the file, lm_head tied', () => {
    expect(report.classes.slice(0, 2)).toEqual(['GPT2LMHeadModel', 'GPT2LMHeadModel']);
    expect(report.loading_info).toEqual({ missing_keys: [], unexpected_keys: [], mismatched_keys: [], error_msgs: [] });
    expect(report.warnings).toEqual([]);
    expect(report.tied).toBe(true);
    expect(report.dtype).toBe('torch.float32');
    expect(report.num_parameters).toBe(model.info.totalParams);
    expect(report.eos_token_id).toBe(tokenizer.eosId);
  });

  it(`computes the engine's logits within ${TOLERANCE} (GPT2LMHeadModel and AutoModelForCausalLM)`, async () => {
    const ours = await studioLogits(model, ids);
    const gpt2 = flat(report.logits_gpt2);
    const auto = flat(report.logits_auto);
    expect(gpt2.length).toBe(ids.length * LENGTH * model.info.config.vocabSize);
    console.log(`studio-gpt2-en: max |transformers − studio| ${maxAbsDiff(ours, gpt2).toExponential(2)} (GPT2LMHeadModel), ${maxAbsDiff(ours, auto).toExponential(2)} (AutoModelForCausalLM)`);
    expect(maxAbsDiff(ours, gpt2)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(ours, auto)).toBeLessThan(TOLERANCE);
    // A trained model is confident: its logits span a wide range.
    expect(gpt2.reduce((m, x) => Math.max(m, x), -Infinity) - gpt2.reduce((m, x) => Math.min(m, x), Infinity)).toBeGreaterThan(5);
  });

  it('scores held-out text as the studio does (same tokens, same nats within 1e-4 per byte)', async () => {
    // The studio's wasm backend (what the model card's figure uses), ~3× faster than cpu here.
    await useWasmBackend();
    const ours = await heldoutLoss(model, tokenizer, docs);
    expect(report.slice.bytes).toBe(ours.bytes);
    expect(report.slice.tokens).toBe(ours.tokens);
    console.log(`held-out chapters: PyTorch ${report.slice.nats_per_byte.toFixed(5)}, studio ${ours.natsPerByte.toFixed(5)} nats/byte`);
    expect(Math.abs(report.slice.nats_per_byte - ours.natsPerByte)).toBeLessThan(1e-4);
  });
});

describe("Python's tokenizers agree with the studio's tokenizer on the BPE vocabulary", () => {
  it('tokenizers.Tokenizer and AutoTokenizer give the same ids, and decode them back to the text', () => {
    const cases = TEXTS.map((text) => ({ text, ids: tokenizer.encode(text) }));
    // BPE merges: English takes well under one id per byte.
    expect(cases[0].ids.length).toBeLessThan(new TextEncoder().encode(TEXTS[0]).length / 2);
    expect(cases.find((c) => c.text.startsWith('first<'))!.ids.filter((i) => i === tokenizer.eosId)).toHaveLength(2);
    const path = join(dir, 'tokenizer-cases.json');
    writeJson(path, cases);
    const { stdout } = runPython('tokenizer_check.py', [MODEL_DIR, path, '--roundtrip']);
    expect(stdout).toMatch(new RegExp(`^OK ${cases.length} cases`, 'm'));
  });

  it('tokenizer_check.py fails when the ids differ (the check can fail)', () => {
    const wrong = [...tokenizer.encode('Call me Ishmael.')];
    wrong[0] += 1;
    const path = join(dir, 'tokenizer-wrong.json');
    writeJson(path, [{ text: 'Call me Ishmael.', ids: wrong }]);
    expect(() => runPython('tokenizer_check.py', [MODEL_DIR, path])).toThrow(/the studio gave/);
  });

  it('ships the tokenizer files the studio reads', () => {
    const config = JSON.parse(readFileSync(new URL('tokenizer_config.json', PRETRAINED_DIR), 'utf8')) as Record<string, unknown>;
    expect(config.eos_token).toBe('<|endoftext|>');
    expect(tokenizer.vocabSize).toBe(model.info.config.vocabSize);
  });
});
