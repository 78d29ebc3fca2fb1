import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpt2Config, gpt2Info } from '../models/gpt2';
import { randomGpt2 } from '../models/gpt2-init';
import type { LoadedModel } from '../models/types';
import { readSafetensors } from '../io/safetensors';
import { lora, type LoraConfig } from './lora';
import { changedWeights, logitsOf, overfit, textBatches, weightBytes } from './testing';

// A wider init than GPT-2's 0.02 so that, with frozen LayerNorms and a tied head, the
// adapted model can actually reach confident predictions on the tiny text it overfits.
const SHAPE = { n_layer: 2, n_embd: 32, n_head: 4, n_positions: 64, initializer_range: 0.2 };
const base = (over: Partial<LoraConfig> = {}): LoraConfig => ({ r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['c_attn'], use_rslora: false, ...over });

let model: LoadedModel;
beforeAll(async () => {
  await tf.setBackend('cpu');
  model = randomGpt2('test-gpt2', SHAPE, 7);
});
afterAll(() => model.dispose());

describe('LoRA plan', () => {
  it('counts r·(in+out) per targeted module, as a hand formula gives', () => {
    const d = SHAPE.n_embd;
    const L = SHAPE.n_layer;
    expect(lora.plan(model.info, base()).trainable).toBe(L * 4 * (d + 3 * d));
    // c_proj matches both attn.c_proj (d→d) and mlp.c_proj (4d→d), as in PEFT.
    expect(lora.plan(model.info, base({ target_modules: ['c_proj'] })).trainable).toBe(L * 4 * (d + d + 4 * d + d));
    const p = lora.plan(model.info, base({ target_modules: ['c_attn', 'c_fc'] }));
    expect(p.trainable).toBe(L * 4 * (d + 3 * d) + L * 4 * (d + 4 * d));
    expect(p.total).toBe(model.info.totalParams + p.trainable);
    expect(p.tensors[0]).toEqual({ name: 'transformer.h.0.attn.c_attn.lora_A.weight', shape: [4, d] });
    expect(p.tensors[1]).toEqual({ name: 'transformer.h.0.attn.c_attn.lora_B.weight', shape: [3 * d, 4] });
  });

  it("matches PEFT's published print_trainable_parameters line for gpt2 (124M), r=8 on c_attn", () => {
    const info = gpt2Info('gpt2', gpt2Config({ model_type: 'gpt2', n_layer: 12, n_embd: 768, n_head: 12, n_positions: 1024, vocab_size: 50257 }));
    const p = lora.plan(info, lora.defaults(info));
    expect(p.trainable).toBe(294_912);
    expect(p.total).toBe(124_734_720);
    expect(((100 * p.trainable) / p.total).toFixed(4)).toBe('0.2364');
  });

  it('uses PEFT defaults and refuses bad settings naming the field', () => {
    expect(lora.defaults(model.info)).toEqual({ r: 8, lora_alpha: 8, lora_dropout: 0, target_modules: ['c_attn'], use_rslora: false });
    expect(() => lora.plan(model.info, base({ r: 0 }))).toThrow(/^r must be a positive integer/);
    expect(() => lora.plan(model.info, base({ target_modules: ['q_proj'] }))).toThrow(/target_modules: "q_proj" matches no linear module/);
    expect(() => lora.plan(model.info, base({ target_modules: [] }))).toThrow(/target_modules/);
    expect(() => lora.plan(model.info, base({ lora_dropout: 1 }))).toThrow(/lora_dropout/);
  });
});

describe('LoRA adapter', () => {
  it('starts exactly at the base model (B = 0) and A is Kaiming-uniform within ±1/√in', async () => {
    const adapter = lora.create(model, base({ target_modules: ['c_attn', 'c_fc', 'c_proj'] }), 3);
    expect(Array.from(await logitsOf(model, adapter.hooks(false)))).toEqual(Array.from(await logitsOf(model)));
    const A = (await adapter.variables[0].data()) as Float32Array;
    const bound = 1 / Math.sqrt(SHAPE.n_embd);
    expect(Math.max(...A.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...A.map(Math.abs))).toBeGreaterThan(bound * 0.8);
    adapter.dispose();
  });

  it('computes x·W + b + (x·Aᵀ·Bᵀ)·alpha/r on the targeted module only', async () => {
    const c = base({ r: 2, lora_alpha: 6 });
    const adapter = lora.create(model, c, 1);
    const [A, B] = adapter.variables;
    B.assign(tf.randomNormal(B.shape, 0, 1, 'float32', 5));
    const x = tf.randomNormal([3, SHAPE.n_embd], 0, 1, 'float32', 9);
    const w = model.weights.get('transformer.h.0.attn.c_attn.weight')!;
    const b = model.weights.get('transformer.h.0.attn.c_attn.bias')!;
    const hooks = adapter.hooks(false);
    // The hook receives the frozen module's output y = x·W + b and adds the update to it.
    const frozen = tf.add(tf.matMul(x, w), b);
    const got = (await hooks.linear!('transformer.h.0.attn.c_attn', x, frozen).data()) as Float32Array;
    const [xd, wd, bd, ad, bbd] = await Promise.all([x.data(), w.data(), b.data(), A.data(), B.data()]);
    const inF = SHAPE.n_embd;
    const outF = 3 * inF;
    for (let n = 0; n < 3; n++) {
      for (let o = 0; o < outF; o++) {
        let y = bd[o];
        for (let i = 0; i < inF; i++) y += xd[n * inF + i] * wd[i * outF + o];
        let delta = 0;
        for (let k = 0; k < 2; k++) {
          let xa = 0;
          for (let i = 0; i < inF; i++) xa += xd[n * inF + i] * ad[k * inF + i];
          delta += xa * bbd[o * 2 + k];
        }
        expect(got[n * outF + o]).toBeCloseTo(y + delta * 3, 4);
      }
    }
    // An untargeted module is the plain linear.
    const w2 = model.weights.get('transformer.h.0.mlp.c_fc.weight')!;
    const b2 = model.weights.get('transformer.h.0.mlp.c_fc.bias')!;
    const frozen2 = tf.add(tf.matMul(x, w2), b2);
    const plain = await frozen2.data();
    expect(Array.from(await hooks.linear!('transformer.h.0.mlp.c_fc', x, frozen2).data())).toEqual(Array.from(plain));
    tf.dispose([x, frozen, frozen2]);
    adapter.dispose();
  });

  it('sends gradients to A and B only: frozen weights are not variables and get none', () => {
    const adapter = lora.create(model, base(), 2);
    const batch = textBatches();
    // variableGrads with no list takes every trainable variable that exists: only the adapter's.
    const { grads, value } = tf.variableGrads(() =>
      tf.tidy(() => {
        const { logits } = model.forward(tf.tensor2d(batch.ids, [batch.batch, batch.length], 'int32'), adapter.hooks(true));
        return tf.mean(tf.square(logits)) as tf.Scalar;
      }),
    );
    expect(new Set(Object.keys(grads))).toEqual(new Set(adapter.variables.map((v) => v.name)));
    for (const w of model.weights.values()) expect(w instanceof tf.Variable).toBe(false);
    // B starts at zero, so A's first gradient is zero while B's is not (as in PEFT).
    const [A, B] = adapter.variables;
    expect(tf.max(tf.abs(grads[A.name])).dataSync()[0]).toBe(0);
    expect(tf.max(tf.abs(grads[B.name])).dataSync()[0]).toBeGreaterThan(0);
    value.dispose();
    tf.dispose(grads);
    adapter.dispose();
  });
});

describe('training LoRA', () => {
  it('lowers the loss on a tiny text, leaves frozen weights bit-identical, leaks no tensors over 50 steps', async () => {
    const frozenBefore = await weightBytes(model);
    const adapter = lora.create(model, base({ r: 8, lora_alpha: 16, target_modules: ['c_attn', 'c_fc'] }), 11);
    const batch = textBatches();
    const { result, losses, leaked } = await overfit(model, adapter, batch, { steps: 50, learningRate: 1e-2 });
    expect(result.reason).toBe('finished');
    expect(leaked).toBe(0);
    expect(losses).toHaveLength(50);
    expect(losses[49]).toBeLessThan(losses[0] * 0.7);
    expect(await changedWeights(model, frozenBefore)).toEqual([]);
    adapter.dispose();
  });
});

describe('LoRA merged into the base weights', () => {
  it('folds W + scaling·(B·A)ᵀ into each targeted Conv1D weight, leaves every other tensor as it is, and gives the adapted outputs', async () => {
    const c = base({ r: 2, lora_alpha: 6, target_modules: ['c_attn', 'c_fc'] });
    const adapter = lora.create(model, c, 3);
    adapter.variables.forEach((v, i) => v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 40 + i)));
    const merged = await adapter.mergedWeights!();
    expect(merged.map((t) => t.name)).toEqual(model.info.params.map((p) => p.name));
    const path = 'transformer.h.1.attn.c_attn';
    // Pairs are in module order, A then B.
    const order = model.info.linears.filter((m) => /\.(c_attn|c_fc)$/.test(m.path)).map((m) => m.path);
    const k = order.indexOf(path);
    const [a, bb] = await Promise.all([adapter.variables[2 * k].data(), adapter.variables[2 * k + 1].data()]);
    const w = (await model.weights.get(`${path}.weight`)!.data()) as Float32Array;
    const got = merged.find((t) => t.name === `${path}.weight`)!.data;
    const inF = SHAPE.n_embd;
    const outF = 3 * inF;
    for (const [i, o] of [[0, 0], [5, 17], [31, 95], [12, 64]]) {
      let delta = 0;
      for (let r = 0; r < 2; r++) delta += bb[o * 2 + r] * a[r * inF + i];
      expect(got[i * outF + o]).toBeCloseTo(w[i * outF + o] + 3 * delta, 5);
    }
    for (const name of ['transformer.wte.weight', 'transformer.h.0.attn.c_proj.weight', 'transformer.h.1.attn.c_attn.bias']) {
      expect(Array.from(merged.find((t) => t.name === name)!.data)).toEqual(Array.from((await model.weights.get(name)!.data()) as Float32Array));
    }
    // The merged weights as a plain model give the adapter's outputs.
    const mergedModel = randomGpt2('merged', SHAPE, 7);
    for (const t of merged) mergedModel.weights.get(t.name)!.dispose(), mergedModel.weights.set(t.name, tf.tensor(t.data, t.shape));
    const ids = tf.tensor2d([[1, 5, 9, 2, 7, 3]], [1, 6], 'int32');
    const [wantT, plainT] = tf.tidy(() => [model.forward(ids, adapter.hooks(false)).logits, mergedModel.forward(ids).logits]);
    const [want, plain] = [await wantT.data(), await plainT.data()];
    tf.dispose([ids, wantT, plainT]);
    let diff = 0;
    for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(want[i] - plain[i]));
    expect(diff).toBeLessThan(1e-4);
    mergedModel.dispose();
    adapter.dispose();
  });
});

describe('LoRA export and import', () => {
  it("writes PEFT's layout and reloads to identical outputs", async () => {
    const c = base({ r: 4, lora_alpha: 16, target_modules: ['c_attn', 'c_fc'] });
    const adapter = lora.create(model, c, 4);
    for (const v of adapter.variables) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 17));
    const { baseName, files } = await adapter.exportFiles();
    expect(baseName).toBe('test-gpt2-lora');
    expect(Object.keys(files).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);

    const cfg = JSON.parse(new TextDecoder().decode(files['adapter_config.json']));
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 16, lora_dropout: 0, fan_in_fan_out: true, bias: 'none', target_modules: ['c_attn', 'c_fc'], base_model_name_or_path: 'test-gpt2', inference_mode: true });
    expect(Object.keys(cfg)).toEqual([...Object.keys(cfg)].sort());

    const { tensors, metadata } = readSafetensors(files['adapter_model.safetensors'], 'adapter_model.safetensors');
    expect(metadata).toEqual({ format: 'pt' });
    const d = SHAPE.n_embd;
    const expected: Record<string, number[]> = {};
    for (let i = 0; i < SHAPE.n_layer; i++) {
      expected[`base_model.model.transformer.h.${i}.attn.c_attn.lora_A.weight`] = [4, d];
      expected[`base_model.model.transformer.h.${i}.attn.c_attn.lora_B.weight`] = [3 * d, 4];
      expected[`base_model.model.transformer.h.${i}.mlp.c_fc.lora_A.weight`] = [4, d];
      expected[`base_model.model.transformer.h.${i}.mlp.c_fc.lora_B.weight`] = [4 * d, 4];
    }
    expect(Object.fromEntries([...tensors].map(([k, t]) => [k, t.shape]))).toEqual(expected);

    const reloaded = lora.load(model, files);
    expect(Array.from(await logitsOf(model, reloaded.hooks(false)))).toEqual(Array.from(await logitsOf(model, adapter.hooks(false))));
    expect(Array.from(await logitsOf(model, reloaded.hooks(false)))).not.toEqual(Array.from(await logitsOf(model)));
    adapter.dispose();
    reloaded.dispose();
  });

  it('refuses adapters of another method or another model, naming the field or tensor', async () => {
    const adapter = lora.create(model, base(), 4);
    const { files } = await adapter.exportFiles();
    adapter.dispose();
    const withConfig = (patch: Record<string, unknown>) => {
      const cfg = { ...JSON.parse(new TextDecoder().decode(files['adapter_config.json'])), ...patch };
      return { ...files, 'adapter_config.json': new TextEncoder().encode(JSON.stringify(cfg)) };
    };
    expect(() => lora.load(model, withConfig({ peft_type: 'PROMPT_TUNING' }))).toThrow(/"peft_type" is "PROMPT_TUNING", expected "LORA"/);
    expect(() => lora.load(model, withConfig({ r: 8 }))).toThrow(/lora_A\.weight" has shape \[4,32\], test-gpt2 needs \[8,32\]/);
    expect(() => lora.load(model, withConfig({ target_modules: ['c_attn', 'c_fc'] }))).toThrow(/mlp\.c_fc\.lora_A\.weight" is missing/);
    expect(() => lora.load(model, withConfig({ use_dora: true }))).toThrow(/"use_dora"/);
    const other = randomGpt2('wider', { ...SHAPE, n_embd: 64 }, 1);
    expect(() => lora.load(other, files)).toThrow(/has shape \[4,32\], wider needs \[4,64\]/);
    other.dispose();
    expect(() => lora.load(model, { 'adapter_config.json': files['adapter_config.json'] })).toThrow(/adapter_model\.safetensors is missing/);
  });
});

describe('LoRA recognizes its files', () => {
  it('by peft_type alone', async () => {
    const adapter = lora.create(model, base(), 1);
    const { files } = await adapter.exportFiles();
    adapter.dispose();
    expect(lora.recognizes(files)).toBe(true);
    const other = { ...files, 'adapter_config.json': new TextEncoder().encode('{"peft_type": "PREFIX_TUNING"}') };
    expect(lora.recognizes(other)).toBe(false);
    expect(lora.recognizes({ 'adapter_config.json': new TextEncoder().encode('not json') })).toBe(false);
    expect(lora.recognizes({})).toBe(false);
  });
});
