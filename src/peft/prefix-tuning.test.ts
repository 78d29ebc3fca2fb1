import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import { generate } from '../models/generate';
import { gpt2Config, gpt2Info } from '../models/gpt2';
import { randomGpt2 } from '../models/gpt2-init';
import type { Hooks, LoadedModel } from '../models/types';
import { lora } from './lora';
import { layerPrefix, prefixesOf, prefixGeometry, prefixTuning, projectPrefix, type PrefixTuningConfig } from './prefix-tuning';
import { pTuningV2 } from './p-tuning-v2';
import { changedWeights, logitsOf, overfit, textBatches, weightBytes } from './testing';

// A wider init than GPT-2's 0.02 so that the frozen random model has sharp enough attention
// for prefixes to steer it on the tiny text it overfits.
const SHAPE = { n_layer: 2, n_embd: 32, n_head: 4, n_positions: 64, initializer_range: 0.2 };
const L = SHAPE.n_layer;
const D = SHAPE.n_embd;
const H = SHAPE.n_head;
const HD = D / H;
const base = (over: Partial<PrefixTuningConfig> = {}): PrefixTuningConfig => ({ num_virtual_tokens: 5, prefix_projection: true, encoder_hidden_size: 24, ...over });

const json = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
function withConfig(files: Record<string, Uint8Array>, patch: Record<string, unknown>): Record<string, Uint8Array> {
  const cfg = { ...json(files['adapter_config.json']), ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete cfg[k];
  return { ...files, 'adapter_config.json': new TextEncoder().encode(JSON.stringify(cfg)) };
}

let model: LoadedModel;
beforeAll(async () => {
  await tf.setBackend('cpu');
  model = randomGpt2('test-gpt2', SHAPE, 7);
});
afterAll(() => model.dispose());

describe('Prefix tuning plan', () => {
  it('counts n·d + (d·h + h) + (h·L·2d + L·2d) with the MLP and n·L·2d without, as a hand formula gives', () => {
    const n = 5;
    const h = 24;
    const p = prefixTuning.plan(model.info, base());
    expect(p.trainable).toBe(n * D + (D * h + h) + (h * L * 2 * D + L * 2 * D));
    expect(p.total).toBe(model.info.totalParams + p.trainable);
    expect(p.tensors).toEqual([
      { name: 'prompt_encoder.embedding.weight', shape: [n, D] },
      { name: 'prompt_encoder.transform.0.weight', shape: [h, D] },
      { name: 'prompt_encoder.transform.0.bias', shape: [h] },
      { name: 'prompt_encoder.transform.2.weight', shape: [L * 2 * D, h] },
      { name: 'prompt_encoder.transform.2.bias', shape: [L * 2 * D] },
    ]);
    const direct = prefixTuning.plan(model.info, base({ prefix_projection: false }));
    expect(direct.trainable).toBe(n * L * 2 * D);
    expect(direct.tensors).toEqual([{ name: 'prompt_encoder.embedding.weight', shape: [n, L * 2 * D] }]);
  });

  it("matches PEFT's documented print_trainable_parameters for gpt2-large, 20 virtual tokens, no projection", () => {
    // PeftModelForCausalLM's docstring: trainable params: 1843200 || all params: 775873280.
    const info = gpt2Info('gpt2-large', gpt2Config({ model_type: 'gpt2', n_layer: 36, n_embd: 1280, n_head: 20, n_positions: 1024, vocab_size: 50257 }));
    const p = prefixTuning.plan(info, { ...prefixTuning.defaults(info), prefix_projection: false });
    expect(p.trainable).toBe(1_843_200);
    expect(p.total).toBe(775_873_280);
  });

  it('defaults: 20 virtual tokens, the MLP on, hidden size = token_dim; bad settings are refused naming the field', () => {
    expect(prefixTuning.defaults(model.info)).toEqual({ num_virtual_tokens: 20, prefix_projection: true, encoder_hidden_size: D });
    expect(() => prefixTuning.plan(model.info, base({ num_virtual_tokens: 0 }))).toThrow(/^num_virtual_tokens must be a positive integer/);
    expect(() => prefixTuning.plan(model.info, base({ num_virtual_tokens: 2.5 }))).toThrow(/^num_virtual_tokens/);
    expect(() => prefixTuning.plan(model.info, base({ num_virtual_tokens: 64 }))).toThrow(/num_virtual_tokens \(64\) must be below test-gpt2's context of 64/);
    expect(() => prefixTuning.plan(model.info, base({ encoder_hidden_size: 0 }))).toThrow(/^encoder_hidden_size/);
    expect(prefixTuning.fields(model.info).map((f) => f.key)).toEqual(['num_virtual_tokens', 'prefix_projection', 'encoder_hidden_size']);
  });
});

describe('Prefix tuning math', () => {
  it('initialises as PyTorch does: embedding N(0, 1), Linear weights and biases U(±1/√fan_in)', async () => {
    const adapter = prefixTuning.create(model, base({ num_virtual_tokens: 40, encoder_hidden_size: 64 }), 3);
    const [E, w1, b1, w2, b2] = await Promise.all(adapter.variables.map((v) => v.data() as Promise<Float32Array>));
    const mean = E.reduce((s, x) => s + x, 0) / E.length;
    const std = Math.sqrt(E.reduce((s, x) => s + (x - mean) ** 2, 0) / E.length);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(std).toBeGreaterThan(0.9);
    expect(std).toBeLessThan(1.1);
    for (const [x, fanIn] of [[w1, D], [b1, D], [w2, 64], [b2, 64]] as const) {
      const bound = 1 / Math.sqrt(fanIn);
      const m = Math.max(...x.map(Math.abs));
      expect(m).toBeLessThanOrEqual(bound);
      expect(m).toBeGreaterThan(bound * 0.8);
    }
    adapter.dispose();
  });

  it('projects P = tanh(E·W₁ᵀ + b₁)·W₂ᵀ + b₂, as a naive loop computes it', async () => {
    const n = 3;
    const h = 5;
    const W = L * 2 * D;
    const E = tf.randomNormal([n, D], 0, 1, 'float32', 1) as tf.Tensor2D;
    const mlp = { w1: tf.randomNormal([h, D], 0, 0.3, 'float32', 2), b1: tf.randomNormal([h], 0, 0.3, 'float32', 3), w2: tf.randomNormal([W, h], 0, 0.3, 'float32', 4), b2: tf.randomNormal([W], 0, 0.3, 'float32', 5) };
    const got = (await projectPrefix(E, mlp).data()) as Float32Array;
    const [e, w1, b1, w2, b2] = await Promise.all([E, mlp.w1, mlp.b1, mlp.w2, mlp.b2].map((t) => t.data()));
    for (let t = 0; t < n; t++) {
      const hid = Array.from({ length: h }, (_, j) => {
        let s = b1[j];
        for (let i = 0; i < D; i++) s += e[t * D + i] * w1[j * D + i];
        return Math.tanh(s);
      });
      for (let o = 0; o < W; o++) {
        let s = b2[o];
        for (let j = 0; j < h; j++) s += hid[j] * w2[o * h + j];
        expect(got[t * W + o]).toBeCloseTo(s, 5);
      }
    }
    expect(projectPrefix(E)).toBe(E);
    tf.dispose([E, mlp.w1, mlp.b1, mlp.w2, mlp.b2]);
  });

  it("lays P out as PEFT's get_prompt does: layer i's key is slot 2i, its value slot 2i+1, each (heads, head_dim)", async () => {
    const n = 3;
    const g = prefixGeometry(model.info);
    const P = tf.randomNormal([n, g.width], 0, 1, 'float32', 8) as tf.Tensor2D;
    const p = (await P.data()) as Float32Array;
    for (let layer = 0; layer < L; layer++) {
      const { k, v } = layerPrefix(P, layer, 2, g);
      expect(k.shape).toEqual([2, H, n, HD]);
      expect(v.shape).toEqual([2, H, n, HD]);
      const [kd, vd] = (await Promise.all([k.data(), v.data()])) as Float32Array[];
      // PEFT: P.view(B, n, 2L, H, hd).permute(2, 0, 3, 1, 4).split(2) → (key, value) per layer.
      for (let b = 0; b < 2; b++) {
        for (let hh = 0; hh < H; hh++) {
          for (let t = 0; t < n; t++) {
            for (let e = 0; e < HD; e++) {
              const at = ((b * H + hh) * n + t) * HD + e;
              expect(kd[at]).toBe(p[t * g.width + (2 * layer) * D + hh * HD + e]);
              expect(vd[at]).toBe(p[t * g.width + (2 * layer + 1) * D + hh * HD + e]);
            }
          }
        }
      }
      tf.dispose([k, v]);
    }
    P.dispose();
  });

  it('hands every layer its own prefix in the forward pass, adds no positions to the logits, and changes them', async () => {
    const adapter = prefixTuning.create(model, base(), 5);
    const seen: [number, number, number[], number[]][] = [];
    const hooks = adapter.hooks(false);
    const spy: Hooks = {
      kvPrefix: (layer, batch) => {
        const kv = hooks.kvPrefix!(layer, batch)!;
        seen.push([layer, batch, kv.k.shape, kv.v.shape]);
        return kv;
      },
    };
    let prepended = -1;
    const logits = tf.tidy(() => {
      const out = model.forward(tf.tensor2d(textBatches(2, 16).ids, [2, 16], 'int32'), spy);
      prepended = out.prepended;
      return out.logits;
    });
    expect(prepended).toBe(0);
    expect(logits.shape).toEqual([2, 16, 257]);
    logits.dispose();
    expect(seen).toEqual([
      [0, 2, [2, H, 5, HD], [2, H, 5, HD]],
      [1, 2, [2, H, 5, HD], [2, H, 5, HD]],
    ]);
    const P = prefixesOf(adapter);
    // The engine's forward with these hooks equals the forward with prefixes cut from P by hand.
    const manual: Hooks = { kvPrefix: (layer, batch) => layerPrefix(P, layer, batch, prefixGeometry(model.info)) };
    expect(Array.from(await logitsOf(model, adapter.hooks(false)))).toEqual(Array.from(await logitsOf(model, manual)));
    expect(Array.from(await logitsOf(model, adapter.hooks(false)))).not.toEqual(Array.from(await logitsOf(model)));
    P.dispose();
    adapter.dispose();
  });

  it.each([true, false])('sends gradients to the adapter variables only (prefix_projection %s); base weights are not variables', (projection) => {
    const adapter = prefixTuning.create(model, base({ prefix_projection: projection }), 2);
    const batch = textBatches();
    const { grads, value } = tf.variableGrads(() =>
      tf.tidy(() => {
        const { logits } = model.forward(tf.tensor2d(batch.ids, [batch.batch, batch.length], 'int32'), adapter.hooks(true));
        return tf.mean(tf.square(logits)) as tf.Scalar;
      }),
    );
    expect(new Set(Object.keys(grads))).toEqual(new Set(adapter.variables.map((v) => v.name)));
    expect(adapter.variables.length).toBe(projection ? 5 : 1);
    for (const v of adapter.variables) expect(tf.max(tf.abs(grads[v.name])).dataSync()[0], v.name).toBeGreaterThan(0);
    for (const w of model.weights.values()) expect(w instanceof tf.Variable).toBe(false);
    value.dispose();
    tf.dispose(grads);
    adapter.dispose();
  });
});

describe('training prefix tuning (with the MLP)', () => {
  it('lowers the loss on a tiny text, leaves frozen weights bit-identical, leaks no tensors over 30 steps', async () => {
    const frozenBefore = await weightBytes(model);
    const adapter = prefixTuning.create(model, base({ num_virtual_tokens: 8, encoder_hidden_size: 32 }), 11);
    const batch = textBatches();
    const { result, losses, leaked } = await overfit(model, adapter, batch, { steps: 30, learningRate: 3e-2 });
    expect(result.reason).toBe('finished');
    expect(leaked).toBe(0);
    expect(losses).toHaveLength(30);
    expect(losses[29]).toBeLessThan(losses[0] * 0.7);
    expect(await changedWeights(model, frozenBefore)).toEqual([]);
    adapter.dispose();
  });
});

describe('Prefix tuning export and import', () => {
  it("writes PEFT's PREFIX_TUNING layout (the projected prefixes) and reloads to identical outputs", async () => {
    const adapter = prefixTuning.create(model, base(), 4);
    const tensorsBefore = tf.memory().numTensors;
    const { baseName, files } = await adapter.exportFiles();
    prefixesOf(adapter).dispose();
    // Neither the export nor prefixesOf leaves the MLP's output behind.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(baseName).toBe('test-gpt2-prefix-tuning');
    expect(Object.keys(files).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const cfg = json(files['adapter_config.json']);
    expect(cfg).toEqual({
      auto_mapping: null,
      base_model_name_or_path: 'test-gpt2',
      encoder_hidden_size: 24,
      inference_mode: true,
      modules_to_save: null,
      num_attention_heads: H,
      num_layers: L,
      num_transformer_submodules: 1,
      num_virtual_tokens: 5,
      peft_type: 'PREFIX_TUNING',
      prefix_projection: true,
      revision: null,
      task_type: 'CAUSAL_LM',
      token_dim: D,
    });
    expect(Object.keys(cfg)).toEqual([...Object.keys(cfg)].sort());

    const { tensors, metadata } = readSafetensors(files['adapter_model.safetensors'], 'adapter_model.safetensors');
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['prompt_embeddings']);
    const saved = tensors.get('prompt_embeddings')!;
    expect(saved.shape).toEqual([5, L * 2 * D]);
    const P = prefixesOf(adapter);
    expect(Array.from(saved.data)).toEqual(Array.from((await P.data()) as Float32Array));
    P.dispose();

    // Loaded as a fixed prefix: one variable, no MLP, the same outputs bit for bit.
    const reloaded = prefixTuning.load(model, files);
    expect(reloaded.variables.map((v) => v.shape)).toEqual([[5, L * 2 * D]]);
    expect(Array.from(await logitsOf(model, reloaded.hooks(false)))).toEqual(Array.from(await logitsOf(model, adapter.hooks(false))));
    expect(Array.from(await logitsOf(model, reloaded.hooks(false)))).not.toEqual(Array.from(await logitsOf(model)));
    // Re-exporting the loaded adapter gives the same files byte for byte.
    const again = await reloaded.exportFiles();
    for (const name of Object.keys(files)) expect(Buffer.from(again.files[name]).equals(Buffer.from(files[name])), name).toBe(true);
    // P-tuning v2's load takes the same file (the saved prefixes have one shape either way).
    const asV2 = pTuningV2.load(model, files);
    expect(Array.from(await logitsOf(model, asV2.hooks(false)))).toEqual(Array.from(await logitsOf(model, adapter.hooks(false))));
    adapter.dispose();
    reloaded.dispose();
    asV2.dispose();
  });

  it('loads a file that leaves out everything PEFT derives (token_dim, num_layers, heads, projection)', async () => {
    const adapter = prefixTuning.create(model, base({ prefix_projection: false }), 6);
    const { files } = await adapter.exportFiles();
    const bare = { ...files, 'adapter_config.json': new TextEncoder().encode(JSON.stringify({ peft_type: 'PREFIX_TUNING', num_virtual_tokens: 5 })) };
    const reloaded = prefixTuning.load(model, bare);
    expect(Array.from(await logitsOf(model, reloaded.hooks(false)))).toEqual(Array.from(await logitsOf(model, adapter.hooks(false))));
    adapter.dispose();
    reloaded.dispose();
  });

  it('refuses adapters of another method or another model, naming the field or tensor', async () => {
    const adapter = prefixTuning.create(model, base(), 4);
    const { files } = await adapter.exportFiles();
    adapter.dispose();
    expect(() => prefixTuning.load(model, withConfig(files, { peft_type: 'LORA' }))).toThrow(/adapter_config\.json: "peft_type" is "LORA", expected "PREFIX_TUNING"/);
    expect(() => prefixTuning.load(model, withConfig(files, { task_type: 'SEQ_2_SEQ_LM' }))).toThrow(/"task_type" is "SEQ_2_SEQ_LM", expected "CAUSAL_LM"/);
    expect(() => prefixTuning.load(model, withConfig(files, { num_transformer_submodules: 2 }))).toThrow(/"num_transformer_submodules" is 2, expected 1/);
    expect(() => prefixTuning.load(model, withConfig(files, { num_layers: 4 }))).toThrow(/"num_layers" is 4, expected 2 \(test-gpt2's\)/);
    expect(() => prefixTuning.load(model, withConfig(files, { num_attention_heads: 8 }))).toThrow(/"num_attention_heads" is 8, expected 4/);
    expect(() => prefixTuning.load(model, withConfig(files, { num_virtual_tokens: 6 }))).toThrow(/"prompt_embeddings" has shape \[5,128\], test-gpt2 with num_virtual_tokens 6 needs \[6,128\]/);
    expect(() => prefixTuning.load(model, withConfig(files, { num_virtual_tokens: undefined }))).toThrow(/"num_virtual_tokens" must be a positive integer/);
    expect(() => prefixTuning.load(model, withConfig(files, { prefix_projection: 'yes' }))).toThrow(/"prefix_projection" must be true or false/);
    const other = randomGpt2('wider', { ...SHAPE, n_embd: 64 }, 1);
    expect(() => prefixTuning.load(other, files)).toThrow(/"token_dim" is 32, expected 64 \(wider's\)/);
    expect(() => prefixTuning.load(other, withConfig(files, { token_dim: undefined }))).toThrow(/"prompt_embeddings" has shape \[5,128\], wider with num_virtual_tokens 5 needs \[5,256\]/);
    other.dispose();
    const cfgOnly = { 'adapter_config.json': files['adapter_config.json'] };
    expect(() => prefixTuning.load(model, cfgOnly)).toThrow(/adapter_model\.safetensors is missing/);
    const renamed = { ...files, 'adapter_model.safetensors': writeSafetensors([{ name: 'prompt_encoder.embedding.weight', shape: [5, 128], data: new Float32Array(640) }], { format: 'pt' }) };
    expect(() => prefixTuning.load(model, renamed)).toThrow(/tensor "prompt_embeddings" is missing/);
    const extra = {
      ...files,
      'adapter_model.safetensors': writeSafetensors(
        [
          { name: 'prompt_embeddings', shape: [5, 128], data: new Float32Array(640) },
          { name: 'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight', shape: [2, 32], data: new Float32Array(64) },
        ],
        { format: 'pt' },
      ),
    };
    expect(() => prefixTuning.load(model, extra)).toThrow(/unexpected tensors for test-gpt2 with num_virtual_tokens \d+: transformer\.h\.0\.attn\.c_attn\.lora_A\.weight/);
    const loraAdapter = lora.create(model, lora.defaults(model.info), 1);
    const loraFiles = (await loraAdapter.exportFiles()).files;
    loraAdapter.dispose();
    expect(() => prefixTuning.load(model, loraFiles)).toThrow(/"peft_type" is "LORA", expected "PREFIX_TUNING"/);
  });

  it('recognizes PREFIX_TUNING files with prefix_projection true; P-tuning v2 claims false or absent', async () => {
    const adapter = prefixTuning.create(model, base(), 1);
    const { files } = await adapter.exportFiles();
    adapter.dispose();
    expect(prefixTuning.recognizes(files)).toBe(true);
    expect(pTuningV2.recognizes(files)).toBe(false);
    for (const patch of [{ prefix_projection: false }, { prefix_projection: undefined }]) {
      expect(prefixTuning.recognizes(withConfig(files, patch))).toBe(false);
      expect(pTuningV2.recognizes(withConfig(files, patch))).toBe(true);
    }
    expect(prefixTuning.recognizes(withConfig(files, { peft_type: 'PROMPT_TUNING' }))).toBe(false);
    expect(prefixTuning.recognizes({ 'adapter_config.json': new TextEncoder().encode('not json') })).toBe(false);
    expect(prefixTuning.recognizes({})).toBe(false);
  });
});

describe('generation with prefix tuning', () => {
  it("runs generate() with the adapter's hooks, differs from the base model, and crops long prompts to the context left", async () => {
    const adapter = prefixTuning.create(model, base({ num_virtual_tokens: 20 }), 9);
    const prompt = Array.from(new TextEncoder().encode('the quick brown'));
    const opts = { maxNewTokens: 12, temperature: 0, topK: 0, seed: 1 };
    const tensorsBefore = tf.memory().numTensors;
    const plain = await generate(model, {}, prompt, opts);
    const withPrefix = await generate(model, adapter.hooks(false), prompt, opts);
    expect(withPrefix).toHaveLength(12);
    expect(withPrefix).not.toEqual(plain);
    // 60 prompt tokens + 20 prefix slots exceed the 64 positions: generate keeps the last 44.
    const long = Array.from(new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(2))).slice(0, 60);
    const cropped = await generate(model, adapter.hooks(false), long, { ...opts, maxNewTokens: 3 });
    expect(cropped).toHaveLength(3);
    expect(cropped).toEqual(await generate(model, adapter.hooks(false), long.slice(-44), { ...opts, maxNewTokens: 3 }));
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    adapter.dispose();
  });
});
