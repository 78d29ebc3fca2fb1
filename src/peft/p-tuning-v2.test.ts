import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../io/safetensors';
import { generate } from '../models/generate';
import { randomGpt2 } from '../models/gpt2-init';
import type { Hooks, LoadedModel } from '../models/types';
import { layerPrefix, prefixesOf, prefixGeometry, prefixTuning, type PrefixTuningConfig } from './prefix-tuning';
import { pTuningV2 } from './p-tuning-v2';
import { changedWeights, logitsOf, overfit, textBatches, weightBytes } from './testing';

const SHAPE = { n_layer: 2, n_embd: 32, n_head: 4, n_positions: 64, initializer_range: 0.2 };
const L = SHAPE.n_layer;
const D = SHAPE.n_embd;
const H = SHAPE.n_head;
const HD = D / H;
const base = (over: Partial<PrefixTuningConfig> = {}): PrefixTuningConfig => ({ num_virtual_tokens: 6, prefix_projection: false, encoder_hidden_size: D, ...over });

const json = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;

let model: LoadedModel;
beforeAll(async () => {
  await tf.setBackend('cpu');
  model = randomGpt2('test-gpt2', SHAPE, 7);
});
afterAll(() => model.dispose());

describe('P-tuning v2 plan', () => {
  it('defaults to deep prompts without reparameterisation: n·L·2d trainable, one [n, L·2d] tensor', () => {
    expect(pTuningV2.id).toBe('p-tuning-v2');
    expect(pTuningV2.label).toBe('P-tuning v2');
    expect(pTuningV2.defaults(model.info)).toEqual({ num_virtual_tokens: 20, prefix_projection: false, encoder_hidden_size: D });
    const p = pTuningV2.plan(model.info, pTuningV2.defaults(model.info));
    expect(p.trainable).toBe(20 * L * 2 * D);
    expect(p.total).toBe(model.info.totalParams + 20 * L * 2 * D);
    expect(p.tensors).toEqual([{ name: 'prompt_encoder.embedding.weight', shape: [20, L * 2 * D] }]);
    // The optional MLP counts as prefix tuning's does.
    expect(pTuningV2.plan(model.info, base({ prefix_projection: true, encoder_hidden_size: 8 })).trainable).toBe(6 * D + (D * 8 + 8) + (8 * L * 2 * D + L * 2 * D));
    expect(() => pTuningV2.plan(model.info, base({ num_virtual_tokens: 0 }))).toThrow(/^num_virtual_tokens/);
  });
});

describe('P-tuning v2 adapter', () => {
  it('is one N(0, 1) matrix whose rows are every layer\'s key and value prompts', async () => {
    const adapter = pTuningV2.create(model, base({ num_virtual_tokens: 40 }), 3);
    expect(adapter.variables.map((v) => v.shape)).toEqual([[40, L * 2 * D]]);
    const E = (await adapter.variables[0].data()) as Float32Array;
    const mean = E.reduce((s, x) => s + x, 0) / E.length;
    const std = Math.sqrt(E.reduce((s, x) => s + (x - mean) ** 2, 0) / E.length);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(std).toBeGreaterThan(0.95);
    expect(std).toBeLessThan(1.05);
    // Layer 1's value prompt for head 2, slot 3, dim 4 is E[3, (2·1+1)·d + 2·hd + 4].
    const { k, v } = adapter.hooks(false).kvPrefix!(1, 3)!;
    expect(k.shape).toEqual([3, H, 40, HD]);
    const vd = (await v.data()) as Float32Array;
    expect(vd[((2 * H + 2) * 40 + 3) * HD + 4]).toBe(E[3 * L * 2 * D + 3 * D + 2 * HD + 4]);
    tf.dispose([k, v]);
    adapter.dispose();
  });

  it('sends gradients to the deep prompts only', () => {
    const adapter = pTuningV2.create(model, base(), 2);
    const batch = textBatches();
    const { grads, value } = tf.variableGrads(() =>
      tf.tidy(() => {
        const { logits } = model.forward(tf.tensor2d(batch.ids, [batch.batch, batch.length], 'int32'), adapter.hooks(true));
        return tf.mean(tf.square(logits)) as tf.Scalar;
      }),
    );
    expect(Object.keys(grads)).toEqual([adapter.variables[0].name]);
    expect(tf.max(tf.abs(grads[adapter.variables[0].name])).dataSync()[0]).toBeGreaterThan(0);
    for (const w of model.weights.values()) expect(w instanceof tf.Variable).toBe(false);
    value.dispose();
    tf.dispose(grads);
    adapter.dispose();
  });

  it('lowers the loss on a tiny text, leaves frozen weights bit-identical, leaks no tensors over 30 steps', async () => {
    const frozenBefore = await weightBytes(model);
    const adapter = pTuningV2.create(model, base({ num_virtual_tokens: 8 }), 11);
    const batch = textBatches();
    const { result, losses, leaked } = await overfit(model, adapter, batch, { steps: 30, learningRate: 0.2 });
    expect(result.reason).toBe('finished');
    expect(leaked).toBe(0);
    expect(losses).toHaveLength(30);
    expect(losses[29]).toBeLessThan(losses[0] * 0.7);
    expect(await changedWeights(model, frozenBefore)).toEqual([]);
    adapter.dispose();
  });
});

describe('P-tuning v2 export and import', () => {
  it.each([false, true])('writes PREFIX_TUNING with prefix_projection false (trained with the MLP: %s) and reloads to identical outputs', async (projection) => {
    const adapter = pTuningV2.create(model, base({ prefix_projection: projection }), 4);
    const { baseName, files } = await adapter.exportFiles();
    expect(baseName).toBe('test-gpt2-p-tuning-v2');
    const cfg = json(files['adapter_config.json']);
    expect(cfg).toMatchObject({ peft_type: 'PREFIX_TUNING', task_type: 'CAUSAL_LM', prefix_projection: false, num_virtual_tokens: 6, num_layers: L, token_dim: D, num_attention_heads: H, num_transformer_submodules: 1, inference_mode: true });
    const { tensors } = readSafetensors(files['adapter_model.safetensors'], 'adapter_model.safetensors');
    expect([...tensors.keys()]).toEqual(['prompt_embeddings']);
    const P = prefixesOf(adapter);
    expect(Array.from(tensors.get('prompt_embeddings')!.data)).toEqual(Array.from((await P.data()) as Float32Array));
    P.dispose();
    expect(pTuningV2.recognizes(files)).toBe(true);
    expect(prefixTuning.recognizes(files)).toBe(false);

    const reloaded = pTuningV2.load(model, files);
    expect(Array.from(await logitsOf(model, reloaded.hooks(false)))).toEqual(Array.from(await logitsOf(model, adapter.hooks(false))));
    expect(Array.from(await logitsOf(model, reloaded.hooks(false)))).not.toEqual(Array.from(await logitsOf(model)));
    // Prefix tuning's load accepts it too.
    const asPrefix = prefixTuning.load(model, files);
    expect(Array.from(await logitsOf(model, asPrefix.hooks(false)))).toEqual(Array.from(await logitsOf(model, adapter.hooks(false))));
    adapter.dispose();
    reloaded.dispose();
    asPrefix.dispose();
  });

  it('refuses another method or another model, naming the field', async () => {
    const adapter = pTuningV2.create(model, base(), 4);
    const { files } = await adapter.exportFiles();
    adapter.dispose();
    const cfg = { ...json(files['adapter_config.json']), peft_type: 'P_TUNING' };
    expect(() => pTuningV2.load(model, { ...files, 'adapter_config.json': new TextEncoder().encode(JSON.stringify(cfg)) })).toThrow(/"peft_type" is "P_TUNING", expected "PREFIX_TUNING"/);
    const deeper = randomGpt2('deeper', { ...SHAPE, n_layer: 3 }, 1);
    expect(() => pTuningV2.load(deeper, files)).toThrow(/"num_layers" is 2, expected 3 \(deeper's\)/);
    deeper.dispose();
  });
});

describe('generation with P-tuning v2', () => {
  it("runs generate() with the adapter's hooks and differs from the base model", async () => {
    const adapter = pTuningV2.create(model, base({ num_virtual_tokens: 10 }), 9);
    const prompt = Array.from(new TextEncoder().encode('the lazy'));
    const opts = { maxNewTokens: 12, temperature: 0, topK: 0, seed: 1 };
    const tensorsBefore = tf.memory().numTensors;
    const plain = await generate(model, {}, prompt, opts);
    const withPrompts = await generate(model, adapter.hooks(false), prompt, opts);
    expect(withPrompts).toHaveLength(12);
    expect(withPrompts).not.toEqual(plain);
    // Sampling runs too, and the same seed gives the same tokens.
    const sampled = { ...opts, temperature: 0.8, topK: 20, seed: 5 };
    expect(await generate(model, adapter.hooks(false), prompt, sampled)).toEqual(await generate(model, adapter.hooks(false), prompt, sampled));
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    // The first generated token is the argmax of a forward with prefixes cut from P by hand.
    const P = prefixesOf(adapter);
    const manual: Hooks = { kvPrefix: (layer, batch) => layerPrefix(P, layer, batch, prefixGeometry(model.info)) };
    const first = tf.tidy(() => {
      const { logits } = model.forward(tf.tensor2d(prompt, [1, prompt.length], 'int32'), manual);
      return tf.argMax(tf.reshape(tf.slice(logits, [0, prompt.length - 1, 0], [1, 1, 257]), [257])).dataSync()[0];
    });
    expect(withPrompts[0]).toBe(first);
    P.dispose();
    adapter.dispose();
  });
});
