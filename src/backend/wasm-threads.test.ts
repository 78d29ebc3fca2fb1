// The wasm thread count: one per logical core where the global scope can share memory between
// threads, capped at the pool the threaded build starts; otherwise one thread and the reason.
import { describe, expect, it } from 'vitest';
import { describeThreads, planWasmThreads, PTHREAD_POOL_SIZE, threadSupportHere } from './wasm-threads';

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
