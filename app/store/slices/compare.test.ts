// The compare slice through the store: "Compare methods" from ticking to the last result.
import { describe, expect, it } from 'vitest';
import { canCompare, canExport, canExportMerged, canStart, canStop, compareBlocker, startBlocker } from '..';
import { DEFAULT_TRAIN, point, ready, useFakeTimersPerTest } from '../testing';

useFakeTimersPerTest();

describe('store: compare methods', () => {
  it('needs two usable methods ticked, then sends each at its page settings with the training settings', () => {
    const t = ready();
    expect(compareBlocker(t.store.getState())).toBe('Tick at least two methods to compare.');
    t.store.getState().toggleCompareMethod('houlsby', true); // unsupported: not tickable
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
    total: 10_100,
    finalEvalLoss,
    finalClassification: null,
    tokensPerSecond: 50,
    adapterBytes: 2048,
    wallMs: 3000,
  });

  it('collects each run\'s held-out curve and result, with progress in the usual places, and stays busy between runs', () => {
    const t = comparing();
    expect(t.store.getState().announcement).toBe('Comparing 2 methods (LoRA, BitFit), 2 steps each');
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', output: 'adapter', mergeable: false });
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

    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'bitfit', output: 'adapter', mergeable: true });
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

  it('announces a classifier\'s held-out accuracy and macro-F1 as its run ends', () => {
    const t = comparing();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', output: 'adapter', mergeable: false });
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    t.receive({ type: 'compareRunEnded', ...result('lora', 0.31), finalClassification: { accuracy: 0.875, macroF1: 0.8571 } });
    expect(t.store.getState().announcement).toBe('LoRA: held-out accuracy 87.5%, macro-F1 0.857 (1/2 done)');
    expect(t.store.getState().compare.results[0].finalClassification).toEqual({ accuracy: 0.875, macroF1: 0.8571 });
  });

  it('stops the comparison with Stop, keeping the finished rows', () => {
    const t = comparing();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', output: 'adapter', mergeable: false });
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    t.receive({ type: 'compareRunEnded', ...result('lora', 4.4) });
    t.store.getState().stopTraining();
    expect(t.last()).toEqual({ type: 'stop' });
    expect(t.store.getState().compare.status).toBe('stopping');
    // A run that starts after all (the stop crossed it) is stopping from the start.
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'bitfit', output: 'adapter', mergeable: true });
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
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', output: 'adapter', mergeable: false });
    t.receive({ type: 'error', context: 'Comparing methods', message: 'kernel missing', request: 'compare' });
    const s = t.store.getState();
    expect(s.compare.status).toBe('failed');
    expect(s.compare.message).toBe('kernel missing');
    expect(s.run.status).toBe('failed');
    expect(s.announcement).toBe('Comparison failed: kernel missing');
    expect(canStart(s)).toBe(true);
  });
});
