// The worker's behaviour end to end in Node: the built-in model's real files, a dropped
// File, training, stopping and the exported zip — everything but the browser.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../io/safetensors';
import { unzipFiles } from '../io/zip';
import type { FromWorker, TrainConfig } from './protocol';
import { StudioSession } from './session';

const publicModels = new URL('../../public/models/', import.meta.url);
const source = async (id: string, file: string) => new Uint8Array(readFileSync(new URL(`${id}/${file}`, publicModels)));

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
    const d = m.nEmbd;
    // wte + wpe + per layer (12d² + 13d) + ln_f
    expect(m.totalParams).toBe(m.vocabSize * d + m.nPositions * d + m.nLayer * (12 * d * d + 13 * d) + 2 * d);
    expect(last('methods')!.methods.map((x) => x.id)).toContain('lora');
    await session.handle({ type: 'plan', methodId: 'lora', config: { r: '4', target_modules: ['c_attn'] } });
    expect(last('planned')!.plan).toMatchObject({ trainable: m.nLayer * 4 * (d + 3 * d), total: m.totalParams + m.nLayer * 4 * (d + 3 * d) });
    session.current.model?.dispose();
  });

  it('refuses a malformed dataset naming the line and keeps the dataset it had', async () => {
    const { session, events, last } = newSession();
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    await session.handle({ type: 'loadDataset', file: new File([lines(20)], 'good.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    expect(last('datasetLoaded')!.dataset).toMatchObject({ fileName: 'good.jsonl', examples: 20, trainExamples: 18, evalExamples: 2 });
    const bad = `${lines(2)}\n{"text": "ok"}\n{"text": broken}\n`;
    await session.handle({ type: 'loadDataset', file: new File([bad], 'bad.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    const rejected = last('datasetRejected')!;
    expect(rejected.message).toMatch(/bad\.jsonl line 4/);
    expect(rejected.issues[0].line).toBe(4);
    // The good dataset is still the one training uses.
    await session.handle({ type: 'train', methodId: 'lora', config: {}, train: { ...TRAIN, steps: 1, evalEvery: 0 } });
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished' });
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
