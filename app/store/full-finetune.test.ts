// Full fine-tuning on the page: its training memory is set against a PEFT method's (and back),
// its export and generation go to the fine-tuned model the worker holds, not to the adapter.
import { describe, expect, it } from 'vitest';
import type { MethodSummary } from '../../src/worker/protocol';
import { generationTrained, memoryReference, methodPlanRows } from './index';
import { bitfit, houlsby, lora, ready, useFakeTimersPerTest } from './testing';

useFakeTimersPerTest();

const full: MethodSummary = {
  id: 'full-finetune',
  label: 'Full fine-tuning',
  summary: 'Every weight.',
  paper: { title: 'BERT', url: 'https://arxiv.org/abs/1810.04805' },
  output: 'model',
  comparable: true,
  fields: [],
  defaults: {},
};
const TOTAL = 1_446_912;

function withFull() {
  const t = ready();
  t.receive({ type: 'methods', methods: [lora, houlsby, bitfit, full] });
  t.receive({
    type: 'plannedAll',
    plans: [
      { methodId: 'lora', trainable: 73_728, total: TOTAL + 73_728, percent: 4.8 },
      { methodId: 'houlsby', error: 'needs at least 2 layers' },
      { methodId: 'bitfit', trainable: 8_000, total: TOTAL, percent: 0.5 },
      { methodId: 'full-finetune', trainable: TOTAL, total: TOTAL, percent: 100 },
    ],
  });
  return t;
}

describe('memoryReference', () => {
  it('sets full fine-tuning against the first PEFT method with counts, and a PEFT method against full fine-tuning', () => {
    const s = withFull().store.getState();
    const rows = methodPlanRows(s);
    expect(memoryReference(full, s.methods, rows)).toEqual({ label: 'LoRA', trainable: 73_728, total: TOTAL + 73_728 });
    expect(memoryReference(bitfit, s.methods, rows)).toEqual({ label: 'Full fine-tuning', trainable: TOTAL, total: TOTAL });
    expect(memoryReference(undefined, s.methods, rows)).toBeNull();
    expect(memoryReference({ ...full, id: 'distill', output: 'student', comparable: false }, s.methods, rows)).toBeNull();
  });
});

describe('a full fine-tune on the page', () => {
  it('exports and generates with the fine-tuned model it holds, and with the adapter under a PEFT method', () => {
    const t = withFull();
    t.store.getState().selectMethod('full-finetune');
    expect(generationTrained(t.store.getState())).toBeNull();
    t.store.getState().startTraining();
    t.receive({ type: 'trainingStarted', totalSteps: 2, methodId: 'full-finetune', output: 'model', mergeable: true });
    t.receive({ type: 'trainingEnded', reason: 'finished', step: 2 });
    const s = t.store.getState();
    expect(s.held).toEqual({ adapter: null, model: { methodId: 'full-finetune', mergeable: true }, student: null });
    expect(generationTrained(s)).toBe('model');

    t.store.getState().generate();
    expect(t.sent.filter((m) => m.type === 'generate').map((m) => (m.type === 'generate' ? [m.withAdapter, m.output] : []))).toEqual([
      [false, undefined],
      [true, 'model'],
    ]);
    t.receive({ type: 'generated', requestId: 1, withAdapter: false, text: 'a', done: true });
    t.receive({ type: 'generated', requestId: 1, withAdapter: true, text: 'b', done: true });

    t.store.getState().exportAdapter();
    expect(t.last()).toEqual({ type: 'export', output: 'model' });
    t.receive({ type: 'exported', fileName: 'tiny-gpt2-full-finetune.zip', bytes: new Uint8Array([1]) });
    expect(t.store.getState().announcement).toBe('Fine-tuned model exported as tiny-gpt2-full-finetune.zip');

    // Under a PEFT method with no adapter held, only the base model generates.
    t.store.getState().selectMethod('lora');
    expect(generationTrained(t.store.getState())).toBeNull();
  });
});
