// The fused kernels against the stock op chains they replace, on the cpu backend and on wasm
// (where they read and write the module's heap): forward values and every gradient on random
// inputs, ignored labels, large logits, sizes that are no multiple of a workgroup, no leaked
// tensors, and a whole training step that updates the weights as the stock chain does.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomGpt2 } from '../models/gpt2-init';
import { layerNorm, stockGeluNew, stockLayerNorm } from '../models/layers';
import type { Hooks } from '../models/types';
import { coerceConfig, getMethod } from '../peft/registry';
import { relativeDifference } from '../train/difference';
import { causalLmLoss, IGNORE_INDEX, stockCrossEntropy } from '../train/loss';
import { readAll, traceSteps } from '../train/parity';
import type { TokenBatch, TrainingSpec } from '../train/trainer';
import { ownedVariable } from '../train/variable';
import { canFuseCrossEntropy, fusedCrossEntropy } from './cross-entropy';
import { canFuseGeluNew, fusedGeluNew } from './gelu-new';
import { canFuseLayerNorm, fusedLayerNorm } from './layer-norm';
import { registerFusedKernels, unregisterFusedKernels, type FusedBackend } from './registry';

/** Float32 round-off over the reductions of a row: the fused and stock results agree to this. */
const TOLERANCE = 2e-6;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});
afterAll(async () => {
  unregisterFusedKernels('cpu');
  unregisterFusedKernels('wasm');
  await tf.setBackend('cpu');
});

/** Values and gradients of `f` (a scalar of `xs`), read back, with the tensors it made disposed. */
async function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Scalar, xs: tf.Tensor[]): Promise<{ value: number; grads: Float32Array[] }> {
  const { value, grads } = tf.valueAndGrads(f)(xs);
  const out = { value: (await value.data())[0], grads: await readAll(grads) };
  tf.dispose([value, ...grads]);
  return out;
}

function randomLabels(n: number, vocab: number, ignoredEvery: number, seed: number): { targets: Int32Array; weights: Float32Array; count: number } {
  let s = seed;
  const targets = new Int32Array(n);
  const weights = new Float32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    if (i % ignoredEvery === ignoredEvery - 1) continue; // an ignored position: target 0, weight 0
    targets[i] = s % vocab;
    weights[i] = 1;
    count++;
  }
  return { targets, weights, count };
}

for (const backend of ['cpu', 'wasm'] as FusedBackend[]) {
  describe(`fused kernels on ${backend}`, () => {
    beforeAll(async () => {
      await tf.setBackend(backend);
      registerFusedKernels(backend);
    });

    it('takes the fused path only where the kernels are registered', async () => {
      expect(canFuseLayerNorm(8)).toBe(true);
      expect(canFuseCrossEntropy(8)).toBe(true);
      expect(canFuseCrossEntropy(70_000)).toBe(false); // more rows than one dispatch dimension may have
      expect(canFuseGeluNew()).toBe(true);
      unregisterFusedKernels(backend);
      expect(canFuseGeluNew()).toBe(false);
      expect(canFuseLayerNorm(8)).toBe(false);
      expect(canFuseCrossEntropy(8)).toBe(false);
      registerFusedKernels(backend);
    });

    for (const [rows, C] of [
      [6, 16],
      [5, 67],
      [3, 130],
    ]) {
      it(`LayerNorm [${rows}, ${C}]: output, dx, dγ and dβ equal the stock chain's`, async () => {
        const x = tf.add(tf.mul(tf.randomNormal([rows, C], 0, 1, 'float32', rows * C), 3), 1.5);
        const g = tf.randomNormal([C], 1, 0.3, 'float32', 2);
        const b = tf.randomNormal([C], 0, 0.3, 'float32', 3);
        const dy = tf.randomNormal([rows, C], 0, 1, 'float32', 4);
        const loss = (ln: typeof layerNorm) => (xs: tf.Tensor, gs: tf.Tensor, bs: tf.Tensor) => tf.sum(tf.mul(ln(xs, gs, bs, 1e-5), dy)) as tf.Scalar;
        const before = tf.memory().numTensors;
        const fused = await valueAndGrads(loss(fusedLayerNorm), [x, g, b]);
        expect(tf.memory().numTensors).toBe(before);
        const stock = await valueAndGrads(loss(stockLayerNorm), [x, g, b]);
        const y = tf.tidy(() => fusedLayerNorm(x, g, b, 1e-5));
        const yStock = tf.tidy(() => stockLayerNorm(x, g, b, 1e-5));
        expect(relativeDifference(await y.data(), await yStock.data())).toBeLessThan(TOLERANCE);
        expect(relativeDifference([fused.value], [stock.value])).toBeLessThan(TOLERANCE);
        for (let i = 0; i < 3; i++) expect(relativeDifference(fused.grads[i], stock.grads[i]), ['dx', 'dγ', 'dβ'][i]).toBeLessThan(TOLERANCE);
        tf.dispose([x, g, b, dy, y, yStock]);
      });
    }

    it('gelu_new [3, 5, 67], inputs from −12 to 12: output and gradient equal the stock chain\'s', async () => {
      const x = tf.mul(tf.randomUniform([3, 5, 67], -1, 1, 'float32', 8), 12);
      const dy = tf.randomNormal([3, 5, 67], 0, 1, 'float32', 9);
      const loss = (f: typeof stockGeluNew) => (xs: tf.Tensor) => tf.sum(tf.mul(f(xs), dy)) as tf.Scalar;
      const before = tf.memory().numTensors;
      const fused = await valueAndGrads(loss(fusedGeluNew), [x]);
      expect(tf.memory().numTensors).toBe(before);
      const stock = await valueAndGrads(loss(stockGeluNew), [x]);
      const y = tf.tidy(() => fusedGeluNew(x));
      const yStock = tf.tidy(() => stockGeluNew(x));
      expect(y.shape).toEqual([3, 5, 67]);
      expect(relativeDifference(await y.data(), await yStock.data())).toBeLessThan(TOLERANCE);
      expect(relativeDifference(fused.grads[0], stock.grads[0])).toBeLessThan(TOLERANCE);
      tf.dispose([x, dy, y, yStock]);
    });

    it('LayerNorm of a [2, 3, C] input keeps its shape and matches a naive per-row reference', async () => {
      const xs = [
        [1, 2, 3, 4],
        [-1, 0, 0, 5],
        [2, 2, 2, 2],
        [0.5, -0.5, 10, 3],
        [7, 1, 1, 1],
        [0, 0, 0, 1e-3],
      ];
      const g = [1, 2, 0.5, -1];
      const b = [0, 0.1, -0.2, 0.3];
      const y = tf.tidy(() => layerNorm(tf.tensor3d(xs.flat(), [2, 3, 4]), tf.tensor1d(g), tf.tensor1d(b), 1e-5));
      expect(y.shape).toEqual([2, 3, 4]);
      const want = xs.flatMap((row) => {
        const mean = row.reduce((a, v) => a + v, 0) / row.length;
        const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / row.length; // biased, as torch
        return row.map((v, c) => ((v - mean) / Math.sqrt(variance + 1e-5)) * g[c] + b[c]);
      });
      expect(relativeDifference(await y.data(), want)).toBeLessThan(TOLERANCE);
      y.dispose();
    });

    for (const [rows, V, spread] of [
      [7, 40, 1],
      [9, 257, 3],
      [4, 1031, 2],
      [6, 300, 1000], // logits in the thousands: exp overflows without the row maximum taken out
    ]) {
      it(`cross-entropy [${rows}, ${V}], logits ×${spread}, every third label ignored: loss and dz equal the stock chain's`, async () => {
        const z = tf.mul(tf.randomNormal([rows, V], 0, 1, 'float32', rows + V), spread) as tf.Tensor2D;
        const { targets, weights, count } = randomLabels(rows, V, 3, V);
        const before = tf.memory().numTensors;
        const fused = await valueAndGrads((zs) => tf.tidy(() => fusedCrossEntropy(zs as tf.Tensor2D, targets, weights, count)), [z]);
        expect(tf.memory().numTensors).toBe(before);
        const stock = await valueAndGrads((zs) => tf.tidy(() => stockCrossEntropy(zs as tf.Tensor2D, targets, weights, count)), [z]);
        expect(Number.isFinite(fused.value)).toBe(true);
        expect(relativeDifference([fused.value], [stock.value])).toBeLessThan(TOLERANCE);
        expect(relativeDifference(fused.grads[0], stock.grads[0])).toBeLessThan(TOLERANCE);
        // An ignored row has no gradient at all.
        expect(Array.from(fused.grads[0].subarray(2 * V, 3 * V)).every((v) => v === 0)).toBe(true);
        z.dispose();
      });
    }

    it('cross-entropy equals −log softmax at the target, averaged over the counted rows', async () => {
      const z = [
        [1, 2, 3],
        [0, 0, 0],
        [5, -5, 1],
      ];
      const targets = Int32Array.from([2, 1, 0]);
      const weights = Float32Array.from([1, 0, 1]);
      const loss = tf.tidy(() => fusedCrossEntropy(tf.tensor2d(z), targets, weights, 2));
      const nll = (row: number[], t: number) => Math.log(row.reduce((a, v) => a + Math.exp(v), 0)) - row[t];
      expect(relativeDifference(await loss.data(), [(nll(z[0], 2) + nll(z[2], 0)) / 2])).toBeLessThan(TOLERANCE);
      loss.dispose();
    });

    it('a training step (LoRA, LayerNorm γ and β, gelu_new, every label path) updates the weights as the stock chain does', async () => {
      const run = async (fused: boolean) => {
        if (fused) registerFusedKernels(backend);
        else unregisterFusedKernels(backend);
        const model = randomGpt2('fused-step', { n_layer: 2, n_embd: 24, n_head: 2, n_positions: 32, vocab_size: 97 }, 5);
        const lora = getMethod('lora');
        const adapter = lora.create(model, coerceConfig(lora, model.info, { r: 2, lora_alpha: 4, target_modules: ['c_attn', 'c_fc'] }), 3);
        const lnNames = ['transformer.h.0.ln_1.weight', 'transformer.h.1.ln_2.bias', 'transformer.ln_f.weight', 'transformer.ln_f.bias'];
        const ln = new Map(lnNames.map((n) => [n, ownedVariable(tf.add(model.weights.get(n)!, 0.01))]));
        const hooks = (training: boolean): Hooks => ({ ...adapter.hooks(training), param: (name, frozen) => ln.get(name) ?? frozen });
        // LoRA's B starts at zero: give every variable a value that makes every gradient flow.
        for (const [i, v] of adapter.variables.entries()) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 10 + i));
        const spec: TrainingSpec = {
          variables: [...adapter.variables, ...ln.values()],
          stepLoss: (b) => () => {
            const { logits, prepended } = model.forward(tf.tensor2d(b.ids, [b.batch, b.length], 'int32'), hooks(true), { training: true });
            return { total: causalLmLoss(logits, b.labels, prepended).loss };
          },
          evaluate: async () => NaN,
          noun: 'step',
        };
        const batches: TokenBatch[] = [0, 1].map((s) => {
          const ids = Int32Array.from({ length: 3 * 11 }, (_, i) => (i * 13 + s * 7 + 1) % 97);
          const labels = Int32Array.from(ids);
          for (let i = 26; i < 33; i++) labels[i] = IGNORE_INDEX; // the last row padded
          return { ids, labels, batch: 3, length: 11 };
        });
        const before = tf.memory().numTensors;
        const trace = await traceSteps(spec, [], batches, { totalSteps: 2, learningRate: 0.01, warmupSteps: 0, weightDecay: 0.01, maxGradNorm: 1 });
        const leaked = tf.memory().numTensors - before;
        adapter.dispose();
        for (const v of ln.values()) v.dispose();
        model.dispose();
        return { trace, leaked };
      };
      const stock = await run(false);
      const fused = await run(true);
      expect(fused.leaked).toBe(0);
      expect(relativeDifference(fused.trace.losses, stock.trace.losses)).toBeLessThan(1e-5);
      expect(fused.trace.firstGrads).toHaveLength(stock.trace.firstGrads.length);
      fused.trace.firstGrads.forEach((g, i) => expect(relativeDifference(g, stock.trace.firstGrads[i]), `gradient ${i}`).toBeLessThan(1e-5));
      fused.trace.firstUpdate.forEach((w, i) => expect(relativeDifference(w, stock.trace.firstUpdate[i]), `update ${i}`).toBeLessThan(1e-5));
      fused.trace.final.forEach((w, i) => expect(relativeDifference(w, stock.trace.final[i]), `weights ${i}`).toBeLessThan(1e-5));
    });
  });
}
