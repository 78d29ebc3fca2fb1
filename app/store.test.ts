import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FromWorker, MethodSummary, ModelSummary, ProgressPoint, ToWorker, TrainConfig } from '../src/worker/protocol';
import {
  canCompare,
  canExport,
  canExportMerged,
  canStart,
  canStop,
  compareBlocker,
  createStudioStore,
  diskModelBlocker,
  importBlocker,
  modelDisplayName,
  modelKey,
  methodPlanRows,
  datasetStale,
  canGenerate,
  errorTopic,
  generateBlocker,
  initialData,
  isGenerating,
  reduce,
  startBlocker,
  stepLine,
  exportTarget,
  isDistillSelected,
  speedupLine,
  parityBlocker,
  PARITY_STEPS,
} from './store';

const model: ModelSummary = {
  id: 'tiny-gpt2',
  name: 'tiny-gpt2',
  source: 'built-in',
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

/** The training settings the page sends when nothing in the form was changed. */
const DEFAULT_TRAIN: TrainConfig = { steps: 100, epochs: 1, batchSize: 8, sequenceLength: 128, learningRate: 0.0003, warmupSteps: 10, weightDecay: 0.01, maxGradNorm: 1, evalFraction: 0.1, evalEvery: 20, seed: 42 };

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
  const lastOf = <T extends ToWorker['type']>(type: T) => sent.filter((m) => m.type === type).at(-1) as Extract<ToWorker, { type: T }> | undefined;
  return { store, sent, saved, receive, last: () => sent[sent.length - 1], lastOf };
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
    // The pretrained English model is listed first and loads by default.
    expect(t.sent).toEqual([{ type: 'loadModel', id: 'studio-gpt2-en' }]);
    expect(t.store.getState().modelLoading).toBe(true);
    // Choosing the model that is loading does not send a second loadModel.
    t.store.getState().selectModel('studio-gpt2-en');
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
    expect(t.lastOf('plan')).toEqual({ type: 'plan', methodId: 'lora', config: { r: 8, lora_alpha: 16, target_modules: ['c_attn'] } });
    expect(t.store.getState().planPending).toBe(true);
    // Every usable method's counts for the chart, each at its defaults.
    expect(t.lastOf('planAll')).toEqual({ type: 'planAll', configs: { lora: { r: 8, lora_alpha: 16, target_modules: ['c_attn'] }, bitfit: {} } });
    expect(t.store.getState().allPlansPending).toBe(true);
  });

  it('re-plans on every valid edit, not on invalid ones, and ignores stale answers', () => {
    const t = ready();
    const n = t.sent.length;
    t.store.getState().setMethodField('r', '');
    expect(t.sent).toHaveLength(n);
    expect(canStart(t.store.getState())).toBe(false);
    t.store.getState().setMethodField('r', '16');
    expect(t.lastOf('plan')).toEqual({ type: 'plan', methodId: 'lora', config: { r: 16, lora_alpha: 16, target_modules: ['c_attn'] } });
    expect(t.last()).toEqual({ type: 'planAll', configs: { lora: { r: 16, lora_alpha: 16, target_modules: ['c_attn'] }, bitfit: {} } });
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
      train: DEFAULT_TRAIN,
    });
    expect(t.store.getState().run.status).toBe('starting');
    expect(canStart(t.store.getState())).toBe(false);
    expect(canStop(t.store.getState())).toBe(true);

    t.receive({ type: 'trainingStarted', totalSteps: 50, methodId: 'lora', mergeable: false });
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
    t.receive({ type: 'trainingStarted', totalSteps: 50, methodId: 'lora', mergeable: false });
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
    t.receive({ type: 'trainingStarted', totalSteps: 50, methodId: 'lora', mergeable: false });
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
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', mergeable: false });
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
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', mergeable: false });
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

describe('store: every method counted', () => {
  it('keeps each method\'s edits when switching, and counts every method at the page\'s settings', () => {
    const t = ready();
    t.store.getState().setMethodField('r', '4');
    expect(t.lastOf('planAll')).toEqual({ type: 'planAll', configs: { lora: { r: 4, lora_alpha: 16, target_modules: ['c_attn'] }, bitfit: {} } });
    t.store.getState().selectMethod('bitfit');
    // Back to LoRA: the edit is still there, and the plan asks for it.
    t.store.getState().selectMethod('lora');
    expect(t.store.getState().methodForm.r).toBe('4');
    expect(t.lastOf('plan')).toEqual({ type: 'plan', methodId: 'lora', config: { r: 4, lora_alpha: 16, target_modules: ['c_attn'] } });
    // While another method is chosen, LoRA is still counted at r = 4 (here: the worker re-sent the methods).
    t.store.getState().selectMethod('bitfit');
    t.receive({ type: 'methods', methods: [lora, distill, bitfit] });
    expect(t.store.getState().methodId).toBe('bitfit');
    expect(t.lastOf('planAll')).toEqual({ type: 'planAll', configs: { lora: { r: 4, lora_alpha: 16, target_modules: ['c_attn'] }, bitfit: {} } });

    t.receive({
      type: 'plannedAll',
      plans: [
        { methodId: 'lora', trainable: 8192, total: 867_200, percent: 0.94 },
        { methodId: 'distill', error: 'needs at least 2 layers' },
        { methodId: 'bitfit', trainable: 1000, total: 860_008, percent: 0.11 },
      ],
    });
    const s = t.store.getState();
    expect(s.allPlansPending).toBe(false);
    expect(methodPlanRows(s)).toEqual([
      { methodId: 'lora', label: 'LoRA', trainable: 8192, total: 867_200, percent: 0.94 },
      { methodId: 'distill', label: 'Distillation', error: 'needs at least 2 layers' },
      { methodId: 'bitfit', label: 'BitFit', trainable: 1000, total: 860_008, percent: 0.11 },
    ]);
  });

  it('shows a form error instead of counts for a method whose settings are invalid, and does not ask the worker', () => {
    const t = ready();
    t.receive({ type: 'plannedAll', plans: [{ methodId: 'lora', trainable: 16384, total: 1, percent: 1 }] });
    const n = t.sent.filter((m) => m.type === 'planAll').length;
    t.store.getState().setMethodField('r', '');
    expect(t.sent.filter((m) => m.type === 'planAll')).toHaveLength(n);
    expect(methodPlanRows(t.store.getState())[0]).toEqual({ methodId: 'lora', label: 'LoRA', error: 'Settings not valid: Rank (r) is required.' });
    // Left invalid and switched away from: the next planAll leaves it out, and the row keeps the error.
    t.store.getState().selectMethod('bitfit');
    t.receive({ type: 'methods', methods: [lora, distill, bitfit] });
    expect(t.lastOf('planAll')!.configs).toEqual({ bitfit: {} });
    expect(methodPlanRows(t.store.getState())[0]).toEqual({ methodId: 'lora', label: 'LoRA', error: 'Settings not valid: Rank (r) is required.' });
  });
});

describe('store: import and merged export', () => {
  it('imports an adapter: sends the file, then treats the imported adapter as the current one', () => {
    const t = ready();
    expect(importBlocker(t.store.getState())).toBeNull();
    const file = new File([new Uint8Array([80, 75, 5, 6])], 'peft-adapter.zip');
    t.store.getState().importAdapterFile(file);
    expect(t.last()).toEqual({ type: 'importAdapter', file });
    let s = t.store.getState();
    expect(s.importPending).toBe(true);
    expect(s.announcement).toBe('Importing peft-adapter.zip…');
    expect(startBlocker(s)).toBe('Importing an adapter…');
    expect(importBlocker(s)).toBe('Importing…');

    t.receive({ type: 'adapterImported', fileName: 'peft-adapter.zip', methodId: 'bitfit', trainable: 1234, mergeable: true });
    s = t.store.getState();
    expect(s.importPending).toBe(false);
    expect(s.importedAdapter).toEqual({ fileName: 'peft-adapter.zip', methodId: 'bitfit', trainable: 1234, notice: undefined });
    expect(s.announcement).toBe('Imported peft-adapter.zip: BitFit adapter · 1,234 parameters');
    expect(canExport(s)).toBe(true);
    expect(canExportMerged(s)).toBe(true);
    // Generate compares with the imported adapter.
    s.generate();
    expect(t.sent.filter((m) => m.type === 'generate').map((m) => m.type === 'generate' && m.withAdapter)).toEqual([false, true]);
  });

  it("passes on what the method says about an imported adapter", () => {
    const t = ready();
    t.store.getState().importAdapterFile(new File([new Uint8Array([80, 75, 5, 6])], 'p.zip'));
    t.receive({ type: 'adapterImported', fileName: 'p.zip', methodId: 'lora', trainable: 10, mergeable: false, notice: 'It is a fixed prompt now.' });
    const s = t.store.getState();
    expect(s.importedAdapter?.notice).toBe('It is a fixed prompt now.');
    expect(s.announcement).toBe('Imported p.zip: LoRA adapter · 10 parameters. It is a fixed prompt now.');
  });

  it('keeps the current adapter when an import fails, and shows the error', () => {
    const t = ready();
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', mergeable: false });
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    t.store.getState().importAdapterFile(new File(['x'], 'bad.zip'));
    t.receive({ type: 'error', context: 'Importing an adapter', message: 'bad.zip: adapter_config.json: "peft_type" is "IA3", which the studio cannot load', request: 'importAdapter' });
    const s = t.store.getState();
    expect(s.importPending).toBe(false);
    expect(s.error?.message).toMatch(/^bad\.zip: adapter_config\.json: "peft_type"/);
    expect(s.adapterReady).toBe(true);
    expect(s.importedAdapter).toBeNull();
    expect(s.run.status).toBe('finished'); // an import error is not a training failure
    expect(canExportMerged(s)).toBe(false); // LoRA here does not merge
  });

  it('offers the merged export only for an adapter that merges, and names what was saved', () => {
    const t = ready();
    t.store.getState().selectMethod('bitfit');
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'bitfit', mergeable: true });
    expect(canExportMerged(t.store.getState())).toBe(false); // running
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    expect(canExportMerged(t.store.getState())).toBe(true);
    t.store.getState().exportMergedModel();
    expect(t.last()).toEqual({ type: 'exportMerged' });
    expect(canExport(t.store.getState())).toBe(false);
    const bytes = new Uint8Array([1]);
    t.receive({ type: 'exported', fileName: 'tiny-gpt2-bitfit-merged.zip', bytes });
    expect(t.saved.at(-1)).toEqual({ fileName: 'tiny-gpt2-bitfit-merged.zip', bytes });
    expect(t.store.getState().announcement).toBe('Merged model exported as tiny-gpt2-bitfit-merged.zip');
    t.store.getState().exportAdapter();
    t.receive({ type: 'exported', fileName: 'tiny-gpt2-bitfit.zip', bytes });
    expect(t.store.getState().announcement).toBe('Adapter exported as tiny-gpt2-bitfit.zip');
  });
});

describe('store: compare methods', () => {
  it('needs two usable methods ticked, then sends each at its page settings with the training settings', () => {
    const t = ready();
    expect(compareBlocker(t.store.getState())).toBe('Tick at least two methods to compare.');
    t.store.getState().toggleCompareMethod('distill', true); // unsupported: not tickable
    t.store.getState().toggleCompareMethod('bitfit', true);
    expect(t.store.getState().compare.selected).toEqual(['bitfit']);
    t.store.getState().toggleCompareMethod('lora', true);
    expect(t.store.getState().compare.selected).toEqual(['lora', 'bitfit']); // the methods' order
    t.store.getState().setMethodField('r', '');
    expect(compareBlocker(t.store.getState())).toBe('Fix the settings of LoRA (choose it under Method to edit them).');
    t.store.getState().setMethodField('r', '2');
    expect(canCompare(t.store.getState())).toBe(true);
    t.store.getState().startCompare();
    expect(t.last()).toEqual({
      type: 'compare',
      runs: [
        { methodId: 'lora', config: { r: 2, lora_alpha: 16, target_modules: ['c_attn'] } },
        { methodId: 'bitfit', config: {} },
      ],
      train: DEFAULT_TRAIN,
    });
    const s = t.store.getState();
    expect(s.compare.status).toBe('starting');
    expect(canStart(s)).toBe(false);
    expect(startBlocker(s)).toBe('A comparison is in progress.');
    expect(canStop(s)).toBe(true);
  });

  /** A store whose comparison of LoRA and BitFit has started. */
  function comparing() {
    const t = ready();
    t.store.getState().toggleCompareMethod('lora', true);
    t.store.getState().toggleCompareMethod('bitfit', true);
    t.store.getState().startCompare();
    t.receive({ type: 'compareStarted', methodIds: ['lora', 'bitfit'], totalSteps: 2 });
    return t;
  }
  const result = (methodId: string, finalEvalLoss: number) => ({
    methodId,
    reason: 'finished' as const,
    step: 2,
    trainable: 100,
    finalEvalLoss,
    tokensPerSecond: 50,
    adapterBytes: 2048,
    wallMs: 3000,
  });

  it('collects each run\'s held-out curve and result, with progress in the usual places, and stays busy between runs', () => {
    const t = comparing();
    expect(t.store.getState().announcement).toBe('Comparing 2 methods (LoRA, BitFit), 2 steps each');
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', mergeable: false });
    expect(t.store.getState().announcement).toBe('Comparing 1/2: LoRA training started, 2 steps');
    t.receive({ type: 'eval', point: { step: 0, evalLoss: 5 } });
    t.receive({ type: 'progress', points: [point(2, 4.5, 2)] });
    t.receive({ type: 'eval', point: { step: 2, evalLoss: 4.4 } });
    expect(t.store.getState().announcement).toBe('Step 2/2 · loss 4.50');
    expect(t.store.getState().run.latest?.step).toBe(2);
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    t.receive({ type: 'compareRunEnded', ...result('lora', 4.4) });
    let s = t.store.getState();
    expect(s.announcement).toBe('LoRA: held-out loss 4.40 (1/2 done)');
    // Between runs the page stays busy: nothing else starts, Stop still works.
    expect(canStart(s)).toBe(false);
    expect(canStop(s)).toBe(true);
    expect(canExport(s)).toBe(false);

    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'bitfit', mergeable: true });
    t.receive({ type: 'eval', point: { step: 0, evalLoss: 5 } });
    t.receive({ type: 'eval', point: { step: 2, evalLoss: 4.8 } });
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    t.receive({ type: 'compareRunEnded', ...result('bitfit', 4.8) });
    t.receive({ type: 'compareEnded', reason: 'finished', completed: 2 });
    s = t.store.getState();
    expect(s.compare.status).toBe('finished');
    expect(s.announcement).toBe('Comparison finished: 2 methods');
    expect(s.compare.curves).toEqual({
      lora: [
        { step: 0, evalLoss: 5 },
        { step: 2, evalLoss: 4.4 },
      ],
      bitfit: [
        { step: 0, evalLoss: 5 },
        { step: 2, evalLoss: 4.8 },
      ],
    });
    expect(s.compare.results.map((r) => [r.methodId, r.finalEvalLoss])).toEqual([
      ['lora', 4.4],
      ['bitfit', 4.8],
    ]);
    // The last run's adapter is the worker's now.
    expect(canStart(s)).toBe(true);
    expect(canExportMerged(s)).toBe(true);
  });

  it('stops the comparison with Stop, keeping the finished rows', () => {
    const t = comparing();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', mergeable: false });
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    t.receive({ type: 'compareRunEnded', ...result('lora', 4.4) });
    t.store.getState().stopTraining();
    expect(t.last()).toEqual({ type: 'stop' });
    expect(t.store.getState().compare.status).toBe('stopping');
    // A run that starts after all (the stop crossed it) is stopping from the start.
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'bitfit', mergeable: true });
    expect(t.store.getState().run.status).toBe('stopping');
    t.receive({ type: 'trainingEnded', reason: 'stopped', step: 0 });
    t.receive({ type: 'compareEnded', reason: 'stopped', completed: 1 });
    const s = t.store.getState();
    expect(s.compare.status).toBe('stopped');
    expect(s.compare.results.map((r) => r.methodId)).toEqual(['lora']);
    expect(s.announcement).toBe('Comparison stopped after 1 of 2 methods');
    expect(canCompare(s)).toBe(true);
  });

  it('ends the comparison when the worker reports an error for it', () => {
    const t = comparing();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', mergeable: false });
    t.receive({ type: 'error', context: 'Comparing methods', message: 'kernel missing', request: 'compare' });
    const s = t.store.getState();
    expect(s.compare.status).toBe('failed');
    expect(s.compare.message).toBe('kernel missing');
    expect(s.run.status).toBe('failed');
    expect(s.announcement).toBe('Comparison failed: kernel missing');
    expect(canStart(s)).toBe(true);
  });

  it('classifies the new error contexts', () => {
    expect(errorTopic('Importing an adapter')).toBe('import');
    expect(errorTopic('Comparing methods')).toBe('compare');
    expect(errorTopic('Exporting the merged model')).toBe('export');
    expect(errorTopic('Counting parameters for every method')).toBe('planAll');
  });
});

describe('store: a base model from disk', () => {
  const fromDisk = (id: string, totalParams = 859_008): ModelSummary => ({ ...model, id, name: id, source: 'disk', totalParams });
  const zip = () => new File([new Uint8Array([80, 75, 5, 6])], 'my-model.zip');

  it('sends the files, then lists the model as "(from disk)" and selects it; choosing it again re-sends its files', () => {
    const t = ready();
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', mergeable: false });
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    expect(diskModelBlocker(t.store.getState())).toBeNull();
    const file = zip();
    t.store.getState().loadModelFromDisk([file]);
    expect(t.last()).toEqual({ type: 'loadModelFiles', files: [file], name: undefined });
    let s = t.store.getState();
    expect(s.modelLoading).toBe(true);
    expect(s.modelId).toBe('tiny-gpt2'); // the select keeps the loaded model until the new one is in
    expect(s.announcement).toBe('Loading my-model.zip from disk…');
    expect(diskModelBlocker(s)).toBe('Available once the model has loaded.');
    expect(startBlocker(s)).toBe('Waiting for the base model to load.');

    t.receive({ type: 'modelLoaded', model: fromDisk('my-model') });
    s = t.store.getState();
    expect(s.modelLoading).toBe(false);
    expect(s.modelId).toBe('disk:my-model');
    expect(s.diskModels).toEqual([{ key: 'disk:my-model', name: 'my-model', files: [file], folder: undefined }]);
    expect(s.announcement).toBe('Model loaded: my-model (from disk) · 859,008 parameters');
    // The worker let go of the adapter trained on the previous model.
    expect(s.adapterReady).toBe(false);
    expect(canExport(s)).toBe(false);

    t.store.getState().selectModel('tiny-gpt2');
    expect(t.last()).toEqual({ type: 'loadModel', id: 'tiny-gpt2' });
    t.receive({ type: 'modelLoaded', model });
    expect(t.store.getState().modelId).toBe('tiny-gpt2');
    t.store.getState().selectModel('disk:my-model');
    expect(t.last()).toEqual({ type: 'loadModelFiles', files: [file], name: undefined });
    expect(t.store.getState().announcement).toBe('Loading my-model (from disk)…');
    t.receive({ type: 'modelLoaded', model: fromDisk('my-model') });
    s = t.store.getState();
    expect(s.modelId).toBe('disk:my-model');
    expect(s.diskModels.map((d) => d.key)).toEqual(['disk:my-model']);
  });

  it("keeps a folder's name, and tells a disk model named like a built-in one apart from it", () => {
    const t = ready();
    const files = [new File(['{}'], 'config.json'), new File(['x'], 'model.safetensors')];
    t.store.getState().loadModelFromDisk(files, 'tiny-gpt2');
    expect(t.last()).toEqual({ type: 'loadModelFiles', files, name: 'tiny-gpt2' });
    expect(t.store.getState().announcement).toBe('Loading tiny-gpt2 from disk…');
    t.receive({ type: 'modelLoaded', model: fromDisk('tiny-gpt2') });
    const s = t.store.getState();
    expect(s.modelId).toBe('disk:tiny-gpt2');
    expect(s.diskModels).toEqual([{ key: 'disk:tiny-gpt2', name: 'tiny-gpt2', files, folder: 'tiny-gpt2' }]);
    expect(modelKey(s.model!)).toBe('disk:tiny-gpt2');
    expect(modelDisplayName(s.model!)).toBe('tiny-gpt2 (from disk)');
    expect(modelDisplayName(model)).toBe('Tiny GPT-2 (built in)');
    // Choosing the built-in one loads it: it is another model.
    t.store.getState().selectModel('tiny-gpt2');
    expect(t.last()).toEqual({ type: 'loadModel', id: 'tiny-gpt2' });
  });

  it('keeps the loaded model selected when loading from disk fails, and shows why', () => {
    const t = ready();
    t.store.getState().loadModelFromDisk([zip()]);
    const message = 'my-model: not a complete Hugging Face model folder: missing tokenizer.json (found: config.json, model.safetensors)';
    t.receive({ type: 'error', context: 'Loading a model from disk', message, request: 'loadModelFiles' });
    const s = t.store.getState();
    expect(s.modelLoading).toBe(false);
    expect(s.modelId).toBe('tiny-gpt2');
    expect(s.diskModels).toEqual([]);
    expect(s.diskPending).toBeNull();
    expect(s.error).toEqual({ context: 'Loading a model from disk', message });
    expect(s.dataset).not.toBeNull();
    expect(canStart(s)).toBe(true);
  });

  it('is unavailable before the backend starts and while a run holds the worker', () => {
    const t = setup();
    t.store.getState().boot();
    expect(diskModelBlocker(t.store.getState())).toBe('Waiting for the compute backend to start.');
    t.store.getState().loadModelFromDisk([zip()]);
    expect(t.sent).toEqual([]);

    const r = ready();
    r.store.getState().startTraining();
    expect(diskModelBlocker(r.store.getState())).toBe('Available when no run is in progress.');
    const before = r.sent.length;
    r.store.getState().loadModelFromDisk([zip()]);
    expect(r.sent).toHaveLength(before);
  });
});

describe('store: distillation', () => {
  const distillation: MethodSummary = {
    id: 'distill',
    label: 'Distillation (DistilBERT)',
    summary: 'A smaller student of this model.',
    paper: { title: 'DistilBERT', url: 'https://arxiv.org/abs/1910.01108' },
    fields: [
      { key: 'student_layers', label: 'Student layers', kind: 'number', min: 1, max: 3, integer: true },
      { key: 'temperature', label: 'Temperature T', kind: 'number', min: 0.1 },
    ],
    defaults: { student_layers: 2, temperature: 2 },
  };

  /** A page with a model, LoRA and BitFit, distillation offered apart, and a dataset. */
  function distillReady() {
    const t = setup();
    t.store.getState().boot();
    t.receive(webgpu);
    t.receive({ type: 'modelLoaded', model });
    t.receive({ type: 'methods', methods: [lora, bitfit], distillation });
    t.store.getState().chooseDatasetFile(new File(['hello\nworld\n'], 'data.txt'));
    t.receive({
      type: 'datasetLoaded',
      dataset: { fileName: 'data.txt', format: 'txt', examples: 20, trainExamples: 18, evalExamples: 2, tokens: 400, truncated: 0, sequenceLength: 128, preview: ['hello'] },
    });
    return t;
  }

  it('offers distillation apart from the PEFT methods, plans it with planDistill and keeps it out of planAll', () => {
    const t = distillReady();
    const s0 = t.store.getState();
    expect(s0.methodId).toBe('lora');
    expect(s0.distillMethod?.label).toBe('Distillation (DistilBERT)');
    const planAllBefore = t.sent.filter((m) => m.type === 'planAll').length;
    t.store.getState().selectMethod('distill');
    expect(isDistillSelected(t.store.getState())).toBe(true);
    expect(t.last()).toEqual({ type: 'planDistill', config: { student_layers: 2, temperature: 2 } });
    // A plain `planned` for a PEFT method is not this answer.
    t.receive({ type: 'planned', plan: { methodId: 'lora', trainable: 1, total: 2, percent: 50, tensors: [] } });
    expect(t.store.getState().plan).toBeNull();
    t.receive({ type: 'distillPlanned', teacherParams: 1_446_912, studentParams: 1_050_624, compression: 1_446_912 / 1_050_624, teacherLayers: [0, 3] });
    expect(t.store.getState().distillPlan).toEqual({ teacherParams: 1_446_912, studentParams: 1_050_624, compression: 1_446_912 / 1_050_624, teacherLayers: [0, 3] });
    expect(t.store.getState().planPending).toBe(false);
    t.store.getState().setMethodField('student_layers', '1');
    expect(t.last()).toEqual({ type: 'planDistill', config: { student_layers: 1, temperature: 2 } });
    // Distillation's settings change no PEFT method's counts.
    expect(t.sent.filter((m) => m.type === 'planAll').length).toBe(planAllBefore);
    // An answer after switching back to LoRA is dropped.
    t.store.getState().selectMethod('lora');
    t.receive({ type: 'distillPlanned', teacherParams: 9, studentParams: 3, compression: 3, teacherLayers: [0] });
    expect(t.store.getState().distillPlan).toBeNull();
    // Its errors are plan errors.
    t.store.getState().selectMethod('distill');
    t.receive({ type: 'error', context: 'Counting parameters for the student', message: 'student_layers must be an integer from 1 to 3', request: 'planDistill' });
    expect(t.store.getState().planError).toMatch(/student_layers/);
  });

  it('distils instead of training, draws each loss term and the teacher reference, shows the speed-up and exports the student', () => {
    const t = distillReady();
    // A LoRA adapter trained first stays the worker's adapter through the distillation.
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', mergeable: true });
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    expect(t.store.getState().adapterReady).toBe(true);

    t.store.getState().selectMethod('distill');
    expect(exportTarget(t.store.getState())).toBe('student');
    expect(canExport(t.store.getState())).toBe(false); // no student yet
    t.store.getState().startTraining();
    const sent = t.last();
    expect(sent.type).toBe('distill');
    expect(sent).toMatchObject({ config: { student_layers: 2, temperature: 2 }, train: { batchSize: expect.any(Number) } });
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'distill', mergeable: false });
    expect(t.store.getState().adapterReady).toBe(true);
    t.receive({ type: 'teacherEval', evalLoss: 3.5 });
    t.receive({ type: 'progress', points: [{ ...point(1, 20, 2), terms: { ce: 2, clm: 4, cos: 0.5 } }, { ...point(2, 18, 2), terms: { ce: 1.5, clm: 3.9, cos: 0.4 } }] });
    t.receive({ type: 'eval', point: { step: 2, evalLoss: 4.2 } });
    const run = t.store.getState().run;
    expect(run.teacherEvalLoss).toBe(3.5);
    expect(run.lossRows).toEqual([
      { step: 1, loss: 20, ce: 2, clm: 4, cos: 0.5 },
      { step: 2, loss: 18, ce: 1.5, clm: 3.9, cos: 0.4, evalLoss: 4.2 },
    ]);
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    expect(t.store.getState().studentReady).toBe(true);
    t.receive({ type: 'speedup', teacherMs: 8, studentMs: 4, ratio: 2 });
    expect(t.store.getState().run.speedup).toEqual({ teacherMs: 8, studentMs: 4, ratio: 2 });
    expect(t.store.getState().announcement).toBe('Student forward: 2.00× faster than the teacher (measured here)');
    expect(speedupLine({ teacherMs: 4, studentMs: 5, ratio: 0.8 })).toBe('Student forward: 1.25× slower than the teacher (measured here)');

    expect(canExport(t.store.getState())).toBe(true);
    expect(canExportMerged(t.store.getState())).toBe(true); // the LoRA adapter is still there
    t.store.getState().exportAdapter();
    expect(t.last()).toEqual({ type: 'exportStudent' });
    t.receive({ type: 'exported', fileName: 'tiny-gpt2-distilled-2L.zip', bytes: new Uint8Array([1, 2]) });
    expect(t.saved.at(-1)?.fileName).toBe('tiny-gpt2-distilled-2L.zip');
    expect(t.store.getState().announcement).toBe('Student exported as tiny-gpt2-distilled-2L.zip');
    // Back on LoRA, Export saves the adapter again.
    t.store.getState().selectMethod('lora');
    t.store.getState().exportAdapter();
    expect(t.last()).toEqual({ type: 'export' });
  });

  it('forgets the student when another model loads, and turns a distillation error into a failed run', () => {
    const t = distillReady();
    t.store.getState().selectMethod('distill');
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'distill', mergeable: false });
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    expect(t.store.getState().studentReady).toBe(true);
    const sentBefore = t.sent.length;
    t.receive({ type: 'modelLoaded', model: { ...model, id: 'other', name: 'other', nLayer: 2 } });
    // Nothing is planned with the old model's settings before the new model's methods arrive.
    expect(t.sent.slice(sentBefore).filter((m) => m.type === 'planDistill')).toEqual([]);
    expect(t.store.getState().studentReady).toBe(false);
    expect(t.store.getState().distillPlan).toBeNull();
    // The new model's methods keep distillation chosen; settings beyond its limits are marked, not sent.
    const fewer = { ...distillation, fields: distillation.fields.map((f) => (f.key === 'student_layers' ? { ...f, max: 1 } : f)), defaults: { student_layers: 1, temperature: 2 } };
    t.receive({ type: 'methods', methods: [lora, bitfit], distillation: fewer });
    expect(t.store.getState().methodId).toBe('distill');
    expect(t.sent.slice(sentBefore).filter((m) => m.type === 'planDistill')).toEqual([]);
    expect(startBlocker(t.store.getState())).toBe('Fix the method settings marked above.');
    t.store.getState().setMethodField('student_layers', '1');
    expect(t.last()).toEqual({ type: 'planDistill', config: { student_layers: 1, temperature: 2 } });
    t.store.getState().startTraining();
    t.receive({ type: 'error', context: 'Distilling', message: 'out of memory', request: 'distill' });
    expect(t.store.getState().run).toMatchObject({ status: 'failed', endMessage: 'out of memory' });
    expect(errorTopic('Distilling')).toBe('train');
    expect(errorTopic('Exporting the student')).toBe('export');
    // A model that cannot be a teacher offers no distillation: the choice falls back to a PEFT method.
    t.receive({ type: 'methods', methods: [lora, bitfit] });
    expect(t.store.getState().methodId).toBe('lora');
    expect(t.store.getState().distillMethod).toBeNull();
  });
});

describe('store: check against CPU', () => {
  const report = (failure?: string) => ({
    methodId: 'lora',
    backend: 'webgpu' as const,
    steps: PARITY_STEPS,
    batchSize: 8,
    sequenceLength: 128,
    checks: [{ name: 'gradients (step 1)', difference: failure ? 0.5 : 3e-7, tolerance: 1e-4, ok: !failure, worst: 'transformer.h.0.attn.c_attn.lora_B.weight', count: 8 }],
    failure,
    ms: 1200,
  });

  it('is unavailable until there is something to train, for the same reasons as Start', () => {
    const t = setup();
    t.store.getState().boot();
    t.receive(webgpu);
    expect(parityBlocker(t.store.getState())).toBe('Waiting for the base model to load.');
  });

  it('sends the chosen method with the training settings, holds the worker while it runs, and announces a pass', () => {
    const t = ready();
    expect(parityBlocker(t.store.getState())).toBeNull();
    t.store.getState().checkBackend();
    expect(t.last()).toEqual({
      type: 'verify',
      methodId: 'lora',
      config: { r: 8, lora_alpha: 16, target_modules: ['c_attn'] },
      train: DEFAULT_TRAIN,
      steps: PARITY_STEPS,
    });
    let s = t.store.getState();
    expect(s.announcement).toBe('Checking LoRA on this backend against the CPU reference…');
    expect(parityBlocker(s)).toBe('Checking…');
    expect(startBlocker(s)).toBe('A backend check is in progress.');
    expect(canStart(s)).toBe(false);
    t.receive({ type: 'verified', report: report() });
    s = t.store.getState();
    expect(s.parity).toEqual({ status: 'done', report: report() });
    expect(s.announcement).toBe(`Check against CPU passed for LoRA: ${PARITY_STEPS} steps match the CPU reference`);
    expect(canStart(s)).toBe(true);
  });

  it('announces a failed check with what differed', () => {
    const t = ready();
    t.store.getState().checkBackend();
    t.receive({ type: 'verified', report: report('gradients (step 1): relative difference 5.0e-1 from the CPU reference') });
    expect(t.store.getState().announcement).toBe('Check against CPU failed for LoRA: gradients (step 1): relative difference 5.0e-1 from the CPU reference');
  });

  it('shows why a check could not run and frees the worker', () => {
    const t = ready();
    t.store.getState().checkBackend();
    t.receive({ type: 'error', context: 'Checking the backend against the CPU reference', message: 'drop a dataset first', request: 'verify' });
    const s = t.store.getState();
    expect(s.parity).toEqual({ status: 'failed', report: null, message: 'drop a dataset first' });
    expect(s.announcement).toBe('Check against CPU could not run: drop a dataset first');
    expect(canStart(s)).toBe(true);
  });
});

describe('store: a backend that cannot start', () => {
  it('keeps why no backend started, for the Compute backend panel', () => {
    const t = setup();
    t.store.getState().boot();
    t.receive({ type: 'error', context: 'Starting the compute backend', message: 'no compute backend could start: WebGPU: failed the training self-check: x', request: 'init' });
    expect(t.store.getState().backendFailure).toBe('no compute backend could start: WebGPU: failed the training self-check: x');
  });

  it('does not treat a later device loss as a failure to start', () => {
    const t = setup();
    t.store.getState().boot();
    t.receive(webgpu);
    t.receive({ type: 'error', context: 'Compute backend', message: 'the GPU device was lost', request: 'init' });
    expect(t.store.getState().backendFailure).toBeNull();
    expect(t.store.getState().error?.message).toBe('the GPU device was lost');
  });
});
