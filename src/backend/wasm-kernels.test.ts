import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmKernels } from './wasm-kernels';

/** The same computation on the cpu backend, as the reference. */
async function onCpu<T>(f: () => Promise<T>): Promise<T> {
  await tf.setBackend('cpu');
  try {
    return await f();
  } finally {
    await tf.setBackend('wasm');
  }
}

beforeAll(async () => {
  registerWasmKernels();
  registerWasmKernels(); // idempotent
  await tf.setBackend('wasm');
  await tf.ready();
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('wasm UnsortedSegmentSum', () => {
  it('sums rows by segment id, dropping out-of-range ids, as the cpu backend does', async () => {
    const run = async () => {
      const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [5, 2]);
      const ids = tf.tensor1d([2, 0, 2, -1, 5], 'int32');
      const y = tf.unsortedSegmentSum(x, ids, 4);
      const out = { shape: y.shape, values: Array.from(await y.data()) };
      tf.dispose([x, ids, y]);
      return out;
    };
    const got = await run();
    expect(got).toEqual({ shape: [4, 2], values: [3, 4, 0, 0, 6, 8, 0, 0] });
    expect(await onCpu(run)).toEqual(got);
  });

  it("makes an embedding lookup's gradient work on wasm, equal to the cpu backend's", async () => {
    const grad = async () => {
      const table = tf.tensor2d(Array.from({ length: 12 }, (_, i) => i / 10), [4, 3]);
      const ids = tf.tensor2d([[1, 3, 1], [0, 1, 2]], [2, 3], 'int32');
      const weights = tf.tensor3d(Array.from({ length: 18 }, (_, i) => (i % 5) - 2), [2, 3, 3]);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), weights)))(table);
      const values = Array.from(await g.data());
      tf.dispose([table, ids, weights, g]);
      return values;
    };
    const before = tf.memory().numTensors;
    const wasmGrad = await grad();
    expect(tf.memory().numTensors).toBe(before);
    expect(wasmGrad).toEqual(await onCpu(grad));
    // Row 1 is looked up three times: its gradient is the sum of those three weight rows,
    // [-2,-1,0] + [-1,0,1] + [0,1,2]; row 3 once: [1,2,-2].
    expect(wasmGrad.slice(3, 6)).toEqual([-3, 0, 3]);
    expect(wasmGrad.slice(9, 12)).toEqual([1, 2, -2]);
  });
});

describe('wasm BatchMatMul with a transposed operand', () => {
  it('multiplies every transpose combination, 2-D, batched and broadcast, as the cpu backend does, leaving no data behind', async () => {
    const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
      { a: [37, 19], b: [23, 19], ta: false, tb: true },
      { a: [19, 37], b: [19, 23], ta: true, tb: false },
      { a: [19, 37], b: [23, 19], ta: true, tb: true },
      { a: [37, 19], b: [19, 23], ta: false, tb: false },
      { a: [2, 3, 17, 8], b: [2, 3, 17, 8], ta: false, tb: true },
      { a: [2, 3, 17, 17], b: [2, 3, 17, 8], ta: true, tb: false },
      // Attention's products: a batch of pairs, plain and transposed.
      { a: [2, 3, 17, 8], b: [2, 3, 8, 17], ta: false, tb: false },
      { a: [2, 3, 17, 17], b: [2, 3, 17, 8], ta: false, tb: false },
      { a: [2, 3, 17, 8], b: [2, 3, 17, 8], ta: true, tb: false },
      // A batch against one matrix, and one matrix against a batch.
      { a: [4, 17, 8], b: [8, 5], ta: false, tb: false },
      { a: [4, 17, 8], b: [1, 5, 8], ta: false, tb: true },
      { a: [17, 8], b: [3, 8, 5], ta: false, tb: false },
      { a: [1, 8, 17], b: [3, 5, 8], ta: true, tb: true },
      // Batch dimensions that broadcast against each other go to the stock kernel.
      { a: [2, 1, 17, 8], b: [1, 3, 8, 5], ta: false, tb: false },
    ];
    for (const c of cases) {
      const run = async () => {
        const a = tf.randomNormal(c.a, 0, 1, 'float32', 7);
        const b = tf.randomNormal(c.b, 0, 1, 'float32', 8);
        const y = tf.matMul(a, b, c.ta, c.tb);
        const out = { shape: y.shape, values: Array.from(await y.data()) };
        tf.dispose([a, b, y]);
        return out;
      };
      const dataBefore = tf.engine().backend.numDataIds();
      const tensorsBefore = tf.memory().numTensors;
      const got = await run();
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      expect(tf.engine().backend.numDataIds()).toBe(dataBefore);
      const want = await onCpu(run);
      expect(got.shape).toEqual(want.shape);
      const worst = Math.max(...got.values.map((v, i) => Math.abs(v - want.values[i])));
      expect(worst, JSON.stringify(c)).toBeLessThan(1e-4);
    }
  });

  it('is registered once, however often the kernels are registered', () => {
    const first = tf.getKernel('BatchMatMul', 'wasm');
    registerWasmKernels();
    expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(first);
  });
});

describe('wasm Identity', () => {
  it('shares the buffer it clones: the clone outlives its source, and the buffer goes with the last tensor', async () => {
    const buffers = () => tf.engine().state.numDataBuffers;
    const before = buffers();
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const y = tf.clone(x);
    expect(buffers() - before).toBe(1);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(y.shape).toEqual([3, 2]);
    y.dispose();
    expect(buffers()).toBe(before);
  });

  it('clones strings with the stock kernel', () => {
    const x = tf.tensor1d(['a', 'bc'], 'string');
    const y = tf.clone(x);
    x.dispose();
    expect(y.dataSync()).toEqual(['a', 'bc']);
    y.dispose();
  });
});
