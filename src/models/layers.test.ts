import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gelu, geluNew, layerNorm } from './layers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const xs = [-3, -1.5, -0.2, 0, 0.3, 1, 2.5];

describe('activations', () => {
  it('geluNew is 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))', async () => {
    const got = await geluNew(tf.tensor1d(xs)).data();
    xs.forEach((x, i) => expect(got[i]).toBeCloseTo(0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))), 6));
  });

  it('gelu is x·Φ(x), with Φ the standard normal CDF (checked at known values)', async () => {
    const got = await gelu(tf.tensor1d([-1, 0, 1, 2])).data();
    // Φ(1) = 0.8413447, Φ(2) = 0.9772499
    expect(Array.from(got).map((v) => Number(v.toFixed(5)))).toEqual([-0.15866, 0, 0.84134, 1.9545]);
  });
});

describe('layerNorm', () => {
  it('normalises the last axis with the biased variance, then scales and shifts', async () => {
    const rows = [
      [1, 2, 3, 4],
      [-2, 0.5, 0.5, 7],
    ];
    const g = [1, 2, 0.5, -1];
    const b = [0, 1, -1, 0.25];
    const got = await layerNorm(tf.tensor2d(rows), tf.tensor1d(g), tf.tensor1d(b), 1e-5).data();
    rows.forEach((r, i) => {
      const mean = r.reduce((s, v) => s + v, 0) / r.length;
      const variance = r.reduce((s, v) => s + (v - mean) ** 2, 0) / r.length;
      r.forEach((v, j) => expect(got[i * 4 + j]).toBeCloseTo(((v - mean) / Math.sqrt(variance + 1e-5)) * g[j] + b[j], 5));
    });
  });
});
