// Sequence classification, studio → Hugging Face PEFT. The session loads a model folder as a
// person drops it — a tiny random BertForMaskedLM that transformers made, and the built-in
// tiny GPT-2 — then a labelled CSV (BERT: GLUE-style sentence pairs; GPT-2: single texts with
// three labels), trains LoRA (and, on BERT, prompt tuning) with the classification head a few
// steps, and exports the adapter.
// AutoModelForSequenceClassification (with the label count and the studio's pad id) and
// PeftModel.from_pretrained load it as PeftModelForSequenceClassification: every tensor of the
// file lands in a parameter equal to it (LoRA weights, and the head in its modules_to_save copy),
// and the logits on padded rows (with token types for the pairs) equal the studio's within 1e-4.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBatch } from '../../src/data/dataset';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from '../../src/export/peft-files';
import { readSafetensors } from '../../src/io/safetensors';
import { unzipFiles } from '../../src/io/zip';
import { classifierLogits } from '../../src/train/classification';
import type { TextTokenizer } from '../../src/tokenize/tokenizer';
import type { FromWorker, TrainConfig } from '../../src/worker/protocol';
import { StudioSession } from '../../src/worker/session';
import { makeBertFolder } from './bert-folder';
import { cleanup, flat, maxAbsDiff, MODEL_DIR, readFolder, runPythonSpec, tempDir, TOLERANCE, writeFolder } from './helpers';

const TRAIN: TrainConfig = { steps: 4, epochs: 1, batchSize: 4, sequenceLength: 24, learningRate: 3e-2, warmupSteps: 0, weightDecay: 0, maxGradNorm: 1, evalFraction: 0.2, evalEvery: 0, seed: 3 };
const LORA = { r: 4, lora_alpha: 8, lora_dropout: 0, use_rslora: false };

const PAIRS_CSV = [
  'sentence1,sentence2,label',
  ...Array.from({ length: 12 }, (_, i) => (i % 2 ? 'the cat sat on the mat.,a cat sat on a mat.,same' : 'a big red dog ran.,the small house.,different')),
].join('\n');
const TEXTS_CSV = ['text,label', ...Array.from({ length: 15 }, (_, i) => `${['good', 'bad', 'so-so'][i % 3]} film number ${i},${['pos', 'neg', 'mixed'][i % 3]}`)].join('\n');

interface Check {
  versions: Record<string, string>;
  peft_class: string;
  base_warnings: string[];
  load_warnings: string[];
  landed: Record<string, { parameter: string | null; max_abs_diff: number | null }>;
  wrapped: string[];
  logits: unknown;
}

interface Case {
  label: string;
  events: FromWorker[];
  files: Record<string, Uint8Array>;
  check: Check;
  studio: Float32Array;
  labels: string[];
}

/** Loads `folder`, drops `csv`, trains LoRA on `targets`, exports, and has PEFT load the export. */
async function run(work: string, name: string, modelDir: string, folder: Record<string, Uint8Array>, csv: string, method: { id: string; config: Record<string, unknown> }, rows: [string, string?][]): Promise<Case> {
  const events: FromWorker[] = [];
  const session = new StudioSession((m) => events.push(m));
  await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
  await session.handle({ type: 'loadModelFiles', files: Object.entries(folder).map(([n, b]) => new File([new Uint8Array(b)], n)), name });
  await session.handle({ type: 'loadDataset', file: new File([csv], `${name}.csv`), sequenceLength: TRAIN.sequenceLength, evalFraction: TRAIN.evalFraction, seed: 1 });
  await session.handle({ type: 'train', methodId: method.id, config: method.config, train: TRAIN });
  await session.handle({ type: 'export' });
  const zip = events.filter((e) => e.type === 'exported').at(-1) as Extract<FromWorker, { type: 'exported' }>;
  const files = unzipFiles(zip.bytes, zip.fileName);
  const adapterDir = join(work, `${name}-adapter`);
  writeFolder(adapterDir, files);

  // Two rows, the second shorter and right-padded, as the studio batches them.
  const tok = (session as unknown as { tokenizer: TextTokenizer }).tokenizer;
  const enc = rows.map(([a, b]) => (b === undefined ? { ids: tok.encode(a), typeIds: tok.encode(a).map(() => 0) } : tok.encodePair(a, b)));
  const length = Math.max(...enc.map((e) => e.ids.length));
  const batch = makeBatch(
    enc.map((e) => e.ids),
    length,
    tok.padId,
    { classes: enc.map(() => 0), tokenTypes: enc.map((e) => e.typeIds) },
  );
  const { model, adapter, classifier } = session.current;
  const logits = tf.tidy(() => classifierLogits(model!, adapter!.hooks(false), classifier!, batch, false));
  const studio = (await logits.data()) as Float32Array;
  logits.dispose();
  const labels = classifier!.numLabels;
  const at = (a: Int32Array, i: number) => Array.from(a.subarray(i * length, (i + 1) * length));
  const check = runPythonSpec<Check>('seq_cls_check.py', work, name, {
    model_dir: modelDir,
    adapter_dir: adapterDir,
    num_labels: labels,
    pad_token_id: tok.padId,
    ids: enc.map((_, i) => at(batch.ids, i)),
    mask: enc.map((_, i) => at(batch.labels, i).map((l) => (l === -100 ? 0 : 1))),
    token_types: rows.some(([, b]) => b !== undefined) ? enc.map((_, i) => at(batch.tokenTypes!, i)) : null,
  });
  const dataset = events.filter((e) => e.type === 'datasetLoaded').at(-1) as Extract<FromWorker, { type: 'datasetLoaded' }>;
  session.current.adapter?.dispose();
  classifier?.dispose();
  model?.dispose();
  return { label: name, events, files, check, studio, labels: dataset.dataset.classification!.labels };
}

let work: string;
const cases: Case[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = tempDir('seq-cls');
  const bert = makeBertFolder(work);
  const pairRows: [string, string][] = [
    ['the cat sat on the mat.', 'a dog ran.'],
    ['a cat.', 'the mat.'],
  ];
  cases.push(await run(work, 'tiny-bert', bert.dir, readFolder(bert.dir), PAIRS_CSV, { id: 'lora', config: { ...LORA, target_modules: ['query', 'value'] } }, pairRows));
  cases.push(await run(work, 'tiny-gpt2', MODEL_DIR, readFolder(MODEL_DIR), TEXTS_CSV, { id: 'lora', config: { ...LORA, target_modules: ['c_attn'] } }, [['good film number 3'], ['bad film']]));
  // Prompt tuning: the pooled [CLS] position is the first virtual token, as in PEFT.
  cases.push(await run(work, 'tiny-bert-prompt', bert.dir, readFolder(bert.dir), PAIRS_CSV, { id: 'prompt-tuning', config: { num_virtual_tokens: 3, prompt_tuning_init: 'RANDOM' } }, pairRows));
}, 600_000);

afterAll(() => cleanup(work));

describe('a LoRA sequence classifier exported for PEFT', () => {
  it('trained on the labelled CSV with finite losses and held-out metrics', () => {
    for (const c of cases) {
      const errors = c.events.filter((e) => e.type === 'error' || e.type === 'datasetRejected');
      expect(errors, c.label).toEqual([]);
      expect(c.events.find((e) => e.type === 'trainingEnded'), c.label).toMatchObject({ reason: 'finished', step: TRAIN.steps });
      const evals = c.events.flatMap((e) => (e.type === 'eval' ? [e.point] : []));
      expect(evals.at(-1)!.classification!.confusion.length, c.label).toBe(c.labels.length);
    }
    expect(cases.map((c) => c.labels)).toEqual([
      ['different', 'same'],
      ['mixed', 'neg', 'pos'],
      ['different', 'same'],
    ]);
  });

  it('is a SEQ_CLS adapter_config with the head in modules_to_save, and the head saved under PEFT’s names', () => {
    const [bert, gpt2] = cases;
    for (const c of cases) {
      const config = JSON.parse(new TextDecoder().decode(c.files[ADAPTER_CONFIG]));
      expect(config.task_type, c.label).toBe('SEQ_CLS');
      expect(config.peft_type).toBe(c.label.endsWith('-prompt') ? 'PROMPT_TUNING' : 'LORA');
    }
    expect(JSON.parse(new TextDecoder().decode(bert.files[ADAPTER_CONFIG])).modules_to_save).toEqual(['pooler', 'classifier', 'score']);
    const keys = (c: Case) => [...readSafetensors(c.files[ADAPTER_WEIGHTS], ADAPTER_WEIGHTS).tensors.keys()].filter((k) => !k.includes('lora_'));
    expect(keys(bert).sort()).toEqual(['base_model.model.bert.pooler.dense.bias', 'base_model.model.bert.pooler.dense.weight', 'base_model.model.classifier.bias', 'base_model.model.classifier.weight']);
    expect(keys(gpt2)).toEqual(['base_model.model.score.weight']);
    // Beside prompt learning's embeddings PEFT saves modules to save under `base_model.` alone.
    expect(keys(cases[2]).sort()).toEqual(['base_model.bert.pooler.dense.bias', 'base_model.bert.pooler.dense.weight', 'base_model.classifier.bias', 'base_model.classifier.weight', 'prompt_embeddings']);
  });

  it('loads as PeftModelForSequenceClassification with every key landing in a parameter equal to it, and no warning', () => {
    for (const c of cases) {
      expect(c.check.peft_class, c.label).toBe('PeftModelForSequenceClassification');
      expect(c.check.load_warnings, c.label).toEqual([]);
      for (const [key, l] of Object.entries(c.check.landed)) {
        expect(l.parameter, `${c.label}: ${key}`).not.toBeNull();
        expect(l.max_abs_diff, `${c.label}: ${key}`).toBe(0);
      }
    }
    expect(cases[0].check.wrapped).toEqual(expect.arrayContaining(['base_model.model.bert.pooler', 'base_model.model.classifier']));
    expect(cases[1].check.wrapped).toEqual(['base_model.model.score']);
    expect(cases[2].check.wrapped).toEqual(expect.arrayContaining(['base_model.bert.pooler', 'base_model.classifier']));
  });

  it('gives the studio’s logits within 1e-4 on padded rows (BERT: sentence pairs with token types)', () => {
    for (const c of cases) {
      const theirs = flat(c.check.logits);
      expect(theirs.length, c.label).toBe(2 * c.labels.length);
      const diff = maxAbsDiff(theirs, c.studio);
      console.log(`${c.label}: max |logit diff| ${diff.toExponential(2)} over ${theirs.length} logits`);
      expect(diff, c.label).toBeLessThan(TOLERANCE);
    }
  });
});
