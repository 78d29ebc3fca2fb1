// AdamW and global-norm clipping against naive references of torch.optim.AdamW and
// torch.nn.utils.clip_grad_norm_, written with plain loops over Float64Arrays.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/random';
import { ADAMW_DEFAULTS, AdamW, globalNormClip, type AdamWOptions } from './adamw';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function uniform(seed: number, n: number, scale: number): Float32Array {
  const r = mulberry32(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * (2 * r() - 1);
  return a;
}

/**
 * torch.optim.AdamW (amsgrad off, maximize off), one parameter tensor, as its _single_tensor_adamw:
 *   param.mul_(1 - lr * weight_decay)
 *   exp_avg.lerp_(grad, 1 - beta1); exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
 *   step_size = lr / (1 - beta1**t)
 *   denom = (exp_avg_sq.sqrt() / sqrt(1 - beta2**t)).add_(eps)
 *   param.addcdiv_(exp_avg, denom, value=-step_size)
 * `epsInsideSqrt` gives a deliberately wrong variant, used to show the test can tell them apart.
 */
class NaiveAdamW {
  t = 0;
  m: Float64Array;
  v: Float64Array;
  p: Float64Array;
  constructor(
    init: Float32Array,
    private o: AdamWOptions,
    private epsInsideSqrt = false,
  ) {
    this.p = Float64Array.from(init);
    this.m = new Float64Array(init.length);
    this.v = new Float64Array(init.length);
  }
  step(g: ArrayLike<number>, lr: number) {
    this.t++;
    const { beta1, beta2, epsilon, weightDecay } = this.o;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    for (let i = 0; i < this.p.length; i++) {
      this.p[i] *= 1 - lr * weightDecay;
      this.m[i] = beta1 * this.m[i] + (1 - beta1) * g[i];
      this.v[i] = beta2 * this.v[i] + (1 - beta2) * g[i] * g[i];
      const denom = this.epsInsideSqrt ? Math.sqrt(this.v[i] / bc2 + epsilon) : Math.sqrt(this.v[i]) / Math.sqrt(bc2) + epsilon;
      this.p[i] -= (lr / bc1) * (this.m[i] / denom);
    }
  }
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return Number.isNaN(m) ? Infinity : m;
}

const SHAPES = [[3, 4], [5]];
const LRS = [1e-2, 2e-2, 3e-2, 1.5e-2, 5e-3];

/** Runs 5 AdamW steps in tfjs and in the naive reference; returns the worst difference. */
function runBoth(opts: AdamWOptions, gradScale: number, seed: number) {
  const inits = SHAPES.map((s, i) => uniform(seed + i, s.reduce((a, b) => a * b, 1), 1));
  const vars = SHAPES.map((s, i) => tf.variable(tf.tensor(inits[i], s)));
  const naive = inits.map((x) => new NaiveAdamW(x, opts));
  const wrongEps = inits.map((x) => new NaiveAdamW(x, opts, true));
  const coupled = inits.map((x) => new NaiveAdamW(x, { ...opts, weightDecay: 0 }));
  const opt = new AdamW(vars, opts);
  for (let step = 0; step < LRS.length; step++) {
    const gs = SHAPES.map((s, i) => {
      const g = uniform(1000 * (step + 1) + seed + i, s.reduce((a, b) => a * b, 1), gradScale);
      if (step === 1) g[0] = 0; // a zero gradient mid-run
      return g;
    });
    tf.tidy(() => opt.apply(gs.map((g, i) => tf.tensor(g, SHAPES[i])), LRS[step]));
    naive.forEach((n, i) => n.step(gs[i], LRS[step]));
    wrongEps.forEach((n, i) => n.step(gs[i], LRS[step]));
    // L2-coupled decay (Adam with weight_decay): g + λ·p, no decoupled shrink
    coupled.forEach((n, i) => n.step(Array.from(gs[i], (g, k) => g + opts.weightDecay * n.p[k]), LRS[step]));
  }
  expect(opt.stepCount).toBe(5);
  const got = vars.map((v) => v.dataSync());
  const diff = Math.max(...got.map((g, i) => maxAbs(g, naive[i].p)));
  const diffWrongEps = Math.max(...got.map((g, i) => maxAbs(g, wrongEps[i].p)));
  const diffCoupled = Math.max(...got.map((g, i) => maxAbs(g, coupled[i].p)));
  const moved = Math.max(...got.map((g, i) => maxAbs(g, inits[i])));
  opt.dispose();
  vars.forEach((v) => v.dispose());
  return { diff, diffWrongEps, diffCoupled, moved };
}

describe('AdamW', () => {
  it('matches torch.optim.AdamW over 5 steps with default hyper-parameters', () => {
    const r = runBoth(ADAMW_DEFAULTS, 0.5, 1);
    expect(r.moved).toBeGreaterThan(1e-2);
    expect(r.diff).toBeLessThan(1e-6);
  });

  it('matches with large eps, strong weight decay and small gradients (eps outside the sqrt, decoupled decay)', () => {
    const opts = { beta1: 0.8, beta2: 0.95, epsilon: 1e-3, weightDecay: 0.3 };
    const r = runBoth(opts, 1e-3, 2);
    expect(r.diff).toBeLessThan(1e-6);
    // the same test would catch eps inside the sqrt and L2-coupled decay
    expect(r.diffWrongEps).toBeGreaterThan(1e-4);
    expect(r.diffCoupled).toBeGreaterThan(1e-4);
  });

  it('without weight decay', () => {
    const r = runBoth({ ...ADAMW_DEFAULTS, weightDecay: 0 }, 2, 3);
    expect(r.diff).toBeLessThan(1e-6);
  });

  it('holds state only for the params it was given and leaves other variables alone', () => {
    const a = tf.variable(tf.tensor2d(uniform(4, 6, 1), [2, 3]));
    const b = tf.variable(tf.tensor1d(uniform(5, 4, 1)));
    const other = tf.variable(tf.tensor1d(uniform(6, 7, 1)));
    const otherBefore = other.dataSync().slice();
    const before = tf.memory();
    const nVars = () => Object.keys(tf.engine().state.registeredVariables).length;
    const varsBefore = nVars();
    const opt = new AdamW([a, b]);
    const after = tf.memory();
    // m and v for a (6 floats) and b (4 floats): 4 tensors, 2·(6+4)·4 bytes
    expect(after.numTensors - before.numTensors).toBe(4);
    expect(after.numBytes - before.numBytes).toBe(2 * (6 + 4) * 4);
    expect(nVars() - varsBefore).toBe(4);
    tf.tidy(() => opt.apply([tf.onesLike(a), tf.onesLike(b)], 0.1));
    expect(Array.from(other.dataSync())).toEqual(Array.from(otherBefore));
    // first step with g = 1: m̂ = 1, v̂ = 1 → p ← p(1 − lr·λ) − lr/(1 + ε)
    const a0 = uniform(4, 6, 1);
    const got = a.dataSync();
    for (let i = 0; i < 6; i++) expect(Math.abs(got[i] - (a0[i] * (1 - 0.1 * 0.01) - 0.1 / (1 + 1e-8)))).toBeLessThan(1e-6);
    opt.dispose();
    expect(nVars()).toBe(varsBefore);
    [a, b, other].forEach((v) => v.dispose());
  });

  it('leaks no tensors: apply inside tf.tidy keeps the count flat, dispose() returns it', () => {
    const vars = SHAPES.map((s, i) => tf.variable(tf.tensor(uniform(i, s.reduce((x, y) => x * y, 1), 1), s)));
    const start = tf.memory().numTensors;
    const opt = new AdamW(vars, { ...ADAMW_DEFAULTS, weightDecay: 0.1 });
    const afterCreate = tf.memory().numTensors;
    expect(afterCreate - start).toBe(2 * vars.length);
    for (let s = 0; s < 3; s++) {
      tf.tidy(() => opt.apply(vars.map((v) => tf.randomNormal(v.shape)), 1e-2));
      expect(tf.memory().numTensors).toBe(afterCreate);
    }
    // the trainer's step: gradients, clipping and the update in one tidy
    for (let s = 0; s < 3; s++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.addN(vars.map((v) => tf.sum(tf.square(v)))) as tf.Scalar, vars);
        const clip = globalNormClip(vars.map((v) => grads[v.name]), 1);
        opt.apply(vars.map((v) => grads[v.name]), 1e-2, clip.coefficient);
      });
      expect(tf.memory().numTensors).toBe(afterCreate);
    }
    opt.dispose();
    expect(tf.memory().numTensors).toBe(start);
    vars.forEach((v) => v.dispose());
  });
});

describe('AdamW.apply memory', () => {
  it("holds one parameter's temporaries at a time, and a scaled update equals clipping first, bit for bit", async () => {
    const N = 8;
    const SIZE = 10_000;
    const make = () => Array.from({ length: N }, (_, i) => tf.variable(tf.tensor1d(uniform(20 + i, SIZE, 1))));
    const grads = Array.from({ length: N }, (_, i) => tf.tensor1d(uniform(40 + i, SIZE, 5)));
    const scaled = make();
    const clippedFirst = make();
    const a = new AdamW(scaled);
    const b = new AdamW(clippedFirst);
    const coefficient = tf.scalar(0.37);
    const before = tf.memory().numBytes;
    const profile = await tf.profile(() => tf.tidy(() => a.apply(grads, 1e-2, coefficient)));
    // One parameter's update makes 16 tensors its size; all eight parameters' at once would be 128.
    expect(profile.peakBytes - before).toBeLessThanOrEqual(16 * SIZE * 4);
    tf.tidy(() => b.apply(grads.map((g) => tf.mul(g, coefficient)), 1e-2));
    for (let i = 0; i < N; i++) expect(Buffer.from(scaled[i].dataSync().buffer).equals(Buffer.from(clippedFirst[i].dataSync().buffer))).toBe(true);
    tf.dispose([...grads, coefficient, ...scaled, ...clippedFirst]);
    a.dispose();
    b.dispose();
  });
});

describe('globalNormClip', () => {
  const arrays = [uniform(11, 12, 2), uniform(12, 5, 3), Float32Array.from([3, -4])];
  const naiveNorm = () => Math.sqrt(arrays.reduce((s, a) => s + a.reduce((t, x) => t + x * x, 0), 0));

  function clip(maxNorm: number) {
    return tf.tidy(() => {
      const grads = arrays.map((a) => tf.tensor1d(a));
      const r = globalNormClip(grads, maxNorm);
      // The gradients as AdamW.apply scales them.
      const scaled = r.coefficient ? grads.map((g) => tf.mul(g, r.coefficient!)) : grads;
      return { coefficient: r.coefficient?.dataSync()[0], values: scaled.map((g) => g.dataSync().slice()), norm: r.norm.dataSync()[0] };
    });
  }

  it('returns the naive global L2 norm', () => {
    const n = naiveNorm();
    expect(n).toBeGreaterThan(5);
    for (const maxNorm of [0, 1, 1e6]) expect(Math.abs(clip(maxNorm).norm - n) / n).toBeLessThan(1e-6);
  });

  it('scales every gradient by maxNorm / (norm + 1e-6) above the threshold', () => {
    const n = naiveNorm();
    const r = clip(1);
    const coef = 1 / (n + 1e-6);
    r.values.forEach((v, i) => expect(maxAbs(v, Array.from(arrays[i], (x) => x * coef))).toBeLessThan(1e-7));
    let sq = 0;
    for (const v of r.values) for (const x of v) sq += x * x;
    expect(Math.abs(Math.sqrt(sq) - 1)).toBeLessThan(1e-5);
  });

  it('adds 1e-6 to the norm in the coefficient, as torch does (visible for tiny norms)', () => {
    const tiny = [Float32Array.from([3e-4, -4e-4]), Float32Array.from([1.2e-3])]; // norm 1.3e-3
    const out = tf.tidy(() => {
      const grads = tiny.map((a) => tf.tensor1d(a));
      const { coefficient } = globalNormClip(grads, 1e-4);
      return grads.map((g) => tf.mul(g, coefficient!).dataSync().slice());
    });
    const coef = 1e-4 / (1.3e-3 + 1e-6);
    const withoutEps = 1e-4 / 1.3e-3;
    out.forEach((v, i) =>
      v.forEach((x, k) => {
        expect(Math.abs(x / (tiny[i][k] * coef) - 1)).toBeLessThan(1e-5);
        expect(Math.abs(x / (tiny[i][k] * withoutEps) - 1)).toBeGreaterThan(5e-4);
      }),
    );
  });

  it('leaves gradients unscaled below the threshold (coefficient 1)', () => {
    const r = clip(naiveNorm() * 2);
    expect(r.coefficient).toBe(1);
    r.values.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(arrays[i])));
  });

  it('maxNorm 0 disables clipping (no coefficient) but still reports the norm', () => {
    const r = clip(0);
    expect(r.coefficient).toBeUndefined();
    r.values.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(arrays[i])));
    expect(r.norm).toBeGreaterThan(5);
  });

  it('leaks no tensors inside tf.tidy', () => {
    const grads = arrays.map((a) => tf.tensor1d(a));
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      globalNormClip(grads, 1);
    });
    expect(tf.memory().numTensors).toBe(before);
    grads.forEach((g) => g.dispose());
  });
});
