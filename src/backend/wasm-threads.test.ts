// The wasm thread count: one per logical core where the global scope can share memory between
// threads, capped at the pool the threaded build starts; otherwise one thread and the reason.
// And the threaded start: it passes on its result, or gives up on workers that never start.
import { describe, expect, it } from 'vitest';
import { describeThreads, planWasmThreads, PTHREAD_POOL_SIZE, startWithinWorkers, threadSupportHere } from './wasm-threads';

const isolated = { crossOriginIsolated: true, sharedArrayBuffer: true };

describe('planWasmThreads', () => {
  it('runs one thread per logical core on a cross-origin isolated page', () => {
    expect(planWasmThreads({ ...isolated, logicalCores: 2 })).toEqual({ threads: 2 });
    expect(planWasmThreads({ ...isolated, logicalCores: 6 })).toEqual({ threads: 6 });
  });

  it('stops at the pthread pool the threaded build starts up front', () => {
    expect(PTHREAD_POOL_SIZE).toBe(8);
    expect(planWasmThreads({ ...isolated, logicalCores: 32 })).toEqual({ threads: 8 });
  });

  it('runs one thread, saying why, where threads cannot share memory', () => {
    expect(planWasmThreads({ crossOriginIsolated: false, sharedArrayBuffer: false, logicalCores: 8 })).toEqual({
      threads: 1,
      reason: 'the page is not cross-origin isolated (its Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers are missing), so threads cannot share memory',
    });
    expect(planWasmThreads({ crossOriginIsolated: true, sharedArrayBuffer: false, logicalCores: 8 })).toEqual({
      threads: 1,
      reason: 'this browser has no SharedArrayBuffer, so threads cannot share memory',
    });
  });

  it('runs one thread on a single core, or when the core count is unknown', () => {
    expect(planWasmThreads({ ...isolated, logicalCores: 1 })).toEqual({ threads: 1, reason: 'the browser reports 1 logical core' });
    expect(planWasmThreads({ ...isolated, logicalCores: undefined })).toEqual({ threads: 1, reason: 'the browser reports 1 logical core' });
  });

  it('runs one thread outside a browser, as Node has no crossOriginIsolated', () => {
    const here = threadSupportHere();
    expect(here.crossOriginIsolated).toBeUndefined();
    expect(planWasmThreads(here)).toEqual({ threads: 1, reason: 'not in a browser (tfjs runs WebAssembly on one thread outside one)' });
  });
});

describe('describeThreads', () => {
  it('counts threads in words', () => {
    expect(describeThreads(1)).toBe('1 thread');
    expect(describeThreads(4)).toBe('4 threads');
  });
});

describe('startWithinWorkers', () => {
  it('passes on what the start resolves to or rejects with', async () => {
    await expect(startWithinWorkers(Promise.resolve('started'), 1000)).resolves.toBe('started');
    await expect(startWithinWorkers(Promise.reject(new Error('no wasm file')), 1000)).rejects.toThrow('no wasm file');
  });

  it('gives up on a start that never ends, saying how long it waited', async () => {
    await expect(startWithinWorkers(new Promise(() => {}), 20)).rejects.toThrow('the pthread workers did not start within 0.02 s');
  });
});
