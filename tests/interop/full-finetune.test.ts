// Full fine-tuning → transformers. The worker session fully fine-tunes the built-in GPT-2 (its
// head tied to wte) and a tiny BertForMaskedLM that transformers made (masked-LM objective, its
// decoder tied to the word embeddings) for a few steps, and exports each as the page does. Each
// zip, unzipped, must load with AutoModelForCausalLM / AutoModelForMaskedLM with nothing missing,
// unexpected or warned about; every tensor in its file must be what the model holds; every
// parameter must come from the file and differ from the base model's; a tied head must still
// be tied; and its logits must be the studio's fine-tuned model's within 1e-4.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipFiles } from '../../src/io/zip';
import type { FromWorker, TrainConfig } from '../../src/worker/protocol';
import { StudioSession } from '../../src/worker/session';
import { BERT_ID, maskedInput, maskedLogits, makeBertFolder, openBertSession } from './bert-folder';
import { cleanup, fixedIds, flat, maxAbsDiff, MODEL_DIR, MODEL_ID, runPythonSpec, studioLogits, tempDir, TOLERANCE, writeFolder } from './helpers';

interface Check {
  class: string;
  warnings: string[];
  loading_info: Record<string, string[]>;
  file_tensors: number;
  not_in_model: string[];
  different_from_file: string[];
  parameters_not_in_file: string[];
  unchanged_from_base: string[];
  num_parameters: number;
  tied: boolean;
  tie_word_embeddings: boolean;
  logits: unknown;
}

const TRAIN: TrainConfig = { steps: 3, epochs: 1, batchSize: 2, sequenceLength: 24, learningRate: 1e-3, warmupSteps: 0, weightDecay: 0.01, maxGradNorm: 1, evalFraction: 0.1, evalEvery: 0, seed: 5 };

interface Side {
  name: string;
  head: 'causal' | 'masked';
  dir: string;
  baseDir: string;
  ids: number[][];
  mask: number[][] | null;
  ours: Float32Array;
  params: number;
  tensors: number;
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
  }

  report = runPythonSpec(
    'full_finetune_check.py',
    work,
    'check',
    { checks: sides.map((s) => ({ name: s.name, dir: s.dir, base_dir: s.baseDir, head: s.head, ids: s.ids, mask: s.mask })) },
  );
});

afterAll(() => {
  for (const d of disposers) d();
  cleanup(work);
});

describe.each([
  { name: 'gpt2', cls: 'GPT2LMHeadModel' },
  { name: 'bert', cls: 'BertForMaskedLM' },
])('a fully fine-tuned $name checkpoint in transformers', ({ name, cls }) => {
  const side = () => sides.find((s) => s.name === name)!;
  const check = () => report.checks[name];

  it(`loads as ${cls} with every weight from the file, nothing missing, unexpected or warned about`, () => {
    expect(report.versions.transformers).toMatch(/^5\./);
    const c = check();
    expect(c.class).toBe(cls);
    expect(c.loading_info).toEqual({ missing_keys: [], unexpected_keys: [], mismatched_keys: [], error_msgs: [] });
    expect(c.warnings).toEqual([]);
    expect(c.file_tensors).toBe(side().tensors);
    expect(c.not_in_model).toEqual([]);
    expect(c.different_from_file).toEqual([]);
    expect(c.parameters_not_in_file).toEqual([]);
    expect(c.num_parameters).toBe(side().params);
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
