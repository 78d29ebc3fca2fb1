// BERT masked LM, studio → Python, for the methods besides LoRA. On the BertForMaskedLM folder
// transformers makes (./bert-folder.ts), the studio's session trains each method a few steps on
// masked LM and exports it as a person downloads it. Prompt tuning, prefix tuning, P-tuning and
// P-tuning v2 load with PeftModel.from_pretrained (task_type FEATURE_EXTRACTION: PEFT puts the
// virtual tokens or the prefixes in front and extends the attention mask) and give the studio's
// logits within 1e-4. The Houlsby adapter (AdapterHub's BERT layout) loads by state-dict name
// onto BertForMaskedLM with AdapterHub's BERT adapter modules rebuilt (bert_adapters.py), every
// key landing, and gives the studio's logits too.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterHubFiles, ADAPTERHUB_CONFIG, ADAPTERHUB_WEIGHTS } from '../../src/export/adapterhub';
import { ADAPTER_CONFIG } from '../../src/export/peft-files';
import { readSafetensors } from '../../src/io/safetensors';
import { unzipFiles } from '../../src/io/zip';
import type { TrainConfig } from '../../src/worker/protocol';
import { type BertSession, maskedInput, maskedLogits, makeBertFolder, openBertSession } from './bert-folder';
import { cleanup, flat, maxAbsDiff, MIN_EFFECT, runPythonSpec, tempDir, TOLERANCE, writeFolder } from './helpers';

const TRAIN: TrainConfig = { steps: 3, epochs: 1, batchSize: 4, sequenceLength: 16, learningRate: 5e-2, warmupSteps: 0, weightDecay: 0, maxGradNorm: 1, evalFraction: 0.1, evalEvery: 0, seed: 7 };

const PEFT_RUNS: { id: string; config: Record<string, unknown>; peftType: string }[] = [
  { id: 'prompt-tuning', config: { num_virtual_tokens: 4 }, peftType: 'PROMPT_TUNING' },
  { id: 'prefix-tuning', config: { num_virtual_tokens: 3 }, peftType: 'PREFIX_TUNING' },
  { id: 'p-tuning', config: { num_virtual_tokens: 4, encoder_hidden_size: 16 }, peftType: 'P_TUNING' },
  { id: 'p-tuning-v2', config: { num_virtual_tokens: 3 }, peftType: 'PREFIX_TUNING' },
];
const HOULSBY = { bottleneck_size: 8, non_linearity: 'swish', init_weights: 'bert' };

interface PeftReport {
  peft_class: string;
  warnings: string[];
  peft_config: Record<string, unknown>;
  logits: unknown;
  base_logits: unknown;
}

interface HoulsbyReport {
  warnings: string[];
  adapter_keys: string[];
  missing_adapter_keys: string[];
  unexpected_keys: string[];
  bottleneck: number;
  logits: unknown;
}

let work: string;
let bs: BertSession;
let base: Float32Array;
const studio = new Map<string, { logits: Float32Array; files: Record<string, Uint8Array>; dir: string }>();
let report: { peft: Record<string, PeftReport>; houlsby: HoulsbyReport };

/** Trains `id` on masked LM in the session, exports it through the zip, writes the folder Python reads, keeps the studio's logits. */
async function run(id: string, config: Record<string, unknown>, folderOf: (files: Record<string, Uint8Array>) => Record<string, Uint8Array>) {
  await bs.session.handle({ type: 'train', methodId: id, config, train: TRAIN });
  const ended = bs.last('trainingEnded')!;
  if (ended.reason !== 'finished') throw new Error(`${id}: ${ended.message}`);
  await bs.session.handle({ type: 'export' });
  const zip = bs.last('exported')!;
  const files = folderOf(unzipFiles(zip.bytes, zip.fileName));
  const dir = join(work, id);
  writeFolder(dir, files);
  const { model, adapter } = bs.session.current;
  studio.set(id, { logits: await maskedLogits(model!, maskedInput(bs.tokenizer), adapter!.hooks(false)), files, dir });
}

beforeAll(async () => {
  work = tempDir('bert-methods');
  const { dir } = makeBertFolder(work);
  bs = await openBertSession(dir, TRAIN.sequenceLength);
  const input = maskedInput(bs.tokenizer);
  base = await maskedLogits(bs.session.current.model!, input);
  for (const r of PEFT_RUNS) await run(r.id, r.config, (f) => f);
  await run('houlsby', HOULSBY, adapterHubFiles);
  report = runPythonSpec('bert_adapters.py', work, 'adapters', {
    model_dir: dir,
    ...input,
    peft: PEFT_RUNS.map((r) => ({ name: r.id, dir: studio.get(r.id)!.dir })),
    houlsby: { dir: studio.get('houlsby')!.dir },
  });
});

afterAll(() => {
  bs?.session.current.adapter?.dispose();
  bs?.session.current.model?.dispose();
  cleanup(work);
});

describe.each(PEFT_RUNS.map((r) => [r.id, r.peftType]))('%s on BERT, loaded by PeftModel.from_pretrained', (id, peftType) => {
  it('is saved for FEATURE_EXTRACTION and wrapped by it, without a warning', () => {
    expect(bs.events.filter((e) => e.type === 'error')).toEqual([]);
    const saved = JSON.parse(new TextDecoder().decode(studio.get(id)!.files[ADAPTER_CONFIG]));
    expect(saved).toMatchObject({ peft_type: peftType, task_type: 'FEATURE_EXTRACTION', num_layers: 2, token_dim: 32, num_attention_heads: 4, num_transformer_submodules: 1 });
    const r = report.peft[id];
    expect(r.peft_class).toBe('PeftModelForFeatureExtraction');
    expect(r.peft_config).toMatchObject({ peft_type: peftType, task_type: 'FEATURE_EXTRACTION' });
    expect(r.warnings).toEqual([]);
  });

  it(`gives the studio's logits under the attention mask within ${TOLERANCE}, virtual positions included`, () => {
    const got = flat(report.peft[id].logits);
    const want = studio.get(id)!.logits;
    const diff = maxAbsDiff(got, want);
    console.log(`bert ${id}: max |PEFT − studio| logits ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(flat(report.peft[id].base_logits), base)).toBeLessThan(TOLERANCE);
    // The real positions moved: the adapter acts.
    const real = want.subarray(want.length - base.length);
    expect(maxAbsDiff(real, base)).toBeGreaterThan(MIN_EFFECT);
  });
});

describe('Houlsby on BERT, in AdapterHub’s BERT layout', () => {
  it('names BertForMaskedLM, and every tensor of adapter.safetensors lands on the rebuilt adapter modules', () => {
    const files = studio.get('houlsby')!.files;
    expect(JSON.parse(new TextDecoder().decode(files[ADAPTERHUB_CONFIG]))).toMatchObject({ model_class: 'BertForMaskedLM', model_type: 'bert', hidden_size: 32, name: 'houlsby' });
    const keys = [...readSafetensors(files[ADAPTERHUB_WEIGHTS], ADAPTERHUB_WEIGHTS).tensors.keys()].sort();
    expect(keys).toContain('bert.encoder.layer.0.attention.output.adapters.houlsby.adapter_down.0.weight');
    expect(keys).toContain('bert.encoder.layer.1.output.adapters.houlsby.adapter_up.bias');
    const r = report.houlsby;
    expect(r.bottleneck).toBe(8);
    expect(r.adapter_keys).toEqual(keys);
    expect(r.missing_adapter_keys).toEqual([]);
    expect(r.unexpected_keys).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  it(`acts after each output dense layer, before the residual add and LayerNorm: the studio's logits within ${TOLERANCE}`, () => {
    const want = studio.get('houlsby')!.logits;
    const diff = maxAbsDiff(flat(report.houlsby.logits), want);
    console.log(`bert houlsby: max |torch − studio| logits ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(want, base)).toBeGreaterThan(MIN_EFFECT);
  });
});
