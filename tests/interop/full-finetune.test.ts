// Full fine-tuning → transformers. The worker session fully fine-tunes the built-in GPT-2 (its
// head tied to wte) and a tiny BertForMaskedLM that transformers made (masked-LM objective, its
// decoder tied to the word embeddings) for a few steps, and exports each as the page does. Each
// zip, unzipped, must load with AutoModelForCausalLM / AutoModelForMaskedLM with nothing missing,
// unexpected or warned about; every tensor in its file must be what the model holds; every
// parameter must come from the file and differ from the base model's; a tied head must still
// be tied; and its logits must be the studio's fine-tuned model's within 1e-4.
//
// On a labelled CSV full fine-tuning trains a classifier: the same two models (BERT on sentence
// pairs with token types, GPT-2 on three labels of single texts) export a checkpoint that
// AutoModelForSequenceClassification loads with nothing missing or unexpected, counting exactly
// the parameters the studio's plan trains, naming the labels (and GPT-2's pad id), and
// computing the studio's logits within 1e-4 on right-padded rows.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FineTunedClassifier } from '../../src/finetune/full';
import { unzipFiles } from '../../src/io/zip';
import { classifierLogits } from '../../src/train/classification';
import type { TextTokenizer } from '../../src/tokenize/tokenizer';
import type { FromWorker, TrainConfig } from '../../src/worker/protocol';
import { StudioSession } from '../../src/worker/session';
import { BERT_ID, maskedInput, maskedLogits, makeBertFolder, openBertSession } from './bert-folder';
import { classifierRows, cleanup, fixedIds, flat, maxAbsDiff, MODEL_DIR, MODEL_ID, readFolder, runPythonSpec, studioLogits, tempDir, TOLERANCE, writeFolder } from './helpers';

interface Check {
  class: string;
  warnings: string[];
  loading_info: Record<string, string[]>;
  file_tensors: number;
  not_in_model: string[];
  different_from_file: string[];
  parameters_not_in_file: string[];
  unchanged_from_base: string[];
  not_in_base: string[];
  num_parameters: number;
  tied: boolean;
  id2label: Record<string, string>;
  pad_token_id: number | null;
  tie_word_embeddings: boolean;
  logits: unknown;
}

const TRAIN: TrainConfig = { steps: 3, epochs: 1, batchSize: 2, sequenceLength: 24, learningRate: 1e-3, warmupSteps: 0, weightDecay: 0.01, maxGradNorm: 1, evalFraction: 0.1, evalEvery: 0, seed: 5 };

interface Side {
  name: string;
  head: 'causal' | 'masked' | 'seq-cls';
  baseHead?: 'causal' | 'masked';
  tokenTypes?: number[][];
  dir: string;
  baseDir: string;
  ids: number[][];
  mask: number[][] | null;
  ours: Float32Array;
  params: number;
  tensors: number;
}

const PAIRS_CSV = [
  'sentence1,sentence2,label',
  ...Array.from({ length: 12 }, (_, i) => (i % 2 ? 'the cat sat on the mat.,a cat sat on a mat.,same' : 'a big red dog ran.,the small house.,different')),
].join('\n');
const TEXTS_CSV = ['text,label', ...Array.from({ length: 15 }, (_, i) => `${['good', 'bad', 'so-so'][i % 3]} film number ${i},${['pos', 'neg', 'mixed'][i % 3]}`)].join('\n');

interface ClassifierSide extends Side {
  labels: string[];
  planned: number;
  padId: number;
}

/**
 * Drops `folder` and a labelled `csv` on a fresh session, fully fine-tunes a classifier, exports
 * it to `dir`, and computes the studio's logits on `rows` (the shorter right-padded).
 */
async function fineTuneClassifier(name: string, folder: Record<string, Uint8Array>, baseDir: string, baseHead: 'causal' | 'masked', csv: string, rows: [string, string?][], dir: string): Promise<ClassifierSide> {
  const events: FromWorker[] = [];
  const session = new StudioSession((m) => events.push(m));
  await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
  await session.handle({ type: 'loadModelFiles', files: Object.entries(folder).map(([n, b]) => new File([new Uint8Array(b)], n)), name });
  await session.handle({ type: 'loadDataset', file: new File([csv], `${name}.csv`), sequenceLength: TRAIN.sequenceLength, evalFraction: 0.2, seed: 1 });
  await session.handle({ type: 'plan', methodId: 'full-finetune', config: {} });
  const planned = events.filter((e): e is Extract<FromWorker, { type: 'planned' }> => e.type === 'planned').at(-1)!.plan;
  const labels = events.filter((e): e is Extract<FromWorker, { type: 'datasetLoaded' }> => e.type === 'datasetLoaded').at(-1)!.dataset.classification!.labels;
  const classifier = (await fineTuneAndExport(session, events, dir, `${name}-full-finetune-classifier.zip`)) as unknown as FineTunedClassifier;
  expect(events.filter((e) => e.type === 'eval').at(-1)).toMatchObject({ point: { classification: { examples: expect.any(Number) } } });

  const tok = (session as unknown as { tokenizer: TextTokenizer }).tokenizer;
  const { enc, length, batch } = classifierRows(tok, rows);
  const logits = tf.tidy(() => classifierLogits(classifier.base, classifier.hooks(), classifier.head, batch, false));
  const ours = Float32Array.from((await logits.data()) as Float32Array);
  logits.dispose();
  const at = (a: Int32Array, i: number) => Array.from(a.subarray(i * length, (i + 1) * length));
  disposers.push(() => (classifier.dispose(), session.current.model?.dispose()));
  return {
    name,
    head: 'seq-cls',
    baseHead,
    dir,
    baseDir,
    ids: enc.map((_, i) => at(batch.ids, i)),
    mask: enc.map((_, i) => at(batch.labels, i).map((l) => (l === -100 ? 0 : 1))),
    tokenTypes: rows.some(([, b]) => b !== undefined) ? enc.map((_, i) => at(batch.tokenTypes!, i)) : undefined,
    ours,
    params: planned.output === 'model' ? planned.trainable : NaN,
    tensors: classifier.names.length,
    labels,
    planned: planned.output === 'model' ? planned.trainable : NaN,
    padId: tok.padId,
  };
}

/** Trains full fine-tuning in `session`, exports it as the page does and writes the zip's files to `dir`. */
async function fineTuneAndExport(session: StudioSession, events: FromWorker[], dir: string, expectedZip: string) {
  await session.handle({ type: 'train', methodId: 'full-finetune', config: {}, train: TRAIN });
  expect(events.filter((e) => e.type === 'error')).toEqual([]);
  expect(events.filter((e) => e.type === 'trainingEnded').at(-1)).toMatchObject({ reason: 'finished', step: 3 });
  await session.handle({ type: 'export', output: 'model' });
  const exported = events.filter((e): e is Extract<FromWorker, { type: 'exported' }> => e.type === 'exported').at(-1)!;
  expect(exported.fileName).toBe(expectedZip);
  writeFolder(dir, unzipFiles(exported.bytes, exported.fileName));
  return session.current.fineTuned!;
}

let work: string;
const sides: Side[] = [];
const classifiers: ClassifierSide[] = [];
let report: { versions: Record<string, string>; checks: Record<string, Check> };
const disposers: (() => void)[] = [];

beforeAll(async () => {
  work = tempDir('full-finetune');

  // GPT-2: the built-in model, loaded by the session from its folder.
  {
    const events: FromWorker[] = [];
    const source = async (id: string, file: string) => new Uint8Array(readFileSync(join(MODEL_DIR, '..', id, file)));
    const session = new StudioSession((m) => events.push(m), { source });
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await session.handle({ type: 'loadModel', id: MODEL_ID });
    const lines = Array.from({ length: 24 }, (_, i) => JSON.stringify({ text: `Line ${i}: the keeper lit the lamp and watched the sea.` })).join('\n');
    await session.handle({ type: 'loadDataset', file: new File([lines], 'lines.jsonl'), sequenceLength: 24, evalFraction: 0.1, seed: 1 });
    const dir = join(work, 'gpt2');
    const fineTuned = await fineTuneAndExport(session, events, dir, `${MODEL_ID}-full-finetune.zip`);
    const tokenizer = (session as unknown as { tokenizer: Parameters<typeof fixedIds>[0] }).tokenizer;
    const ids = fixedIds(tokenizer);
    const { model, hooks } = fineTuned.generator();
    sides.push({ name: 'gpt2', head: 'causal', dir, baseDir: MODEL_DIR, ids, mask: null, ours: await studioLogits(model, ids, hooks), params: model.info.totalParams, tensors: model.info.params.length });
    disposers.push(() => (fineTuned.dispose(), session.current.model?.dispose()));
  }

  // BERT: a folder transformers made, dropped on the session.
  {
    const { dir: baseDir } = makeBertFolder(work);
    const bert = await openBertSession(baseDir, 16);
    const dir = join(work, 'bert');
    const fineTuned = await fineTuneAndExport(bert.session, bert.events, dir, `${BERT_ID}-full-finetune.zip`);
    const input = maskedInput(bert.tokenizer);
    const { model, hooks } = fineTuned.generator();
    sides.push({ name: 'bert', head: 'masked', dir, baseDir, ids: input.ids, mask: input.mask, ours: await maskedLogits(model, input, hooks), params: model.info.totalParams, tensors: model.info.params.length });
    disposers.push(() => (fineTuned.dispose(), bert.session.current.model?.dispose()));

    // Classifiers: BERT on sentence pairs, GPT-2 on single texts with three labels.
    classifiers.push(
      await fineTuneClassifier(`${BERT_ID}-cls`, readFolder(baseDir), baseDir, 'masked', PAIRS_CSV, [['the cat sat on the mat.', 'a dog ran.'], ['a cat.', 'the mat.']], join(work, 'bert-cls')),
      await fineTuneClassifier(`${MODEL_ID}-cls`, readFolder(MODEL_DIR), MODEL_DIR, 'causal', TEXTS_CSV, [['good film number 3'], ['bad film']], join(work, 'gpt2-cls')),
    );
  }

  report = runPythonSpec(
    'full_finetune_check.py',
    work,
    'check',
    {
      checks: [...sides, ...classifiers].map((s) => ({ name: s.name, dir: s.dir, base_dir: s.baseDir, head: s.head, base_head: s.baseHead, ids: s.ids, mask: s.mask, token_types: s.tokenTypes })),
    },
  );
}, 600_000);

afterAll(() => {
  for (const d of disposers) d();
  cleanup(work);
});

/** transformers loaded the checkpoint as `cls` from the file alone: every key landed unchanged, nothing warned, and it counts `params`. */
function expectLoadedWhole(c: Check, cls: string, tensors: number, params: number) {
  expect(c.class).toBe(cls);
  expect(c.loading_info).toEqual({ missing_keys: [], unexpected_keys: [], mismatched_keys: [], error_msgs: [] });
  expect(c.warnings).toEqual([]);
  expect(c.file_tensors).toBe(tensors);
  expect(c.not_in_model).toEqual([]);
  expect(c.different_from_file).toEqual([]);
  expect(c.parameters_not_in_file).toEqual([]);
  expect(c.num_parameters).toBe(params);
}

describe.each([
  { name: 'gpt2', cls: 'GPT2LMHeadModel' },
  { name: 'bert', cls: 'BertForMaskedLM' },
])('a fully fine-tuned $name checkpoint in transformers', ({ name, cls }) => {
  const side = () => sides.find((s) => s.name === name)!;
  const check = () => report.checks[name];

  it(`loads as ${cls} with every weight from the file, nothing missing, unexpected or warned about`, () => {
    expect(report.versions.transformers).toMatch(/^5\./);
    expectLoadedWhole(check(), cls, side().tensors, side().params);
  });

  it('holds a trained value in every parameter, its head still tied to the embedding', () => {
    const c = check();
    expect(c.unchanged_from_base).toEqual([]);
    expect(c.tie_word_embeddings).toBe(true);
    expect(c.tied).toBe(true);
  });

  it(`computes the studio's fine-tuned logits within ${TOLERANCE}`, () => {
    const theirs = flat(check().logits);
    expect(theirs.length).toBe(side().ours.length);
    const diff = maxAbsDiff(side().ours, theirs);
    console.log(`${name} full fine-tune: max |transformers − studio| logits ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
  });
});

describe.each([
  { name: `${BERT_ID}-cls`, cls: 'BertForSequenceClassification', labels: ['different', 'same'], head: ['bert.pooler.dense.bias', 'bert.pooler.dense.weight', 'classifier.bias', 'classifier.weight'] },
  { name: `${MODEL_ID}-cls`, cls: 'GPT2ForSequenceClassification', labels: ['mixed', 'neg', 'pos'], head: ['score.weight'] },
])('a fully fine-tuned $name classifier in transformers', ({ name, cls, labels, head }) => {
  const side = () => classifiers.find((s) => s.name === name)!;
  const check = () => report.checks[name];

  it(`loads as ${cls} with every weight from the file, nothing missing, unexpected or warned about, counting what the plan trains`, () => {
    expectLoadedWhole(check(), cls, side().tensors, side().planned);
  });

  it('names the labels and the pad id, and holds a trained value in every body weight beside the new head', () => {
    const c = check();
    expect(side().labels).toEqual(labels);
    expect(c.id2label).toEqual(Object.fromEntries(labels.map((l, i) => [String(i), l])));
    if (cls.startsWith('GPT2')) expect(c.pad_token_id).toBe(side().padId);
    expect(c.not_in_base).toEqual(head);
    expect(c.unchanged_from_base).toEqual([]);
  });

  it(`computes the studio's classifier logits within ${TOLERANCE} on right-padded rows`, () => {
    const theirs = flat(check().logits);
    expect(theirs.length).toBe(2 * labels.length);
    const diff = maxAbsDiff(side().ours, theirs);
    // The two rows' logits are apart by far more than the tolerance: the comparison sees the input.
    const rows = maxAbsDiff(side().ours.subarray(0, labels.length), side().ours.subarray(labels.length));
    console.log(`${name} full fine-tune classifier: max |transformers − studio| logits ${diff.toExponential(2)} (rows apart by ${rows.toExponential(2)})`);
    expect(rows).toBeGreaterThan(10 * TOLERANCE);
    expect(diff).toBeLessThan(TOLERANCE);
  });
});
