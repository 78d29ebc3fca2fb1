// The model slice through the store: backend, base model (built in and from disk), methods,
// and the parameter counts of the chosen method and of every method.
import { describe, expect, it } from 'vitest';
import type { ModelSummary } from '../../../src/worker/protocol';
import { canExport, canStart, diskModelBlocker, methodPlanRows, modelDisplayName, modelKey, startBlocker } from '..';
import { bitfit, houlsby, lora, model, ready, setup, useFakeTimersPerTest, webgpu } from '../testing';

useFakeTimersPerTest();

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

  it('stays loading when the model the person chose next is still to come: nothing is counted with the earlier one', () => {
    const t = setup();
    t.store.getState().boot();
    t.receive(webgpu);
    t.store.getState().selectModel('tiny-bert');
    expect(t.sent).toEqual([
      { type: 'loadModel', id: 'studio-gpt2-en' },
      { type: 'loadModel', id: 'tiny-bert' },
    ]);
    // The first load's answers arrive before the worker turns to the second.
    t.receive({ type: 'modelLoaded', model });
    t.receive({ type: 'methods', methods: [houlsby, lora, bitfit] });
    let s = t.store.getState();
    expect(s.modelLoading).toBe(true);
    expect(s.modelId).toBe('tiny-bert');
    expect(t.sent.filter((m) => m.type === 'plan' || m.type === 'planAll')).toEqual([]);
    // The chosen model arrives; its methods are counted at its own defaults.
    const bert: ModelSummary = { ...model, id: 'tiny-bert', name: 'tiny-bert', modelType: 'bert' };
    const bertLora = { ...lora, defaults: { ...lora.defaults, target_modules: ['query', 'value'] }, fields: lora.fields.map((f) => (f.key === 'target_modules' && f.kind === 'multiselect' ? { ...f, options: ['query', 'key', 'value'].map((v) => ({ value: v, label: v })) } : f)) };
    t.receive({ type: 'modelLoaded', model: bert });
    t.receive({ type: 'methods', methods: [houlsby, bertLora, bitfit] });
    s = t.store.getState();
    expect(s.modelLoading).toBe(false);
    expect(s.model).toEqual(bert);
    expect(t.lastOf('plan')).toEqual({ type: 'plan', methodId: 'lora', config: { r: 8, lora_alpha: 16, target_modules: ['query', 'value'] } });
  });

  it('picks the first supported method and plans it with its defaults', () => {
    const t = setup();
    t.store.getState().boot();
    t.receive(webgpu);
    t.receive({ type: 'modelLoaded', model });
    // The worker's `methods` follow its model; nothing is counted with the previous model's forms.
    expect(t.sent.filter((m) => m.type === 'plan' || m.type === 'planAll')).toEqual([]);
    t.receive({ type: 'methods', methods: [houlsby, lora, bitfit] });
    expect(t.store.getState().methodId).toBe('lora');
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
    t.receive({ type: 'planned', plan: { methodId: 'lora', output: 'adapter', trainable: 1, total: 2, percent: 50, tensors: [] } });
    expect(t.store.getState().plan).toBeNull();
    t.receive({ type: 'planned', plan: { methodId: 'bitfit', output: 'adapter', trainable: 3, total: 4, percent: 75, tensors: [] } });
    expect(t.store.getState().plan).toMatchObject({ methodId: 'bitfit', trainable: 3 });
  });

  it('will not choose an unsupported method', () => {
    const t = ready();
    t.store.getState().selectMethod('houlsby');
    expect(t.store.getState().methodId).toBe('lora');
  });

  it('shows plan errors and clears the plan', () => {
    const t = ready();
    t.receive({ type: 'error', context: 'plan', message: 'r must be at most 64', request: 'plan' });
    const s = t.store.getState();
    expect(s.plan).toBeNull();
    expect(s.planError).toBe('r must be at most 64');
    expect(s.error).toEqual({ context: 'plan', message: 'r must be at most 64' });
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
    t.receive({ type: 'methods', methods: [lora, houlsby, bitfit] });
    expect(t.store.getState().methodId).toBe('bitfit');
    expect(t.lastOf('planAll')).toEqual({ type: 'planAll', configs: { lora: { r: 4, lora_alpha: 16, target_modules: ['c_attn'] }, bitfit: {} } });

    t.receive({
      type: 'plannedAll',
      plans: [
        { methodId: 'lora', trainable: 8192, total: 867_200, percent: 0.94 },
        { methodId: 'houlsby', error: 'needs at least 2 layers' },
        { methodId: 'bitfit', trainable: 1000, total: 860_008, percent: 0.11 },
      ],
    });
    const s = t.store.getState();
    expect(s.allPlansPending).toBe(false);
    expect(methodPlanRows(s)).toEqual([
      { methodId: 'lora', label: 'LoRA', trainable: 8192, total: 867_200, percent: 0.94 },
      { methodId: 'houlsby', label: 'Houlsby adapters', error: 'needs at least 2 layers' },
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
    t.receive({ type: 'methods', methods: [lora, houlsby, bitfit] });
    expect(t.lastOf('planAll')!.configs).toEqual({ bitfit: {} });
    expect(methodPlanRows(t.store.getState())[0]).toEqual({ methodId: 'lora', label: 'LoRA', error: 'Settings not valid: Rank (r) is required.' });
  });
});

describe('store: a base model from disk', () => {
  const fromDisk = (id: string, totalParams = 859_008): ModelSummary => ({ ...model, id, name: id, source: 'disk', totalParams });
  const zip = () => new File([new Uint8Array([80, 75, 5, 6])], 'my-model.zip');

  it('sends the files, then lists the model as "(from disk)" and selects it; choosing it again re-sends its files', () => {
    const t = ready();
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', output: 'adapter', mergeable: false });
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
    expect(s.held).toEqual({ adapter: null, model: null, student: null });
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
