// The Llama family's forward pass against a naive reference written with plain loops over
// Float64Arrays (no tfjs in the reference): RMSNorm, rotary embeddings (default, linear and
// llama3 frequencies), grouped-query attention, SwiGLU; then the hook surface, the state-dict
// names, and config.json's refusals.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/random';
import { llama, type Rope, readRope, ropeInverseFrequencies } from './llama';
import { describeHookSurface } from './hook-conformance';
import type { Hooks, LoadedModel, ModelInfo } from './types';

// ---------------------------------------------------------------------------------------------
// Tiny random checkpoints, in Hugging Face config.json / state-dict names.

const BASE = {
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  intermediate_size: 48,
  max_position_embeddings: 16,
  vocab_size: 23,
  // Larger than the usual 1e-6 so that forgetting (or misplacing) eps moves logits past 1e-4.
  rms_norm_eps: 1e-2,
  hidden_act: 'silu',
};
const TOL = 1e-4;

/** Every bias, an untied head, and llama3 frequencies that fall in all three bands. */
const LLAMA = {
  ...BASE,
  model_type: 'llama',
  attention_bias: true,
  mlp_bias: true,
  tie_word_embeddings: false,
  rope_theta: 10000,
  // head_dim 8: wavelengths 2π·{1, 10, 100, 1000}; with 64/4 = 16 and 64/1 = 64 as the band
  // edges, the first is kept, the second blended, the last two divided by 8.
  rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 },
};
/** Qwen2: q/k/v biases fixed by the model type, no o or MLP bias, a tied head, its own theta. */
const QWEN2 = { ...BASE, model_type: 'qwen2', tie_word_embeddings: true, rope_theta: 1000, use_sliding_window: false, sliding_window: 4, max_window_layers: 1 };
/** Mistral with a window as wide as its context, and linear (position-interpolation) RoPE. */
const MISTRAL = { ...BASE, model_type: 'mistral', sliding_window: 16, rope_scaling: { type: 'linear', factor: 2 } };

interface W {
  shape: number[];
  data: Float32Array;
}

function uniform(rand: () => number, n: number, scale: number, offset = 0): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = offset + scale * (2 * rand() - 1);
  return a;
}

/** Seeded random weights for every parameter `info` lists; norms around 1, biases non-trivial. */
function makeWeights(info: ModelInfo, seed: number): Map<string, W> {
  const rand = mulberry32(seed);
  const w = new Map<string, W>();
  for (const { name, shape } of info.params) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = name.endsWith('norm.weight') ? uniform(rand, n, 0.3, 1) : name.endsWith('.bias') ? uniform(rand, n, 0.3) : uniform(rand, n, name.includes('embed') ? 1 : 0.35);
    w.set(name, { shape, data });
  }
  return w;
}

function build(raw: Record<string, unknown>, seed: number): { model: LoadedModel; w: Map<string, W> } {
  const info = llama.info('tiny', llama.parseConfig(raw, 'config.json'));
  const w = makeWeights(info, seed);
  const weights = new Map<string, tf.Tensor>();
  for (const [name, t] of w) weights.set(name, tf.tensor(t.data, t.shape, 'float32'));
  return { model: llama.build(info, weights), w };
}

// ---------------------------------------------------------------------------------------------
// The naive reference.

type Vec = Float64Array;

interface RefModel {
  d: number;
  H: number;
  KV: number;
  hd: number;
  L: number;
  V: number;
  eps: number;
  tied: boolean;
  /** RoPE inverse frequencies, derived independently of llama.ts. */
  inv: number[];
  g(name: string): W | undefined;
}

/** θ^(−2j/d), then each scaling as the Llama 3.1 paper's code and transformers describe it. */
function refInvFreq(raw: Record<string, unknown>, hd: number): number[] {
  const theta = (raw.rope_theta as number | undefined) ?? 10000;
  const inv = Array.from({ length: hd / 2 }, (_, j) => 1 / theta ** ((2 * j) / hd));
  const s = raw.rope_scaling as Record<string, number | string> | undefined;
  const type = s?.rope_type ?? s?.type ?? 'default';
  if (type === 'linear') return inv.map((f) => f / (s!.factor as number));
  if (type === 'llama3') {
    const { factor, low_freq_factor: lo, high_freq_factor: hi, original_max_position_embeddings: old } = s as Record<string, number>;
    return inv.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < old / hi) return f;
      if (wavelen > old / lo) return f / factor;
      const smooth = (old / wavelen - lo) / (hi - lo);
      return (1 - smooth) * (f / factor) + smooth * f;
    });
  }
  return inv;
}

function refModel(raw: Record<string, unknown>, w: Map<string, W>): RefModel {
  const H = raw.num_attention_heads as number;
  const d = raw.hidden_size as number;
  const hd = d / H;
  return {
    d,
    H,
    KV: raw.num_key_value_heads as number,
    hd,
    L: raw.num_hidden_layers as number,
    V: raw.vocab_size as number,
    eps: raw.rms_norm_eps as number,
    tied: raw.tie_word_embeddings === true,
    inv: refInvFreq(raw, hd),
    g: (n) => w.get(n),
  };
}

function refRmsNorm(x: Vec, g: Float32Array, eps: number): Vec {
  let ms = 0;
  for (let i = 0; i < x.length; i++) ms += x[i] * x[i];
  ms /= x.length;
  const r = 1 / Math.sqrt(ms + eps);
  return x.map((v, i) => v * r * g[i]);
}

/** nn.Linear: y = W·x + b with W stored [out, in]; the bias only where the state dict has one. */
function refLinear(m: RefModel, path: string, x: Vec): Vec {
  const w = m.g(`${path}.weight`)!;
  const b = m.g(`${path}.bias`);
  const [outF, inF] = w.shape;
  const y = new Float64Array(outF);
  for (let o = 0; o < outF; o++) {
    let s = b ? b.data[o] : 0;
    for (let i = 0; i < inF; i++) s += w.data[o * inF + i] * x[i];
    y[o] = s;
  }
  return y;
}

/** Rotates pairs (j, j + hd/2) of one head's vector by pos·inv[j]. */
function refRope(x: ArrayLike<number>, pos: number, inv: number[]): number[] {
  const half = inv.length;
  const y = new Array<number>(2 * half);
  for (let j = 0; j < half; j++) {
    const c = Math.cos(pos * inv[j]);
    const s = Math.sin(pos * inv[j]);
    y[j] = x[j] * c - x[j + half] * s;
    y[j + half] = x[j + half] * c + x[j] * s;
  }
  return y;
}

interface RefOptions {
  /** Per layer, per batch row, per key/value head: P prefix key / value vectors (already rotated). */
  prefix?: { k: number[][][][]; v: number[][][][] }[];
}

/** Logits [B][T][V], the final normed hidden state and the hidden state after every block. */
function refForward(m: RefModel, ids: number[][], o: RefOptions = {}): { logits: Vec[][]; last: Vec[][]; hidden: Vec[][][] } {
  const { d, H, KV, hd, eps } = m;
  const group = H / KV;
  const emb = m.g('model.embed_tokens.weight')!.data;
  let h: Vec[][] = ids.map((row) => row.map((id) => Float64Array.from(emb.subarray(id * d, (id + 1) * d))));
  const hidden: Vec[][][] = [h];
  for (let l = 0; l < m.L; l++) {
    const p = `model.layers.${l}`;
    h = h.map((rowH, b) => {
      const pk = o.prefix?.[l].k[b];
      const pv = o.prefix?.[l].v[b];
      const P = pk ? pk[0].length : 0;
      const T = rowH.length;
      const a = rowH.map((x) => refRmsNorm(x, m.g(`${p}.input_layernorm.weight`)!.data, eps));
      const q = a.map((x) => refLinear(m, `${p}.self_attn.q_proj`, x));
      const k = a.map((x) => refLinear(m, `${p}.self_attn.k_proj`, x));
      const v = a.map((x) => refLinear(m, `${p}.self_attn.v_proj`, x));
      const rows: Vec[] = [];
      for (let t = 0; t < T; t++) {
        const merged = new Float64Array(H * hd);
        for (let qh = 0; qh < H; qh++) {
          const kh = Math.floor(qh / group);
          const qv = refRope(q[t].subarray(qh * hd, (qh + 1) * hd), P + t, m.inv);
          const keys: number[][] = [];
          const vals: number[][] = [];
          for (let s = 0; s < P; s++) (keys.push(pk![kh][s]), vals.push(pv![kh][s]));
          for (let s = 0; s <= t; s++) {
            keys.push(refRope(k[s].subarray(kh * hd, (kh + 1) * hd), P + s, m.inv));
            vals.push(Array.from(v[s].subarray(kh * hd, (kh + 1) * hd)));
          }
          const scores = keys.map((kk) => kk.reduce((acc, kj, j) => acc + kj * qv[j], 0) / Math.sqrt(hd));
          const mx = Math.max(...scores);
          const ex = scores.map((s) => Math.exp(s - mx));
          const z = ex.reduce((acc, e) => acc + e, 0);
          for (let j = 0; j < hd; j++) merged[qh * hd + j] = vals.reduce((acc, vv, s) => acc + (ex[s] / z) * vv[j], 0);
        }
        const x1 = rowH[t].map((x, i) => x + refLinear(m, `${p}.self_attn.o_proj`, merged)[i]);
        const n2 = refRmsNorm(x1, m.g(`${p}.post_attention_layernorm.weight`)!.data, eps);
        const gate = refLinear(m, `${p}.mlp.gate_proj`, n2);
        const up = refLinear(m, `${p}.mlp.up_proj`, n2);
        const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
        const down = refLinear(m, `${p}.mlp.down_proj`, act);
        rows.push(x1.map((x, i) => x + down[i]));
      }
      return rows;
    });
    hidden.push(h);
  }
  const head = m.g(m.tied ? 'model.embed_tokens.weight' : 'lm_head.weight')!.data;
  const last = h.map((row) => row.map((x) => refRmsNorm(x, m.g('model.norm.weight')!.data, eps)));
  const logits = last.map((row) =>
    row.map((f) => {
      const out = new Float64Array(m.V);
      for (let vv = 0; vv < m.V; vv++) for (let i = 0; i < d; i++) out[vv] += f[i] * head[vv * d + i];
      return out;
    }),
  );
  return { logits, last, hidden };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const flatRef = (x: Vec[][]): number[] => x.flatMap((row) => row.flatMap((v) => Array.from(v)));

/** Two rows of 16 ids (the whole context), repeating ids so attention sees equal keys too. */
const IDS = [
  [1, 5, 22, 7, 0, 13, 5, 9, 18, 3, 3, 21, 11, 2, 16, 8],
  [14, 4, 19, 10, 6, 12, 17, 20, 15, 0, 1, 2, 3, 4, 22, 5],
];
const idsTensor = () => tf.tensor2d(IDS, [2, 16], 'int32');

async function logitsOf(model: LoadedModel, hooks?: Hooks, ids = IDS): Promise<Float32Array> {
  const out = tf.tidy(() => model.forward(tf.tensor2d(ids, [ids.length, ids[0].length], 'int32'), hooks).logits);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// ---------------------------------------------------------------------------------------------

describe.each([
  ['llama (all biases, untied, llama3 RoPE)', LLAMA, 11],
  ['qwen2 (q/k/v biases, tied)', QWEN2, 12],
  ['mistral (window = context, linear RoPE)', MISTRAL, 13],
])('%s against the naive reference', (_, raw, seed) => {
  let model: LoadedModel;
  let ref: RefModel;
  beforeAll(() => {
    const built = build(raw, seed);
    model = built.model;
    ref = refModel(raw, built.w);
  });
  afterAll(() => model.dispose());

  it(`logits, the final normed state and every block's output agree within ${TOL}`, async () => {
    const want = refForward(ref, IDS);
    const out = tf.tidy(() => {
      const r = model.forward(idsTensor(), {}, { outputHidden: true });
      return [r.logits, r.lastHidden, ...r.hidden!];
    });
    const [logits, last, ...hidden] = await Promise.all(out.map((t) => t.data()));
    tf.dispose(out);
    const dl = maxDiff(logits, flatRef(want.logits));
    console.log(`${raw.model_type}: max |engine − reference| logits ${dl.toExponential(2)}`);
    expect(dl).toBeLessThan(TOL);
    expect(maxDiff(last, flatRef(want.last))).toBeLessThan(TOL);
    expect(hidden).toHaveLength(ref.L + 1);
    hidden.forEach((hs, i) => expect(maxDiff(hs, flatRef(want.hidden[i]))).toBeLessThan(TOL));
    // Not degenerate: the logits spread over the vocabulary.
    expect(Math.max(...logits) - Math.min(...logits)).toBeGreaterThan(1);
  });

  it('keys/values from kvPrefix join every layer, and the tokens take positions after them', async () => {
    const P = 3;
    const T = 16 - P;
    const ids = IDS.map((r) => r.slice(0, T));
    const rand = mulberry32(seed + 100);
    const prefix = Array.from({ length: ref.L }, () => ({
      k: ids.map(() => Array.from({ length: ref.KV }, () => Array.from({ length: P }, () => Array.from(uniform(rand, ref.hd, 1.5))))),
      v: ids.map(() => Array.from({ length: ref.KV }, () => Array.from({ length: P }, () => Array.from(uniform(rand, ref.hd, 1.5))))),
    }));
    const tensors = prefix.map((p) => ({ k: tf.tensor4d(p.k), v: tf.tensor4d(p.v) }));
    const got = await logitsOf(model, { kvPrefix: (layer) => tensors[layer] }, ids);
    tf.dispose(tensors.flatMap((t) => [t.k, t.v]));
    const want = flatRef(refForward(ref, ids, { prefix }).logits);
    expect(maxDiff(got, want)).toBeLessThan(TOL);
    // The prefix matters: without it the logits are elsewhere.
    expect(maxDiff(got, flatRef(refForward(ref, ids).logits))).toBeGreaterThan(1e-2);
  });
});

describe('RoPE frequencies', () => {
  it('llama3 scaling moves the logits (the reference comparison above can see it)', async () => {
    const { model, w } = build(LLAMA, 11);
    const plain = flatRef(refForward(refModel({ ...LLAMA, rope_scaling: null }, w), IDS).logits);
    expect(maxDiff(await logitsOf(model), plain)).toBeGreaterThan(1e-2);
    model.dispose();
  });

  it('llama3 keeps the high band, divides the low band by factor and blends between, as transformers does', () => {
    const rope: Rope = readRope(LLAMA, 'config.json', 16);
    const inv = ropeInverseFrequencies(rope, 8);
    const plain = [1, 0.1, 0.01, 0.001];
    expect(inv[0]).toBeCloseTo(plain[0], 7);
    // 2π·10 = 62.8 lies between 16 and 64: smooth = (64/62.83 − 1)/3.
    const smooth = (64 / ((2 * Math.PI) / 0.1) - 1) / 3;
    expect(inv[1]).toBeCloseTo((1 - smooth) * (0.1 / 8) + smooth * 0.1, 7);
    expect(inv[2]).toBeCloseTo(0.01 / 8, 8);
    expect(inv[3]).toBeCloseTo(0.001 / 8, 9);
  });

  it('reads transformers 5 rope_parameters as it reads 4.x rope_theta + rope_scaling', () => {
    const v5 = readRope({ rope_parameters: { rope_type: 'linear', rope_theta: 500, factor: 4 } }, 'config.json', 16);
    const v4 = readRope({ rope_theta: 500, rope_scaling: { type: 'linear', factor: 4 } }, 'config.json', 16);
    expect(v5).toEqual(v4);
    expect(readRope({}, 'config.json', 16)).toEqual({ theta: 10000, scaling: { type: 'default' } });
    // original_max_position_embeddings defaults to the context, as transformers 5 does.
    const { rope_scaling: s } = LLAMA;
    const rope = readRope({ rope_scaling: { ...s, original_max_position_embeddings: undefined } }, 'config.json', 99);
    expect(rope.scaling).toMatchObject({ type: 'llama3', originalMaxPositions: 99 });
  });
});

describeHookSurface({ build: () => build(LLAMA, 21).model, ids: IDS, linearCount: 2 * 7, checked: 'model.layers.0.self_attn.k_proj', moved: 'model.layers.1.mlp.down_proj' });

describe('hooks', () => {
  let model: LoadedModel;
  beforeAll(() => (model = build(LLAMA, 21).model));
  afterAll(() => model.dispose());

  it('inputEmbeds may prepend virtual tokens: they take the first positions and count in `prepended`', async () => {
    const virtual = tf.tensor3d(Array.from(uniform(mulberry32(5), 2 * 2 * 32, 1)), [2, 2, 32]);
    const r = tf.tidy(() => {
      const out = model.forward(tf.tensor2d(IDS.map((row) => row.slice(0, 14)), [2, 14], 'int32'), { inputEmbeds: (e) => tf.concat([virtual, e], 1) });
      return { prepended: out.prepended, shape: out.logits.shape, data: out.logits.dataSync() };
    });
    expect(r.prepended).toBe(2);
    expect(r.shape).toEqual([2, 16, 23]);
    // The same as feeding the virtual rows' embeddings in place of two tokens' embeddings.
    const emb = model.weights.get('model.embed_tokens.weight')!;
    const replaced = tf.tidy(() => {
      const ids = tf.tensor2d(IDS.map((row) => [0, 0, ...row.slice(0, 14)]), [2, 16], 'int32');
      return model
        .forward(ids, { inputEmbeds: (e) => tf.concat([virtual, tf.slice(e, [0, 2, 0], [-1, -1, -1])], 1) })
        .logits.dataSync();
    });
    expect(maxDiff(r.data, replaced)).toBe(0);
    expect(emb.isDisposed).toBe(false);
    virtual.dispose();
  });

  it("refuses more positions than the model's context, prefix slots included", () => {
    const ids = tf.tensor2d([[...IDS[0], 1]], [1, 17], 'int32');
    expect(() => tf.tidy(() => void model.forward(ids))).toThrow("sequence of 17 positions exceeds the model's context of 16");
    const k = tf.zeros([1, 2, 2, 8]) as tf.Tensor4D;
    const ids15 = tf.tensor2d([IDS[0].slice(0, 15)], [1, 15], 'int32');
    expect(() => tf.tidy(() => void model.forward(ids15, { kvPrefix: () => ({ k, v: k }) }))).toThrow('sequence of 17 positions');
    tf.dispose([ids, ids15, k]);
  });

  it('refuses prefixes with query heads instead of key/value heads', () => {
    const k = tf.zeros([1, 4, 2, 8]) as tf.Tensor4D;
    const ids = tf.tensor2d([[1, 2]], [1, 2], 'int32');
    expect(() => tf.tidy(() => void model.forward(ids, { kvPrefix: () => ({ k, v: k }) }))).toThrow('expected [1,2,2,8]');
    tf.dispose([ids, k]);
  });
});

describe('state-dict names', () => {
  it('names every parameter as LlamaForCausalLM does, nn.Linear [out, in], biases where configured', () => {
    const info = llama.info('tiny', llama.parseConfig(LLAMA, 'config.json'));
    const names = info.params.map((p) => p.name);
    expect(names.slice(0, 17)).toEqual([
      'model.embed_tokens.weight',
      'model.layers.0.self_attn.q_proj.weight',
      'model.layers.0.self_attn.q_proj.bias',
      'model.layers.0.self_attn.k_proj.weight',
      'model.layers.0.self_attn.k_proj.bias',
      'model.layers.0.self_attn.v_proj.weight',
      'model.layers.0.self_attn.v_proj.bias',
      'model.layers.0.self_attn.o_proj.weight',
      'model.layers.0.self_attn.o_proj.bias',
      'model.layers.0.mlp.gate_proj.weight',
      'model.layers.0.mlp.gate_proj.bias',
      'model.layers.0.mlp.up_proj.weight',
      'model.layers.0.mlp.up_proj.bias',
      'model.layers.0.mlp.down_proj.weight',
      'model.layers.0.mlp.down_proj.bias',
      'model.layers.0.input_layernorm.weight',
      'model.layers.0.post_attention_layernorm.weight',
    ]);
    expect(names.slice(-2)).toEqual(['model.norm.weight', 'lm_head.weight']);
    const shape = (n: string) => info.params.find((p) => p.name === n)!.shape;
    expect(shape('model.layers.1.self_attn.k_proj.weight')).toEqual([16, 32]);
    expect(shape('model.layers.1.self_attn.o_proj.weight')).toEqual([32, 32]);
    expect(shape('model.layers.1.mlp.down_proj.weight')).toEqual([32, 48]);
    expect(info.linears[1]).toEqual({ path: 'model.layers.0.self_attn.k_proj', name: 'k_proj', inFeatures: 32, outFeatures: 16, fanInFanOut: false, hasBias: true, layer: 0 });
    expect(info.totalParams).toBe(info.params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0));
  });

  it('Qwen2 has q/k/v biases only; a tied head is counted once and not listed', () => {
    const info = llama.info('tiny', llama.parseConfig(QWEN2, 'config.json'));
    expect(info.linears.filter((l) => l.hasBias).map((l) => l.name)).toEqual(['q_proj', 'k_proj', 'v_proj', 'q_proj', 'k_proj', 'v_proj']);
    expect(info.params.some((p) => p.name === 'lm_head.weight')).toBe(false);
    const untied = llama.info('tiny', llama.parseConfig({ ...QWEN2, tie_word_embeddings: false }, 'config.json'));
    expect(untied.totalParams - info.totalParams).toBe(23 * 32);
    const mistral = llama.info('tiny', llama.parseConfig(MISTRAL, 'config.json'));
    expect(mistral.linears.some((l) => l.hasBias)).toBe(false);
  });

  it('normaliseName drops RoPE buffers, and lm_head.weight when the head is tied', () => {
    const tied = llama.parseConfig(QWEN2, 'config.json');
    const untied = llama.parseConfig(LLAMA, 'config.json');
    const normalise = llama.normaliseName;
    expect(normalise('model.layers.3.self_attn.rotary_emb.inv_freq', untied)).toBeUndefined();
    expect(normalise('lm_head.weight', tied)).toBeUndefined();
    expect(normalise('lm_head.weight', untied)).toBe('lm_head.weight');
    expect(normalise('model.layers.0.mlp.up_proj.weight', tied)).toBe('model.layers.0.mlp.up_proj.weight');
  });

  it('blockPath, LoRA targets and model types', () => {
    const config = llama.parseConfig(LLAMA, 'config.json');
    expect(llama.blockPath(config, 3)).toBe('model.layers.3');
    expect(llama.loraTargets(config)).toEqual(['q_proj', 'v_proj']);
    expect(llama.adapterHubModelClass(config)).toBe('LlamaForCausalLM');
    expect(llama.adapterHubModelClass({ ...config, modelType: 'qwen2' })).toBe('Qwen2ForCausalLM');
    expect(llama.modelTypes).toEqual(['llama', 'qwen2', 'mistral']);
  });
});

describe('config.json', () => {
  const parse = (over: Record<string, unknown>, base: Record<string, unknown> = LLAMA) => () => llama.parseConfig({ ...base, ...over }, 'my/config.json');

  it('reads the neutral sizes, with transformers’ defaults for what may be absent', () => {
    const { num_key_value_heads: _, rms_norm_eps: __, tie_word_embeddings: ___, ...rest } = LLAMA;
    const c = llama.parseConfig(rest, 'config.json');
    expect(c).toMatchObject({ family: 'llama', modelType: 'llama', hiddenSize: 32, numLayers: 2, numHeads: 4, numKeyValueHeads: 4, headDim: 8, intermediateSize: 48, maxPositions: 16, vocabSize: 23, tiedHead: false, normEpsilon: 1e-6 });
    expect(llama.parseConfig({ ...LLAMA, head_dim: 16 }, 'config.json').headDim).toBe(16);
    expect(llama.parseConfig({ ...LLAMA, head_dim: null }, 'config.json').headDim).toBe(8);
  });

  it.each([
    [{ model_type: 'gpt2' }, '"model_type" is "gpt2"'],
    [{ hidden_size: undefined }, '"hidden_size" must be a positive integer'],
    [{ num_key_value_heads: 3 }, '"num_key_value_heads" (3) must divide "num_attention_heads" (4)'],
    [{ head_dim: 7 }, '"head_dim" (7) must be even'],
    [{ hidden_act: 'gelu' }, '"hidden_act" "gelu" is not supported'],
    [{ rms_norm_eps: 0 }, '"rms_norm_eps" must be a positive number'],
    [{ attention_bias: 'yes' }, '"attention_bias" must be true or false'],
    [{ tie_word_embeddings: 1 }, '"tie_word_embeddings" must be true or false'],
    [{ rope_scaling: { rope_type: 'yarn', factor: 4 } }, '"rope_scaling.rope_type" "yarn" is not supported'],
    [{ rope_scaling: { type: 'dynamic', factor: 4 } }, '"rope_scaling.type" "dynamic" is not supported'],
    [{ rope_scaling: null, rope_parameters: { rope_type: 'longrope' } }, '"rope_parameters.rope_type" "longrope"'],
    [{ rope_scaling: { rope_type: 'llama3', factor: 8, high_freq_factor: 4 } }, '"rope_scaling.low_freq_factor" must be a positive number'],
    [{ rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 4, high_freq_factor: 1 } }, '"rope_scaling.high_freq_factor" (1) must be greater than'],
    [{ rope_scaling: { rope_type: 'linear' } }, '"rope_scaling.factor" must be a positive number'],
    [{ rope_theta: -1, rope_scaling: null }, '"rope_theta" must be a positive number'],
    [{ partial_rotary_factor: 0.5 }, '"partial_rotary_factor" 0.5 is not supported'],
  ])('refuses %j naming the field', (over, message) => {
    expect(parse(over)).toThrow(`my/config.json: ${message}`);
  });

  it('refuses a sliding window only where it would narrow attention, and says why', () => {
    expect(parse({ sliding_window: 8 }, MISTRAL)).toThrow('my/config.json: "sliding_window" 8 is not supported: this engine computes full causal attention, and a window of 8 keys is narrower than the context of 16');
    expect(parse({ sliding_window: null }, MISTRAL)).not.toThrow();
    expect(parse({ sliding_window: 16 }, MISTRAL)).not.toThrow();
    // Qwen2 windows only with use_sliding_window, and only layers from max_window_layers on.
    expect(parse({ use_sliding_window: true, max_window_layers: 1 }, QWEN2)).toThrow('"use_sliding_window": true is not supported');
    expect(parse({ use_sliding_window: true, max_window_layers: 2 }, QWEN2)).not.toThrow();
    expect(parse({ use_sliding_window: true, max_window_layers: 2, layer_types: ['full_attention', 'sliding_attention'] }, QWEN2)).toThrow('"use_sliding_window": true');
    expect(parse({ use_sliding_window: true, max_window_layers: 0, sliding_window: 16 }, QWEN2)).not.toThrow();
    expect(parse({ use_sliding_window: false, max_window_layers: 0 }, QWEN2)).not.toThrow();
  });
});
