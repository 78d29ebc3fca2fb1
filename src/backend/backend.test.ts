// Backend start-up in Node, where WebGPU is absent: the order of fallbacks, each announced with
// its reason, and the training self-check deciding whether a backend that starts is used.
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { startBackend, type BackendCheck } from './backend';

const checked: string[] = [];
const passing: BackendCheck = async (name) => {
  checked.push(name);
  return { summary: `${name} agreed` };
};

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('startBackend', () => {
  it('uses wasm when WebGPU is absent, after it passed the check, and says why WebGPU was not used', async () => {
    checked.length = 0;
    const report = await startBackend(undefined, undefined, undefined, passing);
    expect(report.name).toBe('wasm');
    expect(report.selfCheck).toBe('wasm agreed');
    expect(report.description).toBe('WebAssembly · SIMD · 1 thread');
    expect(report.fallbacks).toEqual([
      'WebGPU: this browser exposes no WebGPU (navigator.gpu is undefined)',
      'WebAssembly threads: not in a browser (tfjs runs WebAssembly on one thread outside one); running 1 thread',
    ]);
    expect(checked).toEqual(['wasm']);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('moves on to the next backend when one fails the check, naming the check that failed', async () => {
    const report = await startBackend(undefined, undefined, undefined, async (name) =>
      name === 'wasm' ? { summary: '', failure: 'gradients (step 1): relative difference 1.0e+0 from the CPU reference' } : { summary: 'ok' },
    );
    expect(report.name).toBe('cpu');
    expect(report.selfCheck).toBeUndefined(); // the reference is not checked against itself
    expect(report.fallbacks[1]).toBe('WebAssembly: failed the training self-check: gradients (step 1): relative difference 1.0e+0 from the CPU reference');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('fails a forced backend that fails the check instead of training elsewhere', async () => {
    await expect(startBackend('wasm', undefined, undefined, async () => ({ summary: '', failure: 'loss (step 1): relative difference 2.0e-1' }))).rejects.toThrow(
      'no compute backend could start: WebAssembly: failed the training self-check: loss (step 1): relative difference 2.0e-1',
    );
  });
});
