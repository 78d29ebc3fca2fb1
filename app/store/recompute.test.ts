// Recomputing activations is a training setting: the run and the backend check the person
// starts carry it, and it cannot change while a run is going.
import { describe, expect, it } from 'vitest';
import { ready, useFakeTimersPerTest } from './testing';

useFakeTimersPerTest();

describe('Recompute activations in the backward pass', () => {
  it('is off until chosen, then every run started carries it; it stays as it was while training', () => {
    const t = ready();
    t.store.getState().startTraining();
    const first = t.sent.filter((m) => m.type === 'train').at(-1);
    expect(first?.type === 'train' && first.train.recompute).toBe(false);
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', output: 'adapter', mergeable: true });
    t.store.getState().setRecompute(true);
    expect(t.store.getState().recompute).toBe(false);
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });

    t.store.getState().setRecompute(true);
    t.store.getState().startTraining();
    const second = t.sent.filter((m) => m.type === 'train').at(-1);
    expect(second?.type === 'train' && second.train.recompute).toBe(true);
  });
});
