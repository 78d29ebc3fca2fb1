import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/random';
import { randomGpt2 } from '../models/gpt2-init';
import type { LoadedModel } from '../models/types';
import { causalLmLoss } from '../train/loss';
import { cosineEmbeddingLoss, DISTILBERT_RECIPE, distillationLoss, lmOutputs, softTargetLoss, tokenMask } from './losses';

const B = 2;
const T = 4;
const V = 7;
const D = 5;

function randoms(n: number, seed: number, scale = 3): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

/** log softmax of one row, in float64. */
function logSoftmax(row: number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
  return row.map((x) => x - lse);
}

/** torch: KLDivLoss(reduction='batchmean')(log_softmax(s/T), softmax(t/T)) · T² over the kept rows. */
function naiveSoftTarget(s: number[], t: number[], mask: number[], temp: number): number {
  let sum = 0;
  let kept = 0;
  for (let r = 0; r < mask.length; r++) {
    if (!mask[r]) continue;
    kept++;
    const ls = logSoftmax(s.slice(r * V, (r + 1) * V).map((x) => x / temp));
    const lt = logSoftmax(t.slice(r * V, (r + 1) * V).map((x) => x / temp));
    for (let v = 0; v < V; v++) sum += Math.exp(lt[v]) * (lt[v] - ls[v]);
  }
  return (sum / kept) * temp * temp;
}

/** torch: CosineEmbeddingLoss(reduction='mean')(s, t, ones) over the kept rows. */
function naiveCosine(s: number[], t: number[], mask: number[]): number {
  let sum = 0;
  let kept = 0;
  for (let r = 0; r < mask.length; r++) {
    if (!mask[r]) continue;
    kept++;
    let dot = 0;
    let ss = 0;
    let tt = 0;
    for (let k = 0; k < D; k++) {
      const a = s[r * D + k];
      const b = t[r * D + k];
      dot += a * b;
      ss += a * a;
      tt += b * b;
    }
    sum += 1 - dot / Math.sqrt((ss + 1e-12) * (tt + 1e-12));
  }
  return sum / kept;
}

// Right padding as the studio's batches have it: row 1 has 2 real tokens.
const LABELS = Int32Array.from([3, 1, 4, 1, 5, 2, -100, -100]);
const MASK = [1, 1, 1, 1, 1, 1, 0, 0];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('tokenMask', () => {
  it('keeps every real token, the last of each row included, and drops padding', () => {
    const { mask, count } = tokenMask(LABELS);
    expect(Array.from(mask)).toEqual(MASK);
    expect(count).toBe(6);
  });
});

describe('soft-target loss L_ce', () => {
  const s = randoms(B * T * V, 1);
  const t = randoms(B * T * V, 2);

  for (const temp of [1, 2, 4]) {
    it(`equals KL(softmax(t/T) ‖ softmax(s/T))·T² averaged over real tokens (T = ${temp})`, async () => {
      const got = tf.tidy(() => softTargetLoss(tf.tensor3d(s, [B, T, V]), tf.tensor3d(t, [B, T, V]), Float32Array.from(MASK), temp));
      expect((await got.data())[0]).toBeCloseTo(naiveSoftTarget(s, t, MASK, temp), 5);
      got.dispose();
    });
  }

  it('is 0 when the student matches the teacher, and padding positions do not count', async () => {
    const same = tf.tidy(() => softTargetLoss(tf.tensor3d(s, [B, T, V]), tf.tensor3d(s, [B, T, V]), Float32Array.from(MASK), 2));
    expect(Math.abs((await same.data())[0])).toBeLessThan(1e-6);
    // Changing the student only at padding leaves the loss unchanged.
    const s2 = [...s];
    for (let v = 0; v < V; v++) s2[7 * V + v] += 10;
    const a = tf.tidy(() => softTargetLoss(tf.tensor3d(s, [B, T, V]), tf.tensor3d(t, [B, T, V]), Float32Array.from(MASK), 2));
    const b = tf.tidy(() => softTargetLoss(tf.tensor3d(s2, [B, T, V]), tf.tensor3d(t, [B, T, V]), Float32Array.from(MASK), 2));
    expect((await b.data())[0]).toBe((await a.data())[0]);
    for (const x of [same, a, b]) x.dispose();
  });

  it('has the gradient T·(softmax(s/T) − softmax(t/T))/kept at real tokens and 0 at padding; none for the teacher', async () => {
    const temp = 2;
    const teacher = tf.tensor3d(t, [B, T, V]);
    const g = tf.grad((x: tf.Tensor) => softTargetLoss(x, teacher, Float32Array.from(MASK), temp))(tf.tensor3d(s, [B, T, V]));
    const got = (await g.data()) as Float32Array;
    for (let r = 0; r < B * T; r++) {
      const ps = logSoftmax(s.slice(r * V, (r + 1) * V).map((x) => x / temp)).map(Math.exp);
      const pt = logSoftmax(t.slice(r * V, (r + 1) * V).map((x) => x / temp)).map(Math.exp);
      for (let v = 0; v < V; v++) {
        const want = MASK[r] ? (temp * (ps[v] - pt[v])) / 6 : 0;
        expect(got[r * V + v]).toBeCloseTo(want, 6);
      }
    }
    // And it is the derivative of the value: a central difference agrees.
    const h = 1e-2;
    const at = (k: number, d: number) => {
      const x = [...s];
      x[k] += d;
      return naiveSoftTarget(x, t, MASK, temp);
    };
    for (const k of [0, 9, 20, 33]) expect(got[k]).toBeCloseTo((at(k, h) - at(k, -h)) / (2 * h), 3);
    for (const x of [teacher, g]) x.dispose();
  });
});

describe('cosine embedding loss L_cos', () => {
  const s = randoms(B * T * D, 3);
  const t = randoms(B * T * D, 4);

  it('equals the mean over real tokens of 1 − cos(h_s, h_t)', async () => {
    const got = tf.tidy(() => cosineEmbeddingLoss(tf.tensor3d(s, [B, T, D]), tf.tensor3d(t, [B, T, D]), Float32Array.from(MASK)));
    expect((await got.data())[0]).toBeCloseTo(naiveCosine(s, t, MASK), 6);
    got.dispose();
  });

  it('is 0 for parallel vectors of any length and 2 for opposite ones', async () => {
    const scaled = s.map((x) => 3 * x);
    const opposite = s.map((x) => -x);
    const a = tf.tidy(() => cosineEmbeddingLoss(tf.tensor3d(s, [B, T, D]), tf.tensor3d(scaled, [B, T, D]), Float32Array.from(MASK)));
    const b = tf.tidy(() => cosineEmbeddingLoss(tf.tensor3d(s, [B, T, D]), tf.tensor3d(opposite, [B, T, D]), Float32Array.from(MASK)));
    expect((await a.data())[0]).toBeCloseTo(0, 6);
    expect((await b.data())[0]).toBeCloseTo(2, 6);
    a.dispose();
    b.dispose();
  });
});

describe('the weighted sum on a real model', () => {
  let teacher: LoadedModel;
  let student: LoadedModel;
  const ids = [
    [3, 1, 4, 1],
    [5, 2, 0, 0],
  ];
  beforeAll(() => {
    const shape = { n_layer: 2, n_embd: 8, n_head: 2, n_positions: 8, vocab_size: V, initializer_range: 0.5 };
    teacher = randomGpt2('t', shape, 1);
    student = randomGpt2('s', { ...shape, n_layer: 1 }, 2);
  });
  afterAll(() => {
    teacher.dispose();
    student.dispose();
  });

  it("takes transformers' hidden_states[-1] (after ln_f): the vector the tied head maps to the logits", async () => {
    const { logits, lastHidden } = tf.tidy(() => lmOutputs(teacher, tf.tensor2d(ids, [B, T], 'int32'), false));
    const wte = teacher.weights.get('transformer.wte.weight')!;
    const viaHead = tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(lastHidden, [B * T, 8]), wte, false, true), [B, T, V]));
    expect(Array.from(await viaHead.data())).toEqual(Array.from(await logits.data()));
    for (const x of [logits, lastHidden, viaHead]) x.dispose();
  });

  it('is α_ce·L_ce + α_clm·L_clm + α_cos·L_cos with each term as computed alone', async () => {
    const c = { temperature: 3, alpha_ce: 0.7, alpha_clm: 1.3, alpha_cos: 2.1 };
    const r = tf.tidy(() => {
      const x = tf.tensor2d(ids, [B, T], 'int32');
      const so = lmOutputs(student, x, true);
      const to = lmOutputs(teacher, x, false);
      const { total, terms } = distillationLoss(so, to, LABELS, c);
      return {
        total,
        ce: terms.ce!,
        clm: terms.clm!,
        cos: terms.cos!,
        ce1: softTargetLoss(so.logits, to.logits, Float32Array.from(MASK), 3),
        clm1: causalLmLoss(so.logits, LABELS).loss,
        cos1: cosineEmbeddingLoss(so.lastHidden, to.lastHidden, Float32Array.from(MASK)),
      };
    });
    const v = Object.fromEntries(await Promise.all(Object.entries(r).map(async ([k, t]) => [k, (await t.data())[0]] as const)));
    expect(v.ce).toBe(v.ce1);
    expect(v.clm).toBe(v.clm1);
    expect(v.cos).toBe(v.cos1);
    expect(v.total).toBeCloseTo(0.7 * v.ce + 1.3 * v.clm + 2.1 * v.cos, 5);
    expect(v.ce).toBeGreaterThan(0);
    expect(v.cos).toBeGreaterThan(0);
    for (const t of Object.values(r)) t.dispose();
  });

  it('leaves out terms whose α is 0 and refuses a missing teacher or all-zero weights', () => {
    tf.tidy(() => {
      const so = lmOutputs(student, tf.tensor2d(ids, [B, T], 'int32'), true);
      const lmOnly = distillationLoss(so, undefined, LABELS, { temperature: 2, alpha_ce: 0, alpha_clm: 1, alpha_cos: 0 });
      expect(Object.keys(lmOnly.terms)).toEqual(['clm']);
      expect(() => distillationLoss(so, undefined, LABELS, DISTILBERT_RECIPE)).toThrow(/teacher/);
      expect(() => distillationLoss(so, undefined, LABELS, { temperature: 2, alpha_ce: 0, alpha_clm: 0, alpha_cos: 0 })).toThrow(/at least one/);
      expect(() => softTargetLoss(so.logits, so.logits, Float32Array.from(MASK), 0)).toThrow(/temperature/);
    });
  });

  it('defaults to the published DistilBERT recipe with the MLM weight on the causal LM loss', () => {
    expect(DISTILBERT_RECIPE).toEqual({ temperature: 2, alpha_ce: 5, alpha_clm: 2, alpha_cos: 1 });
  });
});
