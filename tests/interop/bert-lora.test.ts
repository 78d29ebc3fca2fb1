// BERT masked LM + LoRA, studio → Hugging Face PEFT. transformers makes a tiny random
// BertForMaskedLM folder (float32 safetensors, and the BertTokenizerFast it builds from a small
// vocab.txt: tokenizer.json + tokenizer_config.json). The studio's session loads that folder as a
// person drops it, tokenizes a dataset with its tokenizer, trains LoRA a few steps on masked LM,
// and exports the adapter zip and the merged checkpoint zip. PEFT's PeftModel.from_pretrained
// loads the adapter onto BertForMaskedLM with every key landing (nothing missing, nothing
// unexpected, no warning), and its logits under the attention mask, merged (merge_and_unload) and
// not, equal the studio's within 1e-4; so do the studio's merged checkpoint's, loaded as a plain
// BertForMaskedLM.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenizeExamples } from '../../src/data/dataset';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, PEFT_PREFIX } from '../../src/export/peft-files';
import { readSafetensors } from '../../src/io/safetensors';
import { unzipFiles } from '../../src/io/zip';
import { lora, loraScaling, type LoraConfig } from '../../src/peft/lora';
import type { TrainConfig } from '../../src/worker/protocol';
import { BERT_SENTENCES, BERT_VOCAB, bertPython, type BertSession, maskedInput, maskedLogits, makeBertFolder, type MakeReport, openBertSession } from './bert-folder';
import { cleanup, flat, maxAbsDiff, MIN_EFFECT, tempDir, TOLERANCE, writeFolder } from './helpers';

const SENTENCES = BERT_SENTENCES;
const VOCAB = BERT_VOCAB;
const LORA: LoraConfig = { r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['query', 'key', 'value', 'dense'], use_rslora: false };
const TRAIN: TrainConfig = { steps: 6, epochs: 1, batchSize: 4, sequenceLength: 16, learningRate: 2e-2, warmupSteps: 0, weightDecay: 0, maxGradNorm: 1, evalFraction: 0.1, evalEvery: 0, seed: 5 };

interface Landed {
  parameter: string | null;
  found: boolean;
  shape_file: number[];
  shape_param: number[] | null;
  max_abs_diff: number | null;
}

interface CheckReport {
  peft_class: string;
  load_warnings: string[];
  file_keys: string[];
  landed: Record<string, Landed>;
  lora_modules: Record<string, { r: number; scaling: number; in_file: boolean }>;
  peft_state_keys: string[];
  reload_result: { missing_lora_keys: string[]; unexpected_keys: string[]; warnings: string[] };
  peft_config: Record<string, unknown>;
  logits: unknown;
  base_logits: unknown;
  merge_warnings: string[];
  merged_logits: unknown;
  checkpoint_warnings: string[];
  checkpoint_loading_info: Record<string, string[]>;
  studio_merged_logits: unknown;
}

let work: string;
let made: MakeReport;
let bs: BertSession;
let adapterFiles: Record<string, Uint8Array>;
let studioLogits: Float32Array;
let studioBase: Float32Array;
let peft: CheckReport;
const events = () => bs.events;
const last: BertSession['last'] = (type) => bs.last(type);

beforeAll(async () => {
  work = tempDir('bert-lora');
  const folder = makeBertFolder(work);
  made = folder.made;
  console.log(`interop against ${JSON.stringify(made.versions)}`);

  // The folder as a person drops it on the page, a dataset of its words, a LoRA run on masked LM.
  bs = await openBertSession(folder.dir, TRAIN.sequenceLength);
  await bs.session.handle({ type: 'train', methodId: 'lora', config: { ...LORA }, train: TRAIN });

  await bs.session.handle({ type: 'export' });
  const zip = last('exported')!;
  adapterFiles = unzipFiles(zip.bytes, zip.fileName);
  writeFolder(join(work, 'adapter'), adapterFiles);
  await bs.session.handle({ type: 'exportMerged' });
  const merged = last('exported')!;
  writeFolder(join(work, 'merged'), unzipFiles(merged.bytes, merged.fileName));

  const input = maskedInput(bs.tokenizer);
  const { model, adapter } = bs.session.current;
  studioLogits = await maskedLogits(model!, input, adapter!.hooks(false));
  studioBase = await maskedLogits(model!, input);

  peft = bertPython<CheckReport>(work, 'check', { model_dir: folder.dir, adapter_dir: join(work, 'adapter'), merged_dir: join(work, 'merged'), ...input });
});

afterAll(() => {
  bs?.session.current.adapter?.dispose();
  bs?.session.current.model?.dispose();
  cleanup(work);
});

describe('the BERT folder transformers made, in the studio', () => {
  it('is float32 BertForMaskedLM weights with the tokenizer files, saved without a warning', () => {
    expect(made.files).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']));
    expect(made.saved_dtypes).toEqual(['F32']);
    expect(made.warnings).toEqual([]);
  });

  it('loads in the session as a masked LM, with no error', () => {
    expect(events().filter((e) => e.type === 'error')).toEqual([]);
    expect(last('modelLoaded')!.model).toMatchObject({ id: 'tiny-bert', modelType: 'bert', vocabSize: VOCAB.length, cannotGenerate: 'tiny-bert is a masked language model; text generation needs a causal LM' });
  });

  it("tokenizes as transformers' BertTokenizerFast does: [CLS] … [SEP], WordPiece continuations, nothing appended", () => {
    expect(SENTENCES.map((s) => bs.tokenizer.encode(s))).toEqual(made.encoded);
    expect(tokenizeExamples(SENTENCES, bs.tokenizer, 64).ids).toEqual(made.encoded);
  });

  it('trained LoRA on masked LM: every step finite, every B off zero', () => {
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished', step: TRAIN.steps });
    const losses = events().flatMap((e) => (e.type === 'progress' ? e.points.map((p) => p.loss) : []));
    expect(losses).toHaveLength(TRAIN.steps);
    for (const l of losses) expect(Number.isFinite(l)).toBe(true);
    const { tensors } = readSafetensors(adapterFiles[ADAPTER_WEIGHTS], ADAPTER_WEIGHTS);
    for (const [name, t] of tensors) if (name.endsWith('lora_B.weight')) expect((t.data as Float32Array).some((x) => x !== 0), name).toBe(true);
    expect(maxAbsDiff(studioLogits, studioBase)).toBeGreaterThan(MIN_EFFECT);
  });
});

describe('PeftModel.from_pretrained(BertForMaskedLM, the studio export)', () => {
  const planned = () => lora.plan(bs.session.current.model!.info, LORA);

  it('wraps it for FEATURE_EXTRACTION, as adapter_config.json says, without a single warning', () => {
    expect(JSON.parse(new TextDecoder().decode(adapterFiles[ADAPTER_CONFIG]))).toMatchObject({ peft_type: 'LORA', task_type: 'FEATURE_EXTRACTION', fan_in_fan_out: false, r: 4, lora_alpha: 8 });
    expect(peft.peft_class).toBe('PeftModelForFeatureExtraction');
    expect(peft.peft_config).toMatchObject({ peft_type: 'LORA', task_type: 'FEATURE_EXTRACTION', r: LORA.r, lora_alpha: LORA.lora_alpha, fan_in_fan_out: false });
    expect(peft.load_warnings).toEqual([]);
  });

  it('every tensor lands on its lora_X.default.weight parameter with equal values', () => {
    const { tensors } = readSafetensors(adapterFiles[ADAPTER_WEIGHTS], ADAPTER_WEIGHTS);
    expect(peft.file_keys).toEqual([...tensors.keys()].sort());
    expect(peft.file_keys).toEqual(planned().tensors.map((t) => PEFT_PREFIX + t.name).sort());
    expect(peft.file_keys).toContain('base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight');
    expect(peft.file_keys).toContain('base_model.model.bert.encoder.layer.1.intermediate.dense.lora_B.weight');
    for (const [key, l] of Object.entries(peft.landed)) {
      expect(l.found, `${key} → ${l.parameter}`).toBe(true);
      expect(l.shape_param, key).toEqual(l.shape_file);
      expect(l.max_abs_diff, key).toBe(0);
    }
  });

  it("PEFT's LoRA modules are exactly the studio's targets, with r and scaling as configured; nothing missing or unexpected", () => {
    const modules = [...new Set(planned().tensors.map((t) => PEFT_PREFIX + t.name.replace(/\.lora_[AB]\.weight$/, '')))].sort();
    expect(Object.keys(peft.lora_modules).sort()).toEqual(modules);
    for (const [mod, m] of Object.entries(peft.lora_modules)) {
      expect(m.in_file, mod).toBe(true);
      expect(m.r, mod).toBe(LORA.r);
      expect(m.scaling, mod).toBeCloseTo(loraScaling(LORA), 12);
    }
    expect(peft.peft_state_keys).toEqual(peft.file_keys);
    expect(peft.reload_result).toEqual({ missing_lora_keys: [], unexpected_keys: [], warnings: [] });
  });

  it(`computes the studio's logits under the attention mask within ${TOLERANCE}, adapter on and off`, () => {
    const diff = maxAbsDiff(flat(peft.logits), studioLogits);
    console.log(`bert LoRA: max |PEFT − studio| logits ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(flat(peft.base_logits), studioBase)).toBeLessThan(TOLERANCE);
  });

  it(`merge_and_unload gives the studio's logits within ${TOLERANCE}`, () => {
    expect(peft.merge_warnings).toEqual([]);
    const diff = maxAbsDiff(flat(peft.merged_logits), studioLogits);
    console.log(`bert LoRA merged by PEFT: max |PEFT − studio| logits ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
  });

  it(`the studio's merged checkpoint loads as a plain BertForMaskedLM with the studio's logits within ${TOLERANCE}`, () => {
    expect(peft.checkpoint_warnings).toEqual([]);
    expect(peft.checkpoint_loading_info).toEqual({ missing_keys: [], unexpected_keys: [], mismatched_keys: [], error_msgs: [] });
    const diff = maxAbsDiff(flat(peft.studio_merged_logits), studioLogits);
    console.log(`bert LoRA merged by the studio: max |transformers − studio| logits ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
  });
});
