import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../io/safetensors';
import { generate } from '../models/generate';
import { gpt2Config, gpt2Info } from '../models/gpt2';
import { randomGpt2 } from '../models/gpt2-init';
import type { Hooks, LoadedModel } from '../models/types';
import { byteLevelTokenizerFiles } from '../tokenize/byte-level';
import { loadTokenizer, type TextTokenizer } from '../tokenize/tokenizer';
import { initTokenIds, promptTuning, type PromptTuningConfig } from './prompt-tuning';
import { changedWeights, overfit, textBatches, weightBytes } from './testing';

// A wider init than GPT-2's 0.02 so that a frozen model steered by a few virtual tokens can
// still reach confident predictions on the tiny text it overfits (as lora.test.ts).
const SHAPE = { n_layer: 2, n_embd: 32, n_head: 4, n_positions: 64, initializer_range: 0.2 };
const base = (over: Partial<PromptTuningConfig> = {}): PromptTuningConfig => ({ num_virtual_tokens: 6, prompt_tuning_init: 'RANDOM', prompt_tuning_init_text: '', ...over });

/** Logits of the 2×16 fixed input; with `hooks` the virtual positions are in front. */
async function logitsOf(model: LoadedModel, hooks: Hooks = {}): Promise<{ data: Float32Array; prepended: number }> {
  let prepended = -1;
  const logits = tf.tidy(() => {
    const out = model.forward(tf.tensor2d(textBatches(2, 16).ids, [2, 16], 'int32'), hooks);
    prepended = out.prepended;
    return out.logits;
  });
  const data = (await logits.data()) as Float32Array;
  logits.dispose();
  return { data, prepended };
}

async function bytesOf(t: tf.Tensor): Promise<Buffer> {
  return Buffer.from(((await t.data()) as Float32Array).slice().buffer);
}

let model: LoadedModel;
let tokenizer: TextTokenizer;
beforeAll(async () => {
  await tf.setBackend('cpu');
  model = randomGpt2('test-gpt2', SHAPE, 7);
  const files = byteLevelTokenizerFiles();
  tokenizer = loadTokenizer(files.tokenizer, files.tokenizerConfig);
});
afterAll(() => model.dispose());

describe('prompt tuning plan', () => {
  it('counts n·d, the only trainable tensor, as a hand formula gives', () => {
    const p = promptTuning.plan(model.info, base({ num_virtual_tokens: 7 }));
    expect(p.trainable).toBe(7 * SHAPE.n_embd);
    expect(p.total).toBe(model.info.totalParams + 7 * SHAPE.n_embd);
    expect(p.tensors).toEqual([{ name: 'prompt_encoder.embedding.weight', shape: [7, SHAPE.n_embd] }]);
  });

  it("matches PEFT 0.21's print_trainable_parameters for gpt2 (124M) with 20 virtual tokens and for tiny-gpt2 with 5", () => {
    // Printed by get_peft_model(GPT2LMHeadModel(GPT2Config()), PromptTuningConfig(num_virtual_tokens=20)).
    const gpt2 = gpt2Info('gpt2', gpt2Config({ model_type: 'gpt2', n_layer: 12, n_embd: 768, n_head: 12, n_positions: 1024, vocab_size: 50257 }));
    const p = promptTuning.plan(gpt2, promptTuning.defaults(gpt2));
    expect(p.trainable).toBe(15_360);
    expect(p.total).toBe(124_455_168);
    expect(((100 * p.trainable) / p.total).toFixed(4)).toBe('0.0123');
    // public/models/tiny-gpt2's shape: "trainable params: 640 || all params: 859,648".
    const tiny = gpt2Info('tiny', gpt2Config({ model_type: 'gpt2', n_layer: 4, n_embd: 128, n_head: 4, n_positions: 256, vocab_size: 257 }));
    expect(promptTuning.plan(tiny, base({ num_virtual_tokens: 5 }))).toMatchObject({ trainable: 640, total: 859_648 });
  });

  it('defaults to 20 random virtual tokens and refuses bad settings naming the field', () => {
    expect(promptTuning.defaults(model.info)).toEqual({ num_virtual_tokens: 20, prompt_tuning_init: 'RANDOM', prompt_tuning_init_text: '' });
    expect(() => promptTuning.plan(model.info, base({ num_virtual_tokens: 0 }))).toThrow(/^num_virtual_tokens must be a positive integer/);
    expect(() => promptTuning.plan(model.info, base({ num_virtual_tokens: 2.5 }))).toThrow(/^num_virtual_tokens/);
    expect(() => promptTuning.plan(model.info, base({ num_virtual_tokens: 64 }))).toThrow(/^num_virtual_tokens: 64 virtual tokens leave no room for text/);
    expect(() => promptTuning.plan(model.info, base({ prompt_tuning_init: 'ZEROS' as never }))).toThrow(/^prompt_tuning_init must be one of/);
    expect(() => promptTuning.plan(model.info, base({ prompt_tuning_init: 'TEXT' }))).toThrow(/^prompt_tuning_init_text/);
  });
});

describe('prompt tuning initialisation', () => {
  it('RANDOM draws N(0, 1) like torch.nn.Embedding, reproducibly per seed', async () => {
    const a = promptTuning.create(model, base({ num_virtual_tokens: 40 }), 5);
    const b = promptTuning.create(model, base({ num_virtual_tokens: 40 }), 5);
    const c = promptTuning.create(model, base({ num_virtual_tokens: 40 }), 6);
    const x = (await a.variables[0].data()) as Float32Array;
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const std = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length);
    expect(x.length).toBe(40 * SHAPE.n_embd);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(std).toBeGreaterThan(0.9);
    expect(std).toBeLessThan(1.1);
    expect((await bytesOf(b.variables[0])).equals(await bytesOf(a.variables[0]))).toBe(true);
    expect((await bytesOf(c.variables[0])).equals(await bytesOf(a.variables[0]))).toBe(false);
    for (const x of [a, b, c]) x.dispose();
  });

  it("TEXT repeats or cuts the init text's ids to n, as PEFT does", () => {
    expect(initTokenIds([1, 2, 3], 7)).toEqual([1, 2, 3, 1, 2, 3, 1]);
    expect(initTokenIds([1, 2, 3], 6)).toEqual([1, 2, 3, 1, 2, 3]);
    expect(initTokenIds([1, 2, 3, 4, 5], 2)).toEqual([1, 2]);
    expect(initTokenIds([9], 3)).toEqual([9, 9, 9]);
    expect(() => initTokenIds([], 3)).toThrow(/no tokens/);
  });

  it("TEXT copies the word-embedding rows of the tokenised text; SAMPLE_VOCAB copies rows of random tokens", async () => {
    const wte = (await model.weights.get('transformer.wte.weight')!.data()) as Float32Array;
    const d = SHAPE.n_embd;
    const row = (id: number) => Array.from(wte.subarray(id * d, (id + 1) * d));
    const text = promptTuning.create(model, base({ num_virtual_tokens: 5, prompt_tuning_init: 'TEXT', prompt_tuning_init_text: 'ab' }), 1, { tokenizer });
    const got = (await text.variables[0].data()) as Float32Array;
    // The byte-level tokenizer gives 'a' = 97, 'b' = 98; repeated to five: a b a b a.
    expect(tokenizer.encode('ab')).toEqual([97, 98]);
    [97, 98, 97, 98, 97].forEach((id, i) => expect(Array.from(got.subarray(i * d, (i + 1) * d)), `row ${i}`).toEqual(row(id)));
    text.dispose();

    const sampled = promptTuning.create(model, base({ num_virtual_tokens: 8, prompt_tuning_init: 'SAMPLE_VOCAB' }), 3);
    const s = (await sampled.variables[0].data()) as Float32Array;
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = Array.from(s.subarray(i * d, (i + 1) * d));
      const id = Array.from({ length: model.info.config.vocabSize }, (_, k) => k).find((k) => row(k).every((v, j) => v === r[j]));
      expect(id, `row ${i} is a vocabulary row`).toBeDefined();
      ids.push(id!);
    }
    expect(new Set(ids).size).toBeGreaterThan(1);
    sampled.dispose();

    expect(() => promptTuning.create(model, base({ prompt_tuning_init: 'TEXT', prompt_tuning_init_text: 'x' }), 1)).toThrow(/TEXT needs the model's tokenizer/);
  });
});

describe('prompt tuning forward', () => {
  it('prepends the same n virtual tokens to every row of the batch', async () => {
    const adapter = promptTuning.create(model, base({ num_virtual_tokens: 3 }), 2);
    const e = tf.randomNormal([2, 4, SHAPE.n_embd], 0, 1, 'float32', 1) as tf.Tensor3D;
    const out = adapter.hooks(false).inputEmbeds!(e);
    expect(out.shape).toEqual([2, 7, SHAPE.n_embd]);
    const [o, p, x] = await Promise.all([out.data(), adapter.variables[0].data(), e.data()]);
    const d = SHAPE.n_embd;
    for (let b = 0; b < 2; b++) {
      expect(Array.from(o.subarray(b * 7 * d, (b * 7 + 3) * d))).toEqual(Array.from(p));
      expect(Array.from(o.subarray((b * 7 + 3) * d, (b + 1) * 7 * d))).toEqual(Array.from(x.subarray(b * 4 * d, (b + 1) * 4 * d)));
    }
    tf.dispose([e, out]);
    adapter.dispose();
  });

  it('virtual tokens equal to real tokens’ embeddings give the logits of those tokens typed in front (positions 0..n−1)', async () => {
    // TEXT init from "ab" with n = 2 makes P exactly wte[a], wte[b]: the model must then see
    // "ab" + text, positions included, so the real positions' logits match the plain forward.
    const adapter = promptTuning.create(model, base({ num_virtual_tokens: 2, prompt_tuning_init: 'TEXT', prompt_tuning_init_text: 'ab' }), 1, { tokenizer });
    const ids = [[104, 105, 33, 10, 120], [1, 2, 3, 4, 5]];
    let prepended = -1;
    const withPrompt = tf.tidy(() => {
      const out = model.forward(tf.tensor2d(ids, [2, 5], 'int32'), adapter.hooks(false));
      prepended = out.prepended;
      return out.logits;
    });
    const typed = tf.tidy(() => model.forward(tf.tensor2d(ids.map((r) => [97, 98, ...r]), [2, 7], 'int32')).logits);
    expect(prepended).toBe(2);
    expect(withPrompt.shape).toEqual([2, 7, model.info.config.vocabSize]);
    const [a, b] = [(await withPrompt.data()) as Float32Array, (await typed.data()) as Float32Array];
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
    expect(max).toBeLessThan(1e-5);
    tf.dispose([withPrompt, typed]);
    adapter.dispose();
  });

  it('sends gradients to the soft prompt only: frozen weights are not variables and get none', () => {
    const adapter = promptTuning.create(model, base(), 2);
    const batch = textBatches();
    const { grads, value } = tf.variableGrads(() =>
      tf.tidy(() => {
        const { logits } = model.forward(tf.tensor2d(batch.ids, [batch.batch, batch.length], 'int32'), adapter.hooks(true));
        return tf.mean(tf.square(logits)) as tf.Scalar;
      }),
    );
    expect(Object.keys(grads)).toEqual(adapter.variables.map((v) => v.name));
    for (const w of model.weights.values()) expect(w instanceof tf.Variable).toBe(false);
    expect(tf.max(tf.abs(grads[adapter.variables[0].name])).dataSync()[0]).toBeGreaterThan(0);
    value.dispose();
    tf.dispose(grads);
    adapter.dispose();
  });
});

describe('training prompt tuning', () => {
  it('lowers the loss on a tiny text, leaves frozen weights bit-identical, leaks no tensors over 40 steps', async () => {
    const frozenBefore = await weightBytes(model);
    const adapter = promptTuning.create(model, base({ num_virtual_tokens: 16 }), 11);
    const batch = textBatches();
    // Prompt tuning wants a high learning rate (Lester et al. use 0.3 with Adafactor).
    const { result, losses, leaked } = await overfit(model, adapter, batch, { steps: 40, learningRate: 0.3 });
    expect(result.reason).toBe('finished');
    expect(leaked).toBe(0);
    expect(losses).toHaveLength(40);
    expect(losses[39]).toBeLessThan(losses[0] * 0.8);
    expect(await changedWeights(model, frozenBefore)).toEqual([]);
    adapter.dispose();
  });
});

describe('prompt tuning generation', () => {
  it('generate() runs with the adapter, counts its positions, and differs from the base model', async () => {
    const adapter = promptTuning.create(model, base({ num_virtual_tokens: 10 }), 9);
    const prompt = Array.from(new TextEncoder().encode('the quick'));
    const opts = { maxNewTokens: 12, temperature: 0, topK: 0, seed: 1 };
    const before = tf.memory().numTensors;
    const plain = await generate(model, {}, prompt, opts);
    const steered = await generate(model, adapter.hooks(false), prompt, opts);
    expect(tf.memory().numTensors).toBe(before);
    expect(steered).toHaveLength(12);
    expect(steered).not.toEqual(plain);
    // A prompt as long as the context is cropped to leave room for the 10 virtual tokens.
    const long = Array.from({ length: SHAPE.n_positions }, (_, i) => (i * 7) % 256);
    expect(await generate(model, adapter.hooks(false), long, { ...opts, maxNewTokens: 2 })).toHaveLength(2);
    adapter.dispose();
  });
});

describe('prompt tuning export and import', () => {
  it("writes PEFT's PROMPT_TUNING layout and reloads to identical outputs", async () => {
    const adapter = promptTuning.create(model, base({ num_virtual_tokens: 4, prompt_tuning_init: 'TEXT', prompt_tuning_init_text: 'hello' }), 4, { tokenizer });
    adapter.variables[0].assign(tf.randomNormal(adapter.variables[0].shape, 0, 0.5, 'float32', 17));
    const { baseName, files } = await adapter.exportFiles();
    expect(baseName).toBe('test-gpt2-prompt-tuning');
    expect(Object.keys(files).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);

    // Exactly the keys PEFT 0.21's PromptTuningConfig saves (less peft_version), sorted.
    const cfg = JSON.parse(new TextDecoder().decode(files['adapter_config.json']));
    expect(cfg).toEqual({
      auto_mapping: null,
      base_model_name_or_path: 'test-gpt2',
      inference_mode: true,
      modules_to_save: null,
      num_attention_heads: 4,
      num_layers: 2,
      num_transformer_submodules: 1,
      num_virtual_tokens: 4,
      peft_type: 'PROMPT_TUNING',
      prompt_tuning_init: 'TEXT',
      prompt_tuning_init_text: 'hello',
      revision: null,
      task_type: 'CAUSAL_LM',
      token_dim: 32,
      tokenizer_kwargs: null,
      tokenizer_name_or_path: 'test-gpt2',
    });
    expect(Object.keys(cfg)).toEqual([...Object.keys(cfg)].sort());

    const { tensors, metadata } = readSafetensors(files['adapter_model.safetensors'], 'adapter_model.safetensors');
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['prompt_embeddings']);
    expect(tensors.get('prompt_embeddings')!.shape).toEqual([4, 32]);
    expect(Buffer.from((tensors.get('prompt_embeddings')!.data as Float32Array).buffer).equals(await bytesOf(adapter.variables[0]))).toBe(true);

    const reloaded = promptTuning.load(model, files);
    const [a, b, plain] = [await logitsOf(model, reloaded.hooks(false)), await logitsOf(model, adapter.hooks(false)), await logitsOf(model)];
    expect(a.prepended).toBe(4);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    // The prompt changes what the real positions predict.
    const V = model.info.config.vocabSize;
    expect(Array.from(a.data.subarray(4 * V, 5 * V))).not.toEqual(Array.from(plain.data.subarray(0, V)));
    // A loaded prompt trains again, and re-exports the same bytes.
    expect(reloaded.variables).toHaveLength(1);
    const again = await reloaded.exportFiles();
    for (const k of Object.keys(files)) expect(Buffer.from(again.files[k]).equals(Buffer.from(files[k])), k).toBe(true);
    adapter.dispose();
    reloaded.dispose();
  });

  it('refuses adapters of another method or another model, naming the field or tensor', async () => {
    const adapter = promptTuning.create(model, base({ num_virtual_tokens: 4 }), 4);
    const { files } = await adapter.exportFiles();
    adapter.dispose();
    const withConfig = (patch: Record<string, unknown>) => {
      const cfg = { ...JSON.parse(new TextDecoder().decode(files['adapter_config.json'])), ...patch };
      return { ...files, 'adapter_config.json': new TextEncoder().encode(JSON.stringify(cfg)) };
    };
    expect(() => promptTuning.load(model, withConfig({ peft_type: 'P_TUNING' }))).toThrow(/adapter_config\.json: "peft_type" is "P_TUNING", expected "PROMPT_TUNING"/);
    expect(() => promptTuning.load(model, withConfig({ peft_type: 'LORA' }))).toThrow(/"peft_type" is "LORA", expected "PROMPT_TUNING"/);
    expect(() => promptTuning.load(model, withConfig({ task_type: 'SEQ_2_SEQ_LM' }))).toThrow(/"task_type" is "SEQ_2_SEQ_LM", expected "CAUSAL_LM"/);
    expect(() => promptTuning.load(model, withConfig({ num_virtual_tokens: 5 }))).toThrow(/"prompt_embeddings" has shape \[4,32\], test-gpt2 with 5 virtual tokens needs \[5,32\]/);
    expect(() => promptTuning.load(model, withConfig({ num_virtual_tokens: null }))).toThrow(/"num_virtual_tokens" is null/);
    expect(() => promptTuning.load(model, withConfig({ prompt_tuning_init: 'ZEROS' }))).toThrow(/"prompt_tuning_init" is "ZEROS"/);
    const other = randomGpt2('wider', { ...SHAPE, n_embd: 64 }, 1);
    expect(() => promptTuning.load(other, files)).toThrow(/"token_dim" is 32, expected 64 \(the hidden size of wider\)/);
    // Without token_dim in the config, the tensor's shape still gives it away.
    const noDim = withConfig({ token_dim: null });
    expect(() => promptTuning.load(other, noDim)).toThrow(/"prompt_embeddings" has shape \[4,32\], wider with 4 virtual tokens needs \[4,64\]/);
    other.dispose();
    const deeper = randomGpt2('deeper', { ...SHAPE, n_layer: 3 }, 1);
    expect(() => promptTuning.load(deeper, files)).toThrow(/"num_layers" is 2, expected 3 \(the number of layers of deeper\)/);
    deeper.dispose();
    expect(() => promptTuning.load(model, { 'adapter_config.json': files['adapter_config.json'] })).toThrow(/adapter_model\.safetensors is missing/);
    expect(promptTuning.recognizes(files)).toBe(true);
    expect(promptTuning.recognizes(withConfig({ peft_type: 'P_TUNING' }))).toBe(false);
    expect(promptTuning.recognizes({})).toBe(false);
  });
});
