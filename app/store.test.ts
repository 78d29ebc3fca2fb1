import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FromWorker, MethodSummary, ModelSummary, ProgressPoint, ToWorker } from '../src/worker/protocol';
import {
  canExport,
  canStart,
  canStop,
  createStudioStore,
  datasetStale,
  canGenerate,
  errorTopic,
  generateBlocker,
  initialData,
  isGenerating,
  reduce,
  startBlocker,
  stepLine,
} from './store';

const model: ModelSummary = {
  id: 'tiny-gpt2',
  name: 'tiny-gpt2',
  modelType: 'gpt2',
  nLayer: 4,
  nEmbd: 128,
  nHead: 4,
  vocabSize: 5000,
  nPositions: 256,
  totalParams: 1_446_912,
};

const lora: MethodSummary = {
  id: 'lora',
  label: 'LoRA',
  summary: 'Low-rank updates.',
  paper: { title: 'LoRA', url: 'https://arxiv.org/abs/2106.09685' },
  fields: [
    { key: 'r', label: 'Rank (r)', kind: 'number', min: 1, integer: true },
    { key: 'target_modules', label: 'Target modules', kind: 'multiselect', options: [{ value: 'c_attn', label: 'c_attn' }, { value: 'c_fc', label: 'c_fc' }] },
  ],
  defaults: { r: 8, lora_alpha: 16, target_modules: ['c_attn'] },
};
const distill: MethodSummary = {
  id: 'distill',
  label: 'Distillation',
  summary: 'Student from teacher.',
  paper: { title: 'DistilBERT', url: 'https://arxiv.org/abs/1910.01108' },
  fields: [],
  defaults: {},
  unsupported: 'needs at least 2 layers',
};
const bitfit: MethodSummary = {
  id: 'bitfit',
  label: 'BitFit',
  summary: 'Biases only.',
  paper: { title: 'BitFit', url: 'https://arxiv.org/abs/2106.10199' },
  fields: [],
  defaults: {},
};

const webgpu: FromWorker = {
  type: 'backend',
  report: { name: 'webgpu', description: 'WebGPU · SwiftShader (software)', software: true, fallbacks: [], forced: true },
};

const point = (step: number, loss: number, totalSteps = 50): ProgressPoint => ({
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

function setup() {
  const sent: ToWorker[] = [];
  const saved: { fileName: string; bytes: Uint8Array }[] = [];
  const store = createStudioStore({
    send: (m) => sent.push(m),
    save: (fileName, bytes) => saved.push({ fileName, bytes }),
    datasetReloadDelayMs: 100,
  });
  const receive = (m: FromWorker) => store.getState().receive(m);
  return { store, sent, saved, receive, last: () => sent[sent.length - 1] };
}

/** A store with a model, methods and a dataset loaded. */
function ready() {
  const t = setup();
  t.store.getState().boot();
  t.receive(webgpu);
  t.receive({ type: 'modelLoaded', model });
  t.receive({ type: 'methods', methods: [lora, distill, bitfit] });
  t.receive({ type: 'planned', plan: { methodId: 'lora', trainable: 73_728, total: 1_520_640, percent: 4.848, tensors: [] } });
  const file = new File(['hello\nworld\n'], 'data.txt');
  t.store.getState().chooseDatasetFile(file);
  t.receive({
    type: 'datasetLoaded',
    dataset: { fileName: 'data.txt', format: 'txt', examples: 20, trainExamples: 18, evalExamples: 2, tokens: 400, truncated: 0, sequenceLength: 128, preview: ['hello'] },
  });
  return { ...t, file };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('store: model, methods, plan', () => {
  it('loads the default model once the backend is up, and announces it', () => {
    const t = setup();
    t.store.getState().boot();
    expect(t.sent).toEqual([]); // the worker starts its backend first
    expect(t.store.getState().modelLoading).toBe(true);
    t.receive(webgpu);
    expect(t.sent).toEqual([{ type: 'loadModel', id: 'tiny-gpt2' }]);
    expect(t.store.getState().modelLoading).toBe(true);
    // Choosing the model that is loading does not send a second loadModel.
    t.store.getState().selectModel('tiny-gpt2');
    expect(t.sent).toHaveLength(1);
    t.receive({ type: 'modelLoaded', model });
    const s = t.store.getState();
    expect(s.model).toEqual(model);
    expect(s.modelLoading).toBe(false);
    expect(s.announcement).toMatch(/^Model loaded: .* · 1,446,912 parameters$/);
  });

  it('picks the first supported method and plans it with its defaults', () => {
    const t = setup();
    t.store.getState().boot();
    t.receive(webgpu);
    t.receive({ type: 'methods', methods: [distill, lora, bitfit] });
    expect(t.store.getState().methodId).toBe('lora');
    expect(t.sent).toHaveLength(1); // no model yet: no plan
    t.receive({ type: 'modelLoaded', model });
    expect(t.last()).toEqual({ type: 'plan', methodId: 'lora', config: { r: 8, lora_alpha: 16, target_modules: ['c_attn'] } });
    expect(t.store.getState().planPending).toBe(true);
  });

  it('re-plans on every valid edit, not on invalid ones, and ignores stale answers', () => {
    const t = ready();
    const n = t.sent.length;
    t.store.getState().setMethodField('r', '');
    expect(t.sent).toHaveLength(n);
    expect(canStart(t.store.getState())).toBe(false);
    t.store.getState().setMethodField('r', '16');
    expect(t.last()).toEqual({ type: 'plan', methodId: 'lora', config: { r: 16, lora_alpha: 16, target_modules: ['c_attn'] } });
    t.store.getState().selectMethod('bitfit');
    expect(t.last()).toEqual({ type: 'plan', methodId: 'bitfit', config: {} });
    t.receive({ type: 'planned', plan: { methodId: 'lora', trainable: 1, total: 2, percent: 50, tensors: [] } });
    expect(t.store.getState().plan).toBeNull();
    t.receive({ type: 'planned', plan: { methodId: 'bitfit', trainable: 3, total: 4, percent: 75, tensors: [] } });
    expect(t.store.getState().plan?.trainable).toBe(3);
  });

  it('will not choose an unsupported method', () => {
    const t = ready();
    t.store.getState().selectMethod('distill');
    expect(t.store.getState().methodId).toBe('lora');
  });

  it('shows plan errors and clears the plan', () => {
    const t = ready();
    t.receive({ type: 'error', context: 'plan', message: 'r must be at most 64' });
    const s = t.store.getState();
    expect(s.plan).toBeNull();
    expect(s.planError).toBe('r must be at most 64');
    expect(s.error).toEqual({ context: 'plan', message: 'r must be at most 64' });
  });
});

describe('store: dataset', () => {
  it('holds a file chosen before the model loads, then sends it', () => {
    const t = setup();
    t.store.getState().boot();
    t.receive(webgpu);
    const file = new File(['a'], 'early.txt');
    t.store.getState().chooseDatasetFile(file);
    expect(t.sent.some((m) => m.type === 'loadDataset')).toBe(false);
    t.receive({ type: 'modelLoaded', model });
    expect(t.sent).toContainEqual({ type: 'loadDataset', file, sequenceLength: 128, evalFraction: 0.1, seed: 42 });
  });

  it('keeps the previous dataset when a file is rejected', () => {
    const t = ready();
    t.store.getState().chooseDatasetFile(new File(['{'], 'bad.jsonl'));
    t.receive({ type: 'datasetRejected', fileName: 'bad.jsonl', message: 'Not JSON Lines', issues: [{ line: 1, message: 'Unexpected end of JSON' }] });
    const s = t.store.getState();
    expect(s.dataset?.fileName).toBe('data.txt');
    expect(s.datasetRequest?.file).toBe(t.file);
    expect(s.datasetRejection?.issues[0]).toEqual({ line: 1, message: 'Unexpected end of JSON' });
    expect(s.datasetQueue).toHaveLength(0);
    expect(canStart(s)).toBe(true);
  });

  it('frees the request when the worker answers a dataset with an error', () => {
    const t = ready();
    t.store.getState().chooseDatasetFile(new File(['x'], 'model notes.txt'));
    expect(t.store.getState().datasetQueue).toHaveLength(1);
    t.receive({ type: 'error', context: 'Loading model notes.txt', message: 'cannot change the dataset while training runs' });
    expect(t.store.getState().datasetQueue).toHaveLength(0);
    expect(t.store.getState().dataset?.fileName).toBe('data.txt');
  });

  it('accepts datasets the worker re-read on its own', () => {
    const t = ready();
    t.receive({
      type: 'datasetLoaded',
      dataset: { fileName: 'data.txt', format: 'txt', examples: 20, trainExamples: 18, evalExamples: 2, tokens: 410, truncated: 0, sequenceLength: 128, preview: ['hello'] },
    });
    const s = t.store.getState();
    expect(s.dataset?.tokens).toBe(410);
    expect(s.datasetRequest?.file).toBe(t.file);
    expect(canStart(s)).toBe(true);
  });

  it('re-reads the same File when Sequence length changes', () => {
    const t = ready();
    const n = t.sent.length;
    t.store.getState().setTrainField('sequenceLength', '6');
    t.store.getState().setTrainField('sequenceLength', '64');
    expect(datasetStale(t.store.getState())).toBe(true);
    expect(canStart(t.store.getState())).toBe(false);
    expect(t.sent).toHaveLength(n); // debounced
    vi.advanceTimersByTime(150);
    expect(t.sent).toHaveLength(n + 1);
    expect(t.last()).toEqual({ type: 'loadDataset', file: t.file, sequenceLength: 64, evalFraction: 0.1, seed: 42 });
    t.receive({
      type: 'datasetLoaded',
      dataset: { fileName: 'data.txt', format: 'txt', examples: 20, trainExamples: 18, evalExamples: 2, tokens: 380, truncated: 3, sequenceLength: 64, preview: ['hello'] },
    });
    expect(datasetStale(t.store.getState())).toBe(false);
    expect(canStart(t.store.getState())).toBe(true);
  });

  it('does not re-read for an invalid Sequence length', () => {
    const t = ready();
    const n = t.sent.length;
    t.store.getState().setTrainField('sequenceLength', '0');
    vi.advanceTimersByTime(500);
    expect(t.sent).toHaveLength(n);
    expect(startBlocker(t.store.getState())).toMatch(/training settings/);
  });
});

describe('store: training and export', () => {
  it('runs start → progress → eval → finished → export', () => {
    const t = ready();
    expect(canStart(t.store.getState())).toBe(true);
    expect(canExport(t.store.getState())).toBe(false);
    t.store.getState().startTraining();
    expect(t.last()).toEqual({
      type: 'train',
      methodId: 'lora',
      config: { r: 8, lora_alpha: 16, target_modules: ['c_attn'] },
      train: { steps: 100, epochs: 1, batchSize: 8, sequenceLength: 128, learningRate: 0.0003, warmupSteps: 10, weightDecay: 0.01, maxGradNorm: 1, evalFraction: 0.1, evalEvery: 20, seed: 42 },
    });
    expect(t.store.getState().run.status).toBe('starting');
    expect(canStart(t.store.getState())).toBe(false);
    expect(canStop(t.store.getState())).toBe(true);

    t.receive({ type: 'trainingStarted', totalSteps: 50, methodId: 'lora' });
    t.receive({ type: 'progress', points: [point(11, 3.5), point(12, 3.4149)] });
    let s = t.store.getState();
    expect(s.announcement).toBe('Step 12/50 · loss 3.41');
    expect(s.run.latest?.step).toBe(12);
    expect(s.run.lossRows.map((r) => r.step)).toEqual([11, 12]);

    t.receive({ type: 'eval', point: { step: 12, evalLoss: 3.6 } });
    s = t.store.getState();
    expect(s.run.lossRows[1]).toEqual({ step: 12, loss: 3.4149, evalLoss: 3.6 });
    expect(s.announcement).toBe('Step 12/50 · loss 3.41');

    t.receive({ type: 'progress', points: [point(50, 2.0)] });
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 50 });
    s = t.store.getState();
    expect(s.run.status).toBe('finished');
    expect(s.announcement).toBe('Training finished at step 50/50 · loss 2.00');
    expect(canExport(s)).toBe(true);
    expect(canStart(s)).toBe(true);

    t.store.getState().exportAdapter();
    expect(t.last()).toEqual({ type: 'export' });
    expect(canExport(t.store.getState())).toBe(false);
    const bytes = new Uint8Array([1, 2, 3]);
    t.receive({ type: 'exported', fileName: 'tiny-gpt2-lora.zip', bytes });
    s = t.store.getState();
    expect(t.saved).toEqual([{ fileName: 'tiny-gpt2-lora.zip', bytes }]);
    expect(s.savedFileName).toBe('tiny-gpt2-lora.zip');
    expect(s.announcement).toBe('Adapter exported as tiny-gpt2-lora.zip');
  });

  it('stops on request and announces it', () => {
    const t = ready();
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 50, methodId: 'lora' });
    t.receive({ type: 'progress', points: [point(3, 4)] });
    t.store.getState().stopTraining();
    expect(t.last()).toEqual({ type: 'stop' });
    expect(t.store.getState().run.status).toBe('stopping');
    expect(canStop(t.store.getState())).toBe(false);
    // Progress still arriving while stopping keeps the status.
    t.receive({ type: 'progress', points: [point(4, 3.9)] });
    expect(t.store.getState().run.status).toBe('stopping');
    t.receive({ type: 'trainingEnded', reason: 'stopped', step: 4 });
    expect(t.store.getState().announcement).toBe('Training stopped at step 4/50 · loss 3.90');
    expect(canExport(t.store.getState())).toBe(true);
  });

  it('reports a failed run with its message', () => {
    const t = ready();
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 50, methodId: 'lora' });
    t.receive({ type: 'trainingEnded', reason: 'failed', step: 0, message: 'out of memory' });
    const s = t.store.getState();
    expect(s.run.status).toBe('failed');
    expect(s.announcement).toBe('Training failed at step 0: out of memory');
    expect(canExport(s)).toBe(false);
  });

  it('turns a training error into a failed run', () => {
    const t = ready();
    t.store.getState().startTraining();
    t.receive({ type: 'error', context: 'train', message: 'kernel missing' });
    const s = t.store.getState();
    expect(s.run.status).toBe('failed');
    expect(s.error).toEqual({ context: 'train', message: 'kernel missing' });
    expect(s.announcement).toBe('Training failed: kernel missing');
  });

  it('ignores settings edits while running', () => {
    const t = ready();
    t.store.getState().startTraining();
    t.store.getState().setTrainField('steps', '5');
    t.store.getState().selectMethod('bitfit');
    expect(t.store.getState().trainInputs.steps).toBe('100');
    expect(t.store.getState().methodId).toBe('lora');
  });
});

describe('reducer helpers', () => {
  it('formats the step line', () => {
    expect(stepLine({ step: 12, totalSteps: 50, loss: 3.4149 })).toBe('Step 12/50 · loss 3.41');
  });

  it('classifies error contexts', () => {
    // As the worker writes them.
    expect(errorTopic('Starting the compute backend')).toBe('backend');
    expect(errorTopic('Loading model tiny-gpt2')).toBe('model');
    expect(errorTopic('Loading data.jsonl')).toBe('dataset');
    expect(errorTopic('Counting parameters')).toBe('plan');
    expect(errorTopic('Training')).toBe('train');
    expect(errorTopic('Stopping')).toBe('train');
    expect(errorTopic('Exporting the adapter')).toBe('export');
    // ToWorker type names.
    expect(errorTopic('loadDataset')).toBe('dataset');
    expect(errorTopic('loadModel')).toBe('model');
    expect(errorTopic('plan')).toBe('plan');
    expect(errorTopic('train')).toBe('train');
    expect(errorTopic('export')).toBe('export');
    expect(errorTopic('init')).toBe('backend');
    expect(errorTopic('worker')).toBe('worker');
  });

  it('is pure: the same input state is not mutated', () => {
    const s = initialData();
    const frozen = JSON.stringify(s);
    reduce(s, { type: 'backend', report: { name: 'webgpu', description: 'WebGPU · SwiftShader', software: true, fallbacks: [], forced: false } });
    reduce(s, { type: 'error', context: 'plan', message: 'x' });
    expect(JSON.stringify(s)).toBe(frozen);
  });
});

describe('store: text generation', () => {
  /** A store whose run finished, so the worker holds an adapter. */
  function trained() {
    const t = ready();
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora' });
    t.receive({ type: 'progress', points: [point(2, 3, 2)] });
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    return t;
  }

  it('is unavailable until a model has loaded', () => {
    const t = setup();
    t.store.getState().boot();
    expect(generateBlocker(t.store.getState())).toBe('Waiting for the base model to load.');
    t.store.getState().generate();
    expect(t.sent).toEqual([]);
  });

  it('generates with the base model only when there is no adapter, streaming into the output', () => {
    const t = ready();
    expect(canGenerate(t.store.getState())).toBe(true);
    t.store.getState().setGenerateField('prompt', 'Once upon');
    t.store.getState().setGenerateField('maxNewTokens', '20');
    t.store.getState().generate();
    expect(t.last()).toEqual({ type: 'generate', requestId: 1, prompt: 'Once upon', maxNewTokens: 20, temperature: 0.8, topK: 40, seed: 1, withAdapter: false });
    let s = t.store.getState();
    expect(s.generation.base).toEqual({ text: '', done: false });
    expect(s.generation.adapter).toBeNull();
    expect(s.announcement).toBe('Generating…');
    expect(isGenerating(s)).toBe(true);
    expect(generateBlocker(s)).toBe('Generating…');
    expect(startBlocker(s)).toBe('Waiting for text generation to finish.');
    const n = t.sent.length;
    t.store.getState().generate();
    expect(t.sent).toHaveLength(n);

    t.receive({ type: 'generated', requestId: 1, withAdapter: false, text: ' a ti', done: false });
    s = t.store.getState();
    expect(s.generation.base).toEqual({ text: ' a ti', done: false });
    expect(s.announcement).toBe('Generating…'); // partial text is not announced
    t.receive({ type: 'generated', requestId: 1, withAdapter: false, text: ' a time', done: true });
    s = t.store.getState();
    expect(s.generation.base).toEqual({ text: ' a time', done: true });
    expect(s.announcement).toBe('Generation finished');
    expect(canGenerate(s)).toBe(true);
    expect(canStart(s)).toBe(true);
  });

  it('compares with the adapter using the same seed, and finishes when both sides have', () => {
    const t = trained();
    t.store.getState().setGenerateField('seed', '9');
    t.store.getState().generate();
    const sent = t.sent.filter((m) => m.type === 'generate');
    expect(sent).toEqual([
      { type: 'generate', requestId: 1, prompt: '', maxNewTokens: 120, temperature: 0.8, topK: 40, seed: 9, withAdapter: false },
      { type: 'generate', requestId: 1, prompt: '', maxNewTokens: 120, temperature: 0.8, topK: 40, seed: 9, withAdapter: true },
    ]);
    t.receive({ type: 'generated', requestId: 1, withAdapter: false, text: 'base text', done: true });
    expect(t.store.getState().announcement).toBe('Generating…');
    expect(isGenerating(t.store.getState())).toBe(true);
    t.receive({ type: 'generated', requestId: 1, withAdapter: true, text: 'tuned', done: false });
    t.receive({ type: 'generated', requestId: 1, withAdapter: true, text: 'tuned text', done: true });
    const s = t.store.getState();
    expect(s.generation.base?.text).toBe('base text');
    expect(s.generation.adapter).toEqual({ text: 'tuned text', done: true });
    expect(s.announcement).toBe('Generation finished');

    // The next request gets a new id; late answers to the old one are ignored.
    t.store.getState().generate();
    expect(t.store.getState().generation.requestId).toBe(2);
    t.receive({ type: 'generated', requestId: 1, withAdapter: false, text: 'stale', done: true });
    expect(t.store.getState().generation.base).toEqual({ text: '', done: false });
  });

  it('is disabled while training, and a new run drops the old adapter text', () => {
    const t = trained();
    t.store.getState().generate();
    t.receive({ type: 'generated', requestId: 1, withAdapter: false, text: 'a', done: true });
    t.receive({ type: 'generated', requestId: 1, withAdapter: true, text: 'b', done: true });
    t.store.getState().startTraining();
    expect(generateBlocker(t.store.getState())).toBe('Generation is available when training is not running.');
    const n = t.sent.length;
    t.store.getState().generate();
    expect(t.sent).toHaveLength(n);
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora' });
    const s = t.store.getState();
    expect(s.generation.base?.text).toBe('a');
    expect(s.generation.adapter).toBeNull();
  });

  it('clears both outputs when another model loads', () => {
    const t = trained();
    t.store.getState().generate();
    t.receive({ type: 'generated', requestId: 1, withAdapter: false, text: 'a', done: true });
    t.receive({ type: 'generated', requestId: 1, withAdapter: true, text: 'b', done: true });
    t.receive({ type: 'modelLoaded', model: { ...model, id: 'other' } });
    const g = t.store.getState().generation;
    expect([g.base, g.adapter, g.requestId]).toEqual([null, null, 1]);
  });

  it('marks the side the worker failed, in request order, and announces the failure', () => {
    const t = trained();
    t.store.getState().generate();
    t.receive({ type: 'error', context: 'Generating text with the base model', message: 'kernel missing', request: 'generate' });
    let s = t.store.getState();
    expect(s.generation.base).toEqual({ text: '', done: true, error: 'kernel missing' });
    expect(s.error).toEqual({ context: 'Generating text with the base model', message: 'kernel missing' });
    expect(isGenerating(s)).toBe(true);
    t.receive({ type: 'generated', requestId: 1, withAdapter: true, text: 'ok', done: true });
    s = t.store.getState();
    expect(s.generation.adapter).toEqual({ text: 'ok', done: true });
    expect(s.announcement).toBe('Generation failed: kernel missing');
    expect(canGenerate(s)).toBe(true);
    expect(s.run.status).toBe('finished'); // a generation error is not a training failure
  });

  it('ends a pending generation when the worker itself fails', () => {
    const t = ready();
    t.store.getState().generate();
    t.receive({ type: 'error', context: 'worker', message: 'worker crashed' });
    const s = t.store.getState();
    expect(s.generation.base).toEqual({ text: '', done: true, error: 'worker crashed' });
    expect(s.announcement).toBe('Generation failed: worker crashed');
  });

  it('validates its settings before sending', () => {
    const t = ready();
    t.store.getState().setGenerateField('temperature', '-1');
    expect(generateBlocker(t.store.getState())).toBe('Fix the generation settings marked above.');
    const n = t.sent.length;
    t.store.getState().generate();
    expect(t.sent).toHaveLength(n);
    t.store.getState().setGenerateField('temperature', '0');
    t.store.getState().generate();
    expect(t.last()).toMatchObject({ type: 'generate', temperature: 0 });
  });

  it('classifies generation error contexts', () => {
    expect(errorTopic('Generating text with the base model')).toBe('generate');
    expect(errorTopic('Generating text with the adapter')).toBe('generate');
    expect(errorTopic('generate')).toBe('generate');
  });
});
