// GPT-2 forward pass against a naive reference written with plain loops over Float64Arrays
// (no tfjs in the reference), plus the hook surface, model-info counts and loader validation.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/random';
import type { SafetensorsTensor } from '../io/safetensors';
import { gpt2Config, gpt2Info, normaliseGpt2Name } from './gpt2';
import { describeHookSurface } from './hook-conformance';
import { buildModel } from './load';
import type { Hooks, LoadedModel } from './types';

// ---------------------------------------------------------------------------------------------
// A tiny random GPT-2, in Hugging Face config.json / state-dict names.

const CONFIG = {
  model_type: 'gpt2',
  n_layer: 2,
  n_embd: 8,
  n_head: 2,
  n_positions: 16,
  vocab_size: 11,
  // Larger than GPT-2's 1e-5 so that forgetting (or misplacing) eps moves logits past 1e-5.
  layer_norm_epsilon: 1e-3,
  activation_function: 'gelu_new',
};
const L = CONFIG.n_layer;
const D = CONFIG.n_embd;
const H = CONFIG.n_head;
const HD = D / H;
const V = CONFIG.vocab_size;
const EPS = CONFIG.layer_norm_epsilon;
const TOL = 1e-5;

interface W {
  shape: number[];
  data: Float32Array;
}

function uniform(rand: () => number, n: number, scale: number, offset = 0): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = offset + scale * (2 * rand() - 1);
  return a;
}

/** Seeded random weights with non-trivial biases and LayerNorm parameters. */
function makeWeights(seed = 1234): Map<string, W> {
  const rand = mulberry32(seed);
  const w = new Map<string, W>();
  const put = (name: string, shape: number[], scale: number, offset = 0) =>
    w.set(name, { shape, data: uniform(rand, shape.reduce((a, b) => a * b, 1), scale, offset) });
  put('transformer.wte.weight', [V, D], 0.6);
  put('transformer.wpe.weight', [CONFIG.n_positions, D], 0.3);
  for (let i = 0; i < L; i++) {
    const p = `transformer.h.${i}`;
    put(`${p}.ln_1.weight`, [D], 0.3, 1);
    put(`${p}.ln_1.bias`, [D], 0.2);
    put(`${p}.attn.c_attn.weight`, [D, 3 * D], 0.5);
    put(`${p}.attn.c_attn.bias`, [3 * D], 0.2);
    put(`${p}.attn.c_proj.weight`, [D, D], 0.4);
    put(`${p}.attn.c_proj.bias`, [D], 0.2);
    put(`${p}.ln_2.weight`, [D], 0.3, 1);
    put(`${p}.ln_2.bias`, [D], 0.2);
    put(`${p}.mlp.c_fc.weight`, [D, 4 * D], 0.5);
    put(`${p}.mlp.c_fc.bias`, [4 * D], 0.3);
    put(`${p}.mlp.c_proj.weight`, [4 * D, D], 0.3);
    put(`${p}.mlp.c_proj.bias`, [D], 0.2);
  }
  put('transformer.ln_f.weight', [D], 0.3, 1);
  put('transformer.ln_f.bias', [D], 0.2);
  return w;
}

function tensorsMap(w: Map<string, W>, rename: (n: string) => string = (n) => n): Map<string, SafetensorsTensor> {
  const m = new Map<string, SafetensorsTensor>();
  for (const [name, t] of w) m.set(rename(name), { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.data) });
  return m;
}

// ---------------------------------------------------------------------------------------------
// The naive reference.

type Vec = Float64Array;

function refLayerNorm(x: Vec, g: Float32Array, b: Float32Array): Vec {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i];
  mean /= x.length;
  let variance = 0;
  for (let i = 0; i < x.length; i++) variance += (x[i] - mean) ** 2;
  variance /= x.length; // biased, as torch.nn.LayerNorm
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = ((x[i] - mean) / Math.sqrt(variance + EPS)) * g[i] + b[i];
  return y;
}

/** Conv1D: y = x·W + b with W stored [in, out]. */
function refLinear(x: Vec, w: W, b: W): Vec {
  const [inF, outF] = w.shape;
  const y = new Float64Array(outF);
  for (let o = 0; o < outF; o++) {
    let s = b.data[o];
    for (let i = 0; i < inF; i++) s += x[i] * w.data[i * outF + o];
    y[o] = s;
  }
  return y;
}

function refGeluNew(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

interface RefOptions {
  /** Position id of the first element of `embeds`. */
  posStart?: number;
  /** Per layer, per batch row, per head: P prefix key / value vectors of HD values each. */
  prefix?: { k: number[][][][]; v: number[][][][] }[];
  /** Applied to each token's sublayer output before the residual add. */
  afterSublayer?: (layer: number, kind: 'attn' | 'mlp', x: Vec) => Vec;
  /** Bias overrides by module path (to check a linear hook's result is really used). */
  biasDelta?: Map<string, number>;
}

/** embeds: [B][T] vectors of D (token embeddings, plus any virtual tokens). Returns logits [B][T][V]. */
function refForward(w: Map<string, W>, embeds: Vec[][], o: RefOptions = {}): { logits: Vec[][]; lastHidden: Vec[][]; hidden: Vec[][][] } {
  const g = (n: string) => w.get(n)!;
  const posStart = o.posStart ?? 0;
  const wpe = g('transformer.wpe.weight').data;
  const lin = (path: string, x: Vec) => {
    const y = refLinear(x, g(`${path}.weight`), g(`${path}.bias`));
    const delta = o.biasDelta?.get(path);
    if (delta !== undefined) for (let i = 0; i < y.length; i++) y[i] += delta;
    return y;
  };
  const B = embeds.length;
  const T = embeds[0].length;
  let h: Vec[][] = embeds.map((row) =>
    row.map((e, t) => {
      const x = new Float64Array(D);
      for (let i = 0; i < D; i++) x[i] = e[i] + wpe[(posStart + t) * D + i];
      return x;
    }),
  );
  const hidden: Vec[][][] = [h.map((r) => r.map((x) => Float64Array.from(x)))];
  for (let l = 0; l < L; l++) {
    const p = `transformer.h.${l}`;
    const next: Vec[][] = [];
    for (let b = 0; b < B; b++) {
      const qkv = h[b].map((x) => lin(`${p}.attn.c_attn`, refLayerNorm(x, g(`${p}.ln_1.weight`).data, g(`${p}.ln_1.bias`).data)));
      const pk = o.prefix?.[l].k[b];
      const pv = o.prefix?.[l].v[b];
      const P = pk ? pk[0].length : 0;
      const rows: Vec[] = [];
      for (let t = 0; t < T; t++) {
        const merged = new Float64Array(D);
        for (let hh = 0; hh < H; hh++) {
          // keys: the P prefix slots, then real positions 0..t (causal).
          const keys: number[][] = [];
          const vals: number[][] = [];
          for (let s = 0; s < P; s++) (keys.push(pk![hh][s]), vals.push(pv![hh][s]));
          for (let s = 0; s <= t; s++) {
            keys.push(Array.from(qkv[s].subarray(D + hh * HD, D + (hh + 1) * HD)));
            vals.push(Array.from(qkv[s].subarray(2 * D + hh * HD, 2 * D + (hh + 1) * HD)));
          }
          const scores = keys.map((k) => {
            let s = 0;
            for (let j = 0; j < HD; j++) s += qkv[t][hh * HD + j] * k[j];
            return s / Math.sqrt(HD);
          });
          const mx = Math.max(...scores);
          const ex = scores.map((s) => Math.exp(s - mx));
          const z = ex.reduce((a, c) => a + c, 0);
          for (let j = 0; j < HD; j++) {
            let s = 0;
            for (let k = 0; k < vals.length; k++) s += (ex[k] / z) * vals[k][j];
            merged[hh * HD + j] = s;
          }
        }
        let attnOut = lin(`${p}.attn.c_proj`, merged);
        if (o.afterSublayer) attnOut = o.afterSublayer(l, 'attn', attnOut);
        const x1 = new Float64Array(D);
        for (let i = 0; i < D; i++) x1[i] = h[b][t][i] + attnOut[i];
        const m = refLayerNorm(x1, g(`${p}.ln_2.weight`).data, g(`${p}.ln_2.bias`).data);
        const fc = lin(`${p}.mlp.c_fc`, m).map(refGeluNew);
        let mlpOut = lin(`${p}.mlp.c_proj`, fc);
        if (o.afterSublayer) mlpOut = o.afterSublayer(l, 'mlp', mlpOut);
        const x2 = new Float64Array(D);
        for (let i = 0; i < D; i++) x2[i] = x1[i] + mlpOut[i];
        rows.push(x2);
      }
      next.push(rows);
    }
    h = next;
    hidden.push(h.map((r) => r.map((x) => Float64Array.from(x))));
  }
  const wte = g('transformer.wte.weight').data;
  const lastHidden = h.map((row) => row.map((x) => refLayerNorm(x, g('transformer.ln_f.weight').data, g('transformer.ln_f.bias').data)));
  const logits = lastHidden.map((row) =>
    row.map((f) => {
      const out = new Float64Array(V);
      for (let v = 0; v < V; v++) {
        let s = 0;
        for (let i = 0; i < D; i++) s += f[i] * wte[v * D + i];
        out[v] = s;
      }
      return out;
    }),
  );
  return { logits, lastHidden, hidden };
}

function tokenEmbeds(w: Map<string, W>, ids: number[][]): Vec[][] {
  const wte = w.get('transformer.wte.weight')!.data;
  return ids.map((row) => row.map((id) => Float64Array.from(wte.subarray(id * D, (id + 1) * D))));
}

function maxAbsDiff(actual: ArrayLike<number>, expected: Vec[][]): number {
  const flat = expected.flatMap((r) => r.flatMap((x) => Array.from(x)));
  expect(actual.length).toBe(flat.length);
  let m = 0;
  for (let i = 0; i < flat.length; i++) m = Math.max(m, Math.abs(actual[i] - flat[i]));
  return Number.isNaN(m) ? Infinity : m;
}

// ---------------------------------------------------------------------------------------------

const IDS = [
  [3, 0, 10, 7, 7, 1, 5],
  [9, 2, 4, 6, 8, 0, 10],
];
const B = IDS.length;
const T = IDS[0].length;

let weights: Map<string, W>;
let model: LoadedModel;

function run(hooks?: Hooks, outputHidden = false): { logits: Float32Array; shape: number[]; prepended: number; lastHidden: Float32Array; hidden?: Float32Array[] } {
  const r = tf.tidy(() => {
    const out = model.forward(tf.tensor2d(IDS.flat(), [B, T], 'int32'), hooks, { outputHidden });
    return { logits: out.logits, lastHidden: out.lastHidden, prepended: out.prepended, hidden: out.hidden };
  });
  const res = {
    logits: r.logits.dataSync() as Float32Array,
    shape: r.logits.shape,
    prepended: r.prepended,
    lastHidden: r.lastHidden.dataSync() as Float32Array,
    hidden: r.hidden?.map((t) => t.dataSync() as Float32Array),
  };
  r.logits.dispose();
  r.lastHidden.dispose();
  r.hidden?.forEach((t) => t.dispose());
  return res;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  weights = makeWeights();
  model = buildModel('tiny', CONFIG, tensorsMap(weights));
});
afterAll(() => model.dispose());

describe('GPT-2 forward vs a naive reference', () => {
  it('logits match within 1e-5', () => {
    const out = run();
    expect(out.shape).toEqual([B, T, V]);
    expect(out.prepended).toBe(0);
    const ref = refForward(weights, tokenEmbeds(weights, IDS));
    expect(maxAbsDiff(out.logits, ref.logits)).toBeLessThan(TOL);
    // Sanity that the comparison is meaningful: logits are not tiny or constant.
    const spread = Math.max(...out.logits) - Math.min(...out.logits);
    expect(spread).toBeGreaterThan(1);
  });

  it('hidden states (embeddings + after each block) match the reference', () => {
    const out = run(undefined, true);
    const ref = refForward(weights, tokenEmbeds(weights, IDS));
    expect(out.hidden).toHaveLength(L + 1);
    out.hidden!.forEach((h, i) => expect(maxAbsDiff(h, ref.hidden[i])).toBeLessThan(TOL));
  });

  it('lastHidden is ln_f of the last block output, the vector the tied head reads', () => {
    const out = run();
    const ref = refForward(weights, tokenEmbeds(weights, IDS));
    expect(maxAbsDiff(out.lastHidden, ref.lastHidden)).toBeLessThan(TOL);
  });

  it('is causal: changing a later token leaves earlier logits unchanged', () => {
    const ids2 = IDS.map((r) => [...r]);
    ids2[0][5] = (ids2[0][5] + 1) % V;
    const a = refForward(weights, tokenEmbeds(weights, IDS)).logits;
    const out = tf.tidy(() => model.forward(tf.tensor2d(ids2.flat(), [B, T], 'int32')).logits);
    const got = out.dataSync();
    out.dispose();
    // positions 0..4 of row 0 and all of row 1 equal the unchanged reference; position 5 differs.
    for (let t = 0; t < 5; t++) for (let v = 0; v < V; v++) expect(Math.abs(got[t * V + v] - a[0][t][v])).toBeLessThan(TOL);
    let diff = 0;
    for (let v = 0; v < V; v++) diff = Math.max(diff, Math.abs(got[5 * V + v] - a[0][5][v]));
    expect(diff).toBeGreaterThan(1e-3);
  });

  it('inputEmbeds prepending 3 virtual tokens equals the reference over the extended sequence', () => {
    const rand = mulberry32(99);
    const virt = Array.from({ length: 3 }, () => uniform(rand, D, 0.7));
    const hooks: Hooks = {
      inputEmbeds: (e) => {
        expect(e.shape).toEqual([B, T, D]);
        const v = tf.tensor3d(Array.from({ length: B }, () => virt.map((x) => Array.from(x))));
        return tf.concat([v, e], 1) as tf.Tensor3D;
      },
    };
    const out = run(hooks);
    expect(out.prepended).toBe(3);
    expect(out.shape).toEqual([B, T + 3, V]);
    const embeds = tokenEmbeds(weights, IDS).map((row) => [...virt.map((x) => Float64Array.from(x)), ...row]);
    const ref = refForward(weights, embeds, { posStart: 0 });
    expect(maxAbsDiff(out.logits, ref.logits)).toBeLessThan(TOL);
  });

  it('kvPrefix: every query attends to the 2 prefix slots plus its causal past; positions start at 2', () => {
    const P = 2;
    const rand = mulberry32(2024);
    // [layer] -> k/v as [B][H][P][HD]
    const mk = () =>
      Array.from({ length: B }, () => Array.from({ length: H }, () => Array.from({ length: P }, () => Array.from(uniform(rand, HD, 1.0)))));
    const prefix = Array.from({ length: L }, () => ({ k: mk(), v: mk() }));
    const calls: [number, number][] = [];
    const hooks: Hooks = {
      kvPrefix: (layer, batch) => {
        calls.push([layer, batch]);
        return { k: tf.tensor4d(prefix[layer].k), v: tf.tensor4d(prefix[layer].v) };
      },
    };
    const out = run(hooks);
    expect(out.prepended).toBe(0);
    expect(out.shape).toEqual([B, T, V]);
    expect(calls).toEqual([
      [0, B],
      [1, B],
    ]);
    const ref = refForward(weights, tokenEmbeds(weights, IDS), { posStart: P, prefix });
    expect(maxAbsDiff(out.logits, ref.logits)).toBeLessThan(TOL);
    // and it is a real change, not the plain forward
    const plain = refForward(weights, tokenEmbeds(weights, IDS));
    expect(maxAbsDiff(out.logits, plain.logits)).toBeGreaterThan(1e-2);
  });

  it('kvPrefix longer than the context is refused', () => {
    const P = CONFIG.n_positions - T + 1;
    const hooks: Hooks = { kvPrefix: () => ({ k: tf.zeros([B, H, P, HD]), v: tf.zeros([B, H, P, HD]) }) };
    expect(() => tf.tidy(() => model.forward(tf.tensor2d(IDS.flat(), [B, T], 'int32'), hooks).logits)).toThrow(/exceeds the model's context/);
  });
});

describe('GPT-2 hook points', () => {
  it('linear is called exactly once per Conv1D module, with its input x [N,in] and its frozen output y = x·W + b [N,out]', () => {
    const calls: { path: string; x: number[]; y: number[]; diff: number }[] = [];
    const hooks: Hooks = {
      linear: (path, x, y) => {
        // y is the module's own output: x times the [in, out] Conv1D weight, plus the bias.
        const ref = tf.add(tf.matMul(x, model.weights.get(`${path}.weight`)!), model.weights.get(`${path}.bias`)!);
        calls.push({ path, x: x.shape, y: y.shape, diff: tf.max(tf.abs(tf.sub(y, ref))).dataSync()[0] });
        return y;
      },
    };
    run(hooks);
    const expected: { path: string; x: number[]; y: number[] }[] = [];
    for (let i = 0; i < L; i++) {
      const p = `transformer.h.${i}`;
      expected.push(
        { path: `${p}.attn.c_attn`, x: [B * T, D], y: [B * T, 3 * D] },
        { path: `${p}.attn.c_proj`, x: [B * T, D], y: [B * T, D] },
        { path: `${p}.mlp.c_fc`, x: [B * T, D], y: [B * T, 4 * D] },
        { path: `${p}.mlp.c_proj`, x: [B * T, 4 * D], y: [B * T, D] },
      );
    }
    expect(calls.map((c) => c.path).sort()).toEqual(expected.map((c) => c.path).sort());
    for (const e of expected) expect(calls.find((c) => c.path === e.path)).toMatchObject(e);
    for (const c of calls) expect(c.diff).toBe(0);
    // the paths are exactly the LinearModule paths the plan sees
    expect(model.info.linears.map((l) => l.path).sort()).toEqual(expected.map((e) => e.path).sort());
  });

  it("linear's result is what the model uses", () => {
    const target = 'transformer.h.1.mlp.c_fc';
    const hooks: Hooks = {
      linear: (path, _x, y) => (path === target ? tf.add(y, 0.25) : y),
    };
    const out = run(hooks);
    const ref = refForward(weights, tokenEmbeds(weights, IDS), { biasDelta: new Map([[target, 0.25]]) });
    expect(maxAbsDiff(out.logits, ref.logits)).toBeLessThan(TOL);
    expect(maxAbsDiff(out.logits, refForward(weights, tokenEmbeds(weights, IDS)).logits)).toBeGreaterThan(1e-3);
  });

  it("afterSublayer is called with (layer, 'attn'|'mlp') in order, on the output before the residual add", () => {
    const calls: [number, string, number[]][] = [];
    const hooks: Hooks = {
      afterSublayer: (layer, kind, h) => {
        calls.push([layer, kind, h.shape]);
        return kind === 'attn' ? tf.add(tf.mul(h, 1.5), 0.1 * (layer + 1)) : tf.sub(h, 0.2);
      },
    };
    const out = run(hooks);
    expect(calls).toEqual([
      [0, 'attn', [B, T, D]],
      [0, 'mlp', [B, T, D]],
      [1, 'attn', [B, T, D]],
      [1, 'mlp', [B, T, D]],
    ]);
    const ref = refForward(weights, tokenEmbeds(weights, IDS), {
      afterSublayer: (layer, kind, x) => x.map((v) => (kind === 'attn' ? 1.5 * v + 0.1 * (layer + 1) : v - 0.2)),
    });
    expect(maxAbsDiff(out.logits, ref.logits)).toBeLessThan(TOL);
  });
});

// Identity hooks, `param` reads, `linear`'s y in Conv1D's [in, out] layout and leaks: as every architecture.
describeHookSurface({ build: () => buildModel('tiny', CONFIG, tensorsMap(makeWeights())), ids: IDS, linearCount: 4 * L, checked: 'transformer.h.0.attn.c_attn', moved: 'transformer.h.1.mlp.c_fc' });

describe('GPT-2 model info', () => {
  const GPT2_124M = { model_type: 'gpt2', n_layer: 12, n_embd: 768, n_head: 12, n_positions: 1024, vocab_size: 50257 };

  it('counts 124,439,808 parameters for GPT-2 124M', () => {
    const info = gpt2Info('gpt2', gpt2Config(GPT2_124M));
    expect(info.totalParams).toBe(124_439_808);
    expect(info.params).toHaveLength(2 + 12 * 12 + 2);
    expect(info.linears).toHaveLength(48);
    const cAttn = info.linears.find((l) => l.path === 'transformer.h.11.attn.c_attn')!;
    expect(cAttn).toMatchObject({ name: 'c_attn', inFeatures: 768, outFeatures: 2304, fanInFanOut: true, hasBias: true, layer: 11 });
    const mlpProj = info.linears.find((l) => l.path === 'transformer.h.0.mlp.c_proj')!;
    expect(mlpProj).toMatchObject({ name: 'c_proj', inFeatures: 3072, outFeatures: 768 });
    expect(info.config.normEpsilon).toBe(1e-5);
  });

  it('counts the tiny model by hand', () => {
    const per = 2 * D + (D * 3 * D + 3 * D) + (D * D + D) + 2 * D + (D * 4 * D + 4 * D) + (4 * D * D + D);
    const total = V * D + CONFIG.n_positions * D + L * per + 2 * D;
    expect(model.info.totalParams).toBe(total);
    let fromWeights = 0;
    for (const w of weights.values()) fromWeights += w.data.length;
    expect(model.info.totalParams).toBe(fromWeights);
  });
});

describe('buildModel validation', () => {
  const build = (m: Map<string, SafetensorsTensor>) => buildModel('t', CONFIG, m).dispose();

  it('rejects a missing tensor, naming it', () => {
    const m = tensorsMap(weights);
    m.delete('transformer.h.1.mlp.c_fc.bias');
    expect(() => build(m)).toThrow(/transformer\.h\.1\.mlp\.c_fc\.bias.*missing/);
  });

  it('rejects a wrong shape, naming the tensor', () => {
    const m = tensorsMap(weights);
    m.set('transformer.h.0.attn.c_proj.weight', { dtype: 'F32', shape: [D, D + 1], data: new Float32Array(D * (D + 1)) });
    expect(() => build(m)).toThrow(/transformer\.h\.0\.attn\.c_proj\.weight.*shape/);
    // transposed (nn.Linear layout) is a wrong shape too
    const m2 = tensorsMap(weights);
    m2.set('transformer.h.0.attn.c_attn.weight', { dtype: 'F32', shape: [3 * D, D], data: new Float32Array(3 * D * D) });
    expect(() => build(m2)).toThrow(/transformer\.h\.0\.attn\.c_attn\.weight/);
  });

  it('rejects an unexpected tensor, naming it', () => {
    const m = tensorsMap(weights);
    m.set('transformer.h.2.ln_1.weight', { dtype: 'F32', shape: [D], data: new Float32Array(D) });
    expect(() => build(m)).toThrow(/transformer\.h\.2\.ln_1\.weight/);
    const m2 = tensorsMap(weights);
    m2.set('model.layers.0.self_attn.q_proj.weight', { dtype: 'F32', shape: [D, D], data: new Float32Array(D * D) });
    expect(() => build(m2)).toThrow(/model\.layers\.0\.self_attn\.q_proj\.weight/);
  });

  it('rejects an integer tensor where a float weight belongs', () => {
    const m = tensorsMap(weights);
    m.set('transformer.ln_f.bias', { dtype: 'I32', shape: [D], data: new Int32Array(D) });
    expect(() => build(m)).toThrow(/transformer\.ln_f\.bias/);
  });

  it('accepts GPT2Model-style names, ignoring lm_head.weight and attn.bias buffers; logits unchanged', () => {
    const m = tensorsMap(weights, (n) => n.replace(/^transformer\./, ''));
    expect(m.has('wte.weight')).toBe(true);
    // a different lm_head must be ignored: the head is tied to wte
    m.set('lm_head.weight', { dtype: 'F32', shape: [V, D], data: uniform(mulberry32(5), V * D, 3) });
    for (let i = 0; i < L; i++) {
      m.set(`h.${i}.attn.bias`, { dtype: 'F32', shape: [1, 1, 16, 16], data: new Float32Array(256).fill(1) });
      m.set(`h.${i}.attn.masked_bias`, { dtype: 'F32', shape: [], data: new Float32Array([-1e4]) });
    }
    const other = buildModel('gpt2model-style', CONFIG, m);
    try {
      expect([...other.weights.keys()].sort()).toEqual([...weights.keys()].sort());
      const out = tf.tidy(() => other.forward(tf.tensor2d(IDS.flat(), [B, T], 'int32')).logits);
      const got = out.dataSync();
      out.dispose();
      expect(Array.from(got)).toEqual(Array.from(run().logits));
    } finally {
      other.dispose();
    }
  });

  it('normaliseGpt2Name maps names as GPT2LMHeadModel does', () => {
    expect(normaliseGpt2Name('h.0.ln_1.weight')).toBe('transformer.h.0.ln_1.weight');
    expect(normaliseGpt2Name('transformer.wte.weight')).toBe('transformer.wte.weight');
    expect(normaliseGpt2Name('lm_head.weight')).toBeUndefined();
    expect(normaliseGpt2Name('transformer.h.3.attn.bias')).toBeUndefined();
    expect(normaliseGpt2Name('h.3.attn.masked_bias')).toBeUndefined();
    // the Conv1D biases are weights
    expect(normaliseGpt2Name('h.3.attn.c_attn.bias')).toBe('transformer.h.3.attn.c_attn.bias');
  });
});

describe('gpt2Config', () => {
  const ok = { ...CONFIG };

  it('reads the HF fields', () => {
    const c = gpt2Config(ok);
    expect(c).toEqual({
      family: 'gpt2',
      modelType: 'gpt2',
      hiddenSize: 8,
      numLayers: 2,
      numHeads: 2,
      // no grouped-query attention; the MLP is 4·n_embd wide; lm_head is tied to wte
      numKeyValueHeads: 2,
      headDim: 4,
      intermediateSize: 32,
      maxPositions: 16,
      vocabSize: 11,
      tiedHead: true,
      normEpsilon: 1e-3,
      raw: ok,
    });
    expect(c.raw).toBe(ok);
    // n_ctx is the older name for the context length
    const { n_positions: _drop, ...noPositions } = ok;
    expect(gpt2Config({ ...noPositions, n_ctx: 32 }).maxPositions).toBe(32);
    // defaults: eps 1e-5, gelu_new
    const { layer_norm_epsilon: _e, activation_function: _a, ...bare } = ok;
    expect(gpt2Config(bare).normEpsilon).toBe(1e-5);
  });

  it.each([
    ['model_type', { model_type: 'llama' }],
    ['n_layer', { n_layer: 0 }],
    ['n_layer', { n_layer: undefined }],
    ['n_embd', { n_embd: 8.5 }],
    ['n_head', { n_head: '2' }],
    ['n_head', { n_head: 3 }], // 8 is not divisible by 3
    ['n_positions', { n_positions: -4 }],
    ['vocab_size', { vocab_size: null }],
    ['n_inner', { n_inner: 16 }],
    ['activation_function', { activation_function: 'relu' }],
    ['layer_norm_epsilon', { layer_norm_epsilon: 0 }],
    ['layer_norm_epsilon', { layer_norm_epsilon: 'small' }],
  ])('rejects a bad "%s" with the field name in the message', (field, patch) => {
    const raw: Record<string, unknown> = { ...ok, ...patch };
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete raw[k];
    expect(() => gpt2Config(raw)).toThrow(new RegExp(`"${field}"`));
  });

  it('accepts n_inner of exactly 4·n_embd or null', () => {
    expect(gpt2Config({ ...ok, n_inner: 32 }).intermediateSize).toBe(32);
    expect(gpt2Config({ ...ok, n_inner: null }).intermediateSize).toBe(32);
  });
});
