import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../io/safetensors';
import { generate } from '../models/generate';
import { gpt2Config, gpt2Info } from '../models/gpt2';
import { randomGpt2 } from '../models/gpt2-init';
import type { LoadedModel } from '../models/types';
import { train } from '../train/trainer';
import { PTuningAdapter, pTuning, type PTuningConfig } from './p-tuning';
import type { Adapter } from './types';
import { changedWeights, logitsOf, textBatches, weightBytes } from './testing';

// A wider init than GPT-2's 0.02 so the frozen model can be steered to confident predictions
// on the tiny text it overfits (as lora.test.ts).
const SHAPE = { n_layer: 2, n_embd: 32, n_head: 4, n_positions: 64, initializer_range: 0.2 };
const D = SHAPE.n_embd;
const mlp = (over: Partial<PTuningConfig> = {}): PTuningConfig => ({
  num_virtual_tokens: 5,
  encoder_reparameterization_type: 'MLP',
  encoder_hidden_size: 16,
  encoder_num_layers: 2,
  encoder_dropout: 0,
  ...over,
});
const lstm = (over: Partial<PTuningConfig> = {}): PTuningConfig => mlp({ encoder_reparameterization_type: 'LSTM', encoder_hidden_size: 8, ...over });

async function bytesOf(t: tf.Tensor): Promise<Buffer> {
  return Buffer.from(((await t.data()) as Float32Array).slice().buffer);
}

/** The adapter's encoder tensors by PEFT name, as float64 rows for the naive references. */
async function paramsOf(adapter: Adapter): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  if (!(adapter instanceof PTuningAdapter)) throw new Error('not a P-tuning adapter');
  const params = adapter.params;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, v] of params) out.set(name, { shape: v.shape, data: (await v.data()) as Float32Array });
  return out;
}

/** The virtual tokens the adapter's hook prepends (eval mode), as [n][d]. */
async function promptOf(adapter: Adapter, n: number): Promise<number[][]> {
  const e = tf.zeros([1, 1, D]) as tf.Tensor3D;
  const out = tf.tidy(() => adapter.hooks(false).inputEmbeds!(e));
  const data = (await out.data()) as Float32Array;
  tf.dispose([e, out]);
  return Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * D, (i + 1) * D)));
}

// ---- Naive references, written from PyTorch's documentation of nn.Linear and nn.LSTM. ----

type P = Map<string, { shape: number[]; data: Float32Array }>;

function naiveLinear(p: P, name: string, x: number[][]): number[][] {
  const W = p.get(`${name}.weight`)!;
  const b = p.get(`${name}.bias`)!.data;
  const [out, inF] = W.shape;
  return x.map((row) => Array.from({ length: out }, (_, o) => b[o] + row.reduce((s, v, i) => s + v * W.data[o * inF + i], 0)));
}

const relu = (x: number[][]) => x.map((r) => r.map((v) => Math.max(0, v)));
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** One direction of one LSTM layer: gates i, f, g, o stacked in W's rows, zero initial state. */
function naiveLstmDirection(p: P, suffix: string, x: number[][], h: number, reverse: boolean): number[][] {
  const Wih = p.get(`lstm_head.weight_ih_${suffix}`)!;
  const Whh = p.get(`lstm_head.weight_hh_${suffix}`)!.data;
  const bih = p.get(`lstm_head.bias_ih_${suffix}`)!.data;
  const bhh = p.get(`lstm_head.bias_hh_${suffix}`)!.data;
  const inF = Wih.shape[1];
  let hs = new Array<number>(h).fill(0);
  let cs = new Array<number>(h).fill(0);
  const out: number[][] = new Array(x.length);
  const order = x.map((_, t) => t);
  if (reverse) order.reverse();
  for (const t of order) {
    const gate = (k: number) => {
      let s = bih[k] + bhh[k];
      for (let i = 0; i < inF; i++) s += Wih.data[k * inF + i] * x[t][i];
      for (let j = 0; j < h; j++) s += Whh[k * h + j] * hs[j];
      return s;
    };
    const nextC: number[] = [];
    const nextH: number[] = [];
    for (let j = 0; j < h; j++) {
      const i = sigmoid(gate(j));
      const f = sigmoid(gate(h + j));
      const g = Math.tanh(gate(2 * h + j));
      const o = sigmoid(gate(3 * h + j));
      nextC.push(f * cs[j] + i * g);
      nextH.push(o * Math.tanh(nextC[j]));
    }
    cs = nextC;
    hs = nextH;
    out[t] = hs;
  }
  return out;
}

function naiveEncoder(p: P, c: PTuningConfig): number[][] {
  const E = p.get('embedding.weight')!;
  let x = Array.from({ length: E.shape[0] }, (_, i) => Array.from(E.data.subarray(i * D, (i + 1) * D)));
  if (c.encoder_reparameterization_type === 'MLP') {
    return naiveLinear(p, 'mlp_head.4', relu(naiveLinear(p, 'mlp_head.2', relu(naiveLinear(p, 'mlp_head.0', x)))));
  }
  for (let l = 0; l < c.encoder_num_layers; l++) {
    const fwd = naiveLstmDirection(p, `l${l}`, x, c.encoder_hidden_size, false);
    const bwd = naiveLstmDirection(p, `l${l}_reverse`, x, c.encoder_hidden_size, true);
    x = fwd.map((r, t) => [...r, ...bwd[t]]);
  }
  return naiveLinear(p, 'mlp_head.2', relu(naiveLinear(p, 'mlp_head.0', x)));
}

function maxDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((r, i) => r.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))));
  return m;
}

let model: LoadedModel;
beforeAll(async () => {
  await tf.setBackend('cpu');
  model = randomGpt2('test-gpt2', SHAPE, 7);
});
afterAll(() => model.dispose());

describe('P-tuning plan', () => {
  it('counts the embedding and the MLP encoder as a hand formula gives', () => {
    const n = 5;
    const h = 16;
    const p = pTuning.plan(model.info, mlp());
    expect(p.trainable).toBe(n * D + (D * h + h) + (h * h + h) + (h * D + D));
    expect(p.total).toBe(model.info.totalParams + p.trainable);
    expect(p.tensors.map((t) => t.name)).toEqual([
      'prompt_encoder.embedding.weight',
      'prompt_encoder.mlp_head.0.weight',
      'prompt_encoder.mlp_head.0.bias',
      'prompt_encoder.mlp_head.2.weight',
      'prompt_encoder.mlp_head.2.bias',
      'prompt_encoder.mlp_head.4.weight',
      'prompt_encoder.mlp_head.4.bias',
    ]);
    expect(p.tensors[1].shape).toEqual([h, D]);
    // PEFT ignores encoder_num_layers and encoder_dropout for the MLP: always three layers.
    expect(pTuning.plan(model.info, mlp({ encoder_num_layers: 5, encoder_dropout: 0.3 })).trainable).toBe(p.trainable);
  });

  it('counts the bidirectional LSTM (input d, then 2h per layer) and its MLP head as a hand formula gives', () => {
    const n = 5;
    const h = 8;
    const layer = (inF: number) => 2 * (4 * h * inF + 4 * h * h + 2 * 4 * h);
    const head = 2 * h * 2 * h + 2 * h + 2 * h * D + D;
    expect(pTuning.plan(model.info, lstm()).trainable).toBe(n * D + layer(D) + layer(2 * h) + head);
    const three = pTuning.plan(model.info, lstm({ encoder_num_layers: 3 }));
    expect(three.trainable).toBe(n * D + layer(D) + 2 * layer(2 * h) + head);
    expect(three.tensors.slice(0, 5)).toEqual([
      { name: 'prompt_encoder.embedding.weight', shape: [n, D] },
      { name: 'prompt_encoder.lstm_head.weight_ih_l0', shape: [4 * h, D] },
      { name: 'prompt_encoder.lstm_head.weight_hh_l0', shape: [4 * h, h] },
      { name: 'prompt_encoder.lstm_head.bias_ih_l0', shape: [4 * h] },
      { name: 'prompt_encoder.lstm_head.bias_hh_l0', shape: [4 * h] },
    ]);
    expect(three.tensors.find((t) => t.name.endsWith('weight_ih_l1_reverse'))!.shape).toEqual([4 * h, 2 * h]);
  });

  it("matches PEFT 0.21's print_trainable_parameters for gpt2 (124M) and tiny-gpt2", () => {
    const gpt2 = gpt2Info('gpt2', gpt2Config({ model_type: 'gpt2', n_layer: 12, n_embd: 768, n_head: 12, n_positions: 1024, vocab_size: 50257 }));
    // get_peft_model(GPT2LMHeadModel(GPT2Config()), PromptEncoderConfig(num_virtual_tokens=20[, encoder_reparameterization_type="LSTM"])).
    const m = pTuning.plan(gpt2, pTuning.defaults(gpt2));
    expect([m.trainable, m.total]).toEqual([1_787_136, 126_226_944]);
    expect(((100 * m.trainable) / m.total).toFixed(4)).toBe('1.4158');
    const l = pTuning.plan(gpt2, { ...pTuning.defaults(gpt2), encoder_reparameterization_type: 'LSTM' });
    expect([l.trainable, l.total]).toEqual([27_174_144, 151_613_952]);
    const tiny = gpt2Info('tiny', gpt2Config({ model_type: 'gpt2', n_layer: 4, n_embd: 128, n_head: 4, n_positions: 256, vocab_size: 257 }));
    const t = (over: Partial<PTuningConfig>) => pTuning.plan(tiny, { ...pTuning.defaults(tiny), num_virtual_tokens: 5, ...over });
    expect(t({}).trainable).toBe(50_176);
    expect(t({ encoder_hidden_size: 64 }).trainable).toBe(21_376);
    expect(t({ encoder_reparameterization_type: 'LSTM', encoder_hidden_size: 64 })).toMatchObject({ trainable: 232_320, total: 1_091_328 });
    expect(t({ encoder_reparameterization_type: 'LSTM', encoder_num_layers: 3 }).trainable).toBe(1_154_048);
  });

  it("uses PEFT's defaults (MLP, hidden size = d, 2 layers, no dropout) and refuses bad settings naming the field", () => {
    expect(pTuning.defaults(model.info)).toEqual({ num_virtual_tokens: 20, encoder_reparameterization_type: 'MLP', encoder_hidden_size: D, encoder_num_layers: 2, encoder_dropout: 0 });
    expect(() => pTuning.plan(model.info, mlp({ num_virtual_tokens: 0 }))).toThrow(/^num_virtual_tokens/);
    expect(() => pTuning.plan(model.info, mlp({ num_virtual_tokens: 64 }))).toThrow(/^num_virtual_tokens: 64 virtual tokens leave no room/);
    expect(() => pTuning.plan(model.info, mlp({ encoder_reparameterization_type: 'GRU' as never }))).toThrow(/^encoder_reparameterization_type must be MLP or LSTM/);
    expect(() => pTuning.plan(model.info, mlp({ encoder_hidden_size: 0 }))).toThrow(/^encoder_hidden_size/);
    expect(() => pTuning.plan(model.info, lstm({ encoder_num_layers: 0 }))).toThrow(/^encoder_num_layers/);
    expect(() => pTuning.plan(model.info, lstm({ encoder_dropout: 1 }))).toThrow(/^encoder_dropout/);
  });
});

describe('P-tuning encoder', () => {
  it('initialises as PyTorch: embedding N(0, 1), Linear U(±1/√fan_in), LSTM U(±1/√h)', async () => {
    const adapter = pTuning.create(model, lstm({ num_virtual_tokens: 40, encoder_hidden_size: 16 }), 3);
    const p = await paramsOf(adapter);
    const E = p.get('embedding.weight')!.data;
    const mean = E.reduce((s, v) => s + v, 0) / E.length;
    const std = Math.sqrt(E.reduce((s, v) => s + (v - mean) ** 2, 0) / E.length);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(std).toBeGreaterThan(0.9);
    expect(std).toBeLessThan(1.1);
    const within = (name: string, bound: number) => {
      const m = Math.max(...Array.from(p.get(name)!.data, Math.abs));
      expect(m, name).toBeLessThanOrEqual(bound);
      expect(m, name).toBeGreaterThan(bound * 0.8);
    };
    for (const name of p.keys()) if (name.startsWith('lstm_head.')) within(name, 1 / Math.sqrt(16));
    within('mlp_head.0.weight', 1 / Math.sqrt(32));
    within('mlp_head.0.bias', 1 / Math.sqrt(32));
    within('mlp_head.2.weight', 1 / Math.sqrt(32));
    adapter.dispose();
  });

  it('the MLP is Linear → ReLU → Linear → ReLU → Linear, as a naive reference computes', async () => {
    const c = mlp();
    const adapter = pTuning.create(model, c, 5);
    const got = await promptOf(adapter, 5);
    const want = naiveEncoder(await paramsOf(adapter), c);
    expect(maxDiff(got, want)).toBeLessThan(1e-5);
    expect(maxDiff(want, want.map((r) => r.map(() => 0)))).toBeGreaterThan(0.05);
    adapter.dispose();
  });

  it('the LSTM is a 2-layer bidirectional torch.nn.LSTM (gates i, f, g, o) then Linear → ReLU → Linear, as a naive reference computes', async () => {
    for (const layers of [1, 2]) {
      const c = lstm({ encoder_num_layers: layers });
      const adapter = pTuning.create(model, c, 8);
      // Larger weights than the init so every gate's nonlinearity is exercised.
      for (const v of adapter.variables) v.assign(tf.randomNormal(v.shape, 0, 0.7, 'float32', 21));
      const got = await promptOf(adapter, 5);
      const want = naiveEncoder(await paramsOf(adapter), c);
      expect(maxDiff(got, want), `${layers} layer(s)`).toBeLessThan(1e-4);
      adapter.dispose();
    }
  });

  it('the LSTM drops out between layers while training only', async () => {
    const adapter = pTuning.create(model, lstm({ encoder_dropout: 0.5 }), 4);
    const e = tf.zeros([1, 1, D]) as tf.Tensor3D;
    const run = async (training: boolean) => {
      const out = tf.tidy(() => adapter.hooks(training).inputEmbeds!(e));
      const data = Array.from((await out.data()) as Float32Array);
      out.dispose();
      return data;
    };
    expect(await run(false)).toEqual(await run(false));
    expect(await run(true)).not.toEqual(await run(false));
    // One layer has nothing between layers to drop.
    const one = pTuning.create(model, lstm({ encoder_dropout: 0.5, encoder_num_layers: 1 }), 4);
    const a = tf.tidy(() => one.hooks(true).inputEmbeds!(e));
    const b = tf.tidy(() => one.hooks(false).inputEmbeds!(e));
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    tf.dispose([e, a, b]);
    one.dispose();
    adapter.dispose();
  });

  it('sends gradients to the embedding and every encoder tensor only: frozen weights are not variables', () => {
    for (const c of [mlp(), lstm()]) {
      const adapter = pTuning.create(model, c, 2);
      const batch = textBatches();
      const { grads, value } = tf.variableGrads(() =>
        tf.tidy(() => {
          const { logits } = model.forward(tf.tensor2d(batch.ids, [batch.batch, batch.length], 'int32'), adapter.hooks(true));
          return tf.mean(tf.square(logits)) as tf.Scalar;
        }),
      );
      expect(new Set(Object.keys(grads))).toEqual(new Set(adapter.variables.map((v) => v.name)));
      expect(adapter.variables).toHaveLength(pTuning.plan(model.info, c).tensors.length);
      for (const v of adapter.variables) expect(tf.max(tf.abs(grads[v.name])).dataSync()[0], v.name).toBeGreaterThan(0);
      for (const w of model.weights.values()) expect(w instanceof tf.Variable).toBe(false);
      value.dispose();
      tf.dispose(grads);
      adapter.dispose();
    }
  });
});

describe('training P-tuning', () => {
  async function run(adapter: Adapter, steps: number, learningRate: number) {
    const batch = textBatches();
    const losses: number[] = [];
    const result = await train(
      model,
      adapter,
      { totalSteps: steps, learningRate, warmupSteps: 2, weightDecay: 0, maxGradNorm: 1, evalEvery: 0 },
      { nextBatch: () => ({ batch, epoch: 0 }), evalBatches: [], onProgress: (pts) => losses.push(...pts.map((p) => p.loss)), onEval: () => {}, shouldStop: () => false },
    );
    expect(result.reason).toBe('finished');
    return losses;
  }

  it('MLP: lowers the loss on a tiny text, leaves frozen weights bit-identical, leaks no tensors over 40 steps', async () => {
    const frozenBefore = await weightBytes(model);
    const adapter = pTuning.create(model, mlp({ num_virtual_tokens: 16, encoder_hidden_size: 32 }), 11);
    const tensorsBefore = tf.memory().numTensors;
    const losses = await run(adapter, 40, 3e-2);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(losses).toHaveLength(40);
    expect(losses[39]).toBeLessThan(losses[0] * 0.85);
    expect(await changedWeights(model, frozenBefore)).toEqual([]);
    adapter.dispose();
  });

  it('LSTM with dropout: trains every tensor, leaks no tensors', async () => {
    const adapter = pTuning.create(model, lstm({ encoder_dropout: 0.1 }), 12);
    const before = await Promise.all(adapter.variables.map(bytesOf));
    const tensorsBefore = tf.memory().numTensors;
    const losses = await run(adapter, 8, 1e-2);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(losses.every(Number.isFinite)).toBe(true);
    const after = await Promise.all(adapter.variables.map(bytesOf));
    after.forEach((b, i) => expect(b.equals(before[i]), adapter.variables[i].name).toBe(false));
    adapter.dispose();
  });
});

describe('P-tuning generation', () => {
  it('generate() runs with the adapter and differs from the base model', async () => {
    const adapter = pTuning.create(model, mlp({ num_virtual_tokens: 10 }), 9);
    for (const v of adapter.variables) v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 2));
    const prompt = Array.from(new TextEncoder().encode('the quick'));
    const opts = { maxNewTokens: 12, temperature: 0, topK: 0, seed: 1 };
    const before = tf.memory().numTensors;
    const plain = await generate(model, {}, prompt, opts);
    const steered = await generate(model, adapter.hooks(false), prompt, opts);
    expect(tf.memory().numTensors).toBe(before);
    expect(steered).toHaveLength(12);
    expect(steered).not.toEqual(plain);
    adapter.dispose();
  });
});

describe('P-tuning export and import', () => {
  for (const c of [mlp({ encoder_num_layers: 2 }), lstm({ encoder_dropout: 0.25 })]) {
    it(`${c.encoder_reparameterization_type}: saves the encoder's output as prompt_embeddings (PEFT's P_TUNING layout) and reloads as a fixed prompt with identical outputs`, async () => {
      const adapter = pTuning.create(model, c, 4);
      const { baseName, files } = await adapter.exportFiles();
      expect(baseName).toBe('test-gpt2-p-tuning');
      expect(Object.keys(files).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
      // Exactly the keys PEFT 0.21's PromptEncoderConfig saves (less peft_version), sorted.
      const cfg = JSON.parse(new TextDecoder().decode(files['adapter_config.json']));
      expect(cfg).toEqual({
        auto_mapping: null,
        base_model_name_or_path: 'test-gpt2',
        encoder_dropout: c.encoder_dropout,
        encoder_hidden_size: c.encoder_hidden_size,
        encoder_num_layers: c.encoder_num_layers,
        encoder_reparameterization_type: c.encoder_reparameterization_type,
        inference_mode: true,
        modules_to_save: null,
        num_attention_heads: 4,
        num_layers: 2,
        num_transformer_submodules: 1,
        num_virtual_tokens: 5,
        peft_type: 'P_TUNING',
        revision: null,
        task_type: 'CAUSAL_LM',
        token_dim: D,
      });
      expect(Object.keys(cfg)).toEqual([...Object.keys(cfg)].sort());

      const { tensors, metadata } = readSafetensors(files['adapter_model.safetensors'], 'adapter_model.safetensors');
      expect(metadata).toEqual({ format: 'pt' });
      expect([...tensors.keys()]).toEqual(['prompt_embeddings']);
      const saved = tensors.get('prompt_embeddings')!;
      expect(saved.shape).toEqual([5, D]);
      // The saved rows are the encoder's eval-mode output, not the raw embedding.
      const encoded = await promptOf(adapter, 5);
      expect(Array.from(saved.data)).toEqual(encoded.flat().map((v) => Math.fround(v)));
      expect(Array.from(saved.data)).not.toEqual(Array.from((await paramsOf(adapter)).get('embedding.weight')!.data));

      const reloaded = pTuning.load(model, files);
      expect(Array.from(await logitsOf(model, reloaded.hooks(false)))).toEqual(Array.from(await logitsOf(model, adapter.hooks(false))));
      expect(Array.from(await logitsOf(model, reloaded.hooks(true)))).toEqual(Array.from(await logitsOf(model, reloaded.hooks(false))));
      expect(Array.from(await logitsOf(model, reloaded.hooks(false)))).not.toEqual(Array.from(await logitsOf(model)));
      // The saved virtual tokens alone (n·d parameters, no encoder), and the page is told why.
      expect(reloaded.variables.map((v) => v.shape)).toEqual([[5, D]]);
      expect(reloaded instanceof PTuningAdapter && reloaded.params.size).toBe(0);
      expect(reloaded instanceof PTuningAdapter && reloaded.notice).toMatch(/only the prompt encoder's output.*fixed prompt.*cannot resume/s);
      expect(adapter instanceof PTuningAdapter && adapter.notice).toBe(undefined);
      // Re-exporting the fixed prompt gives the same files back.
      const again = await reloaded.exportFiles();
      for (const k of Object.keys(files)) expect(Buffer.from(again.files[k]).equals(Buffer.from(files[k])), k).toBe(true);
      const tensorsBefore = tf.memory().numTensors;
      adapter.dispose();
      reloaded.dispose();
      expect(tf.memory().numTensors).toBe(tensorsBefore - pTuning.plan(model.info, c).tensors.length - 1);
    });
  }

  it('refuses adapters of another method or another model, naming the field or tensor', async () => {
    const adapter = pTuning.create(model, mlp(), 4);
    const { files } = await adapter.exportFiles();
    adapter.dispose();
    const withConfig = (patch: Record<string, unknown>) => {
      const cfg = { ...JSON.parse(new TextDecoder().decode(files['adapter_config.json'])), ...patch };
      return { ...files, 'adapter_config.json': new TextEncoder().encode(JSON.stringify(cfg)) };
    };
    expect(() => pTuning.load(model, withConfig({ peft_type: 'PROMPT_TUNING' }))).toThrow(/adapter_config\.json: "peft_type" is "PROMPT_TUNING", expected "P_TUNING"/);
    expect(() => pTuning.load(model, withConfig({ peft_type: 'PREFIX_TUNING' }))).toThrow(/"peft_type" is "PREFIX_TUNING", expected "P_TUNING"/);
    expect(() => pTuning.load(model, withConfig({ encoder_reparameterization_type: 'GRU' }))).toThrow(/"encoder_reparameterization_type" is "GRU"/);
    expect(() => pTuning.load(model, withConfig({ num_virtual_tokens: 6 }))).toThrow(/"prompt_embeddings" has shape \[5,32\], test-gpt2 with 6 virtual tokens needs \[6,32\]/);
    expect(() => pTuning.load(model, withConfig({ num_transformer_submodules: 2 }))).toThrow(/"num_transformer_submodules" is 2, expected 1/);
    const other = randomGpt2('wider', { ...SHAPE, n_embd: 64 }, 1);
    expect(() => pTuning.load(other, files)).toThrow(/"token_dim" is 32, expected 64 \(the hidden size of wider\)/);
    other.dispose();
    const heads = randomGpt2('heads', { ...SHAPE, n_head: 8 }, 1);
    expect(() => pTuning.load(heads, files)).toThrow(/"num_attention_heads" is 4, expected 8/);
    heads.dispose();
    expect(pTuning.recognizes(files)).toBe(true);
    expect(pTuning.recognizes(withConfig({ peft_type: 'PROMPT_TUNING' }))).toBe(false);
  });
});
