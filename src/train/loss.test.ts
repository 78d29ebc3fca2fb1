// Causal-LM loss against a naive reference: Hugging Face's shift (logits at t predict the
// label at t+1), -100 ignored, mean over counted tokens; with virtual tokens in front, the
// labels are padded with -100 for them first (as PEFT does), so the last virtual position
// predicts the first real label. Masked-LM loss against its own naive reference: no shift, the
// logits at each real position against the label there, virtual tokens in front predicting nothing.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/random';
import { causalLmLoss, IGNORE_INDEX, maskedLmLoss, shiftLabels } from './loss';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const X = IGNORE_INDEX;

function randomLogits(b: number, t: number, v: number, seed: number, scale = 3): Float32Array {
  const r = mulberry32(seed);
  const a = new Float32Array(b * t * v);
  for (let i = 0; i < a.length; i++) a[i] = scale * (2 * r() - 1);
  return a;
}

/**
 * Naive reference over [B, total, V] logits: pads each row's labels with `prepended` ignored
 * entries, shifts, and averages -log softmax over the non-ignored targets. Also returns the
 * analytic gradient w.r.t. the logits, (softmax − onehot) / count at counted positions.
 */
function naive(
  logits: Float32Array,
  labels: number[][],
  b: number,
  total: number,
  v: number,
  prepended: number,
): { loss: number; count: number; grad: Float64Array } {
  let sum = 0;
  let count = 0;
  const grad = new Float64Array(b * total * v);
  const counted: [number, number, number][] = [];
  for (let r = 0; r < b; r++) {
    const full = [...Array(prepended).fill(X), ...labels[r]];
    expect(full.length).toBe(total);
    for (let p = 0; p < total - 1; p++) {
      const y = full[p + 1];
      if (y === X) continue;
      const row = logits.subarray((r * total + p) * v, (r * total + p + 1) * v);
      let mx = -Infinity;
      for (let k = 0; k < v; k++) mx = Math.max(mx, row[k]);
      let z = 0;
      for (let k = 0; k < v; k++) z += Math.exp(row[k] - mx);
      sum += mx + Math.log(z) - row[y];
      count++;
      counted.push([r, p, y]);
    }
  }
  for (const [r, p, y] of counted) {
    const off = (r * total + p) * v;
    let mx = -Infinity;
    for (let k = 0; k < v; k++) mx = Math.max(mx, logits[off + k]);
    let z = 0;
    for (let k = 0; k < v; k++) z += Math.exp(logits[off + k] - mx);
    for (let k = 0; k < v; k++) grad[off + k] += (Math.exp(logits[off + k] - mx) / z - (k === y ? 1 : 0)) / count;
  }
  return { loss: count ? sum / count : 0, count, grad };
}

function engine(logits: Float32Array, labels: number[][], b: number, total: number, v: number, prepended: number) {
  const x = tf.tensor3d(logits, [b, total, v]);
  const flat = Int32Array.from(labels.flat());
  let tokens = -1;
  const { value, grad: grads } = tf.valueAndGrad((l: tf.Tensor) => {
    const r = causalLmLoss(l as tf.Tensor3D, flat, prepended);
    tokens = r.tokens;
    return r.loss;
  })(x);
  const out = { loss: value.dataSync()[0], grad: grads.dataSync() as Float32Array, tokens };
  x.dispose();
  value.dispose();
  grads.dispose();
  return out;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return Number.isNaN(m) ? Infinity : m;
}

describe('causalLmLoss', () => {
  const B = 3;
  const T = 6;
  const V = 7;
  const LABELS = [
    [1, 4, 6, 0, 2, 5],
    [3, 3, 2, X, X, X], // right padding
    [X, X, 5, 1, 0, 6], // prompt masked (completion-only loss)
  ];

  it('equals the naive shifted mean cross-entropy with -100 ignored', () => {
    const logits = randomLogits(B, T, V, 1);
    const ref = naive(logits, LABELS, B, T, V, 0);
    const got = engine(logits, LABELS, B, T, V, 0);
    // row 0: 5 targets, row 1: 2, row 2: 4 (labels 1..5 of the row)
    expect(ref.count).toBe(11);
    expect(got.tokens).toBe(11);
    expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5);
    expect(ref.loss).toBeGreaterThan(0.5);
  });

  it('gradient w.r.t. logits is (softmax − onehot)/count at counted positions, 0 elsewhere', () => {
    const logits = randomLogits(B, T, V, 2);
    const ref = naive(logits, LABELS, B, T, V, 0);
    const got = engine(logits, LABELS, B, T, V, 0);
    expect(maxAbs(got.grad, ref.grad)).toBeLessThan(1e-6);
    // the last position of every row predicts nothing
    for (let r = 0; r < B; r++) for (let k = 0; k < V; k++) expect(got.grad[(r * T + T - 1) * V + k]).toBe(0);
  });

  it('gradient agrees with central finite differences of the naive loss', () => {
    const logits = randomLogits(B, T, V, 3);
    const got = engine(logits, LABELS, B, T, V, 0);
    const h = 1e-3;
    for (const idx of [0, 5, V + 3, (1 * T + 1) * V + 2, (1 * T + 3) * V + 1, (2 * T + 1) * V + 5, (2 * T + 4) * V]) {
      const plus = Float32Array.from(logits);
      const minus = Float32Array.from(logits);
      plus[idx] += h;
      minus[idx] -= h;
      // divide by the float32 step actually taken, not 2h
      const fd = (naive(plus, LABELS, B, T, V, 0).loss - naive(minus, LABELS, B, T, V, 0).loss) / (plus[idx] - minus[idx]);
      expect(Math.abs(got.grad[idx] - fd)).toBeLessThan(1e-5);
    }
  });

  it('passes the upstream gradient through (d(3·loss) = 3·d(loss))', () => {
    const logits = randomLogits(B, T, V, 4);
    const x = tf.tensor3d(logits, [B, T, V]);
    const g = tf.grad((l: tf.Tensor) => tf.mul(causalLmLoss(l as tf.Tensor3D, Int32Array.from(LABELS.flat())).loss, 3))(x);
    const ref = naive(logits, LABELS, B, T, V, 0);
    expect(maxAbs(g.dataSync(), ref.grad.map((v) => 3 * v))).toBeLessThan(3e-6);
    x.dispose();
    g.dispose();
  });

  it.each([1, 3])('with %i prepended virtual tokens the last virtual position predicts the first real label', (n) => {
    const total = n + T;
    const logits = randomLogits(B, total, V, 10 + n);
    const ref = naive(logits, LABELS, B, total, V, n);
    const got = engine(logits, LABELS, B, total, V, n);
    // row 0: 6 targets (label 0 included now), row 1: 3, row 2: 4
    expect(ref.count).toBe(13);
    expect(got.tokens).toBe(13);
    expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5);
    expect(maxAbs(got.grad, ref.grad)).toBeLessThan(1e-6);
    // row 0's last virtual position (n-1) carries gradient; earlier virtual positions none
    let last = 0;
    for (let k = 0; k < V; k++) last += Math.abs(got.grad[(n - 1) * V + k]);
    expect(last).toBeGreaterThan(1e-3);
    for (let p = 0; p < n - 1; p++) for (let k = 0; k < V; k++) expect(got.grad[p * V + k]).toBe(0);
  });

  it('an all-ignored batch gives loss 0 and zero gradient, no NaN', () => {
    const labels = [
      [X, X, X, X, X, X],
      [X, X, X, X, X, X],
      [7 % V, X, X, X, X, X], // only the first label, which no position predicts
    ];
    const logits = randomLogits(B, T, V, 5);
    for (const n of [0, 2]) {
      const total = n + T;
      const l = n ? randomLogits(B, total, V, 6) : logits;
      const got = engine(l, n ? labels.map((r) => r.map(() => X)) : labels, B, total, V, n);
      expect(got.tokens).toBe(0);
      expect(got.loss).toBe(0);
      expect(got.grad.every((g) => g === 0)).toBe(true);
    }
  });

  it('a confident correct prediction gives ~0 loss, a confident wrong one a large loss', () => {
    const V2 = 4;
    const logits = new Float32Array(1 * 2 * V2);
    logits[2] = 30; // position 0 strongly predicts id 2
    const good = engine(logits, [[0, 2]], 1, 2, V2, 0);
    const bad = engine(logits, [[0, 1]], 1, 2, V2, 0);
    expect(good.loss).toBeLessThan(1e-6);
    expect(Math.abs(bad.loss - 30)).toBeLessThan(1e-4);
  });

  it('leaves no tensors behind inside tf.tidy', () => {
    const logits = randomLogits(B, T, V, 7);
    const x = tf.tensor3d(logits, [B, T, V]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      causalLmLoss(x, Int32Array.from(LABELS.flat())).loss;
    });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('shiftLabels', () => {
  it('targets labels 1..T-1 without virtual tokens and 0..T-1 with them', () => {
    const labels = Int32Array.from([5, 6, X, 8]);
    const a = shiftLabels(labels, 1, 4, 0);
    expect(Array.from(a.targets)).toEqual([6, 0, 8]);
    expect(Array.from(a.weights)).toEqual([1, 0, 1]);
    expect(a).toMatchObject({ count: 2, start: 0, perRow: 3 });
    const b = shiftLabels(labels, 1, 4, 3);
    expect(Array.from(b.targets)).toEqual([5, 6, 0, 8]);
    expect(Array.from(b.weights)).toEqual([1, 1, 0, 1]);
    expect(b).toMatchObject({ count: 3, start: 2, perRow: 4 });
  });
});

/**
 * Naive masked-LM reference over [B, prepended+T, V] logits: the mean −log softmax at every
 * real position p (after the virtual ones) whose label is not ignored, against the label at p
 * itself; and the analytic gradient (softmax − onehot) / count there, 0 elsewhere.
 */
function naiveMasked(logits: Float32Array, labels: number[][], b: number, total: number, v: number, prepended: number) {
  let sum = 0;
  let count = 0;
  const grad = new Float64Array(b * total * v);
  const counted: [number, number][] = [];
  for (let r = 0; r < b; r++) {
    for (let t = 0; t < total - prepended; t++) {
      const y = labels[r][t];
      if (y === X) continue;
      const off = (r * total + prepended + t) * v;
      let mx = -Infinity;
      for (let k = 0; k < v; k++) mx = Math.max(mx, logits[off + k]);
      let z = 0;
      for (let k = 0; k < v; k++) z += Math.exp(logits[off + k] - mx);
      sum += mx + Math.log(z) - logits[off + y];
      count++;
      counted.push([off, y]);
    }
  }
  for (const [off, y] of counted) {
    let mx = -Infinity;
    for (let k = 0; k < v; k++) mx = Math.max(mx, logits[off + k]);
    let z = 0;
    for (let k = 0; k < v; k++) z += Math.exp(logits[off + k] - mx);
    for (let k = 0; k < v; k++) grad[off + k] += (Math.exp(logits[off + k] - mx) / z - (k === y ? 1 : 0)) / count;
  }
  return { loss: count ? sum / count : 0, count, grad };
}

function engineMasked(logits: Float32Array, labels: number[][], b: number, total: number, v: number, prepended: number) {
  const x = tf.tensor3d(logits, [b, total, v]);
  let tokens = -1;
  const { value, grad } = tf.valueAndGrad((l: tf.Tensor) => {
    const r = maskedLmLoss(l as tf.Tensor3D, Int32Array.from(labels.flat()), prepended);
    tokens = r.tokens;
    return r.loss;
  })(x);
  const out = { loss: value.dataSync()[0], grad: grad.dataSync() as Float32Array, tokens };
  x.dispose();
  value.dispose();
  grad.dispose();
  return out;
}

describe('maskedLmLoss', () => {
  const B = 3;
  const T = 6;
  const V = 7;
  // Labels only where tokens were masked; the first label of a row counts (no shift).
  const LABELS = [
    [4, X, X, 0, X, X],
    [X, X, 2, X, X, X],
    [X, X, X, X, X, 6],
  ];

  it('equals the naive unshifted mean cross-entropy over the labelled positions, gradient included', () => {
    const logits = randomLogits(B, T, V, 21);
    const ref = naiveMasked(logits, LABELS, B, T, V, 0);
    const got = engineMasked(logits, LABELS, B, T, V, 0);
    expect(ref.count).toBe(4);
    expect(got.tokens).toBe(4);
    expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5);
    expect(maxAbs(got.grad, ref.grad)).toBeLessThan(1e-6);
    // It is not the causal loss on the same labels (which would read each label one position earlier).
    expect(Math.abs(engine(logits, LABELS, B, T, V, 0).loss - got.loss)).toBeGreaterThan(1e-3);
  });

  it.each([1, 3])('with %i prepended virtual tokens, those predict nothing and the labels align with the real positions', (n) => {
    const total = n + T;
    const logits = randomLogits(B, total, V, 30 + n);
    const ref = naiveMasked(logits, LABELS, B, total, V, n);
    const got = engineMasked(logits, LABELS, B, total, V, n);
    expect(got.tokens).toBe(4);
    expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5);
    expect(maxAbs(got.grad, ref.grad)).toBeLessThan(1e-6);
    for (let r = 0; r < B; r++) for (let p = 0; p < n; p++) for (let k = 0; k < V; k++) expect(got.grad[(r * total + p) * V + k]).toBe(0);
  });

  it('gradient agrees with central finite differences of the naive loss', () => {
    const logits = randomLogits(B, T, V, 23);
    const got = engineMasked(logits, LABELS, B, T, V, 0);
    const h = 1e-3;
    for (const idx of [0, 3, 3 * V + 1, (T + 2) * V + 4, (2 * T + 5) * V + 6]) {
      const plus = Float32Array.from(logits);
      const minus = Float32Array.from(logits);
      plus[idx] += h;
      minus[idx] -= h;
      const fd = (naiveMasked(plus, LABELS, B, T, V, 0).loss - naiveMasked(minus, LABELS, B, T, V, 0).loss) / (plus[idx] - minus[idx]);
      expect(Math.abs(got.grad[idx] - fd)).toBeLessThan(1e-5);
    }
  });

  it('an unlabelled batch gives loss 0 and zero gradient; a label count that does not fit is refused', () => {
    const none = LABELS.map((r) => r.map(() => X));
    const got = engineMasked(randomLogits(B, T, V, 24), none, B, T, V, 0);
    expect(got).toMatchObject({ tokens: 0, loss: 0 });
    expect(got.grad.every((g) => g === 0)).toBe(true);
    const x = tf.tensor3d(randomLogits(B, T, V, 25), [B, T, V]);
    expect(() => maskedLmLoss(x, new Int32Array(B * (T - 1)))).toThrow(/15 labels for 3×6 positions/);
    x.dispose();
  });

  it('leaves no tensors behind inside tf.tidy', () => {
    const x = tf.tensor3d(randomLogits(B, T, V, 26), [B, T, V]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      maskedLmLoss(x, Int32Array.from(LABELS.flat())).loss;
    });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
