// The run slice between read-backs and while stopping: the step count and throughput follow
// every finished step without flooding the live region; Stop's status says what the worker
// still does; Skip final evaluation is offered while it stops and ends the run's wait.
import { describe, expect, it } from 'vitest';
import type { StepPoint } from '../../../src/worker/protocol';
import { canExport, canSkipEvaluation, canStop, evaluatingLine, stoppingLine } from '..';
import { point, ready, useFakeTimersPerTest } from '../testing';

useFakeTimersPerTest();

const stepped = (step: number, totalSteps = 50): StepPoint => ({
  step,
  totalSteps,
  epoch: 0,
  tokens: 256,
  tokensPerSecond: 128 + step,
  elapsedMs: step * 2000,
  etaMs: (totalSteps - step) * 2000,
});

/** A store whose run of 50 steps has started. */
function running() {
  const t = ready();
  t.store.getState().startTraining();
  t.receive({ type: 'trainingStarted', totalSteps: 50, methodId: 'lora', output: 'adapter', mergeable: false });
  return t;
}

describe('store: a step at a time', () => {
  it('moves the step count and throughput at every step, announcing only the losses read back', () => {
    const t = running();
    const started = t.store.getState().announcement;
    expect(started).toBe('Training started: 50 steps');
    for (const n of [1, 2, 3]) {
      t.receive({ type: 'stepDone', point: stepped(n) });
      const s = t.store.getState();
      expect(s.run.status).toBe('running');
      expect(s.run.stepped).toEqual(stepped(n));
      // No loss has been read back: the chart and the live region wait for it.
      expect(s.run.latest).toBeNull();
      expect(s.run.lossRows).toEqual([]);
      expect(s.announcement).toBe(started);
    }
    t.receive({ type: 'stepDone', point: stepped(4) });
    t.receive({ type: 'progress', points: [1, 2, 3, 4].map((n) => point(n, 4 - n / 10)) });
    const s = t.store.getState();
    expect(s.announcement).toBe('Step 4/50 · loss 3.60');
    expect(s.run.lossRows.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    expect(s.run.stepped?.step).toBe(4);
  });

  it('takes a step reported before the run said it started as running', () => {
    const t = ready();
    t.store.getState().startTraining();
    t.receive({ type: 'stepDone', point: stepped(1) });
    expect(t.store.getState().run.status).toBe('running');
  });
});

describe('store: an evaluation says how far it has got', () => {
  it('shows the held-out batch under way, announcing only the evaluation before the first step, and clears it with the result', () => {
    const t = running();
    for (const batch of [1, 2, 3]) t.receive({ type: 'evaluating', step: 0, batch, batches: 10 });
    let s = t.store.getState();
    expect(s.run.evaluating).toEqual({ step: 0, batch: 3, batches: 10 });
    expect(evaluatingLine(s.run.evaluating!)).toBe('Measuring the held-out loss before training: batch 3 of 10');
    expect(s.announcement).toBe('Measuring the held-out loss before training (10 batches)…');
    t.receive({ type: 'eval', point: { step: 0, evalLoss: 5.1 } });
    s = t.store.getState();
    expect(s.run.evaluating).toBeNull();
    expect(s.run.lastEval).toEqual({ step: 0, evalLoss: 5.1 });

    // A later evaluation is shown, not announced: the live region keeps the losses.
    t.receive({ type: 'stepDone', point: stepped(20) });
    t.receive({ type: 'progress', points: [point(20, 3.2)] });
    t.receive({ type: 'evaluating', step: 20, batch: 1, batches: 1 });
    s = t.store.getState();
    expect(evaluatingLine(s.run.evaluating!)).toBe('Measuring the held-out loss at step 20: batch 1 of 1');
    expect(evaluatingLine(s.run.evaluating!, false)).toBe('Measuring the held-out loss at step 20 (1 batch)…');
    expect(s.announcement).toBe('Step 20/50 · loss 3.20');
    // The next step ends it even when a skipped evaluation reported nothing.
    t.receive({ type: 'stepDone', point: stepped(21) });
    expect(t.store.getState().run.evaluating).toBeNull();
  });

  it('puts the batch in a stopping run\'s final evaluation line without announcing each one', () => {
    const t = running();
    t.store.getState().stopTraining();
    t.receive({ type: 'stopping', phase: 'evaluating', step: 7 });
    const announced = t.store.getState().announcement;
    t.receive({ type: 'evaluating', step: 7, batch: 2, batches: 5 });
    const s = t.store.getState();
    expect(stoppingLine(s.run, true)).toBe('Stopping: final evaluation on the held-out set (batch 2 of 5)…');
    expect(s.announcement).toBe(announced);
    expect(announced).toBe('Stopping: final evaluation on the held-out set…');
  });
});

describe('store: stopping says what it waits for', () => {
  it('finishing the steps under way, then the final evaluation, then the end with the loss', () => {
    const t = running();
    t.receive({ type: 'stepDone', point: stepped(5) });
    t.store.getState().stopTraining();
    expect(t.last()).toEqual({ type: 'stop' });
    let s = t.store.getState();
    expect(s.run.status).toBe('stopping');
    expect(s.announcement).toBe('Stopping…');
    expect(canStop(s)).toBe(false);
    expect(canExport(s)).toBe(false);

    t.receive({ type: 'stopping', phase: 'finishing', step: 7 });
    s = t.store.getState();
    expect(stoppingLine(s.run)).toBe('Stopping: finishing step 7…');
    expect(s.announcement).toBe('Stopping: finishing step 7…');

    // Steps finishing meanwhile move the count, not the status.
    t.receive({ type: 'stepDone', point: stepped(6) });
    t.receive({ type: 'stepDone', point: stepped(7) });
    t.receive({ type: 'progress', points: [point(7, 3.25)] });
    s = t.store.getState();
    expect(s.run.status).toBe('stopping');
    expect(stoppingLine(s.run)).toBe('Stopping: finishing step 7…');

    t.receive({ type: 'stopping', phase: 'evaluating', step: 7 });
    s = t.store.getState();
    expect(s.announcement).toBe('Stopping: final evaluation on the held-out set…');
    t.receive({ type: 'eval', point: { step: 7, evalLoss: 3.5 } });
    t.receive({ type: 'trainingEnded', reason: 'stopped', step: 7 });
    s = t.store.getState();
    expect(s.announcement).toBe('Training stopped at step 7/50 · loss 3.25');
    expect(s.run.lastEval).toEqual({ step: 7, evalLoss: 3.5 });
    expect(canExport(s)).toBe(true);
  });

  it('before the first step', () => {
    const t = running();
    t.store.getState().stopTraining();
    t.receive({ type: 'stopping', phase: 'finishing', step: 0 });
    expect(t.store.getState().announcement).toBe('Stopping before the first step…');
  });

  it('ignores a stopping message once the run has ended', () => {
    const t = running();
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 50 });
    const before = t.store.getState();
    t.receive({ type: 'stopping', phase: 'evaluating', step: 50 });
    expect(t.store.getState()).toBe(before);
  });
});

describe('store: Skip final evaluation', () => {
  it('is offered from Stop until the run ends; pressed, it asks the worker once and the run ends with the last held-out loss measured', () => {
    const t = running();
    t.receive({ type: 'eval', point: { step: 0, evalLoss: 5.5 } });
    t.receive({ type: 'stepDone', point: stepped(3) });
    expect(canSkipEvaluation(t.store.getState())).toBe(false);
    t.store.getState().skipEvaluation();
    expect(t.sent.some((m) => m.type === 'skipEvaluation')).toBe(false);

    t.store.getState().stopTraining();
    expect(canSkipEvaluation(t.store.getState())).toBe(true);
    t.receive({ type: 'stopping', phase: 'finishing', step: 4 });
    t.receive({ type: 'stopping', phase: 'evaluating', step: 4 });
    t.store.getState().skipEvaluation();
    expect(t.last()).toEqual({ type: 'skipEvaluation' });
    let s = t.store.getState();
    expect(s.announcement).toBe('Stopping: skipping the final evaluation…');
    expect(canSkipEvaluation(s)).toBe(false);
    t.store.getState().skipEvaluation();
    expect(t.sent.filter((m) => m.type === 'skipEvaluation')).toHaveLength(1);

    t.receive({ type: 'progress', points: [point(4, 3.9)] });
    t.receive({ type: 'trainingEnded', reason: 'stopped', step: 4 });
    s = t.store.getState();
    expect(s.announcement).toBe('Training stopped at step 4/50 · loss 3.90 · final evaluation skipped');
    expect(s.run.lastEval).toEqual({ step: 0, evalLoss: 5.5 });
    expect(canExport(s)).toBe(true);
    expect(canSkipEvaluation(s)).toBe(false);

    // The next run starts with nothing skipped.
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 50, methodId: 'lora', output: 'adapter', mergeable: false });
    expect(t.store.getState().run.skipRequested).toBe(false);
    expect(t.store.getState().run.stopping).toBeNull();
  });

  it('is not offered when nothing is held out', () => {
    const t = running();
    t.store.setState({ dataset: { ...t.store.getState().dataset!, evalExamples: 0, evalRows: 0 } });
    t.store.getState().stopTraining();
    expect(canSkipEvaluation(t.store.getState())).toBe(false);
  });
});
