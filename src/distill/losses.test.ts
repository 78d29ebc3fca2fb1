import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/random';
import { randomGpt2 } from '../models/gpt2-init';
import type { LoadedModel } from '../models/types';
import { causalLmLoss } from '../train/loss';
import { cosineEmbeddingLoss, DISTILBERT_MLM_RECIPE, DISTILBERT_RECIPE, distillationLoss, lmOutputs, maskedDistillationLoss, softTargetLoss, tokenMask, type LmOutputs } from './losses';

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

// A masked-LM teacher, as the reference distiller's MLM step computes the terms: L_ce over every
// real token (or, with restrict_ce_to_mask, over the masked ones), L_mlm the cross-entropy at the
// masked positions against the original tokens, L_cos over every real token.
describe('the masked-LM terms', () => {
  const s = randoms(B * T * V, 5);
  const t = randoms(B * T * V, 6);
  const hs = randoms(B * T * D, 7);
  const ht = randoms(B * T * D, 8);
  // Positions 1, 2 and 5 were masked (their original ids); the rest predict nothing.
  const MLM_LABELS = Int32Array.from([-100, 6, 0, -100, -100, 3, -100, -100]);
  const MASKED = [0, 1, 1, 0, 0, 1, 0, 0];

  /** Mean over masked rows of −log softmax(s)[label], in float64. */
  function naiveMlm(logits: number[]): number {
    let sum = 0;
    let n = 0;
    MLM_LABELS.forEach((y, r) => {
      if (y === -100) return;
      sum -= logSoftmax(logits.slice(r * V, (r + 1) * V))[y];
      n++;
    });
    return sum / n;
  }

  const outputs = (logits: number[], hidden: number[]): LmOutputs => ({ logits: tf.tensor3d(logits, [B, T, V]), lastHidden: tf.tensor3d(hidden, [B, T, D]) });
  const C = { temperature: 2, alpha_ce: 5, alpha_mlm: 2, alpha_cos: 1, restrict_ce_to_mask: false };

  for (const restrict of [false, true]) {
    it(`are KL·T² over ${restrict ? 'the masked' : 'every real'} token${restrict ? 's' : ''}, CE at the masked positions and 1 − cos over real tokens, weighted`, async () => {
      const before = tf.memory().numTensors;
      const c = { ...C, restrict_ce_to_mask: restrict };
      const r = tf.tidy(() => {
        const { total, terms } = maskedDistillationLoss(outputs(s, hs), outputs(t, ht), LABELS, MLM_LABELS, c);
        return [total, terms.ce!, terms.mlm!, terms.cos!];
      });
      const [total, ce, mlm, cos] = await Promise.all(r.map(async (x) => (await x.data())[0]));
      const want = { ce: naiveSoftTarget(s, t, restrict ? MASKED : MASK, 2), mlm: naiveMlm(s), cos: naiveCosine(hs, ht, MASK) };
      expect(ce).toBeCloseTo(want.ce, 5);
      expect(mlm).toBeCloseTo(want.mlm, 5);
      expect(cos).toBeCloseTo(want.cos, 6);
      expect(total).toBeCloseTo(5 * want.ce + 2 * want.mlm + 1 * want.cos, 4);
      for (const x of r) x.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  // The student's logits and hidden states as variables, so the gradient of the total reaches both.
  let sVar: tf.Variable;
  let hVar: tf.Variable;
  beforeAll(() => {
    sVar = tf.variable(tf.tensor3d(s, [B, T, V]));
    hVar = tf.variable(tf.tensor3d(hs, [B, T, D]));
  });
  afterAll(() => {
    sVar.dispose();
    hVar.dispose();
  });

  it("has the gradient α_ce·T·(p_s − p_t)/kept + α_mlm·(softmax(s) − onehot)/masked in the logits, and L_cos's in the hidden states", async () => {
    const before = tf.memory().numTensors;
    const teacher = outputs(t, ht);
    const { value, grads } = tf.variableGrads(
      () => maskedDistillationLoss({ logits: sVar as unknown as tf.Tensor3D, lastHidden: hVar as unknown as tf.Tensor3D }, teacher, LABELS, MLM_LABELS, C).total,
      [sVar, hVar],
    );
    const gs = (await grads[sVar.name].data()) as Float32Array;
    const gh = (await grads[hVar.name].data()) as Float32Array;
    const temp = C.temperature;
    for (let r = 0; r < B * T; r++) {
      const row = s.slice(r * V, (r + 1) * V);
      const pT = logSoftmax(row.map((x) => x / temp)).map(Math.exp);
      const tT = logSoftmax(t.slice(r * V, (r + 1) * V).map((x) => x / temp)).map(Math.exp);
      const p = logSoftmax(row).map(Math.exp);
      for (let v = 0; v < V; v++) {
        let want = MASK[r] ? (C.alpha_ce * temp * (pT[v] - tT[v])) / 6 : 0;
        if (MASKED[r]) want += (C.alpha_mlm * (p[v] - (MLM_LABELS[r] === v ? 1 : 0))) / 3;
        expect(gs[r * V + v], `logit ${r},${v}`).toBeCloseTo(want, 5);
      }
    }
    // L_cos's gradient in the hidden states: a central difference of the naive loss agrees.
    const h = 1e-3;
    const at = (k: number, d: number) => {
      const x = [...hs];
      x[k] += d;
      return naiveCosine(x, ht, MASK);
    };
    for (let k = 0; k < B * T * D; k++) expect(gh[k], `hidden ${k}`).toBeCloseTo(C.alpha_cos * ((at(k, h) - at(k, -h)) / (2 * h)), 4);
    for (const x of [value, ...Object.values(grads), teacher.logits, teacher.lastHidden]) x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves out terms whose α is 0, names α_mlm when all are 0, and refuses labels of another size', () => {
    tf.tidy(() => {
      const so = outputs(s, hs);
      expect(Object.keys(maskedDistillationLoss(so, undefined, LABELS, MLM_LABELS, { ...C, alpha_ce: 0, alpha_cos: 0 }).terms)).toEqual(['mlm']);
      expect(() => maskedDistillationLoss(so, undefined, LABELS, MLM_LABELS, C)).toThrow(/teacher/);
      expect(() => maskedDistillationLoss(so, so, LABELS, MLM_LABELS, { ...C, alpha_ce: 0, alpha_mlm: 0, alpha_cos: 0 })).toThrow('at least one of alpha_ce, alpha_mlm, alpha_cos must be positive');
      expect(() => maskedDistillationLoss(so, so, LABELS, MLM_LABELS.subarray(1), C)).toThrow('7 masked-LM labels for 8 positions');
    });
  });

  it("defaults to DistilBERT's published recipe: T 2, α_ce 5, α_mlm 2, α_cos 1, soft targets over every real token", () => {
    expect(DISTILBERT_MLM_RECIPE).toEqual({ temperature: 2, alpha_ce: 5, alpha_mlm: 2, alpha_cos: 1, restrict_ce_to_mask: false });
  });
});
