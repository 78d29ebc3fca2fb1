// The BERT family's forward pass against a naive reference written with plain loops over
// Float64Arrays (no tfjs in the reference): embeddings with token types and each model type's
// positions, post-LayerNorm blocks, bidirectional attention with padding masked, exact GELU,
// the MLM head; then the hook surface, the state-dict names, and config.json's refusals.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/random';
import { bert } from './bert';
import { describeHookSurface } from './hook-conformance';
import type { Hooks, LoadedModel, ModelInfo } from './types';

// ---------------------------------------------------------------------------------------------
// Tiny random checkpoints, in Hugging Face config.json / state-dict names.

const SIZES = {
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 48,
  max_position_embeddings: 20,
  vocab_size: 23,
  hidden_act: 'gelu',
  // Larger than the usual 1e-12 so that forgetting (or misplacing) eps moves logits past 1e-4.
  layer_norm_eps: 1e-2,
};
const TOL = 1e-4;

/** BERT with three token types and a tied head. */
const BERT = { ...SIZES, model_type: 'bert', type_vocab_size: 3, pad_token_id: 0 };
/** RoBERTa, untied: positions from pad_token_id + 1, its decoder's own weight and bias. */
const ROBERTA = { ...SIZES, model_type: 'roberta', type_vocab_size: 1, pad_token_id: 1, tie_word_embeddings: false };
/** DistilBERT in its own field names; no token types, LayerNorm eps fixed at 1e-12. */
const DISTILBERT = { model_type: 'distilbert', dim: 32, n_layers: 2, n_heads: 4, hidden_dim: 48, max_position_embeddings: 20, vocab_size: 23, activation: 'gelu', pad_token_id: 0 };

interface W {
  shape: number[];
  data: Float32Array;
}

function uniform(rand: () => number, n: number, scale: number, offset = 0): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = offset + scale * (2 * rand() - 1);
  return a;
}

/** Seeded random weights for every parameter `info` lists; LayerNorm scales around 1, biases non-trivial. */
function makeWeights(info: ModelInfo, seed: number): Map<string, W> {
  const rand = mulberry32(seed);
  const w = new Map<string, W>();
  for (const { name, shape } of info.params) {
    const n = shape.reduce((a, b) => a * b, 1);
    const isNorm = /(LayerNorm|layer_norm)\.weight$/.test(name);
    const data = isNorm ? uniform(rand, n, 0.3, 1) : name.endsWith('bias') ? uniform(rand, n, 0.5) : uniform(rand, n, name.includes('embeddings') ? 1 : 0.35);
    w.set(name, { shape, data });
  }
  return w;
}

function build(raw: Record<string, unknown>, seed: number): { model: LoadedModel; w: Map<string, W> } {
  const info = bert.info('tiny', bert.parseConfig(raw, 'config.json'));
  const w = makeWeights(info, seed);
  const weights = new Map<string, tf.Tensor>();
  for (const [name, t] of w) weights.set(name, tf.tensor(t.data, t.shape, 'float32'));
  return { model: bert.build(info, weights), w };
}

// ---------------------------------------------------------------------------------------------
// The naive reference, with every model type's names spelled out here, independently of bert.ts.

type Vec = Float64Array;

interface Block {
  q: string;
  k: string;
  v: string;
  o: string;
  attnNorm: string;
  up: string;
  down: string;
  ffnNorm: string;
}

interface RefModel {
  type: string;
  d: number;
  H: number;
  hd: number;
  L: number;
  V: number;
  eps: number;
  pad: number;
  emb: string;
  block(i: number): Block;
  head: { dense: string; norm: string; decoderWeight: string; bias: string };
  g(name: string): W;
}

function refModel(raw: Record<string, unknown>, w: Map<string, W>): RefModel {
  const g = (n: string) => {
    const t = w.get(n);
    if (!t) throw new Error(`reference: no weight ${n}`);
    return t;
  };
  const tied = raw.tie_word_embeddings !== false;
  if (raw.model_type === 'distilbert') {
    const p = (i: number) => `distilbert.transformer.layer.${i}`;
    return {
      type: 'distilbert',
      d: raw.dim as number,
      H: raw.n_heads as number,
      hd: (raw.dim as number) / (raw.n_heads as number),
      L: raw.n_layers as number,
      V: raw.vocab_size as number,
      eps: 1e-12,
      pad: raw.pad_token_id as number,
      emb: 'distilbert.embeddings',
      block: (i) => ({
        q: `${p(i)}.attention.q_lin`,
        k: `${p(i)}.attention.k_lin`,
        v: `${p(i)}.attention.v_lin`,
        o: `${p(i)}.attention.out_lin`,
        attnNorm: `${p(i)}.sa_layer_norm`,
        up: `${p(i)}.ffn.lin1`,
        down: `${p(i)}.ffn.lin2`,
        ffnNorm: `${p(i)}.output_layer_norm`,
      }),
      head: { dense: 'vocab_transform', norm: 'vocab_layer_norm', decoderWeight: tied ? 'distilbert.embeddings.word_embeddings.weight' : 'vocab_projector.weight', bias: 'vocab_projector.bias' },
      g,
    };
  }
  const type = raw.model_type as string;
  const p = (i: number) => `${type}.encoder.layer.${i}`;
  const head =
    type === 'bert'
      ? { dense: 'cls.predictions.transform.dense', norm: 'cls.predictions.transform.LayerNorm', decoder: 'cls.predictions.decoder', bias: 'cls.predictions.bias' }
      : { dense: 'lm_head.dense', norm: 'lm_head.layer_norm', decoder: 'lm_head.decoder', bias: 'lm_head.bias' };
  return {
    type,
    d: raw.hidden_size as number,
    H: raw.num_attention_heads as number,
    hd: (raw.hidden_size as number) / (raw.num_attention_heads as number),
    L: raw.num_hidden_layers as number,
    V: raw.vocab_size as number,
    eps: raw.layer_norm_eps as number,
    pad: raw.pad_token_id as number,
    emb: `${type}.embeddings`,
    block: (i) => ({
      q: `${p(i)}.attention.self.query`,
      k: `${p(i)}.attention.self.key`,
      v: `${p(i)}.attention.self.value`,
      o: `${p(i)}.attention.output.dense`,
      attnNorm: `${p(i)}.attention.output.LayerNorm`,
      up: `${p(i)}.intermediate.dense`,
      down: `${p(i)}.output.dense`,
      ffnNorm: `${p(i)}.output.LayerNorm`,
    }),
    // Untied, the decoder's own bias is added (the head's `bias` is then unused).
    head: { dense: head.dense, norm: head.norm, decoderWeight: tied ? `${type}.embeddings.word_embeddings.weight` : `${head.decoder}.weight`, bias: tied ? head.bias : `${head.decoder}.bias` },
    g,
  };
}

function refLayerNorm(m: RefModel, x: Vec, path: string): Vec {
  const g = m.g(`${path}.weight`).data;
  const b = m.g(`${path}.bias`).data;
  const mean = x.reduce((a, v) => a + v, 0) / x.length;
  const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + m.eps)) * g[i] + b[i]);
}

/** nn.Linear: y = W·x + b with W stored [out, in]. */
function refLinear(m: RefModel, path: string, x: Vec): Vec {
  const w = m.g(`${path}.weight`);
  const b = m.g(`${path}.bias`).data;
  const [outF, inF] = w.shape;
  const y = new Float64Array(outF);
  for (let o = 0; o < outF; o++) {
    let s = b[o];
    for (let i = 0; i < inF; i++) s += w.data[o * inF + i] * x[i];
    y[o] = s;
  }
  return y;
}

/** erf to ~1e-9: its Maclaurin series below 3, the asymptotic series of erfc above. */
function erf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 80; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let term = 1;
    let sum = 1;
    for (let n = 1; n < 8; n++) {
      term *= -(2 * n - 1) / (2 * a * a);
      sum += term;
    }
    r = 1 - (Math.exp(-a * a) / (a * Math.sqrt(Math.PI))) * sum;
  }
  return x < 0 ? -r : r;
}

const refGelu = (x: Vec): Vec => x.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));

interface RefOptions {
  /** Per batch row, 1 for a real token and 0 for padding. */
  mask?: number[][];
  /** Per batch row, virtual token embeddings put in front of the word embeddings. */
  virtual?: number[][][];
  /** Per layer, per batch row, per head: P prefix key / value vectors. */
  prefix?: { k: number[][][][]; v: number[][][][] }[];
  /** Applied to each token's sublayer output before the residual add. */
  after?: (layer: number, kind: 'attn' | 'mlp', x: Vec) => Vec;
  /** Per batch row, each real token's type (a sentence pair's second segment is 1); 0 when absent. */
  types?: number[][];
}

/** Position ids of one row, as each model type numbers them (see transformers' embeddings). */
function refPositions(m: RefModel, row: number[], T: number, P: number, virtual: boolean): number[] {
  if (m.type !== 'roberta') return Array.from({ length: T }, (_, t) => P + t);
  if (virtual) return Array.from({ length: T }, (_, t) => m.pad + 1 + t);
  let count = 0;
  return row.map((id) => (id === m.pad ? m.pad : m.pad + P + ++count));
}

/** Logits [B][T][V] and the hidden state after the embeddings and after every block. */
function refForward(m: RefModel, ids: number[][], o: RefOptions = {}): { logits: Vec[][]; hidden: Vec[][][] } {
  const { d, H, hd } = m;
  const word = m.g(`${m.emb}.word_embeddings.weight`).data;
  const pos = m.g(`${m.emb}.position_embeddings.weight`).data;
  const tokenType = m.type === 'distilbert' ? undefined : m.g(`${m.emb}.token_type_embeddings.weight`).data;
  const P = o.prefix ? o.prefix[0].k[0][0].length : 0;
  let h: Vec[][] = ids.map((row, b) => {
    const virtual = o.virtual?.[b] ?? [];
    const vectors = [...virtual.map((v) => Float64Array.from(v)), ...row.map((id) => Float64Array.from(word.subarray(id * d, (id + 1) * d)))];
    const positions = refPositions(m, row, vectors.length, P, virtual.length > 0);
    // A model with one token type (RoBERTa) gets no token types from its tokenizer: all are 0.
    const types = [...virtual.map(() => 0), ...row.map((_, t) => (tokenType && tokenType.length > d ? (o.types?.[b][t] ?? 0) : 0))];
    return vectors.map((x, t) => {
      const e = x.map((v, i) => v + (tokenType ? tokenType[types[t] * d + i] : 0) + pos[positions[t] * d + i]);
      return refLayerNorm(m, e, `${m.emb}.LayerNorm`);
    });
  });
  const hidden: Vec[][][] = [h];
  const after = o.after ?? ((_l: number, _k: string, x: Vec) => x);
  for (let l = 0; l < m.L; l++) {
    const blk = m.block(l);
    h = h.map((rowH, b) => {
      const T = rowH.length;
      const nv = o.virtual?.[b]?.length ?? 0;
      // Which keys a query may see: prefix slots and virtual tokens always, tokens by the mask.
      const keep = [...new Array<number>(P + nv).fill(1), ...(o.mask?.[b] ?? new Array<number>(T - nv).fill(1))];
      const q = rowH.map((x) => refLinear(m, blk.q, x));
      const k = rowH.map((x) => refLinear(m, blk.k, x));
      const v = rowH.map((x) => refLinear(m, blk.v, x));
      return rowH.map((x, t) => {
        const merged = new Float64Array(d);
        for (let hh = 0; hh < H; hh++) {
          const keys: ArrayLike<number>[] = [];
          const vals: ArrayLike<number>[] = [];
          for (let s = 0; s < P; s++) (keys.push(o.prefix![l].k[b][hh][s]), vals.push(o.prefix![l].v[b][hh][s]));
          for (let s = 0; s < T; s++) (keys.push(k[s].subarray(hh * hd, (hh + 1) * hd)), vals.push(v[s].subarray(hh * hd, (hh + 1) * hd)));
          const qv = q[t].subarray(hh * hd, (hh + 1) * hd);
          const scores = keys.map((kk, s) => (keep[s] ? Array.from(qv).reduce((acc, qj, j) => acc + qj * kk[j], 0) / Math.sqrt(hd) : -Infinity));
          const mx = Math.max(...scores);
          const ex = scores.map((s) => (s === -Infinity ? 0 : Math.exp(s - mx)));
          const z = ex.reduce((acc, e) => acc + e, 0);
          for (let j = 0; j < hd; j++) merged[hh * hd + j] = vals.reduce((acc, vv, s) => acc + (ex[s] / z) * vv[j], 0);
        }
        const attn = after(l, 'attn', refLinear(m, blk.o, merged));
        const x1 = refLayerNorm(m, attn.map((a, i) => a + x[i]), blk.attnNorm);
        const ffn = after(l, 'mlp', refLinear(m, blk.down, refGelu(refLinear(m, blk.up, x1))));
        return refLayerNorm(m, ffn.map((f, i) => f + x1[i]), blk.ffnNorm);
      });
    });
    hidden.push(h);
  }
  const decoder = m.g(m.head.decoderWeight).data;
  const bias = m.g(m.head.bias).data;
  const logits = h.map((row) =>
    row.map((x) => {
      const t = refLayerNorm(m, refGelu(refLinear(m, m.head.dense, x)), m.head.norm);
      const out = new Float64Array(m.V);
      for (let vv = 0; vv < m.V; vv++) {
        out[vv] = bias[vv];
        for (let i = 0; i < d; i++) out[vv] += t[i] * decoder[vv * d + i];
      }
      return out;
    }),
  );
  return { logits, hidden };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const flatRef = (x: Vec[][]): number[] => x.flatMap((row) => row.flatMap((v) => Array.from(v)));

/** Two rows of 12 ids, with 0 and 1 (the pad ids) in the middle and ids repeated. */
const IDS = [
  [2, 5, 22, 7, 0, 13, 5, 9, 18, 1, 3, 21],
  [14, 4, 19, 10, 6, 12, 17, 1, 15, 0, 11, 8],
];
const idsTensor = (ids = IDS) => tf.tensor2d(ids, [ids.length, ids[0].length], 'int32');

/** The second row right-padded after 8 real tokens with the model's pad id, and its mask. */
function padded(pad: number): { ids: number[][]; mask: number[][] } {
  return {
    ids: [IDS[0], [...IDS[1].slice(0, 8), pad, pad, pad, pad]],
    mask: [new Array<number>(12).fill(1), [...new Array<number>(8).fill(1), 0, 0, 0, 0]],
  };
}

async function logitsOf(model: LoadedModel, hooks?: Hooks, ids = IDS, mask?: number[][]): Promise<Float32Array> {
  const out = tf.tidy(() => model.forward(idsTensor(ids), hooks, mask ? { attentionMask: tf.tensor2d(mask) } : {}).logits);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// ---------------------------------------------------------------------------------------------

describe.each([
  ['bert (tied, 3 token types)', BERT, 11],
  ['roberta (untied, positions after pad_token_id)', ROBERTA, 12],
  ['distilbert (no token types)', DISTILBERT, 13],
])('%s against the naive reference', (_, raw, seed) => {
  let model: LoadedModel;
  let ref: RefModel;
  beforeAll(() => {
    const built = build(raw, seed);
    model = built.model;
    ref = refModel(raw, built.w);
  });
  afterAll(() => model.dispose());

  it(`logits, the last hidden state and every block's output agree within ${TOL}`, async () => {
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
    expect(maxDiff(last, flatRef(want.hidden[ref.L]))).toBeLessThan(TOL);
    expect(hidden).toHaveLength(ref.L + 1);
    hidden.forEach((hs, i) => expect(maxDiff(hs, flatRef(want.hidden[i]))).toBeLessThan(TOL));
    // Not degenerate: the logits spread over the vocabulary.
    expect(Math.max(...logits) - Math.min(...logits)).toBeGreaterThan(1);
  });

  it('with an attention mask, padding changes no real token: each row as if run alone, unpadded', async () => {
    const { ids, mask } = padded(ref.pad);
    const got = await logitsOf(model, {}, ids, mask);
    const dm = maxDiff(got, flatRef(refForward(ref, ids, { mask }).logits));
    console.log(`${raw.model_type} with padding masked: max |engine − reference| logits ${dm.toExponential(2)}`);
    expect(dm).toBeLessThan(TOL);
    const V = ref.V;
    const alone = await logitsOf(model, {}, [ids[1].slice(0, 8)]);
    expect(maxDiff(got.subarray(12 * V, 20 * V), alone)).toBeLessThan(TOL);
    expect(maxDiff(got.subarray(0, 12 * V), await logitsOf(model, {}, [ids[0]]))).toBeLessThan(TOL);
    // Unmasked, the pads are attended and move the real tokens' logits.
    const unmasked = await logitsOf(model, {}, ids);
    expect(maxDiff(unmasked.subarray(12 * V, 20 * V), alone)).toBeGreaterThan(1e-2);
    // A mask of all ones is no mask.
    expect(maxDiff(await logitsOf(model, {}, IDS, [new Array<number>(12).fill(1), new Array<number>(12).fill(1)]), await logitsOf(model))).toBeLessThan(1e-6);
  });

  it('keys/values from kvPrefix join every layer, always attended, and the tokens take positions after them', async () => {
    const P = 3;
    const rand = mulberry32(seed + 100);
    const { ids, mask } = padded(ref.pad);
    const prefix = Array.from({ length: ref.L }, () => ({
      k: ids.map(() => Array.from({ length: ref.H }, () => Array.from({ length: P }, () => Array.from(uniform(rand, ref.hd, 1.5))))),
      v: ids.map(() => Array.from({ length: ref.H }, () => Array.from({ length: P }, () => Array.from(uniform(rand, ref.hd, 1.5))))),
    }));
    const tensors = prefix.map((p) => ({ k: tf.tensor4d(p.k), v: tf.tensor4d(p.v) }));
    const got = await logitsOf(model, { kvPrefix: (layer) => tensors[layer] }, ids, mask);
    tf.dispose(tensors.flatMap((t) => [t.k, t.v]));
    expect(maxDiff(got, flatRef(refForward(ref, ids, { prefix, mask }).logits))).toBeLessThan(TOL);
    // The prefix matters: without it the logits are elsewhere.
    expect(maxDiff(got, flatRef(refForward(ref, ids, { mask }).logits))).toBeGreaterThan(1e-2);
  });

  it('virtual tokens from inputEmbeds take positions and token types, and are always attended', async () => {
    const { ids, mask } = padded(ref.pad);
    const virtual = ids.map(() => Array.from({ length: 2 }, () => Array.from(uniform(mulberry32(seed + 200), ref.d, 1))));
    const vt = tf.tensor3d(virtual);
    const r = tf.tidy(() => {
      const out = model.forward(idsTensor(ids), { inputEmbeds: (e) => tf.concat([vt, e], 1) }, { attentionMask: tf.tensor2d(mask) });
      return { prepended: out.prepended, shape: out.logits.shape, data: out.logits.dataSync() };
    });
    vt.dispose();
    expect(r.prepended).toBe(2);
    expect(r.shape).toEqual([2, 14, ref.V]);
    expect(maxDiff(r.data, flatRef(refForward(ref, ids, { virtual, mask }).logits))).toBeLessThan(TOL);
  });

  it("a sentence pair's token types: each token takes its type's row where the model has several, type 0's where it has one (RoBERTa) or none (DistilBERT)", async () => {
    const { ids, mask } = padded(ref.pad);
    const types = [
      [...new Array<number>(6).fill(0), ...new Array<number>(6).fill(1)],
      [...new Array<number>(4).fill(0), ...new Array<number>(8).fill(1)],
    ];
    const got = tf.tidy(() => model.forward(idsTensor(ids), {}, { attentionMask: tf.tensor2d(mask), tokenTypeIds: tf.tensor2d(types, [2, 12], 'int32') }).logits.dataSync());
    const want = flatRef(refForward(ref, ids, { mask, types }).logits);
    expect(maxDiff(got, want)).toBeLessThan(TOL);
    // Where the types have rows of their own, they move the logits.
    const untyped = flatRef(refForward(ref, ids, { mask }).logits);
    if (raw === BERT) expect(maxDiff(want, untyped)).toBeGreaterThan(1e-2);
    else expect(maxDiff(want, untyped)).toBe(0);
  });

  it('afterSublayer sees each sublayer output before the residual add and its LayerNorm', async () => {
    const shift = Float64Array.from(uniform(mulberry32(seed + 300), ref.d, 0.5));
    const shiftT = tf.tensor1d(Float32Array.from(shift));
    const got = await logitsOf(model, { afterSublayer: (layer, kind, x) => (layer === 1 && kind === 'attn') || (layer === 0 && kind === 'mlp') ? tf.add(x, shiftT) : x });
    shiftT.dispose();
    const after = (layer: number, kind: string, x: Vec) => ((layer === 1 && kind === 'attn') || (layer === 0 && kind === 'mlp') ? x.map((v, i) => v + shift[i]) : x);
    expect(maxDiff(got, flatRef(refForward(ref, IDS, { after }).logits))).toBeLessThan(TOL);
  });
});

describeHookSurface({ build: () => build(BERT, 21).model, ids: IDS, linearCount: 2 * 6 + 1, checked: 'bert.encoder.layer.0.attention.self.key', moved: 'bert.encoder.layer.1.output.dense' });

describe('hooks', () => {
  let model: LoadedModel;
  beforeAll(() => (model = build(BERT, 21).model));
  afterAll(() => model.dispose());

  it('the MLM head’s transform dense is the last linear module (PEFT’s `dense` target reaches it); its decoder is not one', () => {
    expect(model.info.linears.filter((l) => l.path.startsWith('cls.')).map((l) => l.path)).toEqual(['cls.predictions.transform.dense']);
    expect(model.info.linears.at(-1)!.path).toBe('cls.predictions.transform.dense');
  });

  it("untied, BERT's and RoBERTa's head `bias` is a listed parameter the logits never read (the decoder's own bias is)", async () => {
    const { model: untied } = build({ ...ROBERTA, num_hidden_layers: 1 }, 22);
    const params = new Set<string>();
    tf.tidy(() => void untied.forward(idsTensor(), { param: (name, t) => (params.add(name), t) }));
    const listed = untied.info.params.map((p) => p.name);
    expect(listed.filter((n) => !params.has(n))).toEqual(['lm_head.bias']);
    expect(params.has('lm_head.decoder.bias')).toBe(true);
    untied.dispose();
  });

  it('a forward inside tf.tidy leaves no tensor behind with a mask, a prefix and virtual tokens', () => {
    const k = tf.zeros([2, 4, 2, 8]) as tf.Tensor4D;
    const vt = tf.zeros([2, 1, 32]) as tf.Tensor3D;
    const mask = tf.ones([2, 12]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      model.forward(idsTensor(), {}, { outputHidden: true });
      model.forward(idsTensor(), { kvPrefix: () => ({ k, v: k }), inputEmbeds: (e) => tf.concat([vt, e], 1) }, { attentionMask: mask, outputHidden: true });
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([k, vt, mask]);
  });

  it("refuses more positions than the model's context, prefix slots included", () => {
    const long = tf.tensor2d([[...IDS[0], ...IDS[1]]], [1, 24], 'int32');
    expect(() => tf.tidy(() => void model.forward(long))).toThrow("sequence of 24 positions exceeds the model's context of 20");
    const k = tf.zeros([1, 4, 9, 8]) as tf.Tensor4D;
    const ids12 = tf.tensor2d([IDS[0]], [1, 12], 'int32');
    expect(() => tf.tidy(() => void model.forward(ids12, { kvPrefix: () => ({ k, v: k }) }))).toThrow('sequence of 21 positions');
    tf.dispose([long, ids12, k]);
  });

  it('refuses prefixes of the wrong shape and masks that do not match the ids', () => {
    const k = tf.zeros([1, 2, 2, 8]) as tf.Tensor4D;
    const ids = tf.tensor2d([[1, 2]], [1, 2], 'int32');
    expect(() => tf.tidy(() => void model.forward(ids, { kvPrefix: () => ({ k, v: k }) }))).toThrow('expected [1,4,2,8]');
    const mask = tf.ones([1, 3]) as tf.Tensor2D;
    expect(() => tf.tidy(() => void model.forward(ids, {}, { attentionMask: mask }))).toThrow('attentionMask is [1,3], expected [1,2]');
    tf.dispose([ids, k, mask]);
  });
});

describe('state-dict names', () => {
  const infoOf = (raw: Record<string, unknown>) => bert.info('tiny', bert.parseConfig(raw, 'config.json'));

  it('names every parameter as BertForMaskedLM does, tied decoder left out', () => {
    const info = infoOf(BERT);
    const names = info.params.map((p) => p.name);
    expect(names.slice(0, 21)).toEqual([
      'bert.embeddings.word_embeddings.weight',
      'bert.embeddings.position_embeddings.weight',
      'bert.embeddings.token_type_embeddings.weight',
      'bert.embeddings.LayerNorm.weight',
      'bert.embeddings.LayerNorm.bias',
      'bert.encoder.layer.0.attention.self.query.weight',
      'bert.encoder.layer.0.attention.self.query.bias',
      'bert.encoder.layer.0.attention.self.key.weight',
      'bert.encoder.layer.0.attention.self.key.bias',
      'bert.encoder.layer.0.attention.self.value.weight',
      'bert.encoder.layer.0.attention.self.value.bias',
      'bert.encoder.layer.0.attention.output.dense.weight',
      'bert.encoder.layer.0.attention.output.dense.bias',
      'bert.encoder.layer.0.attention.output.LayerNorm.weight',
      'bert.encoder.layer.0.attention.output.LayerNorm.bias',
      'bert.encoder.layer.0.intermediate.dense.weight',
      'bert.encoder.layer.0.intermediate.dense.bias',
      'bert.encoder.layer.0.output.dense.weight',
      'bert.encoder.layer.0.output.dense.bias',
      'bert.encoder.layer.0.output.LayerNorm.weight',
      'bert.encoder.layer.0.output.LayerNorm.bias',
    ]);
    expect(names.slice(-5)).toEqual([
      'cls.predictions.bias',
      'cls.predictions.transform.dense.weight',
      'cls.predictions.transform.dense.bias',
      'cls.predictions.transform.LayerNorm.weight',
      'cls.predictions.transform.LayerNorm.bias',
    ]);
    const shape = (n: string) => info.params.find((p) => p.name === n)!.shape;
    expect(shape('bert.embeddings.token_type_embeddings.weight')).toEqual([3, 32]);
    expect(shape('bert.encoder.layer.1.intermediate.dense.weight')).toEqual([48, 32]);
    expect(shape('bert.encoder.layer.1.output.dense.weight')).toEqual([32, 48]);
    expect(info.linears.map((l) => l.name)).toEqual([...['query', 'key', 'value', 'dense', 'dense', 'dense'], ...['query', 'key', 'value', 'dense', 'dense', 'dense'], 'dense']);
    expect(info.linears.at(-1)).toEqual({ path: 'cls.predictions.transform.dense', name: 'dense', inFeatures: 32, outFeatures: 32, fanInFanOut: false, hasBias: true, layer: 2 });
    expect(info.linears[4]).toEqual({ path: 'bert.encoder.layer.0.intermediate.dense', name: 'dense', inFeatures: 32, outFeatures: 48, fanInFanOut: false, hasBias: true, layer: 0 });
    const untied = infoOf({ ...BERT, tie_word_embeddings: false });
    expect(untied.params.slice(-2).map((p) => p.name)).toEqual(['cls.predictions.decoder.weight', 'cls.predictions.decoder.bias']);
    expect(untied.totalParams - info.totalParams).toBe(23 * 32 + 23);
  });

  it("RoBERTa registers position_embeddings last among the embeddings, and has every position row its padding offset needs", () => {
    const info = infoOf(ROBERTA);
    expect(info.params.slice(0, 5).map((p) => [p.name, p.shape])).toEqual([
      ['roberta.embeddings.word_embeddings.weight', [23, 32]],
      ['roberta.embeddings.token_type_embeddings.weight', [1, 32]],
      ['roberta.embeddings.LayerNorm.weight', [32]],
      ['roberta.embeddings.LayerNorm.bias', [32]],
      ['roberta.embeddings.position_embeddings.weight', [20, 32]],
    ]);
    expect(info.config.maxPositions).toBe(18);
    expect(info.params.slice(-7).map((p) => p.name)).toEqual([
      'lm_head.bias',
      'lm_head.dense.weight',
      'lm_head.dense.bias',
      'lm_head.layer_norm.weight',
      'lm_head.layer_norm.bias',
      'lm_head.decoder.weight',
      'lm_head.decoder.bias',
    ]);
    expect(info.linears[0].path).toBe('roberta.encoder.layer.0.attention.self.query');
  });

  it('DistilBERT: its own block names, the projector bias always, its weight only untied', () => {
    const info = infoOf(DISTILBERT);
    const names = info.params.map((p) => p.name);
    expect(names.slice(0, 8)).toEqual([
      'distilbert.embeddings.word_embeddings.weight',
      'distilbert.embeddings.position_embeddings.weight',
      'distilbert.embeddings.LayerNorm.weight',
      'distilbert.embeddings.LayerNorm.bias',
      'distilbert.transformer.layer.0.attention.q_lin.weight',
      'distilbert.transformer.layer.0.attention.q_lin.bias',
      'distilbert.transformer.layer.0.attention.k_lin.weight',
      'distilbert.transformer.layer.0.attention.k_lin.bias',
    ]);
    expect(names.slice(12, 20)).toEqual([
      'distilbert.transformer.layer.0.sa_layer_norm.weight',
      'distilbert.transformer.layer.0.sa_layer_norm.bias',
      'distilbert.transformer.layer.0.ffn.lin1.weight',
      'distilbert.transformer.layer.0.ffn.lin1.bias',
      'distilbert.transformer.layer.0.ffn.lin2.weight',
      'distilbert.transformer.layer.0.ffn.lin2.bias',
      'distilbert.transformer.layer.0.output_layer_norm.weight',
      'distilbert.transformer.layer.0.output_layer_norm.bias',
    ]);
    expect(names.slice(-5)).toEqual(['vocab_transform.weight', 'vocab_transform.bias', 'vocab_layer_norm.weight', 'vocab_layer_norm.bias', 'vocab_projector.bias']);
    expect(info.linears.slice(0, 6).map((l) => l.name)).toEqual(['q_lin', 'k_lin', 'v_lin', 'out_lin', 'lin1', 'lin2']);
    const untied = infoOf({ ...DISTILBERT, tie_word_embeddings: false });
    expect(untied.params.slice(-2).map((p) => p.name)).toEqual(['vocab_projector.weight', 'vocab_projector.bias']);
  });

  it('normaliseName drops buffers, poolers, the next-sentence head and a tied decoder; renames gamma/beta', () => {
    const tied = bert.parseConfig(BERT, 'config.json');
    const untied = bert.parseConfig({ ...BERT, tie_word_embeddings: false }, 'config.json');
    const roberta = bert.parseConfig({ ...ROBERTA, tie_word_embeddings: true }, 'config.json');
    const distil = bert.parseConfig(DISTILBERT, 'config.json');
    for (const name of ['bert.embeddings.position_ids', 'bert.embeddings.token_type_ids', 'bert.pooler.dense.weight', 'cls.seq_relationship.bias', 'cls.predictions.decoder.weight', 'cls.predictions.decoder.bias']) {
      expect(bert.normaliseName(name, tied)).toBeUndefined();
    }
    expect(bert.normaliseName('cls.predictions.decoder.weight', untied)).toBe('cls.predictions.decoder.weight');
    expect(bert.normaliseName('cls.predictions.decoder.bias', untied)).toBe('cls.predictions.decoder.bias');
    expect(bert.normaliseName('roberta.pooler.dense.bias', roberta)).toBeUndefined();
    expect(bert.normaliseName('lm_head.decoder.bias', roberta)).toBeUndefined();
    expect(bert.normaliseName('lm_head.bias', roberta)).toBe('lm_head.bias');
    expect(bert.normaliseName('distilbert.embeddings.position_ids', distil)).toBeUndefined();
    expect(bert.normaliseName('vocab_projector.weight', distil)).toBeUndefined();
    expect(bert.normaliseName('vocab_projector.bias', distil)).toBe('vocab_projector.bias');
    expect(bert.normaliseName('bert.encoder.layer.3.output.LayerNorm.gamma', tied)).toBe('bert.encoder.layer.3.output.LayerNorm.weight');
    expect(bert.normaliseName('bert.embeddings.LayerNorm.beta', tied)).toBe('bert.embeddings.LayerNorm.bias');
    expect(bert.normaliseName('bert.encoder.layer.0.attention.self.query.weight', tied)).toBe('bert.encoder.layer.0.attention.self.query.weight');
  });

  it('blockPath, LoRA targets, AdapterHub class and model types follow the model type', () => {
    const [b, r, d] = [BERT, ROBERTA, DISTILBERT].map((raw) => bert.parseConfig(raw, 'config.json'));
    expect([b, r, d].map((c) => bert.blockPath(c, 3))).toEqual(['bert.encoder.layer.3', 'roberta.encoder.layer.3', 'distilbert.transformer.layer.3']);
    expect([b, r, d].map((c) => bert.loraTargets(c))).toEqual([['query', 'value'], ['query', 'value'], ['q_lin', 'v_lin']]);
    expect([b, r, d].map((c) => bert.adapterHubModelClass(c))).toEqual(['BertForMaskedLM', 'RobertaForMaskedLM', 'DistilBertForMaskedLM']);
    expect(bert.modelTypes).toEqual(['bert', 'roberta', 'distilbert']);
    // Every block path is a prefix of that block's linear modules; the head's transform comes after the last block.
    for (const c of [b, r, d]) {
      const linears = bert.info('tiny', c).linears;
      for (const l of linears.slice(0, -1)) expect(l.path.startsWith(`${bert.blockPath(c, l.layer)}.`)).toBe(true);
      expect(linears.at(-1)).toMatchObject({ layer: c.numLayers, path: { bert: 'cls.predictions.transform.dense', roberta: 'lm_head.dense', distilbert: 'vocab_transform' }[c.modelType] });
    }
  });
});

describe('config.json', () => {
  const parse = (over: Record<string, unknown>, base: Record<string, unknown> = BERT) => () => bert.parseConfig({ ...base, ...over }, 'my/config.json');

  it("reads the neutral sizes, with transformers' defaults for what may be absent", () => {
    const { layer_norm_eps: _, hidden_act: __, type_vocab_size: ___, pad_token_id: ____, ...rest } = BERT;
    expect(bert.parseConfig(rest, 'config.json')).toMatchObject({
      family: 'bert',
      modelType: 'bert',
      hiddenSize: 32,
      numLayers: 2,
      numHeads: 4,
      numKeyValueHeads: 4,
      headDim: 8,
      intermediateSize: 48,
      maxPositions: 20,
      vocabSize: 23,
      tiedHead: true,
      normEpsilon: 1e-12,
    });
    expect(bert.info('tiny', bert.parseConfig(rest, 'config.json')).params[2].shape).toEqual([2, 32]);
    // RoBERTa's pad_token_id defaults to 1: two positions go to padding_idx and below.
    const { pad_token_id: _p, ...roberta } = ROBERTA;
    expect(bert.parseConfig(roberta, 'config.json').maxPositions).toBe(18);
    expect(bert.parseConfig({ ...ROBERTA, pad_token_id: 0 }, 'config.json').maxPositions).toBe(19);
    expect(bert.parseConfig(DISTILBERT, 'config.json')).toMatchObject({ modelType: 'distilbert', hiddenSize: 32, numLayers: 2, numHeads: 4, intermediateSize: 48, maxPositions: 20, normEpsilon: 1e-12, tiedHead: true });
    expect(bert.parseConfig({ ...BERT, position_embedding_type: 'absolute' }, 'config.json').modelType).toBe('bert');
  });

  it.each([
    [{ model_type: 'gpt2' }, BERT, '"model_type" is "gpt2"'],
    [{ hidden_size: undefined }, BERT, '"hidden_size" must be a positive integer'],
    [{ num_attention_heads: 5 }, BERT, '"hidden_size" (32) is not divisible by "num_attention_heads" (5)'],
    [{ hidden_act: 'gelu_new' }, BERT, '"hidden_act" "gelu_new" is not supported (gelu is)'],
    [{ hidden_act: 'relu' }, ROBERTA, '"hidden_act" "relu" is not supported'],
    [{ position_embedding_type: 'relative_key' }, BERT, '"position_embedding_type" "relative_key" is not supported (absolute is)'],
    [{ is_decoder: true }, ROBERTA, '"is_decoder": true is not supported'],
    [{ layer_norm_eps: 0 }, BERT, '"layer_norm_eps" must be a positive number'],
    [{ type_vocab_size: 0 }, BERT, '"type_vocab_size" must be a positive integer'],
    [{ tie_word_embeddings: 'yes' }, BERT, '"tie_word_embeddings" must be true or false'],
    [{ pad_token_id: null }, ROBERTA, '"pad_token_id" must be a non-negative integer for RoBERTa'],
    [{ max_position_embeddings: 2 }, ROBERTA, '"max_position_embeddings" (2) leaves no position after "pad_token_id" (1)'],
    [{ dim: undefined }, DISTILBERT, '"dim" must be a positive integer'],
    [{ n_heads: 3 }, DISTILBERT, '"dim" (32) is not divisible by "n_heads" (3)'],
    [{ hidden_dim: 0 }, DISTILBERT, '"hidden_dim" must be a positive integer'],
    [{ activation: 'relu' }, DISTILBERT, '"activation" "relu" is not supported (gelu is)'],
    [{ sinusoidal_pos_embds: true }, DISTILBERT, '"sinusoidal_pos_embds": true is not supported'],
  ])('refuses %j naming the file and the field', (over, base, message) => {
    expect(parse(over, base)).toThrow(`my/config.json: ${message}`);
  });
});
