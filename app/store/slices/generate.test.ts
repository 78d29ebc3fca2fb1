// The generate slice through the store: base and adapter text, streamed, and failures.
import { describe, expect, it } from 'vitest';
import { canGenerate, canStart, generateBlocker, isGenerating, startBlocker } from '..';
import { model, point, ready, setup, useFakeTimersPerTest } from '../testing';

useFakeTimersPerTest();

describe('store: text generation', () => {
  /** A store whose run finished, so the worker holds an adapter. */
  function trained() {
    const t = ready();
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', output: 'adapter', mergeable: false });
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
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'lora', output: 'adapter', mergeable: false });
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
});
