// The self-check's kernel cases: a backend whose fused kernels agree with the stock ops passes
// and says so; one whose fused cross-entropy gradient is wrong fails, naming that kernel.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { registerWasmKernels } from '../backend/wasm-kernels';
import { describeSelfCheck, selfCheck } from '../train/self-check';
import { CROSS_ENTROPY_GRAD } from './cross-entropy';
import { registerFusedKernels, unregisterFusedKernels } from './registry';

const FAULTY = 'cpu-with-halved-ce-gradient';

afterAll(async () => {
  unregisterFusedKernels('wasm');
  await tf.setBackend('cpu');
  tf.removeBackend(FAULTY);
});

describe('selfCheck with fused kernels', () => {
  it('passes wasm with its fused kernels, each compared with the stock ops on cpu, without leaking', async () => {
    registerWasmKernels();
    registerFusedKernels('wasm');
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const r = await selfCheck('wasm');
    expect(r.failure).toBeUndefined();
    expect(r.kernels).toBe(5);
    expect(r.checks.slice(0, 5).map((c) => c.name)).toEqual([
      'fused LayerNorm [37, 67] (y, dx, dγ, dβ)',
      'fused LayerNorm [16, 128] (y, dx, dγ, dβ)',
      'fused cross-entropy [13, 257], logits ×4 (loss, dz)',
      'fused cross-entropy [5, 1031], logits ×2000 (loss, dz)',
      'fused gelu_new [1001], inputs −12..12 (y, dx)',
    ]);
    expect(r.checks.every((c) => c.ok && c.difference < 1e-5)).toBe(true);
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.memory().numTensors).toBe(before);
    expect(describeSelfCheck(r)).toMatch(/match the CPU reference, as do the fused LayerNorm, cross-entropy and gelu_new kernels against the stock ops \(5 cases\)/);
  });

  it('fails a backend whose fused cross-entropy gradient is wrong, naming that kernel', async () => {
    // The cpu backend's kernels, its fused ones included, under another name; cpu itself stays stock.
    tf.registerBackend(FAULTY, () => new MathBackendCPU());
    registerFusedKernels('cpu');
    for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: FAULTY });
    unregisterFusedKernels('cpu');
    const grad = tf.getKernel(CROSS_ENTROPY_GRAD, FAULTY)!;
    tf.unregisterKernel(CROSS_ENTROPY_GRAD, FAULTY);
    tf.registerKernel({
      kernelName: CROSS_ENTROPY_GRAD,
      backendName: FAULTY,
      kernelFunc: (args) => {
        const out = grad.kernelFunc(args) as tf.TensorInfo;
        const backend = args.backend as MathBackendCPU;
        const halved = (backend.readSync(out.dataId) as Float32Array).map((v) => v / 2);
        backend.disposeData(out.dataId);
        return backend.makeTensorInfo(out.shape, 'float32', halved);
      },
    });
    const r = await selfCheck(FAULTY);
    expect(tf.getBackend()).toBe(FAULTY);
    expect(r.failure).toMatch(/^fused cross-entropy \[13, 257\], logits ×4 \(loss, dz\): relative difference 5\.0e-1 from the CPU reference, above the tolerance of 1\.0e-4$/);
  });
});
