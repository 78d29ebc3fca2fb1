// The worker's behaviour end to end in Node: the built-in model's real files, a dropped
// File, training, stopping and the exported zip — everything but the browser.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import { unzipFiles, zipFiles } from '../io/zip';
import { buildModel, modelInfo } from '../models/load';
import { bertConfigJson, initBertWeights } from '../models/bert-init';
import { wordPieceTokenizerFiles } from '../tokenize/word-piece';
import { coerceConfig, getMethod, METHODS } from '../peft/registry';
import { RUN_KINDS } from '../train/registry';
import { llama } from '../models/llama';
import { mulberry32 } from '../data/random';
import type { FromWorker, TrainConfig } from './protocol';
import { StudioSession } from './session';
import { publicModelSource as source, publicModels } from './testing';


const TRAIN: TrainConfig = {
  steps: 4,
  epochs: 1,
  batchSize: 2,
  sequenceLength: 32,
  learningRate: 1e-3,
  warmupSteps: 1,
  weightDecay: 0.01,
  maxGradNorm: 1,
  evalFraction: 0.1,
  evalEvery: 2,
  seed: 3,
};

const lines = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ text: `Line ${i}: the cat sat on the mat.` })).join('\n');

function newSession() {
  const events: FromWorker[] = [];
  const session = new StudioSession((m) => events.push(m), { source });
  const last = <T extends FromWorker['type']>(type: T) => events.filter((e) => e.type === type).at(-1) as Extract<FromWorker, { type: T }> | undefined;
  return { session, events, last };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('StudioSession', () => {
  it('loads the built-in model and reports its shape and exact parameter count', async () => {
    const { session, last } = newSession();
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    expect(last('backend')?.report).toMatchObject({ name: 'cpu', forced: true, software: false });
    await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    const m = last('modelLoaded')!.model;
    const d = m.hiddenSize;
    // wte + wpe + per layer (12d² + 13d) + ln_f
    expect(m.totalParams).toBe(m.vocabSize * d + m.maxPositions * d + m.numLayers * (12 * d * d + 13 * d) + 2 * d);
    expect(last('methods')!.methods.map((x) => x.id)).toContain('lora');
    await session.handle({ type: 'plan', methodId: 'lora', config: { r: '4', target_modules: ['c_attn'] } });
    expect(last('planned')!.plan).toMatchObject({ trainable: m.numLayers * 4 * (d + 3 * d), total: m.totalParams + m.numLayers * 4 * (d + 3 * d) });
    session.current.model?.dispose();
  });

  it('keeps the good rows of a file with bad lines, saves the bad ones as they were, and refuses a file with none', async () => {
    const { session, events, last } = newSession();
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    const bad = `${lines(2)}\n{"text": "ok"}\n{"text": broken}\n\n{"txt": "typo"}\n`;
    await session.handle({ type: 'loadDataset', file: new File([bad], 'bad.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    const loaded = last('datasetLoaded')!.dataset;
    expect(loaded).toMatchObject({ fileName: 'bad.jsonl', examples: 3 });
    expect(loaded.rejected!.count).toBe(2);
    expect(loaded.rejected!.rows.map((r) => r.line)).toEqual([4, 6]);
    expect(loaded.rejected!.rows[0].message).toMatch(/^not valid JSON/);
    // Reading was reported, then tokenizing, each ending at its total.
    const progress = events.flatMap((e) => (e.type === 'datasetProgress' ? [e] : []));
    expect(progress[0]).toMatchObject({ phase: 'reading', done: 0, total: bad.length });
    expect(progress.some((p) => p.phase === 'tokenizing')).toBe(true);
    await session.handle({ type: 'exportRejected' });
    const saved = last('rejectedRows')!;
    expect(saved.fileName).toBe('bad.rejected.jsonl');
    expect(new TextDecoder().decode(saved.bytes)).toBe('{"text": broken}\n{"txt": "typo"}\n');

    // A file none of whose lines read is refused by line; the dataset loaded stays.
    await session.handle({ type: 'loadDataset', file: new File(['{"text": broken}\n[1]\n'], 'broken.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    const rejected = last('datasetRejected')!;
    expect(rejected.message).toMatch(/^broken\.jsonl line 1: not valid JSON .* \(and 1 more problem\)$/);
    expect(rejected.issues.map((i) => i.line)).toEqual([1, 2]);
    // The good rows are still what training uses.
    await session.handle({ type: 'train', methodId: 'lora', config: {}, train: { ...TRAIN, steps: 1, evalEvery: 0 } });
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished' });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    session.current.adapter?.dispose();
    session.current.model?.dispose();
  });

  it('reads Alpaca data for completion-only loss, trains on it, and on the whole text when asked; a masked LM trains on every token', async () => {
    const { session, events, last } = newSession();
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await session.handle({ type: 'loadModel', id: 'studio-gpt2-en' });
    const alpaca = Array.from({ length: 10 }, (_, i) => JSON.stringify({ instruction: `Add ${i} and 1.`, input: i % 2 ? 'quickly' : '', output: `${i + 1}` })).join('\n');
    const file = new File([alpaca], 'alpaca.jsonl');
    // Cut at 16 tokens, every prompt ends before its output: nothing to train on, said by name.
    await session.handle({ type: 'loadDataset', file, sequenceLength: 16, evalFraction: 0.1, seed: 1, layout: { long: 'keep-start' } });
    expect(last('datasetRejected')!.message).toBe("alpaca.jsonl: every example's prompt fills the 16 tokens of the sequence length, leaving no completion to train on; raise the sequence length");
    await session.handle({ type: 'loadDataset', file, sequenceLength: 128, evalFraction: 0.1, seed: 1 });
    const read = last('datasetLoaded')!.dataset;
    expect(read).toMatchObject({ kind: 'alpaca', completionOnly: true, examples: 10 });
    expect(read.completionOnlyUnsupported).toBeUndefined();
    // Each prompt is dozens of tokens; each completion one or two and eos.
    expect(read.untrainedTokens).toBeGreaterThan(10 * 20);
    expect(read.tokens - read.untrainedTokens!).toBeLessThanOrEqual(10 * 3);
    await session.handle({ type: 'train', methodId: 'lora', config: {}, train: { ...TRAIN, steps: 2, evalEvery: 0, sequenceLength: 128 } });
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished' });
    expect(Number.isFinite(last('eval')?.point.evalLoss)).toBe(true);

    await session.handle({ type: 'loadDataset', file, sequenceLength: 128, evalFraction: 0.1, seed: 1, wholeText: true });
    expect(last('datasetLoaded')!.dataset).toMatchObject({ kind: 'alpaca', completionOnly: false, untrainedTokens: 0, tokens: read.tokens });

    await session.handle({ type: 'loadDataset', file, sequenceLength: 128, evalFraction: 0.1, seed: 1 });
    await session.handle({ type: 'loadModel', id: 'studio-bert-en' });
    const bert = last('datasetLoaded')!.dataset;
    expect(bert).toMatchObject({ kind: 'alpaca', completionOnly: false, untrainedTokens: 0 });
    expect(bert.completionOnlyUnsupported).toMatch(/is a masked language model: it learns from every token$/);
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    session.current.adapter?.dispose();
    session.current.model?.dispose();
  });

  it('lays long paragraphs out as packed windows by default, cuts them when asked, and keeps the choice across a new sequence length and model', async () => {
    const { session, events, last } = newSession();
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    const paragraphs = Array.from({ length: 12 }, (_, i) => `Paragraph ${i}: ${'the cat sat on the mat and looked at the dog. '.repeat(1 + (i % 4))}`);
    paragraphs.push(paragraphs[0]);
    const file = new File([paragraphs.join('\n')], 'long.txt');
    await session.handle({ type: 'loadDataset', file, sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    const windows = last('datasetLoaded')!.dataset;
    expect(windows).toMatchObject({ examples: 13, duplicates: 1, trainExamples: 11, evalExamples: 1, truncated: 0, layout: { long: 'windows', short: 'pack', shortByDefault: true } });
    expect(windows.lengths.exceeding).toBeGreaterThan(0);
    // Packed rows are full but for each split's last, and hold every token of the kept examples.
    const packed = windows.trainRows + windows.evalRows;
    expect(packed).toBeGreaterThanOrEqual(Math.ceil(windows.tokens / 32));
    expect(packed).toBeLessThanOrEqual(Math.ceil(windows.tokens / 32) + 1);

    await session.handle({ type: 'loadDataset', file, sequenceLength: 32, evalFraction: 0.1, seed: 1, layout: { long: 'keep-start', short: 'pad' } });
    const cut = last('datasetLoaded')!.dataset;
    expect(cut).toMatchObject({ trainExamples: 11, trainRows: 11, evalRows: 1, truncated: windows.lengths.exceeding, layout: { long: 'keep-start', short: 'pad', shortByDefault: false } });
    expect(cut.tokens).toBeLessThan(windows.tokens);

    // A run at another sequence length re-reads the file with the same layout.
    await session.handle({ type: 'train', methodId: 'lora', config: {}, train: { ...TRAIN, steps: 1, evalEvery: 0, sequenceLength: 64 } });
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished' });
    expect(last('datasetLoaded')!.dataset).toMatchObject({ sequenceLength: 64, trainRows: 11, layout: { long: 'keep-start', short: 'pad' } });
    await session.handle({ type: 'loadModel', id: 'studio-gpt2-en' });
    expect(last('datasetLoaded')!.dataset).toMatchObject({ fileName: 'long.txt', trainRows: 11, layout: { long: 'keep-start', short: 'pad' } });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    session.current.adapter?.dispose();
    session.current.model?.dispose();
  });

  it('trains, reports progress and held-out loss, and exports a PEFT zip', async () => {
    const { session, events, last } = newSession();
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    await session.handle({ type: 'loadDataset', file: new File([lines(20)], 'd.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    await session.handle({ type: 'train', methodId: 'lora', config: { r: 4, lora_alpha: 8 }, train: TRAIN });
    expect(last('trainingStarted')).toMatchObject({ totalSteps: 4, methodId: 'lora' });
    const points = events.flatMap((e) => (e.type === 'progress' ? e.points : []));
    expect(points.map((p) => p.step)).toEqual([1, 2, 3, 4]);
    for (const p of points) {
      expect(Number.isFinite(p.loss) && p.loss > 0).toBe(true);
      expect(p.tokensPerSecond).toBeGreaterThan(0);
      expect(p.totalSteps).toBe(4);
    }
    expect(events.filter((e) => e.type === 'eval').map((e) => (e.type === 'eval' ? e.point.step : -1))).toEqual([0, 2, 4]);
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished', step: 4 });

    await session.handle({ type: 'export' });
    const exported = last('exported')!;
    expect(exported.fileName).toBe('tiny-gpt2-lora.zip');
    const files = unzipFiles(exported.bytes, exported.fileName);
    expect(Object.keys(files).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const { tensors } = readSafetensors(files['adapter_model.safetensors']);
    expect(tensors.get('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight')?.shape).toEqual([384, 4]);
    session.current.adapter?.dispose();
    session.current.model?.dispose();
  });

  it('stops on request, keeping what was learned', async () => {
    const { session, events, last } = newSession();
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    await session.handle({ type: 'loadDataset', file: new File([lines(20)], 'd.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    const run = session.handle({ type: 'train', methodId: 'lora', config: {}, train: { ...TRAIN, steps: 1000, evalEvery: 0 } });
    // Stop once the first progress has been read back.
    while (!events.some((e) => e.type === 'progress')) await new Promise((r) => setTimeout(r, 20));
    await session.handle({ type: 'stop' });
    await run;
    const ended = last('trainingEnded')!;
    expect(ended.reason).toBe('stopped');
    expect(ended.step).toBeGreaterThan(0);
    expect(ended.step).toBeLessThan(1000);
    const B = session.current.adapter!.variables[1];
    expect(tf.max(tf.abs(B)).dataSync()[0]).toBeGreaterThan(0);
    await session.handle({ type: 'export' });
    expect(last('exported')).toBeDefined();
    session.current.adapter?.dispose();
    session.current.model?.dispose();
  });

  it('reports errors with their context instead of throwing', async () => {
    const { session, last } = newSession();
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await session.handle({ type: 'export' });
    expect(last('error')).toMatchObject({ context: 'Exporting the adapter', message: 'train or import an adapter first' });
    await session.handle({ type: 'loadModel', id: 'no-such-model' });
    expect(last('error')!.message).toMatch(/no-such-model/);
  });
});

describe('StudioSession: generate', () => {
  const gen = (over: Partial<Extract<Parameters<StudioSession['handle']>[0], { type: 'generate' }>> = {}) => ({
    type: 'generate' as const,
    requestId: 1,
    prompt: 'The cat',
    maxNewTokens: 8,
    temperature: 1,
    topK: 0,
    seed: 5,
    withAdapter: false,
    ...over,
  });
  const generated = (events: FromWorker[], requestId: number, withAdapter: boolean) =>
    events.filter((e): e is Extract<FromWorker, { type: 'generated' }> => e.type === 'generated' && e.requestId === requestId && e.withAdapter === withAdapter);

  it('continues a prompt with the base model, streaming, and the same seed gives the same text', async () => {
    const { session, events } = newSession();
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    const before = tf.memory().numTensors;
    await session.handle(gen({ requestId: 1 }));
    await session.handle(gen({ requestId: 2 }));
    await session.handle(gen({ requestId: 3, seed: 6, maxNewTokens: 20 }));
    await session.handle(gen({ requestId: 4, seed: 5, maxNewTokens: 20 }));
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);

    const first = generated(events, 1, false);
    const final = first.at(-1)!;
    expect(final.done).toBe(true);
    expect(first.slice(0, -1).every((e) => !e.done)).toBe(true);
    // The new text only, never the prompt, streamed every few tokens.
    expect(final.text.length).toBeGreaterThan(0);
    expect(final.text.startsWith('The cat')).toBe(false);
    expect(generated(events, 2, false).map((e) => e.text)).toEqual(first.map((e) => e.text));
    expect(generated(events, 4, false).length).toBeGreaterThan(1);
    expect(generated(events, 3, false).at(-1)!.text).not.toBe(generated(events, 4, false).at(-1)!.text);
    session.current.model?.dispose();
  });

  it('generates with the adapter after training, and refuses without one or while training', async () => {
    const { session, events, last } = newSession();
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    await session.handle(gen({ withAdapter: true }));
    expect(last('error')).toMatchObject({ context: 'Generating text with the adapter', message: 'train or import an adapter first', request: 'generate' });

    await session.handle({ type: 'loadDataset', file: new File([lines(20)], 'd.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    await session.handle({ type: 'train', methodId: 'lora', config: {}, train: { ...TRAIN, steps: 1, learningRate: 0.05, warmupSteps: 0, evalEvery: 0 } });
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished', step: 1 });
    const errors = events.filter((e) => e.type === 'error').length;
    const before = tf.memory().numTensors;
    await session.handle(gen({ requestId: 7, withAdapter: false, maxNewTokens: 24 }));
    await session.handle(gen({ requestId: 7, withAdapter: true, maxNewTokens: 24 }));
    expect(events.filter((e) => e.type === 'error')).toHaveLength(errors);
    expect(tf.memory().numTensors).toBe(before);
    const base = generated(events, 7, false).at(-1)!;
    const tuned = generated(events, 7, true).at(-1)!;
    expect(base.done && tuned.done).toBe(true);
    expect(tuned.text.length).toBeGreaterThan(0);
    // Same seed, same prompt: only the adapter differs, and it changes the text.
    expect(tuned.text).not.toBe(base.text);

    // The session marks itself busy synchronously when a run starts.
    const run = session.handle({ type: 'train', methodId: 'lora', config: {}, train: { ...TRAIN, steps: 1000, evalEvery: 0 } });
    await session.handle(gen({ requestId: 8 }));
    expect(last('error')).toMatchObject({ message: 'cannot generate text while training runs; stop it first', request: 'generate' });
    await session.handle({ type: 'stop' });
    await run;
    expect(generated(events, 8, false)).toEqual([]);
    session.current.adapter?.dispose();
    session.current.model?.dispose();
  });
});

/** A session with the built-in model and a small dataset loaded (cpu backend). */
async function readySession(onEvent?: (e: FromWorker, session: StudioSession) => void) {
  const events: FromWorker[] = [];
  const session: StudioSession = new StudioSession(
    (m) => {
      events.push(m);
      onEvent?.(m, session);
    },
    { source },
  );
  await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
  await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
  await session.handle({ type: 'loadDataset', file: new File([lines(20)], 'd.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
  const last = <T extends FromWorker['type']>(type: T) => events.filter((e) => e.type === type).at(-1) as Extract<FromWorker, { type: T }> | undefined;
  const all = <T extends FromWorker['type']>(type: T) => events.filter((e) => e.type === type) as Extract<FromWorker, { type: T }>[];
  const dispose = () => {
    session.current.adapter?.dispose();
    session.current.model?.dispose();
  };
  return { session, events, last, all, dispose };
}

const TINY: TrainConfig = { ...TRAIN, steps: 2, evalEvery: 2, warmupSteps: 0 };
const tinyInfo = () => modelInfo('tiny-gpt2', JSON.parse(readFileSync(new URL('tiny-gpt2/config.json', publicModels), 'utf8')));
const zipFile = (bytes: Uint8Array, name: string) => new File([new Uint8Array(bytes)], name, { type: 'application/zip' });

describe('StudioSession: every method counted', () => {
  it('plans every method in the registry at the settings given, else its defaults, with errors instead of counts', async () => {
    const { session, last, dispose } = await readySession();
    const info = tinyInfo();
    await session.handle({ type: 'planAll', configs: { lora: { r: 4 } } });
    const plans = last('plannedAll')!.plans;
    // The PEFT methods, then full fine-tuning (the baseline: every parameter trains).
    expect(plans.map((p) => p.methodId)).toEqual([...METHODS.map((m) => m.id), 'full-finetune']);
    expect(plans.at(-1)).toEqual({ methodId: 'full-finetune', trainable: 859_008, total: 859_008, percent: 100 });
    for (const m of METHODS) {
      const entry = plans.find((p) => p.methodId === m.id)!;
      const reason = m.unsupported?.(info);
      if (reason) {
        expect(entry.error).toBe(reason);
        continue;
      }
      // What `plan` computes for the same settings, counted the same way.
      const p = m.plan(info, coerceConfig(m, info, m.id === 'lora' ? { r: 4 } : {}));
      expect(entry).toEqual({ methodId: m.id, trainable: p.trainable, total: p.total, percent: (100 * p.trainable) / p.total });
    }
    // LoRA r=4 on c_attn: 4 layers × 4·(128 + 384).
    expect(plans.find((p) => p.methodId === 'lora')).toMatchObject({ trainable: 8192, total: 859_008 + 8192 });

    await session.handle({ type: 'planAll', configs: { lora: { r: 0 } } });
    expect(last('plannedAll')!.plans.find((p) => p.methodId === 'lora')).toEqual({ methodId: 'lora', error: 'r must be a positive integer (got 0)' });

    await session.handle({ type: 'planAll', configs: { 'no-such-method': {} } });
    expect(last('error')).toMatchObject({ request: 'planAll', message: expect.stringMatching(/unknown method "no-such-method"/) });
    dispose();
  });
});

describe('StudioSession: import', () => {
  it('imports an exported zip as the session adapter: same export bytes, announced with its counts', async () => {
    const a = await readySession();
    await a.session.handle({ type: 'train', methodId: 'lora', config: { r: 4 }, train: { ...TINY, learningRate: 0.05 } });
    expect(a.last('trainingStarted')).toMatchObject({ methodId: 'lora', mergeable: true });
    await a.session.handle({ type: 'export' });
    const exported = a.last('exported')!;

    // A fresh session (a reloaded page) with no adapter of its own.
    const b = await readySession();
    const before = tf.memory().numTensors;
    await b.session.handle({ type: 'importAdapter', file: zipFile(exported.bytes, 'my-adapter.zip') });
    expect(b.all('error')).toEqual([]);
    expect(b.last('adapterImported')).toEqual({ type: 'adapterImported', fileName: 'my-adapter.zip', methodId: 'lora', trainable: 8192, mergeable: true });
    expect(tf.memory().numTensors - before).toBe(8); // A and B for 4 layers
    // It is the session's adapter now: exporting it writes the same bytes back.
    await b.session.handle({ type: 'export' });
    expect(Array.from(b.last('exported')!.bytes)).toEqual(Array.from(exported.bytes));
    // And "With adapter" generation uses it: the same text as the trained adapter's for one seed.
    const gen = { type: 'generate' as const, requestId: 1, prompt: 'The cat', maxNewTokens: 12, temperature: 1, topK: 0, seed: 3, withAdapter: true };
    await a.session.handle(gen);
    await b.session.handle(gen);
    expect(b.last('generated')!.text).toBe(a.last('generated')!.text);
    a.dispose();
    b.dispose();
  });

  it('refuses a file of another method, another model or no zip at all, naming the file and the field, and keeps its adapter', async () => {
    const { session, last, all, dispose } = await readySession();
    await session.handle({ type: 'train', methodId: 'lora', config: { r: 4 }, train: TINY });
    await session.handle({ type: 'export' });
    const good = last('exported')!.bytes;
    const files = unzipFiles(good, 'good.zip');
    const config = JSON.parse(new TextDecoder().decode(files['adapter_config.json']));
    const withConfig = (over: Record<string, unknown>) =>
      zipFiles({ ...files, 'adapter_config.json': new TextEncoder().encode(JSON.stringify({ ...config, ...over })) });
    const tensors = tf.memory().numTensors;

    await session.handle({ type: 'importAdapter', file: zipFile(withConfig({ peft_type: 'IA3' }), 'ia3.zip') });
    expect(last('error')).toMatchObject({ context: 'Importing an adapter', request: 'importAdapter' });
    expect(last('error')!.message).toMatch(/^ia3\.zip: adapter_config\.json: "peft_type" is "IA3"/);

    // The same layout for a model with a narrower first dimension: the tensor's shape is named.
    await session.handle({ type: 'importAdapter', file: zipFile(withConfig({ r: 2 }), 'r2.zip') });
    expect(last('error')!.message).toBe(
      'r2.zip: adapter_model.safetensors: "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight" has shape [4,128], tiny-gpt2 needs [2,128]',
    );

    await session.handle({ type: 'importAdapter', file: new File(['not a zip at all, just text'], 'notes.zip') });
    expect(last('error')!.message).toMatch(/^notes\.zip: not a valid zip archive/);

    await session.handle({ type: 'importAdapter', file: zipFile(zipFiles({ 'readme.txt': new TextEncoder().encode('hi') }), 'other.zip') });
    expect(last('error')!.message).toMatch(/^other\.zip: not an adapter the studio recognises \(files: readme\.txt\)/);

    expect(all('adapterImported')).toEqual([]);
    expect(tf.memory().numTensors).toBe(tensors);
    await session.handle({ type: 'export' });
    expect(Array.from(last('exported')!.bytes)).toEqual(Array.from(good));
    dispose();
  });
});

describe('StudioSession: merged export', () => {
  it('writes a full Hugging Face checkpoint from mergedWeights next to the base files, byte for byte', async () => {
    const { session, last, dispose } = await readySession();
    // An adapter that adds modules or tokens cannot fold into the weights: refused by name.
    await session.handle({ type: 'train', methodId: 'prompt-tuning', config: { num_virtual_tokens: 4 }, train: TINY });
    expect(last('trainingStarted')).toMatchObject({ methodId: 'prompt-tuning', mergeable: false });
    await session.handle({ type: 'exportMerged' });
    expect(last('error')).toMatchObject({ request: 'exportMerged', message: 'a Prompt tuning adapter cannot be merged into the base weights; export the adapter instead' });

    // LoRA folds in: the session's part is the checkpoint around the adapter's merged weights.
    await session.handle({ type: 'train', methodId: 'lora', config: { r: 4 }, train: { ...TINY, learningRate: 0.05 } });
    const model = session.current.model!;
    const merged = await session.current.adapter!.mergedWeights!();
    await session.handle({ type: 'exportMerged' });
    const out = last('exported')!;
    expect(out.fileName).toBe('tiny-gpt2-lora-merged.zip');
    const files = unzipFiles(out.bytes, out.fileName);
    expect(Object.keys(files).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    for (const name of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) {
      expect(Array.from(files[name])).toEqual(Array.from(readFileSync(new URL(`tiny-gpt2/${name}`, publicModels))));
    }
    const { tensors, metadata } = readSafetensors(files['model.safetensors'], 'model.safetensors');
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()].sort()).toEqual(merged.map((t) => t.name).sort());
    for (const t of merged) {
      expect(tensors.get(t.name)!.shape).toEqual(t.shape);
      expect(Array.from(tensors.get(t.name)!.data as Float32Array)).toEqual(Array.from(t.data));
    }
    // The folder loads as a model again, and computes what the base with the adapter computes.
    const reloaded = buildModel('merged', JSON.parse(new TextDecoder().decode(files['config.json'])), tensors);
    const ids = tf.tensor2d([[5, 9, 14, 2, 33, 7]], [1, 6], 'int32');
    const [adapted, plain] = tf.tidy(() => [model.forward(ids, session.current.adapter!.hooks(false)).logits, reloaded.forward(ids).logits]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(adapted, plain))).dataSync()[0]);
    expect(diff).toBeLessThan(1e-4);
    // LoRA changed c_attn and nothing else.
    expect(Array.from(reloaded.weights.get('transformer.h.0.attn.c_attn.weight')!.dataSync())).not.toEqual(Array.from(model.weights.get('transformer.h.0.attn.c_attn.weight')!.dataSync()));
    expect(Array.from(reloaded.weights.get('transformer.h.0.mlp.c_fc.weight')!.dataSync())).toEqual(Array.from(model.weights.get('transformer.h.0.mlp.c_fc.weight')!.dataSync()));
    tf.dispose([ids, adapted, plain]);
    reloaded.dispose();
    dispose();
  });

  it('leaves generation_config.json out when the base folder has none (or the server answers with a page)', async () => {
    const events: FromWorker[] = [];
    const html = new TextEncoder().encode('<!doctype html><title>index</title>');
    const session = new StudioSession((m) => events.push(m), {
      source: async (id, file) => (file === 'generation_config.json' ? html : source(id, file)),
    });
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    await session.handle({ type: 'loadDataset', file: new File([lines(20)], 'd.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    await session.handle({ type: 'train', methodId: 'lora', config: { r: 4 }, train: { ...TINY, steps: 1 } });
    const model = session.current.model!;
    session.current.adapter!.mergedWeights = async () => [...model.weights].map(([name, t]) => ({ name, shape: t.shape, data: t.dataSync() as Float32Array }));
    await session.handle({ type: 'exportMerged' });
    const out = events.filter((e) => e.type === 'exported').at(-1) as Extract<FromWorker, { type: 'exported' }>;
    expect(Object.keys(unzipFiles(out.bytes, out.fileName)).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    session.current.adapter?.dispose();
    model.dispose();
  });
});

describe('StudioSession: compare', () => {
  /** LoRA and the registry's first other method that applies to the built-in model. */
  function twoMethods() {
    const info = tinyInfo();
    const other = METHODS.find((m) => m.id !== 'lora' && !m.unsupported?.(info));
    if (!other) throw new Error(`the registry has no second method to compare with LoRA (it has ${METHODS.map((m) => m.id).join(', ')})`);
    return [getMethod('lora'), other];
  }

  it('trains each method in turn on the same data and reports a row per method', async () => {
    const [first, second] = twoMethods();
    const { session, events, all, last, dispose } = await readySession();
    const before = tf.memory().numTensors;
    const runs = [
      { methodId: first.id, config: { r: 4 } },
      { methodId: second.id, config: {} },
    ];
    await session.handle({ type: 'compare', runs, train: TINY });
    expect(all('error')).toEqual([]);

    // The order of events: one start, then per run started → progress/eval → ended → result.
    const kinds = events.map((e) => e.type).filter((t) => t.startsWith('compare') || t === 'trainingStarted' || t === 'trainingEnded');
    expect(kinds).toEqual(['compareStarted', 'trainingStarted', 'trainingEnded', 'compareRunEnded', 'trainingStarted', 'trainingEnded', 'compareRunEnded', 'compareEnded']);
    expect(last('compareStarted')).toEqual({ type: 'compareStarted', methodIds: [first.id, second.id], totalSteps: 2 });
    expect(all('trainingStarted').map((e) => e.methodId)).toEqual([first.id, second.id]);
    expect(last('compareEnded')).toEqual({ type: 'compareEnded', reason: 'finished', completed: 2 });

    const info = tinyInfo();
    const results = all('compareRunEnded');
    // Events between a run's trainingStarted and the next one belong to that run.
    const starts = events.flatMap((e, i) => (e.type === 'trainingStarted' ? [i] : []));
    const slice = (k: number) => events.slice(starts[k], starts[k + 1] ?? events.length);
    for (const [k, method] of [first, second].entries()) {
      const r = results[k];
      const own = slice(k);
      const evals = own.flatMap((e) => (e.type === 'eval' ? [e.point] : []));
      const rates = own.flatMap((e) => (e.type === 'progress' ? e.points.map((p) => p.tokensPerSecond) : []));
      expect(r.methodId).toBe(method.id);
      expect(r.reason).toBe('finished');
      expect(r.step).toBe(2);
      expect(r.trainable).toBe(method.plan(info, coerceConfig(method, info, runs[k].config)).trainable);
      expect(evals.map((p) => p.step)).toEqual([0, 2]);
      expect(r.finalEvalLoss).toBe(evals[1].evalLoss);
      // A language-model run has no classification metrics; its share is of the base and the method's parameters.
      expect(r.finalClassification).toBeNull();
      expect(r.total).toBe(method.plan(info, coerceConfig(method, info, runs[k].config)).total);
      expect(r.tokensPerSecond).toBeCloseTo(rates.reduce((a, b) => a + b, 0) / rates.length, 6);
      expect(r.tokensPerSecond).toBeGreaterThan(0);
      expect(r.wallMs).toBeGreaterThan(0);
      expect(r.adapterBytes).toBeGreaterThan(100);
    }
    // The last run's adapter is the session's: its export is the size the table reported, and
    // only its variables outlive the comparison.
    const adapter = session.current.adapter!;
    expect(session.current.adapterMethodId).toBe(second.id);
    expect(tf.memory().numTensors - before).toBe(adapter.variables.length);
    await session.handle({ type: 'export' });
    expect(last('exported')!.bytes.length).toBe(results[1].adapterBytes);

    // The same run alone gives the same losses: the comparison used the run's data and seed.
    const alone = await readySession();
    await alone.session.handle({ type: 'train', methodId: first.id, config: runs[0].config, train: TINY });
    const aloneLosses = alone.all('progress').flatMap((e) => e.points.map((p) => p.loss));
    const inCompare = slice(0).flatMap((e) => (e.type === 'progress' ? e.points.map((p) => p.loss) : []));
    expect(inCompare).toEqual(aloneLosses);
    alone.dispose();
    dispose();
  });

  it('stops between methods: the finished run keeps its row, the stopped one has none', async () => {
    const [first, second] = twoMethods();
    // Stop as soon as the second method's run has started.
    const { session, all, last, dispose } = await readySession((e, s) => {
      if (e.type === 'trainingStarted' && e.methodId === second.id) void s.handle({ type: 'stop' });
    });
    await session.handle({
      type: 'compare',
      runs: [
        { methodId: first.id, config: {} },
        { methodId: second.id, config: {} },
      ],
      train: TINY,
    });
    expect(all('compareRunEnded').map((r) => r.methodId)).toEqual([first.id]);
    expect(all('trainingEnded').map((e) => e.reason)).toEqual(['finished', 'stopped']);
    expect(last('compareEnded')).toEqual({ type: 'compareEnded', reason: 'stopped', completed: 1 });
    // Idle again: another request is served.
    await session.handle({ type: 'export' });
    expect(last('exported')).toBeDefined();
    dispose();
  });

  it('checks every config before the first run starts', async () => {
    const [first, second] = twoMethods();
    const { session, all, last, dispose } = await readySession();
    await session.handle({
      type: 'compare',
      runs: [
        { methodId: second.id, config: {} },
        { methodId: first.id, config: { r: 0 } },
      ],
      train: TINY,
    });
    expect(last('error')).toMatchObject({ request: 'compare', context: 'Comparing methods', message: 'LoRA: r must be a positive integer (got 0)' });
    expect(all('trainingStarted')).toEqual([]);
    expect(all('compareStarted')).toEqual([]);
    await session.handle({ type: 'compare', runs: [{ methodId: first.id, config: {} }, { methodId: first.id, config: {} }], train: TINY });
    expect(last('error')!.message).toBe('LoRA is listed twice');
    dispose();
  });
});

describe('StudioSession: context budget', () => {
  it('refuses a run whose sequence plus virtual tokens overflows the context, naming the field to change', async () => {
    const { session, all, last, dispose } = await readySession();
    // tiny-gpt2 has 256 positions: 240 virtual tokens leave room for 16 tokens of text.
    await session.handle({ type: 'train', methodId: 'prompt-tuning', config: { num_virtual_tokens: 240 }, train: { ...TINY, sequenceLength: 32 } });
    expect(last('error')).toMatchObject({
      request: 'train',
      message: `Sequence length 32 plus Prompt tuning's 240 virtual positions exceeds tiny-gpt2's context of 256; set "Sequence length" to at most 16`,
    });
    await session.handle({ type: 'compare', runs: [{ methodId: 'lora', config: {} }, { methodId: 'prefix-tuning', config: { num_virtual_tokens: 230 } }], train: { ...TINY, sequenceLength: 32 } });
    expect(last('error')!.message).toMatch(/Prefix tuning's 230 virtual positions exceeds .* at most 26$/);
    expect(all('trainingStarted')).toEqual([]);
    // Within the budget the same method trains.
    await session.handle({ type: 'train', methodId: 'prompt-tuning', config: { num_virtual_tokens: 224 }, train: { ...TINY, sequenceLength: 32 } });
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished' });
    dispose();
  });
});

describe('StudioSession: a base model from disk', () => {
  const TINY_FILES = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
  const tinyBytes = (file: string) => new Uint8Array(readFileSync(new URL(`tiny-gpt2/${file}`, publicModels)));
  const tinyFolder = (): Record<string, Uint8Array> => Object.fromEntries(TINY_FILES.map((f) => [f, tinyBytes(f)]));
  const asFiles = (folder: Record<string, Uint8Array>) => Object.entries(folder).map(([name, bytes]) => new File([new Uint8Array(bytes)], name));
  /** A File as a browser gives it from a folder picker: with the path under the chosen folder. */
  const inFolder = (path: string, bytes: Uint8Array) => {
    const file = new File([new Uint8Array(bytes)], path.split('/').at(-1)!);
    Object.defineProperty(file, 'webkitRelativePath', { value: path });
    return file;
  };
  /** tiny-gpt2's weights as two shards and the index transformers writes for them. */
  function sharded(): Record<string, Uint8Array> {
    const { tensors } = readSafetensors(tinyBytes('model.safetensors'));
    const names = [...tensors.keys()];
    const shardNames = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    const halves = [names.slice(0, names.length / 2), names.slice(names.length / 2)];
    const weightMap: Record<string, string> = {};
    const folder: Record<string, Uint8Array> = {};
    halves.forEach((part, i) => {
      for (const n of part) weightMap[n] = shardNames[i];
      folder[shardNames[i]] = writeSafetensors(
        part.map((n) => ({ name: n, shape: tensors.get(n)!.shape, data: tensors.get(n)!.data as Float32Array })),
        { format: 'pt' },
      );
    });
    const totalSize = names.reduce((s, n) => s + 4 * tensors.get(n)!.data.length, 0);
    folder['model.safetensors.index.json'] = new TextEncoder().encode(JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }));
    const { 'model.safetensors': _single, ...rest } = tinyFolder();
    return { ...rest, ...folder };
  }

  async function session() {
    const events: FromWorker[] = [];
    const s = new StudioSession((m) => events.push(m), { source });
    await s.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    const last = <T extends FromWorker['type']>(type: T) => events.filter((e) => e.type === type).at(-1) as Extract<FromWorker, { type: T }> | undefined;
    const all = <T extends FromWorker['type']>(type: T) => events.filter((e) => e.type === type) as Extract<FromWorker, { type: T }>[];
    return { session: s, events, last, all };
  }

  /** Every weight of the session's model equals the built-in tiny-gpt2's, bit for bit. */
  function expectTinyWeights(s: StudioSession) {
    const { tensors } = readSafetensors(tinyBytes('model.safetensors'));
    const model = s.current.model!;
    expect(model.weights.size).toBe(tensors.size);
    for (const [name, t] of model.weights) {
      expect(Array.from(t.dataSync()), name).toEqual(Array.from(tensors.get(name)!.data));
    }
  }

  it("loads a Hugging Face folder's files as the base model, named as the page asks, and trains on it", async () => {
    const { session: s, last, all } = await session();
    await s.handle({ type: 'loadModelFiles', files: asFiles(tinyFolder()), name: 'my-tiny' });
    expect(all('error')).toEqual([]);
    expect(last('modelLoaded')!.model).toEqual({
      id: 'my-tiny',
      name: 'my-tiny',
      source: 'disk',
      modelType: 'gpt2',
      numLayers: 4,
      hiddenSize: 128,
      numHeads: 4,
      vocabSize: 257,
      maxPositions: 256,
      totalParams: 859_008,
    });
    expect(last('methods')!.methods.map((m) => m.id)).toEqual(RUN_KINDS.map((k) => k.id));
    expectTinyWeights(s);
    // It is the base model every request uses: a dataset tokenizes with its tokenizer and a run trains on it.
    await s.handle({ type: 'loadDataset', file: new File([lines(20)], 'd.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    await s.handle({ type: 'train', methodId: 'bitfit', config: {}, train: { ...TINY, steps: 1, evalEvery: 0 } });
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished', step: 1 });
    // A merged checkpoint is named after it and ships its files.
    await s.handle({ type: 'exportMerged' });
    const out = last('exported')!;
    expect(out.fileName).toBe('my-tiny-bitfit-merged.zip');
    expect(Array.from(unzipFiles(out.bytes, out.fileName)['tokenizer.json'])).toEqual(Array.from(tinyBytes('tokenizer.json')));
    // Built-in models are still reported as such.
    await s.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    expect(last('modelLoaded')!.model).toMatchObject({ id: 'tiny-gpt2', source: 'built-in' });
    s.current.model?.dispose();
  });

  it('names a folder after the folder its files share, ignoring subfolders, and a zip after the zip', async () => {
    const { session: s, last, all } = await session();
    const folder = tinyFolder();
    const files = Object.entries(folder).map(([name, bytes]) => inFolder(`gpt2-small-copy/${name}`, bytes));
    // A nested file of the same name is not the folder's: it must not be read (nor clash).
    files.push(inFolder('gpt2-small-copy/onnx/config.json', new TextEncoder().encode('not json')));
    await s.handle({ type: 'loadModelFiles', files, name: 'ignored' });
    expect(all('error')).toEqual([]);
    expect(last('modelLoaded')!.model).toMatchObject({ id: 'gpt2-small-copy', source: 'disk', totalParams: 859_008 });

    // A zip of the folder (one enclosing folder, as when a folder is zipped whole).
    const zipped = zipFiles(Object.fromEntries(Object.entries(folder).map(([n, b]) => [`tiny-gpt2/${n}`, b])));
    await s.handle({ type: 'loadModelFiles', files: [zipFile(zipped, 'student-3-layers.zip')] });
    expect(all('error')).toEqual([]);
    expect(last('modelLoaded')!.model).toMatchObject({ id: 'student-3-layers', name: 'student-3-layers', source: 'disk', totalParams: 859_008 });
    expectTinyWeights(s);
    s.current.model?.dispose();
  });

  it('merges a sharded checkpoint (index + 2 shards) into the same model', async () => {
    const { session: s, last, all } = await session();
    const folder = sharded();
    expect(Object.keys(folder)).not.toContain('model.safetensors');
    await s.handle({ type: 'loadModelFiles', files: [zipFile(zipFiles(folder), 'tiny-sharded.zip')] });
    expect(all('error')).toEqual([]);
    expect(last('modelLoaded')!.model).toMatchObject({ id: 'tiny-sharded', source: 'disk', totalParams: 859_008 });
    expectTinyWeights(s);
    s.current.model?.dispose();
  });

  it('refuses incomplete folders and bad shards by name, keeping the model and adapter it had', async () => {
    const { session: s, last, all } = await session();
    await s.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    await s.handle({ type: 'loadDataset', file: new File([lines(20)], 'd.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    await s.handle({ type: 'train', methodId: 'lora', config: { r: 4 }, train: TINY });
    const { model, adapter } = s.current;
    const tensors = tf.memory().numTensors;
    const refusal = async (files: File[], name?: string) => {
      const errors = all('error').length;
      await s.handle({ type: 'loadModelFiles', files, name });
      expect(all('error')).toHaveLength(errors + 1);
      const e = last('error')!;
      expect(e.request).toBe('loadModelFiles');
      return e;
    };

    const { 'tokenizer.json': _tok, ...noTokenizer } = tinyFolder();
    const e1 = await refusal(asFiles(noTokenizer), 'no-tok');
    expect(e1.context).toBe('Loading model no-tok from disk');
    expect(e1.message).toBe(
      'no-tok: not a complete Hugging Face model folder: missing tokenizer.json (found: config.json, generation_config.json, model.safetensors, tokenizer_config.json). ' +
        'It needs config.json, model.safetensors (or model.safetensors.index.json and the shards it lists), tokenizer.json and tokenizer_config.json',
    );

    // PyTorch weights instead of safetensors: said so.
    const { 'model.safetensors': _w, 'config.json': _c, ...noWeights } = tinyFolder();
    const e2 = await refusal([zipFile(zipFiles({ ...noWeights, 'pytorch_model.bin': new Uint8Array(8) }), 'pt-only.zip')]);
    expect(e2.message).toMatch(/^pt-only: not a complete Hugging Face model folder: missing config\.json, model\.safetensors \(found: generation_config\.json, pytorch_model\.bin, tokenizer\.json, tokenizer_config\.json\)/);
    expect(e2.message).toMatch(/the studio reads safetensors weights only, not pytorch_model\.bin$/);

    // A shard the index lists is not there.
    const { 'model-00002-of-00002.safetensors': _s2, ...oneShard } = sharded();
    const e3 = await refusal([zipFile(zipFiles(oneShard), 'half.zip')]);
    expect(e3.message).toBe(
      'half: model.safetensors.index.json lists shards that are not among the files: model-00002-of-00002.safetensors (found: config.json, generation_config.json, model-00001-of-00002.safetensors, model.safetensors.index.json, tokenizer.json, tokenizer_config.json)',
    );

    // A tensor in both shards.
    const twice = sharded();
    const first = readSafetensors(twice['model-00001-of-00002.safetensors']).tensors;
    const second = readSafetensors(twice['model-00002-of-00002.safetensors']).tensors;
    const dup = [...first.keys()][0];
    const both = [...second].map(([name, t]) => ({ name, shape: t.shape, data: t.data as Float32Array }));
    both.push({ name: dup, shape: first.get(dup)!.shape, data: first.get(dup)!.data as Float32Array });
    twice['model-00002-of-00002.safetensors'] = writeSafetensors(both, { format: 'pt' });
    const e4 = await refusal([zipFile(zipFiles(twice), 'twice.zip')]);
    expect(e4.message).toBe(`twice: tensor "${dup}" is in two shards, model-00001-of-00002.safetensors and model-00002-of-00002.safetensors`);

    // The index puts a tensor in the other shard than the one that holds it.
    const moved = sharded();
    const index = JSON.parse(new TextDecoder().decode(moved['model.safetensors.index.json']));
    index.weight_map[dup] = 'model-00002-of-00002.safetensors';
    moved['model.safetensors.index.json'] = new TextEncoder().encode(JSON.stringify(index));
    const e5 = await refusal([zipFile(zipFiles(moved), 'moved.zip')]);
    expect(e5.message).toBe(`moved/model-00001-of-00002.safetensors: holds tensor "${dup}", which model.safetensors.index.json puts in model-00002-of-00002.safetensors`);

    // The index lists a tensor its shard does not hold.
    const short = sharded();
    const kept = [...readSafetensors(short['model-00002-of-00002.safetensors']).tensors];
    const [dropped] = kept.pop()!;
    short['model-00002-of-00002.safetensors'] = writeSafetensors(kept.map(([name, t]) => ({ name, shape: t.shape, data: t.data as Float32Array })), { format: 'pt' });
    const e8 = await refusal([zipFile(zipFiles(short), 'short.zip')]);
    expect(e8.message).toBe(`short/model.safetensors.index.json: lists tensor "${dropped}" in model-00002-of-00002.safetensors, which does not hold it`);

    // A tensor of the wrong shape is named with the shard that holds it.
    const bent = sharded();
    const inSecond = [...readSafetensors(bent['model-00002-of-00002.safetensors']).tensors];
    const at = inSecond.findIndex(([, t]) => t.shape.length === 2);
    const [bentName, bentTensor] = inSecond[at];
    inSecond[at] = [bentName, { ...bentTensor, shape: [bentTensor.data.length] }];
    bent['model-00002-of-00002.safetensors'] = writeSafetensors(inSecond.map(([name, t]) => ({ name, shape: t.shape, data: t.data as Float32Array })), { format: 'pt' });
    const e9 = await refusal([zipFile(zipFiles(bent), 'bent.zip')]);
    expect(e9.message).toBe(`model-00002-of-00002.safetensors: "${bentName}" has shape [${bentTensor.data.length}], bent (config.json) needs [${bentTensor.shape}]`);

    // Another architecture: refused from config.json alone.
    const t5Config = { ...JSON.parse(new TextDecoder().decode(tinyBytes('config.json'))), model_type: 't5', architectures: ['T5ForConditionalGeneration'] };
    const e6 = await refusal(asFiles({ ...tinyFolder(), 'config.json': new TextEncoder().encode(JSON.stringify(t5Config)) }), 'tiny-t5');
    expect(e6.message).toBe('tiny-t5: config.json: "model_type" "t5" is not supported yet (supported: "gpt2", "llama", "qwen2", "mistral", "bert", "roberta", "distilbert")');

    // A zip together with other files is ambiguous.
    const e7 = await refusal([zipFile(zipFiles(tinyFolder()), 'a.zip'), new File(['{}'], 'config.json')]);
    expect(e7.message).toBe("a.zip: choose either one .zip of the model folder or the folder's files, not both (2 files were chosen)");

    expect(all('modelLoaded')).toHaveLength(1);
    expect(s.current.model).toBe(model);
    expect(s.current.adapter).toBe(adapter);
    expect(s.current.modelId).toBe('tiny-gpt2');
    expect(tf.memory().numTensors).toBe(tensors);
    await s.handle({ type: 'export' });
    expect(last('exported')!.fileName).toBe('tiny-gpt2-lora.zip');
    s.current.adapter?.dispose();
    s.current.model?.dispose();
  });
});

describe('StudioSession: distillation', () => {
  it('plans the student, distils 2 steps with per-term losses, times both forwards and exports a checkpoint', async () => {
    const { session, events, last } = newSession();
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    const m = last('modelLoaded')!.model;
    // Offered after the PEFT methods as a kind that makes a student and is not compared.
    expect(last('methods')!.methods.at(-1)).toMatchObject({ id: 'distill', label: 'Distillation (DistilBERT)', output: 'student', comparable: false, unsupported: undefined });
    const d = m.hiddenSize;
    const perLayer = 12 * d * d + 13 * d;
    const nStudent = 1;
    await session.handle({ type: 'plan', methodId: 'distill', config: { student_layers: String(nStudent) } });
    const plan = last('planned')!.plan;
    if (plan.output !== 'student') throw new Error(`expected a student plan, got ${plan.output}`);
    expect(plan.methodId).toBe('distill');
    expect(plan.teacherParams).toBe(m.totalParams);
    expect(plan.studentParams).toBe(m.totalParams - (m.numLayers - nStudent) * perLayer);
    expect(plan.compression).toBeCloseTo(plan.teacherParams / plan.studentParams, 12);
    expect(plan.teacherLayers).toEqual([0]);
    await session.handle({ type: 'plan', methodId: 'distill', config: { student_layers: m.numLayers } });
    expect(last('error')).toMatchObject({ request: 'plan' });
    expect(last('error')!.message).toMatch(/student/i);

    await session.handle({ type: 'loadDataset', file: new File([lines(20)], 'd.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    const before = events.length;
    await session.handle({ type: 'train', methodId: 'distill', config: { student_layers: nStudent }, train: { ...TRAIN, steps: 2, evalEvery: 0 } });
    const run = events.slice(before);
    expect(run.filter((e) => e.type === 'error')).toEqual([]);
    expect(run[0]).toEqual({ type: 'trainingStarted', totalSteps: 2, methodId: 'distill', output: 'student', mergeable: false });
    const points = run.flatMap((e) => (e.type === 'progress' ? e.points : []));
    expect(points.map((p) => p.step)).toEqual([1, 2]);
    for (const p of points) {
      // DistilBERT's default weights are all > 0: every term is reported, each finite.
      expect(Object.keys(p.terms ?? {}).sort()).toEqual(['ce', 'clm', 'cos']);
      for (const v of Object.values(p.terms!)) expect(Number.isFinite(v)).toBe(true);
    }
    const teacherEval = run.find((e) => e.type === 'referenceEval') as Extract<FromWorker, { type: 'referenceEval' }>;
    expect(teacherEval.label).toBe('Teacher held-out loss');
    expect(teacherEval.evalLoss).toBeGreaterThan(0);
    expect(run.findIndex((e) => e.type === 'referenceEval')).toBeLessThan(run.findIndex((e) => e.type === 'progress'));
    expect(last('eval')!.point.step).toBe(2);
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished', step: 2 });
    const sp = last('speedup')!;
    expect(sp.baseMs).toBeGreaterThan(0);
    expect(sp.trainedMs).toBeGreaterThan(0);
    expect(sp.ratio).toBeCloseTo(sp.baseMs / sp.trainedMs, 9);
    expect(run.findIndex((e) => e.type === 'speedup')).toBeGreaterThan(run.findIndex((e) => e.type === 'trainingEnded'));
    // The PEFT adapter is untouched: distillation trains a separate model.
    expect(session.current.adapter).toBeUndefined();

    // Export without an output is the adapter's, and there is none.
    await session.handle({ type: 'export' });
    expect(last('error')).toMatchObject({ request: 'export', message: 'train or import an adapter first' });
    await session.handle({ type: 'export', output: 'student' });
    const ex = last('exported')!;
    expect(ex.fileName).toBe(`tiny-gpt2-distilled-${nStudent}L.zip`);
    const files = unzipFiles(ex.bytes, ex.fileName);
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']));
    const config = JSON.parse(new TextDecoder().decode(files['config.json'])) as Record<string, unknown>;
    expect(config.n_layer).toBe(nStudent);
    const tensors = readSafetensors(files['model.safetensors']);
    expect([...tensors.tensors.keys()]).toContain('transformer.h.0.attn.c_attn.weight');
    expect([...tensors.tensors.keys()].some((k) => k.startsWith('transformer.h.1.'))).toBe(false);
    // The tokenizer travels byte for byte from the teacher's folder.
    expect(files['tokenizer.json']).toEqual(await source('tiny-gpt2', 'tokenizer.json'));

    // A new distillation replaces the student (the old one's tensors freed), and while it runs
    // the session refuses what would touch the student or the teacher.
    const first = session.current.student!;
    const running = session.handle({ type: 'train', methodId: 'distill', config: { student_layers: nStudent }, train: { ...TRAIN, steps: 1, evalEvery: 0 } });
    await session.handle({ type: 'export', output: 'student' });
    expect(last('error')).toMatchObject({ request: 'export', message: 'cannot export while training runs; stop it first' });
    await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    expect(last('error')).toMatchObject({ request: 'loadModel', message: 'cannot change the model while training runs; stop it first' });
    await running;
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished', step: 1 });
    expect(session.current.student).not.toBe(first);
    expect(first.variables.every((v) => v.isDisposed)).toBe(true);

    // Loading another model lets the student go with its teacher.
    const student = session.current.student!;
    await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    expect(session.current.student).toBeUndefined();
    expect(student.variables[0].isDisposed).toBe(true);
    await session.handle({ type: 'export', output: 'student' });
    expect(last('error')).toMatchObject({ request: 'export', message: 'distil a student first' });
    session.current.model?.dispose();
  });

  it('keeps distillation out of comparisons and the all-methods counts, and keeps the adapter when a student trains', async () => {
    const { session, events, last } = newSession();
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    await session.handle({ type: 'loadDataset', file: new File([lines(20)], 'd.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    await session.handle({ type: 'planAll', configs: {} });
    expect(last('plannedAll')!.plans.map((p) => p.methodId)).not.toContain('distill');
    await session.handle({ type: 'compare', runs: [{ methodId: 'lora', config: {} }, { methodId: 'distill', config: {} }], train: { ...TRAIN, steps: 1 } });
    expect(last('error')).toMatchObject({ request: 'compare', message: 'Distillation (DistilBERT) trains a model of its own; a comparison compares runs on the loaded model' });
    expect(events.some((e) => e.type === 'compareStarted')).toBe(false);

    await session.handle({ type: 'train', methodId: 'lora', config: {}, train: { ...TRAIN, steps: 1, evalEvery: 0 } });
    const adapter = session.current.adapter;
    await session.handle({ type: 'train', methodId: 'distill', config: { student_layers: 1 }, train: { ...TRAIN, steps: 1, evalEvery: 0 } });
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished' });
    // A student is held beside the adapter; each output keeps its own last result.
    expect(session.current.adapter).toBe(adapter);
    expect(adapter!.variables[0].isDisposed).toBe(false);
    await session.handle({ type: 'export' });
    expect(last('exported')!.fileName).toBe('tiny-gpt2-lora.zip');
    await session.handle({ type: 'export', output: 'student' });
    expect(last('exported')!.fileName).toBe('tiny-gpt2-distilled-1L.zip');
    session.current.adapter?.dispose();
    session.current.student?.dispose();
    session.current.model?.dispose();
  });
});

describe('StudioSession: a Llama-family model from disk', () => {
  /** A Qwen2-style folder: grouped-query attention, q/k/v biases, a tied head, the built-in tokenizer. */
  function qwen2Folder(): Record<string, Uint8Array> {
    const config = {
      architectures: ['Qwen2ForCausalLM'],
      model_type: 'qwen2',
      hidden_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      intermediate_size: 64,
      max_position_embeddings: 128,
      vocab_size: 5000,
      rms_norm_eps: 1e-6,
      hidden_act: 'silu',
      tie_word_embeddings: true,
    };
    const info = llama.info('q', llama.parseConfig(config, 'config.json'));
    const rand = mulberry32(5);
    const tensors = info.params.map((p) => {
      const n = p.shape.reduce((a, b) => a * b, 1);
      return { name: p.name, shape: p.shape, data: Float32Array.from({ length: n }, () => (p.name.endsWith('norm.weight') ? 1 : 0.2 * (rand() - 0.5))) };
    });
    const tiny = (f: string) => new Uint8Array(readFileSync(new URL(`tiny-gpt2/${f}`, publicModels)));
    return {
      'config.json': new TextEncoder().encode(JSON.stringify(config)),
      'model.safetensors': writeSafetensors(tensors, { format: 'pt' }),
      'tokenizer.json': tiny('tokenizer.json'),
      'tokenizer_config.json': tiny('tokenizer_config.json'),
    };
  }

  it('trains and exports every method that applies, and says why for the one that does not', async () => {
    const { session, events, last } = newSession();
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    const files = Object.entries(qwen2Folder()).map(([name, bytes]) => new File([new Uint8Array(bytes)], name));
    await session.handle({ type: 'loadModelFiles', files, name: 'tiny-qwen2' });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    const methods = last('methods')!.methods;
    // Only distillation does not apply: the llama architecture cannot write a shallower student's config.
    expect(methods.filter((m) => m.unsupported).map((m) => [m.id, m.unsupported])).toEqual([['distill', expect.stringMatching(/gpt2/)]]);
    expect(methods.find((m) => m.id === 'lora')!.defaults.target_modules).toEqual(['q_proj', 'v_proj']);
    await session.handle({ type: 'loadDataset', file: new File([lines(12)], 'd.jsonl'), sequenceLength: 24, evalFraction: 0.2, seed: 1 });
    const small: Record<string, Record<string, unknown>> = { 'prompt-tuning': { num_virtual_tokens: 4 }, 'prefix-tuning': { num_virtual_tokens: 4 }, 'p-tuning': { num_virtual_tokens: 4, encoder_hidden_size: 16 }, 'p-tuning-v2': { num_virtual_tokens: 4 } };
    for (const m of methods.filter((x) => !x.unsupported)) {
      const before = events.length;
      await session.handle({ type: 'train', methodId: m.id, config: small[m.id] ?? {}, train: { ...TRAIN, steps: 2, batchSize: 2, sequenceLength: 24, evalEvery: 2 } });
      const run = events.slice(before);
      expect(run.filter((e) => e.type === 'error'), m.id).toEqual([]);
      expect(run.find((e) => e.type === 'trainingEnded'), m.id).toMatchObject({ reason: 'finished', step: 2 });
      const evals = run.flatMap((e) => (e.type === 'eval' ? [e.point.evalLoss] : []));
      for (const l of evals) expect(Number.isFinite(l), m.id).toBe(true);
      // What the method makes: an adapter, or the fully fine-tuned model.
      await session.handle({ type: 'export', output: m.output });
      expect(last('exported')!.fileName, m.id).toMatch(new RegExp(`^tiny-qwen2-${m.id}\\.zip$`));
    }
    // Houlsby's AdapterHub files name Qwen2's blocks and model class.
    await session.handle({ type: 'train', methodId: 'houlsby', config: {}, train: { ...TRAIN, steps: 1, batchSize: 2, sequenceLength: 24, evalEvery: 0 } });
    await session.handle({ type: 'export' });
    const houlsby = unzipFiles(last('exported')!.bytes, 'h.zip');
    const config = JSON.parse(new TextDecoder().decode(Object.entries(houlsby).find(([n]) => n.endsWith('adapter_config.json'))![1]));
    expect(config.model_class).toBe('Qwen2ForCausalLM');
    const weights = readSafetensors(Object.entries(houlsby).find(([n]) => n.endsWith('adapter.safetensors'))![1]);
    expect([...weights.tensors.keys()].every((k) => k.startsWith('model.layers.'))).toBe(true);
    session.current.adapter?.dispose();
    session.current.model?.dispose();
  }, 300_000);
});

describe('StudioSession: a BERT masked LM from disk', () => {
  const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'to', 'a', 'big', 'red', 'house', 'and', 'saw', '.', '##s'];
  const SENTENCES = ['the cat sat on the mat.', 'a big red dog ran to the house.', 'the dogs saw a cat.', 'a cat and a dog sat on a big mat.', 'the red house and the big mat.'];
  // A wide init: the random model starts confidently wrong, so a few steps of LoRA have a clear
  // loss to remove (at BERT's 0.02 its logits are near uniform and barely movable by an adapter).
  const SHAPE = { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 64, initializer_range: 0.5 };
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

  /** A tiny random BertForMaskedLM folder as transformers lays one out, with a WordPiece tokenizer. */
  function bertFolder(opts: { maskToken?: boolean } = {}): File[] {
    const tok = wordPieceTokenizerFiles(WORDS, opts);
    const config = bertConfigJson({ ...SHAPE, vocab_size: tok.vocab.length });
    const files: Record<string, Uint8Array> = {
      'config.json': enc(config),
      'model.safetensors': writeSafetensors(initBertWeights(config, 1), { format: 'pt' }),
      'tokenizer.json': enc(tok.tokenizer),
      'tokenizer_config.json': enc(tok.tokenizerConfig),
    };
    return Object.entries(files).map(([name, bytes]) => new File([new Uint8Array(bytes)], name));
  }
  const dataset = () => new File([Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: SENTENCES[i % SENTENCES.length] })).join('\n')], 'bert.jsonl');
  const BERT_TRAIN: TrainConfig = { ...TRAIN, steps: 2, batchSize: 4, sequenceLength: 16, evalEvery: 0, warmupSteps: 0 };

  async function bertSession(opts: { maskToken?: boolean } = {}) {
    const events: FromWorker[] = [];
    const s = new StudioSession((m) => events.push(m), { source });
    await s.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await s.handle({ type: 'loadModelFiles', files: bertFolder(opts), name: 'tiny-bert' });
    await s.handle({ type: 'loadDataset', file: dataset(), sequenceLength: 16, evalFraction: 0.1, seed: 1 });
    const last = <T extends FromWorker['type']>(type: T) => events.filter((e) => e.type === type).at(-1) as Extract<FromWorker, { type: T }> | undefined;
    const losses = () => events.flatMap((e) => (e.type === 'progress' ? e.points.map((p) => p.loss) : []));
    return { session: s, events, last, losses };
  }

  it('loads as a masked LM that cannot generate, offering every PEFT method and distillation', async () => {
    const { session: s, events, last } = await bertSession();
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    expect(last('modelLoaded')!.model).toMatchObject({ id: 'tiny-bert', modelType: 'bert', numLayers: 2, hiddenSize: 32, cannotGenerate: 'tiny-bert is a masked language model; text generation needs a causal LM' });
    const methods = last('methods')!.methods;
    for (const m of methods) expect(m.unsupported, m.id).toBeUndefined();
    // [CLS] … [SEP] per example, nothing appended; the file repeats its five sentences, read once each.
    expect(last('datasetLoaded')!.dataset).toMatchObject({ examples: 40, duplicates: 35, trainExamples: 4, evalExamples: 1, truncated: 0 });
    await s.handle({ type: 'generate', requestId: 1, prompt: 'the cat', withAdapter: false, maxNewTokens: 4, temperature: 0, topK: 0, seed: 1 });
    expect(last('error')).toMatchObject({ request: 'generate', message: 'tiny-bert is a masked language model; text generation needs a causal LM' });
    s.current.model?.dispose();
  });

  it('trains LoRA on masked LM (2 steps, then lower losses over 12 at a high learning rate) and exports a PEFT adapter for BertForMaskedLM', async () => {
    const { session: s, events, last, losses } = await bertSession();
    await s.handle({ type: 'train', methodId: 'lora', config: { r: 4 }, train: BERT_TRAIN });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished', step: 2 });
    expect(losses()).toHaveLength(2);
    for (const l of losses()) expect(Number.isFinite(l) && l > 0).toBe(true);

    events.length = 0;
    await s.handle({ type: 'train', methodId: 'lora', config: { r: 8, lora_alpha: 16, target_modules: ['query', 'key', 'value', 'dense'] }, train: { ...BERT_TRAIN, steps: 12, learningRate: 0.05 } });
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished', step: 12 });
    const l = losses();
    expect(l.every(Number.isFinite)).toBe(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(l.slice(-3)), l.map((x) => x.toFixed(2)).join(' ')).toBeLessThan(mean(l.slice(0, 3)));
    // The held-out loss, masked the same way at every evaluation, falls too.
    const evals = events.flatMap((e) => (e.type === 'eval' ? [e.point] : []));
    expect(evals.map((p) => p.step)).toEqual([0, 12]);
    expect(evals[1].evalLoss).toBeLessThan(evals[0].evalLoss);

    await s.handle({ type: 'export' });
    const out = last('exported')!;
    expect(out.fileName).toBe('tiny-bert-lora.zip');
    const files = unzipFiles(out.bytes, out.fileName);
    const config = JSON.parse(new TextDecoder().decode(files['adapter_config.json']));
    expect(config).toMatchObject({ peft_type: 'LORA', task_type: 'FEATURE_EXTRACTION', fan_in_fan_out: false, target_modules: ['query', 'key', 'value', 'dense'] });
    const { tensors } = readSafetensors(files['adapter_model.safetensors']);
    expect(tensors.get('base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight')?.shape).toEqual([8, 32]);
    expect(tensors.get('base_model.model.bert.encoder.layer.1.intermediate.dense.lora_B.weight')?.shape).toEqual([64, 8]);
    s.current.adapter?.dispose();
    s.current.model?.dispose();
  });

  it('checks the backend on the same masking for the run on both sides', async () => {
    const { session: s, events, last } = await bertSession();
    await s.handle({ type: 'verify', methodId: 'lora', config: { r: 4 }, train: BERT_TRAIN, steps: 3 });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    const r = last('verified')!.report;
    expect(r.failure).toBeUndefined();
    for (const c of r.checks) expect(c.difference, c.name).toBe(0);
    s.current.model?.dispose();
  });

  it('distils a 1-layer student on the masked-LM terms, shows its held-out masked-token loss beside the teacher’s and the speed-up, exports a BertForMaskedLM checkpoint that loads back as a base model', async () => {
    const { session: s, events, last } = await bertSession();
    await s.handle({ type: 'plan', methodId: 'distill', config: {} });
    const plan = last('planned')!.plan;
    expect(plan).toMatchObject({ output: 'student', teacherLayers: [0] });
    const before = events.length;
    await s.handle({ type: 'train', methodId: 'distill', config: { student_layers: '1' }, train: { ...BERT_TRAIN, evalEvery: 0 } });
    const run = events.slice(before);
    expect(run.filter((e) => e.type === 'error')).toEqual([]);
    const points = run.flatMap((e) => (e.type === 'progress' ? e.points : []));
    expect(points.map((p) => p.step)).toEqual([1, 2]);
    for (const p of points) {
      expect(Object.keys(p.terms ?? {}).sort()).toEqual(['ce', 'cos', 'mlm']);
      expect(p.loss).toBeCloseTo(5 * p.terms!.ce + 2 * p.terms!.mlm + p.terms!.cos, 3);
    }
    const teacher = last('referenceEval')!;
    expect(teacher.label).toBe('Teacher held-out loss');
    const student = last('eval')!.point;
    expect(student.step).toBe(2);
    // Both are masked-token losses on the same held-out masking: finite, near ln(vocab) for random models.
    for (const l of [teacher.evalLoss, student.evalLoss]) expect(l > 0 && l < 10).toBe(true);
    const sp = last('speedup')!;
    expect(sp.ratio).toBeCloseTo(sp.baseMs / sp.trainedMs, 9);

    await s.handle({ type: 'export', output: 'student' });
    const ex = last('exported')!;
    expect(ex.fileName).toBe('tiny-bert-distilled-1L.zip');
    const files = unzipFiles(ex.bytes, ex.fileName);
    expect(Object.keys(files).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const config = JSON.parse(new TextDecoder().decode(files['config.json'])) as Record<string, unknown>;
    expect(config).toMatchObject({ model_type: 'bert', num_hidden_layers: 1, architectures: ['BertForMaskedLM'] });
    const names = [...readSafetensors(files['model.safetensors']).tensors.keys()];
    expect(names).toContain('bert.encoder.layer.0.attention.self.query.weight');
    expect(names).toContain('cls.predictions.transform.dense.weight');
    expect(names.some((n) => n.startsWith('bert.encoder.layer.1.'))).toBe(false);

    // The checkpoint loads back as a base model and computes what the student computes.
    const trained = s.current.student!;
    const ids = tf.tensor2d([[2, 5, 6, 7, 3]], [1, 5], 'int32');
    const want = tf.tidy(() => trained.forward(ids).logits);
    await s.handle({ type: 'loadModelFiles', files: Object.entries(files).map(([n, b]) => new File([new Uint8Array(b)], n)), name: 'tiny-bert-distilled-1L' });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    expect(last('modelLoaded')!.model).toMatchObject({ id: 'tiny-bert-distilled-1L', modelType: 'bert', numLayers: 1 });
    const got = tf.tidy(() => s.current.model!.forward(ids).logits);
    expect(Array.from(await got.data())).toEqual(Array.from(await want.data()));
    tf.dispose([ids, want, got]);
    s.current.model?.dispose();
  });

  it('checks distillation against the CPU on the same masking on both sides', async () => {
    const { session: s, events, last } = await bertSession();
    await s.handle({ type: 'verify', methodId: 'distill', config: {}, train: BERT_TRAIN, steps: 2 });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    const r = last('verified')!.report;
    expect(r.failure).toBeUndefined();
    for (const c of r.checks) expect(c.difference, c.name).toBe(0);
    s.current.model?.dispose();
  });

  it('refuses to train a BERT whose tokenizer has no mask token, naming the file and field, keeping the adapter it had', async () => {
    const { session: s, last } = await bertSession({ maskToken: false });
    expect(last('modelLoaded')).toBeDefined();
    await s.handle({ type: 'train', methodId: 'lora', config: {}, train: BERT_TRAIN });
    expect(last('error')).toMatchObject({
      request: 'train',
      message: 'tokenizer_config.json: "mask_token" is missing; tiny-bert is a masked language model, and masked-LM training replaces the tokens it hides with the mask token',
    });
    expect(last('trainingStarted')).toBeUndefined();
    expect(s.current.adapter).toBeUndefined();
    s.current.model?.dispose();
  });
});
