// "Check against CPU" through the session in Node, with the built-in model's real files: on
// the wasm backend every method and distillation agree with the cpu backend within the
// tolerances, the reference against itself is exact, and the session's own adapter is left
// as it was.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { registerWasmKernels } from '../backend/wasm-kernels';
import { DISTILL_ID } from '../distill/run';
import { RUN_KINDS } from '../train/registry';
import type { FromWorker, TrainConfig } from './protocol';
import { StudioSession } from './session';
import { publicModelSource as source } from './testing';


const TRAIN: TrainConfig = { steps: 4, epochs: 1, batchSize: 2, sequenceLength: 16, learningRate: 2e-3, warmupSteps: 0, weightDecay: 0.01, maxGradNorm: 1, evalFraction: 0.1, evalEvery: 0, seed: 3 };
const TINY: Record<string, Record<string, unknown>> = {
  'prompt-tuning': { num_virtual_tokens: 4 },
  'prefix-tuning': { num_virtual_tokens: 4, encoder_hidden_size: 16 },
  'p-tuning': { num_virtual_tokens: 4, encoder_hidden_size: 16 },
  'p-tuning-v2': { num_virtual_tokens: 4 },
  houlsby: { bottleneck_size: 4 },
};
const text = Array.from({ length: 24 }, (_, i) => JSON.stringify({ text: `${i}. The wind carried the smell of bread through the town.` })).join('\n');

async function sessionOn(backend: 'cpu' | 'wasm') {
  const events: FromWorker[] = [];
  const session = new StudioSession((m) => events.push(m), { source });
  if (backend === 'wasm') registerWasmKernels();
  await tf.setBackend(backend);
  await session.handle({ type: 'init', backend, modelsBaseUrl: 'http://unused/' });
  await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
  await session.handle({ type: 'loadDataset', file: new File([text], 'd.jsonl'), sequenceLength: 16, evalFraction: 0.1, seed: 3 });
  const last = <T extends FromWorker['type']>(type: T) => events.filter((e) => e.type === type).at(-1) as Extract<FromWorker, { type: T }> | undefined;
  return { session, events, last };
}

describe('verify', () => {
  it('on the cpu backend, checks LoRA against a second cpu run with every difference exactly 0, leaving the trained adapter as it was', async () => {
    const { session, events, last } = await sessionOn('cpu');
    await session.handle({ type: 'train', methodId: 'lora', config: {}, train: TRAIN });
    const adapter = session.current.adapter!;
    const before = await Promise.all(adapter.variables.map(async (v) => Array.from(await v.data())));
    const tensors = tf.memory().numTensors;
    await session.handle({ type: 'verify', methodId: 'lora', config: {}, train: TRAIN, steps: 3 });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    const r = last('verified')!.report;
    expect(r).toMatchObject({ methodId: 'lora', backend: 'cpu', steps: 3, batchSize: 2, sequenceLength: 16 });
    expect(r.failure).toBeUndefined();
    expect(r.checks.map((c) => [c.name, c.difference])).toEqual([
      ['loss (step 1)', 0],
      ['gradients (step 1)', 0],
      ['gradient norm (step 1)', 0],
      ['AdamW update (step 1)', 0],
      ['weight change (step 1)', 0],
      ['losses (steps 1–3)', 0],
      ['weight change (steps 1–3)', 0],
    ]);
    expect(session.current.adapter).toBe(adapter);
    expect(await Promise.all(adapter.variables.map(async (v) => Array.from(await v.data())))).toEqual(before);
    expect(tf.memory().numTensors).toBe(tensors);
    session.current.model?.dispose();
    adapter.dispose();
  });

  it('refuses to run without a dataset, saying what is missing', async () => {
    const events: FromWorker[] = [];
    const session = new StudioSession((m) => events.push(m), { source });
    await tf.setBackend('cpu');
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    await session.handle({ type: 'verify', methodId: 'lora', config: {}, train: TRAIN, steps: 3 });
    expect(events.at(-1)).toEqual({ type: 'error', context: 'Checking the backend against the CPU reference', message: 'drop a dataset first', request: 'verify' });
    session.current.model?.dispose();
  });

  it('on the wasm backend, every method and distillation learn what the cpu backend learns', async () => {
    const { session, events, last } = await sessionOn('wasm');
    expect(last('backend')!.report.selfCheck).toMatch(/match the CPU reference/);
    const ids = RUN_KINDS.map((k) => k.id);
    expect(ids).toContain(DISTILL_ID);
    for (const id of ids) {
      await session.handle({ type: 'verify', methodId: id, config: TINY[id] ?? {}, train: TRAIN, steps: 4 });
      expect(events.filter((e) => e.type === 'error')).toEqual([]);
      const r = last('verified')!.report;
      expect(r.methodId).toBe(id);
      expect(r.backend).toBe('wasm');
      for (const c of r.checks) expect(c.difference, `${id}: ${c.name}`).toBeLessThanOrEqual(c.tolerance);
      expect(r.failure).toBeUndefined();
      // wasm and cpu round differently: a difference of exactly 0 everywhere would mean the
      // check compared cpu with itself.
      expect(r.checks.some((c) => c.difference > 0), id).toBe(true);
      // The furthest tensor is named as the export names it.
      if (id === 'lora') expect(r.checks[1].worst).toMatch(/^transformer\.h\.\d\.attn\.c_attn\.lora_[AB]\.weight$/);
      if (id === DISTILL_ID) expect(r.checks[1].worst).toMatch(/^transformer\./);
    }
    expect(tf.getBackend()).toBe('wasm');
    session.current.model?.dispose();
    await tf.setBackend('cpu');
  });
});
