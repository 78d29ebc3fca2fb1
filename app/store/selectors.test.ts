// The line builders the page and the reducer share, and why "Generate" is disabled.
import { describe, expect, it } from 'vitest';
import { generateBlocker, stepLine } from './index';
import { model, ready, useFakeTimersPerTest } from './testing';

useFakeTimersPerTest();

describe('line builders', () => {
  it('formats the step line', () => {
    expect(stepLine({ step: 12, totalSteps: 50, loss: 3.4149 })).toBe('Step 12/50 · loss 3.41');
  });
});

describe('generateBlocker', () => {
  it('enables generation for a causal LM and says why not for a masked LM', () => {
    const t = ready();
    expect(generateBlocker(t.store.getState())).toBeNull();
    t.receive({ type: 'modelLoaded', model: { ...model, id: 'tiny-bert', name: 'tiny-bert', modelType: 'bert', cannotGenerate: 'tiny-bert is a masked language model; text generation needs a causal LM' } });
    expect(generateBlocker(t.store.getState())).toBe('tiny-bert is a masked language model; text generation needs a causal LM.');
  });
});
