// Sequence classification, studio → Python. The session loads a model folder as a person drops
// it — tiny random BertForMaskedLM, RobertaForMaskedLM, DistilBertForMaskedLM and Qwen2ForCausalLM
// checkpoints that transformers made, and the built-in tiny GPT-2 — then a labelled CSV (the
// encoders: GLUE-style sentence pairs; the decoders: single texts with three labels), trains a
// method with the classification head a few steps, and exports it. Each family's head is its
// own *ForSequenceClassification's: BERT's pooler + classifier on [CLS], RoBERTa's
// classifier.dense + tanh + classifier.out_proj on <s>, DistilBERT's pre_classifier + ReLU +
// classifier on [CLS], GPT-2's and Qwen2's bias-free score on the last non-padding token. Every export starts in
// Python from AutoModelForSequenceClassification (with the label count and the studio's pad id);
// one Python run (seq_cls_check.py) checks them all.
// - LoRA (and, on BERT, prompt tuning): PeftModel.from_pretrained loads the SEQ_CLS adapter as
//   PeftModelForSequenceClassification: every tensor of the file lands in a parameter equal to it
//   (LoRA weights, and the head in its modules_to_save copy), on every family.
// - BitFit (BERT): bitfit_model.safetensors loads with load_state_dict(strict=False), nothing
//   unexpected, every value landed; the config's own "load_with" code builds the same model.
// - Houlsby (BERT and GPT-2): AdapterHub's adapter modules rebuilt on the real classifier (its
//   package cannot be installed here), adapter.safetensors and model_head.safetensors loaded by
//   state-dict name with nothing unexpected, the head config naming the model's class.
// In every case the logits on padded rows (with token types for the pairs) equal the studio's
// within 1e-4.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from '../../src/export/peft-files';
import { readSafetensors } from '../../src/io/safetensors';
import { BITFIT_CONFIG, BITFIT_WEIGHTS } from '../../src/peft/bitfit';
import { unzipFiles } from '../../src/io/zip';
import { classifierLogits } from '../../src/train/classification';
import type { TextTokenizer } from '../../src/tokenize/tokenizer';
import type { FromWorker, TrainConfig } from '../../src/worker/protocol';
import { StudioSession } from '../../src/worker/session';
import { BERT_FAMILY, DISTILBERT_FAMILY, makeMaskedLmFolders, ROBERTA_FAMILY } from './bert-folder';
import { classifierRows, cleanup, flat, maxAbsDiff, MIN_EFFECT, MODEL_DIR, readFolder, runPythonSpec, tempDir, TOLERANCE, writeFolder } from './helpers';

const TRAIN: TrainConfig = { steps: 4, epochs: 1, batchSize: 4, sequenceLength: 24, learningRate: 3e-2, warmupSteps: 0, weightDecay: 0, maxGradNorm: 1, evalFraction: 0.2, evalEvery: 0, seed: 3 };
const LORA = { r: 4, lora_alpha: 8, lora_dropout: 0, use_rslora: false };
const HOULSBY = { mh_adapter: true, output_adapter: true, reduction_factor: 16, bottleneck_size: 4, non_linearity: 'swish', init_weights: 'bert', dropout: 0 };

const PAIRS_CSV = [
  'sentence1,sentence2,label',
  ...Array.from({ length: 12 }, (_, i) => (i % 2 ? 'the cat sat on the mat.,a cat sat on a mat.,same' : 'a big red dog ran.,the small house.,different')),
].join('\n');
/** A tiny Qwen2 with its q/k/v biases and grouped-query attention, the built-in tokenizer beside it (families_make.py). */
const QWEN2 = {
  name: 'qwen2',
  class: 'Qwen2Config',
  config: { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 64, vocab_size: 5000, max_position_embeddings: 64, tie_word_embeddings: true },
  dtype: 'float32',
  max_shard_size: null,
};

const TEXTS_CSV = ['text,label', ...Array.from({ length: 15 }, (_, i) => `${['good', 'bad', 'so-so'][i % 3]} film number ${i},${['pos', 'neg', 'mixed'][i % 3]}`)].join('\n');

/** What seq_cls_check.py reports for every case, and for each kind. */
interface Check {
  warnings: string[];
  base_warnings: string[];
  logits: unknown;
}
interface PeftCheck extends Check {
  peft_class: string;
  landed: Record<string, { parameter: string | null; max_abs_diff: number | null }>;
  wrapped: string[];
}
interface BitFitCheck extends Check {
  state_keys: string[];
  missing_keys: string[];
  unexpected_keys: string[];
  landed: Record<string, number | null>;
  head_only_logits: unknown;
  load_with_class: string;
  load_with_max_param_diff: number;
}
interface HoulsbyCheck extends Check {
  model_class: string;
  base_model_prefix: string;
  num_labels: number;
  adapter_config: Record<string, unknown>;
  head_config: Record<string, unknown>;
  adapter_keys: string[];
  adapter_file_keys: string[];
  adapter_unexpected_keys: string[];
  adapter_missing_keys: string[];
  head_file_keys: string[];
  head_unexpected_keys: string[];
  landed: Record<string, number | null>;
  head_only_logits: unknown;
}

type Kind = 'peft' | 'bitfit' | 'houlsby';

interface Case {
  label: string;
  kind: Kind;
  events: FromWorker[];
  files: Record<string, Uint8Array>;
  /** The case as seq_cls_check.py reads it. */
  spec: Record<string, unknown>;
  check?: Check;
  studio: Float32Array;
  labels: string[];
}

/** Loads `folder`, drops `csv`, trains `method` with the head, exports, and notes what Python is to check. */
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
  const { enc, length, batch } = classifierRows(tok, rows);
  const { model, adapter, classifier } = session.current;
  const logits = tf.tidy(() => classifierLogits(model!, adapter!.hooks(false), classifier!, batch, false));
  const studio = (await logits.data()) as Float32Array;
  logits.dispose();
  const labels = classifier!.numLabels;
  const at = (a: Int32Array, i: number) => Array.from(a.subarray(i * length, (i + 1) * length));
  const kind: Kind = method.id === 'bitfit' || method.id === 'houlsby' ? method.id : 'peft';
  const spec = {
    name,
    kind,
    model_dir: modelDir,
    adapter_dir: adapterDir,
    num_labels: labels,
    pad_token_id: tok.padId,
    ids: enc.map((_, i) => at(batch.ids, i)),
    mask: enc.map((_, i) => at(batch.labels, i).map((l) => (l === -100 ? 0 : 1))),
    token_types: rows.some(([, b]) => b !== undefined) ? enc.map((_, i) => at(batch.tokenTypes!, i)) : null,
  };
  const dataset = events.filter((e) => e.type === 'datasetLoaded').at(-1) as Extract<FromWorker, { type: 'datasetLoaded' }>;
  session.current.adapter?.dispose();
  classifier?.dispose();
  model?.dispose();
  return { label: name, kind, events, files, spec, studio, labels: dataset.dataset.classification!.labels };
}

let work: string;
const cases: Case[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = tempDir('seq-cls');
  const [bert, roberta, distilbert] = makeMaskedLmFolders(work, [BERT_FAMILY, ROBERTA_FAMILY, DISTILBERT_FAMILY]);
  const qwen2 = join(work, QWEN2.name);
  // The folder is all this test needs of the maker; the causal-LM logits it reports (one token) go unread.
  runPythonSpec('families_make.py', work, 'make-qwen2', { ids: [[0]], tokenizer_dir: MODEL_DIR, variants: [{ ...QWEN2, dir: qwen2 }] });
  const pairRows: [string, string][] = [
    ['the cat sat on the mat.', 'a dog ran.'],
    ['a cat.', 'the mat.'],
  ];
  cases.push(await run(work, 'tiny-bert', bert.dir, readFolder(bert.dir), PAIRS_CSV, { id: 'lora', config: { ...LORA, target_modules: ['query', 'value'] } }, pairRows));
  cases.push(await run(work, 'tiny-gpt2', MODEL_DIR, readFolder(MODEL_DIR), TEXTS_CSV, { id: 'lora', config: { ...LORA, target_modules: ['c_attn'] } }, [['good film number 3'], ['bad film']]));
  cases.push(await run(work, 'tiny-roberta', roberta.dir, readFolder(roberta.dir), PAIRS_CSV, { id: 'lora', config: { ...LORA, target_modules: ['query', 'value'] } }, pairRows));
  cases.push(await run(work, 'tiny-distilbert', distilbert.dir, readFolder(distilbert.dir), PAIRS_CSV, { id: 'lora', config: { ...LORA, target_modules: ['q_lin', 'v_lin'] } }, pairRows));
  cases.push(await run(work, 'tiny-qwen2', qwen2, readFolder(qwen2), TEXTS_CSV, { id: 'lora', config: { ...LORA, target_modules: ['q_proj', 'v_proj'] } }, [['good film number 3'], ['bad film']]));
  // Prompt tuning: the pooled [CLS] position is the first virtual token, as in PEFT.
  cases.push(await run(work, 'tiny-bert-prompt', bert.dir, readFolder(bert.dir), PAIRS_CSV, { id: 'prompt-tuning', config: { num_virtual_tokens: 3, prompt_tuning_init: 'RANDOM' } }, pairRows));
  // BitFit as its paper trains it (every bias and the head), and Houlsby adapters on an encoder and a decoder.
  cases.push(await run(work, 'tiny-bert-bitfit', bert.dir, readFolder(bert.dir), PAIRS_CSV, { id: 'bitfit', config: { trainable_biases: 'all' } }, pairRows));
  cases.push(await run(work, 'tiny-bert-houlsby', bert.dir, readFolder(bert.dir), PAIRS_CSV, { id: 'houlsby', config: HOULSBY }, pairRows));
  cases.push(await run(work, 'tiny-gpt2-houlsby', MODEL_DIR, readFolder(MODEL_DIR), TEXTS_CSV, { id: 'houlsby', config: HOULSBY }, [['good film number 3'], ['bad film']]));
  const py = runPythonSpec<{ cases: Record<string, Check> }>('seq_cls_check.py', work, 'check', { cases: cases.map((c) => c.spec) });
  for (const c of cases) c.check = py.cases[c.label];
}, 600_000);

afterAll(() => cleanup(work));

const peft = () => cases.filter((c) => c.kind === 'peft') as (Case & { check: PeftCheck })[];
const named = <T extends Check>(label: string) => cases.find((c) => c.label === label)! as Case & { check: T };
const json = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

describe('sequence classifiers trained in the studio', () => {
  it('trained on the labelled CSV with finite losses and held-out metrics', () => {
    for (const c of cases) {
      const errors = c.events.filter((e) => e.type === 'error' || e.type === 'datasetRejected');
      expect(errors, c.label).toEqual([]);
      expect(c.events.find((e) => e.type === 'trainingEnded'), c.label).toMatchObject({ reason: 'finished', step: TRAIN.steps });
      const evals = c.events.flatMap((e) => (e.type === 'eval' ? [e.point] : []));
      expect(evals.at(-1)!.classification!.confusion.length, c.label).toBe(c.labels.length);
    }
    expect(Object.fromEntries(cases.map((c) => [c.label, c.labels]))).toEqual({
      'tiny-bert': ['different', 'same'],
      'tiny-gpt2': ['mixed', 'neg', 'pos'],
      'tiny-roberta': ['different', 'same'],
      'tiny-distilbert': ['different', 'same'],
      'tiny-qwen2': ['mixed', 'neg', 'pos'],
      'tiny-bert-prompt': ['different', 'same'],
      'tiny-bert-bitfit': ['different', 'same'],
      'tiny-bert-houlsby': ['different', 'same'],
      'tiny-gpt2-houlsby': ['mixed', 'neg', 'pos'],
    });
  });

  it('gives the studio’s logits within 1e-4 on padded rows (BERT: sentence pairs with token types; RoBERTa and DistilBERT: pairs without)', () => {
    for (const c of cases) {
      const theirs = flat(c.check!.logits);
      expect(theirs.length, c.label).toBe(2 * c.labels.length);
      const diff = maxAbsDiff(theirs, c.studio);
      console.log(`${c.label}: max |logit diff| ${diff.toExponential(2)} over ${theirs.length} logits`);
      expect(diff, c.label).toBeLessThan(TOLERANCE);
    }
  });
});

describe('a PEFT sequence classifier (LoRA, prompt tuning)', () => {
  it('is a SEQ_CLS adapter_config with the head in modules_to_save, and the head saved under PEFT’s names', () => {
    const [bert, gpt2, prompt] = ['tiny-bert', 'tiny-gpt2', 'tiny-bert-prompt'].map((l) => named<PeftCheck>(l));
    for (const c of peft()) {
      const config = json(c.files[ADAPTER_CONFIG]);
      expect(config.task_type, c.label).toBe('SEQ_CLS');
      expect(config.peft_type).toBe(c.label.endsWith('-prompt') ? 'PROMPT_TUNING' : 'LORA');
    }
    expect(json(bert.files[ADAPTER_CONFIG]).modules_to_save).toEqual(['pooler', 'classifier', 'score']);
    for (const l of ['tiny-gpt2', 'tiny-roberta', 'tiny-distilbert', 'tiny-qwen2']) expect(json(named(l).files[ADAPTER_CONFIG]).modules_to_save, l).toEqual(['classifier', 'score']);
    const keys = (c: Case) => [...readSafetensors(c.files[ADAPTER_WEIGHTS], ADAPTER_WEIGHTS).tensors.keys()].filter((k) => !k.includes('lora_'));
    expect(keys(bert).sort()).toEqual(['base_model.model.bert.pooler.dense.bias', 'base_model.model.bert.pooler.dense.weight', 'base_model.model.classifier.bias', 'base_model.model.classifier.weight']);
    expect(keys(gpt2)).toEqual(['base_model.model.score.weight']);
    // RoBERTa's head is one module with two layers; DistilBERT's pre_classifier is a module to
    // save of its own (PEFT matches modules_to_save by name suffix); Qwen2's score has no bias.
    const [roberta, distilbert, qwen2] = ['tiny-roberta', 'tiny-distilbert', 'tiny-qwen2'].map((l) => named<PeftCheck>(l));
    expect(keys(roberta).sort()).toEqual(['base_model.model.classifier.dense.bias', 'base_model.model.classifier.dense.weight', 'base_model.model.classifier.out_proj.bias', 'base_model.model.classifier.out_proj.weight']);
    expect(keys(distilbert).sort()).toEqual(['base_model.model.classifier.bias', 'base_model.model.classifier.weight', 'base_model.model.pre_classifier.bias', 'base_model.model.pre_classifier.weight']);
    expect(keys(qwen2)).toEqual(['base_model.model.score.weight']);
    // Beside prompt learning's embeddings PEFT saves modules to save under `base_model.` alone.
    expect(keys(prompt).sort()).toEqual(['base_model.bert.pooler.dense.bias', 'base_model.bert.pooler.dense.weight', 'base_model.classifier.bias', 'base_model.classifier.weight', 'prompt_embeddings']);
  });

  it('loads as PeftModelForSequenceClassification with every key landing in a parameter equal to it, and no warning', () => {
    const [bert, gpt2, prompt] = ['tiny-bert', 'tiny-gpt2', 'tiny-bert-prompt'].map((l) => named<PeftCheck>(l));
    for (const c of peft()) {
      expect(c.check.peft_class, c.label).toBe('PeftModelForSequenceClassification');
      expect(c.check.warnings, c.label).toEqual([]);
      for (const [key, l] of Object.entries(c.check.landed)) {
        expect(l.parameter, `${c.label}: ${key}`).not.toBeNull();
        expect(l.max_abs_diff, `${c.label}: ${key}`).toBe(0);
      }
    }
    expect(bert.check.wrapped).toEqual(expect.arrayContaining(['base_model.model.bert.pooler', 'base_model.model.classifier']));
    expect(gpt2.check.wrapped).toEqual(['base_model.model.score']);
    const [roberta, distilbert, qwen2] = ['tiny-roberta', 'tiny-distilbert', 'tiny-qwen2'].map((l) => named<PeftCheck>(l));
    expect(roberta.check.wrapped).toEqual(['base_model.model.classifier']);
    expect(distilbert.check.wrapped).toEqual(['base_model.model.classifier', 'base_model.model.pre_classifier']);
    expect(qwen2.check.wrapped).toEqual(['base_model.model.score']);
    // LoRA lands on each family's attention projections, two layers × two targets × A and B.
    for (const c of [roberta, distilbert, qwen2]) expect(Object.keys(c.check.landed).filter((k) => k.includes('.lora_')), c.label).toHaveLength(8);
    expect(prompt.check.wrapped).toEqual(expect.arrayContaining(['base_model.bert.pooler', 'base_model.classifier']));
  });
});

describe('a BitFit sequence classifier (BERT, every bias and the head)', () => {
  it("holds the body's biases and the pooler + classifier under BertForSequenceClassification's names; its config says how to load it", () => {
    const c = named<BitFitCheck>('tiny-bert-bitfit');
    const config = json(c.files[BITFIT_CONFIG]);
    expect(config).toMatchObject({ method: 'bitfit', task_type: 'SEQ_CLS', model_class: 'BertForSequenceClassification', num_labels: 2, id2label: { 0: 'different', 1: 'same' }, head_modules: ['bert.pooler.dense', 'classifier'] });
    const keys = [...readSafetensors(c.files[BITFIT_WEIGHTS], BITFIT_WEIGHTS).tensors.keys()];
    expect(keys).toEqual(expect.arrayContaining(['bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'classifier.weight', 'classifier.bias', 'bert.embeddings.LayerNorm.bias']));
    // The MLM head's biases have no place in the classifier.
    expect(keys.filter((k) => !k.startsWith('bert.') && !k.startsWith('classifier.'))).toEqual([]);
    expect(keys.filter((k) => !k.endsWith('.bias') && !k.startsWith('bert.pooler.') && !k.startsWith('classifier.'))).toEqual([]);
  });

  it('load_state_dict(strict=False): no unexpected keys, exactly the keys not in the file missing, every value landed, no warning', () => {
    const r = named<BitFitCheck>('tiny-bert-bitfit').check;
    expect(r.unexpected_keys).toEqual([]);
    const fileKeys = Object.keys(r.landed);
    expect(r.missing_keys).toEqual(r.state_keys.filter((k) => !fileKeys.includes(k)));
    // What stays missing is the frozen weights: every bias of the classifier is in the file.
    expect(r.missing_keys.filter((k) => k.endsWith('.bias'))).toEqual([]);
    for (const [k, diff] of Object.entries(r.landed)) expect(diff, k).toBe(0);
    expect(r.warnings).toEqual([]);
  });

  it('the trained biases matter: the head alone gives other logits', () => {
    const c = named<BitFitCheck>('tiny-bert-bitfit');
    expect(maxAbsDiff(flat(c.check.head_only_logits), c.studio)).toBeGreaterThan(MIN_EFFECT);
  });

  it("the config's load_with, run as written, builds BertForSequenceClassification with the same parameters", () => {
    const r = named<BitFitCheck>('tiny-bert-bitfit').check;
    expect(r.load_with_class).toBe('BertForSequenceClassification');
    expect(r.load_with_max_param_diff).toBe(0);
  });
});

describe.each(['tiny-bert-houlsby', 'tiny-gpt2-houlsby'])('a Houlsby sequence classifier: AdapterHub folder with a static head (%s)', (label) => {
  const c = () => named<HoulsbyCheck>(label);

  it('is save_adapter(with_head=True)’s folder: the adapter and head_config.json + model_head.safetensors naming the classifier class', () => {
    const { files, check: r } = c();
    expect(Object.keys(files).sort()).toEqual(['adapter.safetensors', 'adapter_config.json', 'head_config.json', 'model_head.safetensors']);
    const modelClass = label.startsWith('tiny-bert') ? 'BertForSequenceClassification' : 'GPT2ForSequenceClassification';
    // PredictionHeadLoader.load refuses a head whose model_class is not the model's.
    expect(r.model_class).toBe(modelClass);
    expect(r.head_config).toMatchObject({ model_class: modelClass, num_labels: r.num_labels, config: null, name: null });
    expect(r.head_config.label2id).toEqual(Object.fromEntries(c().labels.map((l, i) => [l, i])));
    expect(r.adapter_config).toMatchObject({ model_class: modelClass, name: 'houlsby' });
  });

  it('the adapter lands on AdapterHub’s modules and the head on the classifier, nothing unexpected, nothing of the adapters missing, no warning', () => {
    const r = c().check;
    expect(r.adapter_file_keys).toEqual(r.adapter_keys);
    expect(r.adapter_unexpected_keys).toEqual([]);
    expect(r.adapter_missing_keys).toEqual([]);
    expect(r.head_unexpected_keys).toEqual([]);
    for (const [k, diff] of Object.entries(r.landed)) expect(diff, k).toBe(0);
    expect(r.warnings).toEqual([]);
    // AdapterHub's head filter takes the keys outside base_model_prefix; BERT's trained pooler
    // lies inside it and rides in the same file.
    const outside = r.head_file_keys.filter((k) => !k.startsWith(r.base_model_prefix));
    if (label.startsWith('tiny-bert')) {
      expect(outside).toEqual(['classifier.bias', 'classifier.weight']);
      expect(r.head_file_keys.filter((k) => k.startsWith('bert.'))).toEqual(['bert.pooler.dense.bias', 'bert.pooler.dense.weight']);
    } else {
      expect(r.head_file_keys).toEqual(['score.weight']);
      expect(outside).toEqual(['score.weight']);
    }
  });

  it('the adapter matters: the head alone gives other logits', () => {
    expect(maxAbsDiff(flat(c().check.head_only_logits), c().studio)).toBeGreaterThan(MIN_EFFECT);
  });
});
