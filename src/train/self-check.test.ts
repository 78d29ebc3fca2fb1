// The backend self-check against a backend whose AddN misbehaves the way tfjs' webgpu AddN did
// with 8 or more inputs (the GPU skipped the dispatch and its output kept stale zeros): the
// check fails, naming what differed. A correct backend passes.
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeSelfCheck, selfCheck } from './self-check';

const FAULTY = 'cpu-with-stale-addn';

beforeAll(async () => {
  tf.registerBackend(FAULTY, () => new MathBackendCPU());
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (k.kernelName !== 'AddN') tf.registerKernel({ ...k, backendName: FAULTY });
  }
  const addN = tf.getKernel('AddN', 'cpu')!;
  tf.registerKernel({
    kernelName: 'AddN',
    backendName: FAULTY,
    kernelFunc: (args) => {
      const inputs = args.inputs as unknown as tf.TensorInfo[];
      if (inputs.length < 8) return addN.kernelFunc(args);
      const backend = args.backend as MathBackendCPU;
      return backend.makeTensorInfo(inputs[0].shape, 'float32', new Float32Array(inputs[0].shape.reduce((a, b) => a * b, 1)));
    },
  });
  await tf.setBackend('cpu');
});

afterAll(async () => {
  await tf.setBackend('cpu');
  tf.removeBackend(FAULTY);
});

describe('selfCheck', () => {
  it('passes the cpu backend against itself with no difference at all, and leaves it active without leaking', async () => {
    const before = tf.memory().numTensors;
    const r = await selfCheck('cpu');
    expect(r.failure).toBeUndefined();
    expect(r.tensors).toBeGreaterThanOrEqual(8);
    expect(r.checks.length).toBe(7);
    expect(r.checks.every((c) => c.difference === 0)).toBe(true);
    expect(tf.getBackend()).toBe('cpu');
    expect(tf.memory().numTensors).toBe(before);
    expect(describeSelfCheck(r)).toMatch(/^3 training steps of a small GPT-2 with \d+ trainable tensors .* match the CPU reference \(worst relative difference 0; \d+ ms\)$/);
  });

  it('fails a backend whose many-input AddN returns stale zeros, naming the gradient norm', async () => {
    const r = await selfCheck(FAULTY);
    expect(tf.getBackend()).toBe(FAULTY);
    await tf.setBackend('cpu');
    expect(r.failure).toMatch(/^gradient norm \(step 1\): relative difference 1\.0e\+0 from the CPU reference/);
    // Its loss and gradients agreed; only what went through the faulty kernel did not.
    expect(r.checks.find((c) => c.name === 'loss (step 1)')!.ok).toBe(true);
    expect(r.checks.find((c) => c.name === 'gradients (step 1)')!.ok).toBe(true);
  });
});
