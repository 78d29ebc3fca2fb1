// The run slice through the store: training, distillation, import and export, and
// "Check against CPU".
import { describe, expect, it } from 'vitest';
import type { MethodSummary } from '../../../src/worker/protocol';
import {
  canExport,
  canExportMerged,
  canStart,
  canStop,
  exportTarget,
  importBlocker,
  PARITY_STEPS,
  parityBlocker,
  speedupLine,
  startBlocker,
} from '..';
import { bitfit, DEFAULT_TRAIN, lora, model, point, ready, ROWS, setup, useFakeTimersPerTest, webgpu } from '../testing';

useFakeTimersPerTest();

describe('store: a classifier’s held-out evaluation', () => {
  it('keeps the metrics for the page and announces accuracy and macro-F1', () => {
    const t = ready();
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 8, methodId: 'lora', output: 'adapter', mergeable: false });
    const classification = { accuracy: 0.875, macroF1: 6 / 7, f1: [6 / 7, 6 / 7], confusion: [[3, 1], [0, 4]], examples: 8 };
    t.receive({ type: 'eval', point: { step: 8, evalLoss: 0.41, classification } });
    const s = t.store.getState();
    expect(s.run.lastEval?.classification).toEqual(classification);
    expect(s.announcement).toBe('Held-out accuracy 87.5%, macro-F1 0.857 at step 8');
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

    t.receive({ type: 'trainingStarted', totalSteps: 50, methodId: 'lora', output: 'adapter', mergeable: false });
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
    expect(t.last()).toEqual({ type: 'export', output: 'adapter' });
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
    t.receive({ type: 'trainingStarted', totalSteps: 50, methodId: 'lora', output: 'adapter', mergeable: false });
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
    t.receive({ type: 'trainingStarted', totalSteps: 50, methodId: 'lora', output: 'adapter', mergeable: false });
    t.receive({ type: 'trainingEnded', reason: 'failed', step: 0, message: 'out of memory' });
    const s = t.store.getState();
    expect(s.run.status).toBe('failed');
    expect(s.announcement).toBe('Training failed at step 0: out of memory');
    expect(canExport(s)).toBe(false);
  });

  it('turns a training error into a failed run', () => {
    const t = ready();
    t.store.getState().startTraining();
    t.receive({ type: 'error', context: 'train', message: 'kernel missing', request: 'train' });
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
    expect(s.held.adapter).toEqual({ methodId: 'bitfit', mergeable: true, imported: { fileName: 'peft-adapter.zip', methodId: 'bitfit', trainable: 1234, notice: undefined } });
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
    expect(s.held.adapter?.imported?.notice).toBe('It is a fixed prompt now.');
    expect(s.announcement).toBe('Imported p.zip: LoRA adapter · 10 parameters. It is a fixed prompt now.');
  });

  it('keeps the current adapter when an import fails, and shows the error', () => {
    const t = ready();
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', output: 'adapter', mergeable: false });
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    t.store.getState().importAdapterFile(new File(['x'], 'bad.zip'));
    t.receive({ type: 'error', context: 'Importing an adapter', message: 'bad.zip: adapter_config.json: "peft_type" is "IA3", which the studio cannot load', request: 'importAdapter' });
    const s = t.store.getState();
    expect(s.importPending).toBe(false);
    expect(s.error?.message).toMatch(/^bad\.zip: adapter_config\.json: "peft_type"/);
    expect(s.held.adapter).toEqual({ methodId: 'lora', mergeable: false });
    expect(s.run.status).toBe('finished'); // an import error is not a training failure
    expect(canExportMerged(s)).toBe(false); // LoRA here does not merge
  });

  it('offers the merged export only for an adapter that merges, and names what was saved', () => {
    const t = ready();
    t.store.getState().selectMethod('bitfit');
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'bitfit', output: 'adapter', mergeable: true });
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

describe('store: a method that makes a student (distillation)', () => {
  const distillation: MethodSummary = {
    id: 'distill',
    label: 'Distillation (DistilBERT)',
    summary: 'A smaller student of this model.',
    paper: { title: 'DistilBERT', url: 'https://arxiv.org/abs/1910.01108' },
    output: 'student',
    comparable: false,
    fields: [
      { key: 'student_layers', label: 'Student layers', kind: 'number', min: 1, max: 3, integer: true },
      { key: 'temperature', label: 'Temperature T', kind: 'number', min: 0.1 },
    ],
    defaults: { student_layers: 2, temperature: 2 },
  };
  const studentPlan = { methodId: 'distill', output: 'student' as const, teacherParams: 1_446_912, studentParams: 1_050_624, compression: 1_446_912 / 1_050_624, teacherLayers: [0, 3] };

  /** A page with a model, LoRA, BitFit and distillation, and a dataset. */
  function distillReady() {
    const t = setup();
    t.store.getState().boot();
    t.receive(webgpu);
    t.receive({ type: 'modelLoaded', model });
    t.receive({ type: 'methods', methods: [lora, bitfit, distillation] });
    t.store.getState().chooseDatasetFile(new File(['hello\nworld\n'], 'data.txt'));
    t.receive({
      type: 'datasetLoaded',
      dataset: { fileName: 'data.txt', format: 'txt', examples: 20, trainExamples: 18, evalExamples: 2, tokens: 400, truncated: 0, sequenceLength: 128, preview: ['hello'], ...ROWS },
    });
    return t;
  }

  it('plans it like any method, and keeps it out of the all-methods counts and the comparison', () => {
    const t = distillReady();
    expect(t.store.getState().methodId).toBe('lora');
    const planAllBefore = t.sent.filter((m) => m.type === 'planAll');
    expect(planAllBefore.length).toBeGreaterThan(0);
    for (const m of planAllBefore) if (m.type === 'planAll') expect(Object.keys(m.configs)).not.toContain('distill');
    t.store.getState().selectMethod('distill');
    expect(exportTarget(t.store.getState())).toBe('student');
    expect(t.last()).toEqual({ type: 'plan', methodId: 'distill', config: { student_layers: 2, temperature: 2 } });
    t.receive({ type: 'planned', plan: studentPlan });
    expect(t.store.getState().plan).toEqual(studentPlan);
    expect(t.store.getState().planPending).toBe(false);
    t.store.getState().setMethodField('student_layers', '1');
    expect(t.last()).toEqual({ type: 'plan', methodId: 'distill', config: { student_layers: 1, temperature: 2 } });
    // Its settings change no comparable method's counts.
    expect(t.sent.filter((m) => m.type === 'planAll').length).toBe(planAllBefore.length);
    // An answer after switching back to LoRA is dropped.
    t.store.getState().selectMethod('lora');
    t.receive({ type: 'planned', plan: studentPlan });
    expect(t.store.getState().plan).toBeNull();
    // It cannot be ticked for a comparison.
    t.store.getState().toggleCompareMethod('distill', true);
    expect(t.store.getState().compare.selected).toEqual([]);
  });

  it('trains on the one run path, draws each loss term and the reference, shows the speed-up and exports the student', () => {
    const t = distillReady();
    // A LoRA adapter trained first stays the worker's adapter through the distillation.
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', output: 'adapter', mergeable: true });
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    expect(t.store.getState().held.adapter).toEqual({ methodId: 'lora', mergeable: true });

    t.store.getState().selectMethod('distill');
    expect(canExport(t.store.getState())).toBe(false); // no student yet
    t.store.getState().startTraining();
    expect(t.last()).toMatchObject({ type: 'train', methodId: 'distill', config: { student_layers: 2, temperature: 2 }, train: { batchSize: expect.any(Number) } });
    expect(t.store.getState().announcement).toBe('Starting Distillation (DistilBERT) training…');
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'distill', output: 'student', mergeable: false });
    expect(t.store.getState().held.adapter).toEqual({ methodId: 'lora', mergeable: true });
    t.receive({ type: 'referenceEval', label: 'Teacher held-out loss', evalLoss: 3.5 });
    t.receive({ type: 'progress', points: [{ ...point(1, 20, 2), terms: { ce: 2, clm: 4, cos: 0.5 } }, { ...point(2, 18, 2), terms: { ce: 1.5, clm: 3.9, cos: 0.4 } }] });
    t.receive({ type: 'eval', point: { step: 2, evalLoss: 4.2 } });
    const run = t.store.getState().run;
    expect(run.reference).toEqual({ label: 'Teacher held-out loss', evalLoss: 3.5 });
    expect(run.lossRows).toEqual([
      { step: 1, loss: 20, ce: 2, clm: 4, cos: 0.5 },
      { step: 2, loss: 18, ce: 1.5, clm: 3.9, cos: 0.4, evalLoss: 4.2 },
    ]);
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    expect(t.store.getState().held.student).toEqual({ methodId: 'distill', mergeable: false });
    t.receive({ type: 'speedup', baseMs: 8, trainedMs: 4, ratio: 2 });
    expect(t.store.getState().run.speedup).toEqual({ baseMs: 8, trainedMs: 4, ratio: 2 });
    expect(t.store.getState().announcement).toBe('Student forward: 2.00× faster than the teacher (measured here)');
    expect(speedupLine({ baseMs: 4, trainedMs: 5, ratio: 0.8 })).toBe('Student forward: 1.25× slower than the teacher (measured here)');

    expect(canExport(t.store.getState())).toBe(true);
    expect(canExportMerged(t.store.getState())).toBe(true); // the LoRA adapter is still there
    t.store.getState().exportAdapter();
    expect(t.last()).toEqual({ type: 'export', output: 'student' });
    t.receive({ type: 'exported', fileName: 'tiny-gpt2-distilled-2L.zip', bytes: new Uint8Array([1, 2]) });
    expect(t.saved.at(-1)?.fileName).toBe('tiny-gpt2-distilled-2L.zip');
    expect(t.store.getState().announcement).toBe('Student exported as tiny-gpt2-distilled-2L.zip');
    // Back on LoRA, Export saves the adapter again.
    t.store.getState().selectMethod('lora');
    t.store.getState().exportAdapter();
    expect(t.last()).toEqual({ type: 'export', output: 'adapter' });
  });

  it('forgets the student when another model loads, and turns a run error into a failed run', () => {
    const t = distillReady();
    t.store.getState().selectMethod('distill');
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'distill', output: 'student', mergeable: false });
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    expect(t.store.getState().held.student).not.toBeNull();
    t.receive({ type: 'modelLoaded', model: { ...model, id: 'other', name: 'other', numLayers: 2 } });
    expect(t.store.getState().held).toEqual({ adapter: null, model: null, student: null });
    expect(t.store.getState().plan).toBeNull();
    // The new model's methods keep distillation chosen; settings beyond its limits are marked, not sent.
    const sentBefore = t.sent.length;
    const fewer = { ...distillation, fields: distillation.fields.map((f) => (f.key === 'student_layers' ? { ...f, max: 1 } : f)), defaults: { student_layers: 1, temperature: 2 } };
    t.receive({ type: 'methods', methods: [lora, bitfit, fewer] });
    expect(t.store.getState().methodId).toBe('distill');
    expect(t.sent.slice(sentBefore).filter((m) => m.type === 'plan')).toEqual([]);
    expect(startBlocker(t.store.getState())).toBe('Fix the method settings marked above.');
    t.store.getState().setMethodField('student_layers', '1');
    expect(t.last()).toEqual({ type: 'plan', methodId: 'distill', config: { student_layers: 1, temperature: 2 } });
    t.store.getState().startTraining();
    t.receive({ type: 'error', context: 'Training', message: 'out of memory', request: 'train' });
    expect(t.store.getState().run).toMatchObject({ status: 'failed', endMessage: 'out of memory' });
    // A model that cannot be a teacher offers it as unavailable: the choice falls back to a method that applies.
    t.receive({ type: 'methods', methods: [lora, bitfit, { ...fewer, unsupported: 'the teacher has 1 layer; a student needs fewer' }] });
    expect(t.store.getState().methodId).toBe('lora');
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
