// (a) The built-in base model as it ships: transformers' GPT2LMHeadModel and AutoModelForCausalLM
// load public/models/tiny-gpt2 with no missing or unexpected weights and compute the studio
// engine's logits; Python's `tokenizers` and AutoTokenizer give the studio tokenizer's ids.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, flat, maxAbsDiff, MODEL_DIR, openStudio, readJson, runPython, studioLogits, type Studio, TOLERANCE, writeJson } from './helpers';

interface BaseReport {
  versions: Record<string, string>;
  classes: string[];
  loading_info: Record<string, string[]>;
  warnings: string[];
  tied: boolean;
  num_parameters: number;
  dtype: string;
  logits_gpt2: unknown;
  logits_auto: unknown;
}

/** Strings the tokenizers must agree on: ASCII, whitespace runs, contractions, accents, CJK,
 *  emoji (4-byte UTF-8), control characters and the special token inside text. */
const TOKENIZER_TEXTS = [
  'The quick brown fox jumps over the lazy dog.',
  "  leading spaces, trailing spaces   and it's, we'll, I'd",
  'Tabs\tand\nnewlines\r\n\n  indented',
  'Ünïcödé café naïve — “quotes” … 日本語のテキスト 한국어',
  'Ünïcödé 🎉 café ok!', // the fixed input's second row
  'emoji 🎉👩‍👩‍👧 and a lone ZWJ\u200d end',
  'first<|endoftext|>second <|endoftext|> third',
  'control \u0001\u007f bytes and the replacement char \ufffd',
  '',
];

let studio: Studio;
let dir: string;
let ids: number[][];
let report: BaseReport;

beforeAll(async () => {
  ({ studio, ids, work: dir } = await openStudio('base'));
  writeJson(join(dir, 'ids.json'), ids);
  runPython('base_logits.py', [MODEL_DIR, join(dir, 'ids.json'), join(dir, 'out.json')]);
  report = readJson<BaseReport>(join(dir, 'out.json'));
  console.log(`interop against ${JSON.stringify(report.versions)}`);
});

afterAll(() => {
  studio?.model.dispose();
  cleanup(dir);
});

describe('transformers loads public/models/tiny-gpt2 unchanged', () => {
  it('uses the versions the suite is meant for (transformers 5.x, peft 0.21)', () => {
    expect(report.versions.transformers).toMatch(/^5\./);
    expect(report.versions.peft).toMatch(/^0\.21\./);
  });

  it('builds GPT2LMHeadModel from both entry points, every weight from the file, lm_head tied', () => {
    expect(report.classes).toEqual(['GPT2LMHeadModel', 'GPT2LMHeadModel']);
    expect(report.loading_info).toEqual({ missing_keys: [], unexpected_keys: [], mismatched_keys: [], error_msgs: [] });
    expect(report.warnings).toEqual([]);
    expect(report.tied).toBe(true);
    expect(report.dtype).toBe('torch.float32');
    expect(report.num_parameters).toBe(studio.model.info.totalParams);
  });

  it(`computes the engine's logits within ${TOLERANCE} (GPT2LMHeadModel and AutoModelForCausalLM)`, async () => {
    const ours = await studioLogits(studio.model, ids);
    const gpt2 = flat(report.logits_gpt2);
    const auto = flat(report.logits_auto);
    expect(gpt2.length).toBe(ids.length * ids[0].length * studio.model.info.config.vocabSize);
    console.log(`base model: max |transformers − studio| ${maxAbsDiff(ours, gpt2).toExponential(2)} (GPT2LMHeadModel), ${maxAbsDiff(ours, auto).toExponential(2)} (AutoModelForCausalLM)`);
    expect(maxAbsDiff(ours, gpt2)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(ours, auto)).toBeLessThan(TOLERANCE);
    // The model is not degenerate: the logits vary across the vocabulary and positions.
    expect(Math.max(...gpt2) - Math.min(...gpt2)).toBeGreaterThan(0.01);
  });
});

describe("Python's tokenizers agree with the studio's tokenizer", () => {
  it('tokenizers.Tokenizer and AutoTokenizer give the same ids, and decode them back to the text', () => {
    const cases = TOKENIZER_TEXTS.map((text) => ({ text, ids: studio.tokenizer.encode(text) }));
    // The byte-level vocabulary: one token per UTF-8 byte, the special token as one id.
    expect(cases[0].ids).toEqual(Array.from(new TextEncoder().encode(TOKENIZER_TEXTS[0])));
    expect(cases.find((c) => c.text.startsWith('first<'))!.ids.filter((i) => i === studio.tokenizer.eosId)).toHaveLength(2);
    const path = join(dir, 'tokenizer-cases.json');
    writeJson(path, cases);
    const { stdout } = runPython('tokenizer_check.py', [MODEL_DIR, path, '--roundtrip']);
    expect(stdout).toMatch(new RegExp(`^OK ${cases.length} cases`, 'm'));
  });

  it('tokenizer_check.py fails when the ids differ (the check can fail)', () => {
    const path = join(dir, 'tokenizer-wrong.json');
    writeJson(path, [{ text: 'Hi', ids: [72, 106] }]);
    expect(() => runPython('tokenizer_check.py', [MODEL_DIR, path])).toThrow(/tokenizers gave \[72, 105\], the studio gave \[72, 106\]/);
  });
});
