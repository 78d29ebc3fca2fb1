// The errors slice: an error ends the pending work of the request it names; one naming no
// request (the worker client's own failure) ends everything pending.
import { describe, expect, it } from 'vitest';
import { IDLE_COMPARE, IDLE_RUN, initialData, reduce, type DatasetRequest, type StudioData } from '..';
import { point } from '../testing';

const request = (name: string): DatasetRequest => ({ file: new File(['x'], name), sequenceLength: 128, seed: 42 });

describe('errors', () => {
  it('ends everything pending when an error names no request', () => {
    const s: StudioData = {
      ...initialData(),
      modelLoading: true,
      modelQueued: true,
      planPending: true,
      allPlansPending: true,
      exportPending: true,
      importPending: true,
      datasetQueue: [request('a.txt')],
      run: { ...IDLE_RUN, status: 'running', methodId: 'lora', totalSteps: 50, latest: point(3, 4) },
      parity: { status: 'running', report: null },
      compare: { ...IDLE_COMPARE, status: 'running', methodIds: ['lora', 'bitfit'], current: 'lora' },
      generation: { ...initialData().generation, requestId: 1, base: { text: 'a', done: false }, adapter: null },
    };
    const next = reduce(s, { type: 'error', context: 'worker', message: 'worker crashed' });
    expect(next).toMatchObject({
      error: { context: 'worker', message: 'worker crashed' },
      modelLoading: false,
      modelQueued: false,
      planPending: false,
      allPlansPending: false,
      exportPending: false,
      importPending: false,
      datasetQueue: [],
      run: { status: 'failed', endStep: 3, endMessage: 'worker crashed' },
      parity: { status: 'failed', report: null, message: 'worker crashed' },
      compare: { status: 'failed', current: null, message: 'worker crashed' },
      generation: { base: { text: 'a', done: true, error: 'worker crashed' } },
    });
    // The comparison's failure is the last word in the live region.
    expect(next.announcement).toBe('Comparison failed: worker crashed');
  });

  it('drops the dataset request its context names, else the oldest', () => {
    const s: StudioData = { ...initialData(), datasetQueue: [request('a.txt'), request('b.txt')] };
    const named = reduce(s, { type: 'error', context: 'Loading b.txt', message: 'unreadable', request: 'loadDataset' });
    expect(named.datasetQueue.map((r) => r.file.name)).toEqual(['a.txt']);
    const unnamed = reduce(s, { type: 'error', context: 'Loading', message: 'unreadable', request: 'loadDataset' });
    expect(unnamed.datasetQueue.map((r) => r.file.name)).toEqual(['b.txt']);
  });

  it('routes by the request, whatever the context says', () => {
    // A dataset file whose name reads like a model: its error frees that request and nothing else.
    const s: StudioData = { ...initialData(), planPending: true, datasetQueue: [request('model notes.txt')] };
    const next = reduce(s, { type: 'error', context: 'Loading model notes.txt', message: 'unreadable', request: 'loadDataset' });
    expect(next.datasetQueue).toEqual([]);
    expect(next.planPending).toBe(true);
  });
});
