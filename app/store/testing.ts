// Shared setup for the store's tests: a model and methods as the worker reports them, the
// training settings the page sends by default, and stores driven to a known point with a fake
// worker that records what is sent and saved.
import { afterEach, beforeEach, vi } from 'vitest';
import type { FromWorker, MethodSummary, ModelSummary, ProgressPoint, ToWorker, TrainConfig } from '../../src/worker/protocol';
import { createStudioStore } from './index';

export const model: ModelSummary = {
  id: 'tiny-gpt2',
  name: 'tiny-gpt2',
  source: 'built-in',
  modelType: 'gpt2',
  numLayers: 4,
  hiddenSize: 128,
  numHeads: 4,
  vocabSize: 5000,
  maxPositions: 256,
  totalParams: 1_446_912,
};

/** A PEFT method as the worker lists it: makes an adapter, can be compared. */
const adapterMethod = (id: string, label: string, summary: string, url: string, more: Partial<MethodSummary> = {}): MethodSummary => ({
  id,
  label,
  summary,
  paper: { title: label, url },
  output: 'adapter',
  comparable: true,
  fields: [],
  defaults: {},
  ...more,
});

export const lora = adapterMethod('lora', 'LoRA', 'Low-rank updates.', 'https://arxiv.org/abs/2106.09685', {
  fields: [
    { key: 'r', label: 'Rank (r)', kind: 'number', min: 1, integer: true },
    { key: 'target_modules', label: 'Target modules', kind: 'multiselect', options: [{ value: 'c_attn', label: 'c_attn' }, { value: 'c_fc', label: 'c_fc' }] },
  ],
  defaults: { r: 8, lora_alpha: 16, target_modules: ['c_attn'] },
});
/** A method the loaded model does not support. */
export const houlsby = adapterMethod('houlsby', 'Houlsby adapters', 'Bottleneck adapters.', 'https://arxiv.org/abs/1902.00751', { unsupported: 'needs at least 2 layers' });
export const bitfit = adapterMethod('bitfit', 'BitFit', 'Biases only.', 'https://arxiv.org/abs/2106.10199');

/** The training settings the page sends when nothing in the form was changed. */
export const DEFAULT_TRAIN: TrainConfig = { steps: 100, epochs: 1, batchSize: 8, sequenceLength: 128, learningRate: 0.0003, warmupSteps: 10, weightDecay: 0.01, maxGradNorm: 1, evalFraction: 0.1, evalEvery: 20, seed: 42, recompute: false };

export const webgpu: FromWorker = {
  type: 'backend',
  report: { name: 'webgpu', description: 'WebGPU · SwiftShader (software)', software: true, fallbacks: [], forced: true },
};

export const point = (step: number, loss: number, totalSteps = 50): ProgressPoint => ({
  step,
  totalSteps,
  epoch: 0,
  loss,
  learningRate: 3e-4,
  gradNorm: 0.9,
  tokensPerSecond: 500,
  elapsedMs: step * 1000,
  etaMs: (totalSteps - step) * 1000,
  numTensors: 120,
  numBytes: 1 << 20,
});

export function setup() {
  const sent: ToWorker[] = [];
  const saved: { fileName: string; bytes: Uint8Array }[] = [];
  const store = createStudioStore({
    send: (m) => sent.push(m),
    save: (fileName, bytes) => saved.push({ fileName, bytes }),
    datasetReloadDelayMs: 100,
  });
  const receive = (m: FromWorker) => store.getState().receive(m);
  const lastOf = <T extends ToWorker['type']>(type: T) => sent.filter((m) => m.type === type).at(-1) as Extract<ToWorker, { type: T }> | undefined;
  return { store, sent, saved, receive, last: () => sent[sent.length - 1], lastOf };
}

/** A store with a model, methods and a dataset loaded. */
export function ready() {
  const t = setup();
  t.store.getState().boot();
  t.receive(webgpu);
  t.receive({ type: 'modelLoaded', model });
  t.receive({ type: 'methods', methods: [lora, houlsby, bitfit] });
  t.receive({ type: 'planned', plan: { methodId: 'lora', output: 'adapter', trainable: 73_728, total: 1_520_640, percent: 4.848, tensors: [] } });
  const file = new File(['hello\nworld\n'], 'data.txt');
  t.store.getState().chooseDatasetFile(file);
  t.receive({
    type: 'datasetLoaded',
    dataset: { fileName: 'data.txt', format: 'txt', examples: 20, trainExamples: 18, evalExamples: 2, tokens: 400, truncated: 0, sequenceLength: 128, preview: ['hello'], ...ROWS },
  });
  return { ...t, file };
}

/** The row counts and length histogram of a 20-example summary, one row per example, none longer than a row. */
export const ROWS = { duplicates: 0, trainRows: 18, evalRows: 2, lengths: { bins: [{ from: 1, to: 32, count: 20 }], exceeding: 0, longest: 20 } };

/** Fake timers for every test of the calling file: dataset re-reads wait on a timer. */
export function useFakeTimersPerTest() {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
}
