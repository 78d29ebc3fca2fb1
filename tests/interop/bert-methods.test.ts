// The BERT family's masked LMs, studio → Python, every method. On tiny random BertForMaskedLM,
// RobertaForMaskedLM and DistilBertForMaskedLM folders transformers makes (./bert-folder.ts),
// the studio's session trains each method it offers a few steps on masked LM and exports it as
// a person downloads it; a method it does not offer for the model type is refused with its
// reason. LoRA (on PEFT's default targets for the model type), prompt tuning, prefix tuning,
// P-tuning and P-tuning v2 load with PeftModel.from_pretrained (task_type FEATURE_EXTRACTION:
// PEFT puts the virtual tokens or the prefixes in front and extends the attention mask), LoRA with
// every tensor landing on its parameter, and give the studio's logits within 1e-4. BitFit's
// biases load onto the base model with load_state_dict(strict=False), nothing unexpected, and
// give the studio's logits. The Houlsby adapter (AdapterHub's layout for the model type) loads
// by state-dict name onto the model with AdapterHub's adapter modules rebuilt
// (bert_adapters.py), every key landing, and gives the studio's logits too.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenizeExamples } from '../../src/data/dataset';
import { adapterHubFiles, ADAPTERHUB_CONFIG, ADAPTERHUB_WEIGHTS } from '../../src/export/adapterhub';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, PEFT_PREFIX } from '../../src/export/peft-files';
import { readSafetensors } from '../../src/io/safetensors';
import { unzipFiles } from '../../src/io/zip';
import { bitfit, type BitFitConfig, BITFIT_WEIGHTS } from '../../src/peft/bitfit';
import type { MethodSummary, TrainConfig } from '../../src/worker/protocol';
import {
  BERT_FAMILY,
  BERT_SENTENCES,
  type BertSession,
  DISTILBERT_FAMILY,
  familyId,
  type MakeReport,
  type MaskedLmFamily,
  maskedInput,
  maskedLogits,
  makeMaskedLmFolders,
  openBertSession,
  ROBERTA_FAMILY,
} from './bert-folder';
import { cleanup, flat, maxAbsDiff, MIN_EFFECT, runPythonSpec, tempDir, TOLERANCE, writeFolder } from './helpers';

const TRAIN: TrainConfig = { steps: 3, epochs: 1, batchSize: 4, sequenceLength: 16, learningRate: 5e-2, warmupSteps: 0, weightDecay: 0, maxGradNorm: 1, evalFraction: 0.1, evalEvery: 0, seed: 7 };

const PEFT_RUNS: { id: string; config: Record<string, unknown>; peftType: string }[] = [
  { id: 'lora', config: { r: 4, lora_alpha: 8 }, peftType: 'LORA' },
  { id: 'prompt-tuning', config: { num_virtual_tokens: 4 }, peftType: 'PROMPT_TUNING' },
  { id: 'prefix-tuning', config: { num_virtual_tokens: 3 }, peftType: 'PREFIX_TUNING' },
  { id: 'p-tuning', config: { num_virtual_tokens: 4, encoder_hidden_size: 16 }, peftType: 'P_TUNING' },
  { id: 'p-tuning-v2', config: { num_virtual_tokens: 3 }, peftType: 'PREFIX_TUNING' },
];
const BITFIT: BitFitConfig = { trainable_biases: 'all' };
const HOULSBY = { bottleneck_size: 8, non_linearity: 'swish', init_weights: 'bert' };
const METHOD_IDS = [...PEFT_RUNS.map((r) => r.id), 'bitfit', 'houlsby'];

/** What each model type must get, written out from transformers', PEFT's and AdapterHub's sources. */
interface Expected {
  family: MaskedLmFamily;
  modelClass: string;
  /** PEFT's default LoRA targets for the model type, and block 0's path to them. */
  loraTargets: string[];
  loraModule: (layer: number, target: string) => string;
  /** Two of the Houlsby file's keys: block 0's attention adapter and block 1's output adapter. */
  houlsbyKeys: string[];
  /** Methods the session refuses for the model type, with the reason it gives. */
  refused: Record<string, string>;
}

const NO_PAST_KEY_VALUES = 'DistilBERT takes no past keys/values in transformers, so PEFT’s prefix tuning would not reach its attention';

const EXPECTED: Expected[] = [
  {
    family: BERT_FAMILY,
    modelClass: 'BertForMaskedLM',
    loraTargets: ['query', 'value'],
    loraModule: (i, t) => `bert.encoder.layer.${i}.attention.self.${t}`,
    houlsbyKeys: ['bert.encoder.layer.0.attention.output.adapters.houlsby.adapter_down.0.weight', 'bert.encoder.layer.1.output.adapters.houlsby.adapter_up.bias'],
    refused: {},
  },
  {
    family: ROBERTA_FAMILY,
    modelClass: 'RobertaForMaskedLM',
    loraTargets: ['query', 'value'],
    loraModule: (i, t) => `roberta.encoder.layer.${i}.attention.self.${t}`,
    houlsbyKeys: ['roberta.encoder.layer.0.attention.output.adapters.houlsby.adapter_down.0.weight', 'roberta.encoder.layer.1.output.adapters.houlsby.adapter_up.bias'],
    refused: {},
  },
  {
    family: DISTILBERT_FAMILY,
    modelClass: 'DistilBertForMaskedLM',
    loraTargets: ['q_lin', 'v_lin'],
    loraModule: (i, t) => `distilbert.transformer.layer.${i}.attention.${t}`,
    houlsbyKeys: ['distilbert.transformer.layer.0.attention_adapters.adapters.houlsby.adapter_down.0.weight', 'distilbert.transformer.layer.1.output_adapters.adapters.houlsby.adapter_up.bias'],
    refused: { 'prefix-tuning': NO_PAST_KEY_VALUES, 'p-tuning-v2': NO_PAST_KEY_VALUES },
  },
];

interface PeftReport {
  peft_class: string;
  warnings: string[];
  peft_config: Record<string, unknown>;
  logits: unknown;
  base_logits: unknown;
  file_keys?: string[];
  landed?: Record<string, { found: boolean; max_abs_diff: number | null }>;
  lora_modules?: Record<string, { r: number; in_file: boolean; fan_in_fan_out: boolean }>;
}

interface BitFitReport {
  file_keys: string[];
  state_keys: string[];
  bias_params: string[];
  missing_keys: string[];
  unexpected_keys: string[];
  landed: Record<string, number | null>;
  logits: unknown;
  warnings: string[];
}

interface HoulsbyReport {
  warnings: string[];
  adapter_keys: string[];
  missing_adapter_keys: string[];
  unexpected_keys: string[];
  bottleneck: number;
  logits: unknown;
}

interface ModelReport {
  peft: Record<string, PeftReport>;
  bitfit: BitFitReport | null;
  houlsby: HoulsbyReport | null;
}

/** One model type's folder, session and what the studio made on it. */
interface FamilyRun {
  dir: string;
  made: MakeReport;
  bs: BertSession;
  base: Float32Array;
  methods: MethodSummary[];
  studio: Map<string, { logits: Float32Array; files: Record<string, Uint8Array>; dir: string }>;
  /** The error the session sent for each method it refused to train. */
  refusals: Map<string, string>;
}

let work: string;
const runs = new Map<string, FamilyRun>();
let report: Record<string, ModelReport>;

/** Trains `id` on masked LM in the session, exports it through the zip, writes the folder Python reads, keeps the studio's logits. */
async function train(run: FamilyRun, dir: string, id: string, config: Record<string, unknown>, folderOf: (files: Record<string, Uint8Array>) => Record<string, Uint8Array>) {
  const { bs } = run;
  await bs.session.handle({ type: 'train', methodId: id, config, train: TRAIN });
  const ended = bs.last('trainingEnded')!;
  if (ended.reason !== 'finished') throw new Error(`${id}: ${ended.message}`);
  await bs.session.handle({ type: 'export' });
  const zip = bs.last('exported')!;
  const files = folderOf(unzipFiles(zip.bytes, zip.fileName));
  writeFolder(dir, files);
  const { model, adapter } = bs.session.current;
  run.studio.set(id, { logits: await maskedLogits(model!, maskedInput(bs.tokenizer), adapter!.hooks(false)), files, dir });
}

beforeAll(async () => {
  work = tempDir('bert-methods');
  const folders = makeMaskedLmFolders(work, EXPECTED.map((e) => e.family));
  for (const [i, { family }] of EXPECTED.entries()) {
    const { dir, made } = folders[i];
    const bs = await openBertSession(dir, TRAIN.sequenceLength, familyId(family));
    const run: FamilyRun = { dir, made, bs, base: await maskedLogits(bs.session.current.model!, maskedInput(bs.tokenizer)), methods: bs.last('methods')!.methods, studio: new Map(), refusals: new Map() };
    runs.set(family.modelType, run);
    for (const id of METHOD_IDS) {
      if (run.methods.find((m) => m.id === id)?.unsupported) {
        const errors = bs.events.length;
        await bs.session.handle({ type: 'train', methodId: id, config: {}, train: TRAIN });
        const error = bs.events.slice(errors).find((e) => e.type === 'error');
        run.refusals.set(id, error?.type === 'error' ? error.message : 'no error');
        continue;
      }
      const out = join(work, family.modelType, id);
      if (id === 'houlsby') await train(run, out, id, HOULSBY, adapterHubFiles);
      else if (id === 'bitfit') await train(run, out, id, { ...BITFIT }, (f) => f);
      else await train(run, out, id, PEFT_RUNS.find((r) => r.id === id)!.config, (f) => f);
    }
  }
  const input = (m: string) => maskedInput(runs.get(m)!.bs.tokenizer);
  report = runPythonSpec<{ models: Record<string, ModelReport> }>('bert_adapters.py', work, 'adapters', {
    models: EXPECTED.map(({ family: { modelType: m } }) => {
      const run = runs.get(m)!;
      const dirOf = (id: string) => (run.studio.has(id) ? { dir: run.studio.get(id)!.dir } : null);
      return {
        name: m,
        model_dir: run.dir,
        ...input(m),
        peft: PEFT_RUNS.filter((r) => run.studio.has(r.id)).map((r) => ({ name: r.id, dir: run.studio.get(r.id)!.dir })),
        bitfit: dirOf('bitfit'),
        houlsby: dirOf('houlsby'),
      };
    }),
  }).models;
}, 600_000);

afterAll(() => {
  for (const { bs } of runs.values()) {
    bs.session.current.adapter?.dispose();
    bs.session.current.model?.dispose();
  }
  cleanup(work);
});

describe.each(EXPECTED.map((e) => [e.family.modelType, e] as const))('%s masked LM', (modelType, expected) => {
  const run = () => runs.get(modelType)!;
  const studio = (id: string) => run().studio.get(id)!;
  const peftRuns = PEFT_RUNS.filter((r) => !(r.id in expected.refused));

  it(`transformers made ${expected.modelClass} and its tokenizer without a warning; the session loads it, and tokenizes as transformers does`, () => {
    const { made, bs } = run();
    expect(made.class).toBe(expected.modelClass);
    expect(made.saved_dtypes).toEqual(['F32']);
    expect(made.warnings).toEqual([]);
    expect(bs.events.filter((e) => e.type === 'error' && e.request !== 'train')).toEqual([]);
    expect(bs.last('modelLoaded')!.model).toMatchObject({ id: familyId(expected.family), modelType, vocabSize: made.vocab_size });
    expect(BERT_SENTENCES.map((s) => bs.tokenizer.encode(s))).toEqual(made.encoded);
    expect(tokenizeExamples(BERT_SENTENCES, bs.tokenizer, 64).ids).toEqual(made.encoded);
  });

  it(`offers ${Object.keys(expected.refused).length ? `every method but ${Object.keys(expected.refused).join(' and ')}, and refuses those saying why` : 'every method'}; LoRA defaults to PEFT's targets for ${modelType}`, () => {
    const { methods, refusals } = run();
    const unsupported = Object.fromEntries(methods.filter((m) => METHOD_IDS.includes(m.id) && m.unsupported).map((m) => [m.id, m.unsupported]));
    expect(unsupported).toEqual(expected.refused);
    for (const [id, reason] of Object.entries(expected.refused)) expect(refusals.get(id)).toBe(`cannot be used with ${familyId(expected.family)}: ${reason}`);
    expect(methods.find((m) => m.id === 'lora')!.defaults.target_modules).toEqual(expected.loraTargets);
  });

  describe.each(peftRuns.map((r) => [r.id, r] as const))('%s, loaded by PeftModel.from_pretrained', (id, r) => {
    it('is saved for FEATURE_EXTRACTION and wrapped by it, without a warning', () => {
      const saved = JSON.parse(new TextDecoder().decode(studio(id).files[ADAPTER_CONFIG]));
      expect(saved).toMatchObject({ peft_type: r.peftType, task_type: 'FEATURE_EXTRACTION' });
      if (id !== 'lora') expect(saved).toMatchObject({ num_layers: 2, token_dim: 32, num_attention_heads: 4, num_transformer_submodules: 1 });
      const py = report[modelType].peft[id];
      expect(py.peft_class).toBe('PeftModelForFeatureExtraction');
      expect(py.peft_config).toMatchObject({ peft_type: r.peftType, task_type: 'FEATURE_EXTRACTION' });
      expect(py.warnings).toEqual([]);
    });

    if (id === 'lora') {
      it(`targets ${expected.loraTargets.join(' and ')} of every block, and every tensor lands on its parameter with equal values`, () => {
        const py = report[modelType].peft.lora;
        const modules = [0, 1].flatMap((i) => expected.loraTargets.map((t) => PEFT_PREFIX + expected.loraModule(i, t))).sort();
        expect(Object.keys(py.lora_modules!).sort()).toEqual(modules);
        for (const m of Object.values(py.lora_modules!)) expect(m).toMatchObject({ r: 4, in_file: true, fan_in_fan_out: false });
        const keys = [...readSafetensors(studio(id).files[ADAPTER_WEIGHTS], ADAPTER_WEIGHTS).tensors.keys()].sort();
        expect(py.file_keys).toEqual(keys);
        expect(keys).toEqual(modules.flatMap((m) => [`${m}.lora_A.weight`, `${m}.lora_B.weight`]).sort());
        for (const [key, landed] of Object.entries(py.landed!)) {
          expect(landed.found, key).toBe(true);
          expect(landed.max_abs_diff, key).toBe(0);
        }
      });
    }

    it(`gives the studio's logits under the attention mask within ${TOLERANCE}, virtual positions included`, () => {
      const py = report[modelType].peft[id];
      const want = studio(id).logits;
      const diff = maxAbsDiff(flat(py.logits), want);
      console.log(`${modelType} ${id}: max |PEFT − studio| logits ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(TOLERANCE);
      expect(maxAbsDiff(flat(py.base_logits), run().base)).toBeLessThan(TOLERANCE);
      // The real positions moved: the adapter acts.
      expect(maxAbsDiff(want.subarray(want.length - run().base.length), run().base)).toBeGreaterThan(MIN_EFFECT);
    });
  });

  describe('BitFit, its biases loaded onto the base model with load_state_dict(strict=False)', () => {
    it('holds every bias of the model under its state-dict name; nothing unexpected, only what the file lacks missing, every value landed', () => {
      const py = report[modelType].bitfit!;
      const planned = bitfit.plan(run().bs.session.current.model!.info, BITFIT).tensors.map((t) => t.name).sort();
      expect([...readSafetensors(studio('bitfit').files[BITFIT_WEIGHTS], BITFIT_WEIGHTS).tensors.keys()].sort()).toEqual(planned);
      expect(py.file_keys).toEqual(planned);
      expect(py.bias_params).toEqual(planned);
      expect(py.unexpected_keys).toEqual([]);
      expect(py.missing_keys).toEqual(py.state_keys.filter((k) => !py.file_keys.includes(k)));
      for (const [key, diff] of Object.entries(py.landed)) expect(diff, key).toBe(0);
      expect(py.warnings).toEqual([]);
    });

    it(`gives the studio's logits under the attention mask within ${TOLERANCE}`, () => {
      const want = studio('bitfit').logits;
      const diff = maxAbsDiff(flat(report[modelType].bitfit!.logits), want);
      console.log(`${modelType} bitfit: max |torch − studio| logits ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(TOLERANCE);
      expect(maxAbsDiff(want, run().base)).toBeGreaterThan(MIN_EFFECT);
    });
  });

  describe(`Houlsby, in AdapterHub’s ${modelType} layout`, () => {
    it(`names ${expected.modelClass}, and every tensor of adapter.safetensors lands on the rebuilt adapter modules`, () => {
      const files = studio('houlsby').files;
      expect(JSON.parse(new TextDecoder().decode(files[ADAPTERHUB_CONFIG]))).toMatchObject({ model_class: expected.modelClass, model_type: modelType, hidden_size: 32, name: 'houlsby' });
      const keys = [...readSafetensors(files[ADAPTERHUB_WEIGHTS], ADAPTERHUB_WEIGHTS).tensors.keys()].sort();
      for (const k of expected.houlsbyKeys) expect(keys).toContain(k);
      const py = report[modelType].houlsby!;
      expect(py.bottleneck).toBe(8);
      expect(py.adapter_keys).toEqual(keys);
      expect(py.missing_adapter_keys).toEqual([]);
      expect(py.unexpected_keys).toEqual([]);
      expect(py.warnings).toEqual([]);
    });

    it(`acts on each sublayer's output, before the residual add and LayerNorm: the studio's logits within ${TOLERANCE}`, () => {
      const want = studio('houlsby').logits;
      const diff = maxAbsDiff(flat(report[modelType].houlsby!.logits), want);
      console.log(`${modelType} houlsby: max |torch − studio| logits ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(TOLERANCE);
      expect(maxAbsDiff(want, run().base)).toBeGreaterThan(MIN_EFFECT);
    });
  });
});
