// Full fine-tuning through the worker session on the built-in model's real files: planned with
// every parameter trainable, in the all-methods counts, trained on the one run path, exported as
// a complete checkpoint that the session loads back as a base model, generating text with the
// fine-tuned weights, and compared against a PEFT method; the base model stays bit-identical.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../io/safetensors';
import { unzipFiles } from '../io/zip';
import { changedWeights, weightBytes } from '../peft/testing';
import type { FromWorker, TrainConfig } from './protocol';
import { StudioSession } from './session';
import { publicModelSource as source, publicModels } from './testing';

const TRAIN: TrainConfig = { steps: 3, epochs: 1, batchSize: 2, sequenceLength: 32, learningRate: 1e-3, warmupSteps: 1, weightDecay: 0.01, maxGradNorm: 1, evalFraction: 0.1, evalEvery: 0, seed: 3 };
const lines = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ text: `Line ${i}: the cat sat on the mat.` })).join('\n');

async function loaded() {
  const events: FromWorker[] = [];
  const session = new StudioSession((m) => events.push(m), { source });
  const last = <T extends FromWorker['type']>(type: T) => events.filter((e) => e.type === type).at(-1) as Extract<FromWorker, { type: T }> | undefined;
  await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
  await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
  await session.handle({ type: 'loadDataset', file: new File([lines(20)], 'd.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
  return { session, events, last };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('full fine-tuning in the session', () => {
  it('is offered as a comparable kind that makes a model, planned and counted with trainable = total', async () => {
    const { session, events, last } = await loaded();
    const total = last('modelLoaded')!.model.totalParams;
    expect(last('methods')!.methods.find((m) => m.id === 'full-finetune')).toMatchObject({ label: 'Full fine-tuning', output: 'model', comparable: true, fields: [], unsupported: undefined });
    await session.handle({ type: 'plan', methodId: 'full-finetune', config: {} });
    expect(last('planned')!.plan).toMatchObject({ methodId: 'full-finetune', output: 'model', trainable: total, total, percent: 100 });
    await session.handle({ type: 'planAll', configs: {} });
    expect(last('plannedAll')!.plans.find((p) => p.methodId === 'full-finetune')).toEqual({ methodId: 'full-finetune', trainable: total, total, percent: 100 });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    session.current.model?.dispose();
  });

  it('trains every weight, exports a checkpoint that loads back as a base model, and generates with it; the base stays as it was', async () => {
    const { session, events, last } = await loaded();
    const base = session.current.model!;
    const before = await weightBytes(base);
    await session.handle({ type: 'train', methodId: 'full-finetune', config: {}, train: TRAIN });
    expect(last('trainingStarted')).toEqual({ type: 'trainingStarted', totalSteps: 3, methodId: 'full-finetune', output: 'model', mergeable: true });
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished', step: 3 });
    expect(await changedWeights(base, before)).toEqual([]);

    // Generation with the fine-tuned weights differs from the base model's, same seed.
    const gen = { type: 'generate' as const, prompt: 'The cat', maxNewTokens: 12, temperature: 1, topK: 0, seed: 5 };
    await session.handle({ ...gen, requestId: 1, withAdapter: false });
    await session.handle({ ...gen, requestId: 1, withAdapter: true, output: 'model' });
    const texts = events.filter((e): e is Extract<FromWorker, { type: 'generated' }> => e.type === 'generated' && e.done);
    expect(texts.map((t) => t.withAdapter)).toEqual([false, true]);
    expect(texts[1].text).not.toBe(texts[0].text);
    // No adapter was trained: generating "with the adapter" says what to do.
    await session.handle({ ...gen, requestId: 2, withAdapter: true });
    expect(last('error')).toMatchObject({ message: 'train or import an adapter first', request: 'generate' });

    await session.handle({ type: 'export', output: 'model' });
    const exported = last('exported')!;
    expect(exported.fileName).toBe('tiny-gpt2-full-finetune.zip');
    const files = unzipFiles(exported.bytes, exported.fileName);
    expect(Object.keys(files).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    expect(Buffer.from(files['config.json']).equals(readFileSync(new URL('tiny-gpt2/config.json', publicModels)))).toBe(true);
    const { tensors } = readSafetensors(files['model.safetensors'], 'model.safetensors');
    expect([...tensors.keys()].sort()).toEqual(base.info.params.map((p) => p.name).sort());
    const fineTuned = session.current.fineTuned!;
    for (const t of await fineTuned.mergedWeights()) expect(Array.from(tensors.get(t.name)!.data), t.name).toEqual(Array.from(t.data));

    // The checkpoint loads back as a base model; its generation is the fine-tuned model's.
    const zip = new File([exported.bytes as Uint8Array<ArrayBuffer>], 'tiny-gpt2-full-finetune.zip');
    await session.handle({ type: 'loadModelFiles', files: [zip] });
    expect(last('modelLoaded')!.model).toMatchObject({ name: 'tiny-gpt2-full-finetune', source: 'disk', totalParams: base.info.totalParams });
    await session.handle({ ...gen, requestId: 3, withAdapter: false });
    expect(last('generated')!.text).toBe(texts[1].text);
    session.current.model?.dispose();
  });

  it('is compared with a PEFT method on the same batches, its row counting every parameter', async () => {
    const { session, events, last } = await loaded();
    const total = last('modelLoaded')!.model.totalParams;
    await session.handle({ type: 'compare', runs: [{ methodId: 'lora', config: {} }, { methodId: 'full-finetune', config: {} }], train: TRAIN });
    const rows = events.filter((e): e is Extract<FromWorker, { type: 'compareRunEnded' }> => e.type === 'compareRunEnded');
    expect(rows.map((r) => [r.methodId, r.reason])).toEqual([
      ['lora', 'finished'],
      ['full-finetune', 'finished'],
    ]);
    expect(rows[1].trainable).toBe(total);
    // The full checkpoint (zipped) is far larger than the adapter.
    expect(rows[1].adapterBytes).toBeGreaterThan(10 * rows[0].adapterBytes);
    expect(last('compareEnded')).toEqual({ type: 'compareEnded', reason: 'finished', completed: 2 });
    session.current.adapter?.dispose();
    session.current.fineTuned?.dispose();
    session.current.model?.dispose();
  });
});
