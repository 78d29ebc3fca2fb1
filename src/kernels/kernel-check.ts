// The fused kernels on a backend against the stock op chains on the cpu backend, kernel by
// kernel, before anything trains: values and every gradient on fixed inputs chosen for what
// breaks such kernels — sizes that are no multiple of a workgroup, ignored labels, logits large
// enough to overflow exp without the row maximum taken out. Part of the backend self-check.
import * as tf from '@tensorflow/tfjs';
import { throwIfGpuErrors } from '../backend/webgpu-kernels';
import { stockGeluNew, stockLayerNorm } from '../models/layers';
import { stockCrossEntropy } from '../train/loss';
import { relativeDifference } from '../train/difference';
import type { ParityCheck } from '../train/parity';
import { canFuseCrossEntropy, fusedCrossEntropy } from './cross-entropy';
import { canFuseGeluNew, fusedGeluNew } from './gelu-new';
import { canFuseLayerNorm, fusedLayerNorm } from './layer-norm';

/** Seeded values in [−spread/2, spread/2) + offset, the same on every backend. */
function values(n: number, seed: number, spread = 1, offset = 0): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648 - 0.5) * spread + offset;
  });
}

interface KernelCase {
  name: string;
  /** Whether the candidate has the fused kernel for this case. */
  fusable(): boolean;
  /** The value and gradients, through the fused op or the stock chain, on the active backend. */
  run(fused: boolean): tf.Tensor[];
}

function layerNormCase(rows: number, C: number): KernelCase {
  return {
    name: `fused LayerNorm [${rows}, ${C}] (y, dx, dγ, dβ)`,
    fusable: () => canFuseLayerNorm(rows),
    run: (fused) => {
      const x = tf.tensor2d(values(rows * C, C, 6, 1.5), [rows, C]);
      const g = tf.tensor1d(values(C, 2, 0.6, 1));
      const b = tf.tensor1d(values(C, 3, 0.6));
      const dy = tf.tensor2d(values(rows * C, 4, 2), [rows, C]);
      const ln = fused ? fusedLayerNorm : stockLayerNorm;
      const y = ln(x, g, b, 1e-5);
      return [y, ...tf.grads((xs: tf.Tensor, gs: tf.Tensor, bs: tf.Tensor) => tf.sum(tf.mul(ln(xs, gs, bs, 1e-5), dy)))([x, g, b])];
    },
  };
}

function crossEntropyCase(rows: number, V: number, spread: number): KernelCase {
  const targets = Int32Array.from(values(rows, V, 2 * V, V), (v) => Math.floor(v) % V);
  const weights = Float32Array.from({ length: rows }, (_, i) => (i % 3 === 2 ? 0 : 1)); // every third row ignored
  for (let i = 0; i < rows; i++) if (weights[i] === 0) targets[i] = 0;
  const count = weights.reduce((a, w) => a + w, 0);
  return {
    name: `fused cross-entropy [${rows}, ${V}], logits ×${spread} (loss, dz)`,
    fusable: () => canFuseCrossEntropy(rows),
    run: (fused) => {
      const z = tf.tensor2d(values(rows * V, rows + V, spread), [rows, V]);
      const ce = fused ? fusedCrossEntropy : stockCrossEntropy;
      const { value, grads } = tf.valueAndGrads((zs: tf.Tensor) => ce(zs as tf.Tensor2D, targets, weights, count))([z]);
      return [value, ...grads];
    },
  };
}

function geluNewCase(n: number): KernelCase {
  return {
    name: `fused gelu_new [${n}], inputs −12..12 (y, dx)`,
    fusable: canFuseGeluNew,
    run: (fused) => {
      const x = tf.tensor1d(values(n, 5, 24));
      const dy = tf.tensor1d(values(n, 6, 2));
      const gelu = fused ? fusedGeluNew : stockGeluNew;
      return [gelu(x), ...tf.grads((xs: tf.Tensor) => tf.sum(tf.mul(gelu(xs), dy)))([x])];
    },
  };
}

const CASES = [layerNormCase(37, 67), layerNormCase(16, 128), crossEntropyCase(13, 257, 4), crossEntropyCase(5, 1031, 2000), geluNewCase(1001)];

/**
 * Runs every case the `candidate` backend has fused kernels for there and through the stock
 * chain on the cpu backend, and compares; `candidate` is active again when this returns. A
 * backend without the kernels has nothing to compare (an empty list).
 */
export async function checkFusedKernels(candidate: string, tolerance: number): Promise<ParityCheck[]> {
  const checks: ParityCheck[] = [];
  const read = async (ts: tf.Tensor[]) => {
    try {
      return await Promise.all(ts.map(async (t) => Float32Array.from((await t.data()) as Float32Array)));
    } finally {
      tf.dispose(ts);
    }
  };
  try {
    for (const c of CASES) {
      await tf.setBackend(candidate);
      if (!c.fusable()) continue;
      const got = await read(tf.tidy(() => c.run(true)));
      throwIfGpuErrors(`the ${c.name} check`);
      await tf.setBackend('cpu');
      const want = await read(tf.tidy(() => c.run(false)));
      const difference = Math.max(...want.map((w, i) => relativeDifference(got[i], w)));
      checks.push({ name: c.name, difference, tolerance, ok: difference <= tolerance, count: want.length });
    }
  } finally {
    await tf.setBackend(candidate);
  }
  return checks;
}
