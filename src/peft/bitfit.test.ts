import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/random';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import { gpt2Config, gpt2Info } from '../models/gpt2';
import { gpt2ConfigJson, initGpt2Weights, type Gpt2Shape } from '../models/gpt2-init';
import { buildModel } from '../models/load';
import type { LoadedModel } from '../models/types';
import { randomBert } from '../models/bert-init';
import { SequenceClassifier } from '../models/classifier';
import { bitfit, BITFIT_CONFIG, BITFIT_WEIGHTS, chosenBiases, type BitFitConfig } from './bitfit';
import { lora } from './lora';
import { changedWeights, logitsOf, overfit, textBatches, weightBytes } from './testing';

const SHAPE: Gpt2Shape = { n_layer: 2, n_embd: 32, n_head: 4, n_positions: 64, initializer_range: 0.2 };

/** A small GPT-2 whose biases are not zero (GPT-2's init zeroes them), so that starting from the
 *  frozen values and writing them back are both visible. */
function biasedGpt2(name: string, shape: Gpt2Shape, seed: number): LoadedModel {
  const config = gpt2ConfigJson(shape);
  const rand = mulberry32(seed + 1000);
  const tensors = new Map(
    initGpt2Weights(config, seed).map((t) => {
      const data = t.name.endsWith('.bias') ? t.data.map(() => (rand() - 0.5) * 0.2) : t.data;
      return [t.name, { dtype: 'F32' as const, shape: t.shape, data }];
    }),
  );
  return buildModel(name, config, tensors);
}

const cfg = (trainable_biases: BitFitConfig['trainable_biases']): BitFitConfig => ({ trainable_biases });

let model: LoadedModel;
beforeAll(async () => {
  await tf.setBackend('cpu');
  model = biasedGpt2('test-gpt2', SHAPE, 7);
});
afterAll(() => model.dispose());

describe('BitFit plan', () => {
  it('counts the chosen biases exactly, as a hand formula gives; nothing is added to the total', () => {
    const d = SHAPE.n_embd;
    const L = SHAPE.n_layer;
    // per block: ln_1 d + c_attn 3d + attn.c_proj d + ln_2 d + c_fc 4d + mlp.c_proj d; plus ln_f d.
    const all = bitfit.plan(model.info, cfg('all'));
    expect(all.trainable).toBe(L * 11 * d + d);
    expect(all.total).toBe(model.info.totalParams);
    expect(bitfit.plan(model.info, cfg('attention')).trainable).toBe(L * (3 * d + d));
    expect(bitfit.plan(model.info, cfg('mlp')).trainable).toBe(L * (4 * d + d));
    expect(all.tensors.map((t) => t.name)).toEqual([
      ...[0, 1].flatMap((i) => ['ln_1', 'attn.c_attn', 'attn.c_proj', 'ln_2', 'mlp.c_fc', 'mlp.c_proj'].map((m) => `transformer.h.${i}.${m}.bias`)),
      'transformer.ln_f.bias',
    ]);
    expect(bitfit.plan(model.info, cfg('attention')).tensors.map((t) => t.name)).toEqual(
      [0, 1].flatMap((i) => [`transformer.h.${i}.attn.c_attn.bias`, `transformer.h.${i}.attn.c_proj.bias`]),
    );
    expect(bitfit.plan(model.info, cfg('mlp')).tensors).toEqual(
      [0, 1].flatMap((i) => [
        { name: `transformer.h.${i}.mlp.c_fc.bias`, shape: [4 * d] },
        { name: `transformer.h.${i}.mlp.c_proj.bias`, shape: [d] },
      ]),
    );
  });

  it('gpt2 (124M): 102,144 biases of 124,439,808 parameters', () => {
    const info = gpt2Info('gpt2', gpt2Config({ model_type: 'gpt2', n_layer: 12, n_embd: 768, n_head: 12, n_positions: 1024, vocab_size: 50257 }));
    const p = bitfit.plan(info, bitfit.defaults(info));
    expect(p.trainable).toBe(12 * 11 * 768 + 768);
    expect(p.trainable).toBe(102_144);
    expect(p.total).toBe(124_439_808);
  });

  it('is unsupported, with the reason, on a model without biases; refuses unknown bias sets', () => {
    expect(bitfit.unsupported!(model.info)).toBeUndefined();
    const noBias = { ...model.info, name: 'no-bias', params: model.info.params.filter((p) => !p.name.endsWith('.bias')) };
    expect(bitfit.unsupported!(noBias)).toBe('no-bias has no bias parameters, so BitFit has nothing to train');
    expect(() => bitfit.plan(noBias, cfg('all'))).toThrow(/no-bias has no bias parameters/);
    expect(() => bitfit.plan(model.info, cfg('ffn' as never))).toThrow(/^trainable_biases: "ffn"/);
    expect(bitfit.defaults(model.info)).toEqual(cfg('all'));
  });
});

describe('BitFit adapter', () => {
  it('swaps in a trainable copy of each chosen bias through the param hook and starts exactly at the base', async () => {
    const adapter = bitfit.create(model, cfg('attention'), 1);
    const hook = adapter.hooks(true).param!;
    for (const p of model.info.params) {
      const frozen = model.weights.get(p.name)!;
      const got = hook(p.name, frozen);
      const chosen = /\.attn\.c_(attn|proj)\.bias$/.test(p.name);
      expect(got instanceof tf.Variable, p.name).toBe(chosen);
      if (!chosen) expect(got).toBe(frozen);
      else expect(Array.from(await got.data())).toEqual(Array.from(await frozen.data()));
    }
    expect(Array.from(await logitsOf(model, adapter.hooks(false)))).toEqual(Array.from(await logitsOf(model)));
    adapter.dispose();
  });

  it('sends gradients to the chosen biases only, LayerNorm biases included', () => {
    const adapter = bitfit.create(model, cfg('all'), 2);
    const batch = textBatches();
    const { grads, value } = tf.variableGrads(() =>
      tf.tidy(() => {
        const { logits } = model.forward(tf.tensor2d(batch.ids, [batch.batch, batch.length], 'int32'), adapter.hooks(true));
        return tf.mean(tf.square(logits)) as tf.Scalar;
      }),
    );
    expect(new Set(Object.keys(grads))).toEqual(new Set(adapter.variables.map((v) => v.name)));
    for (const w of model.weights.values()) expect(w instanceof tf.Variable).toBe(false);
    // Every chosen bias, ln_f's included, gets a non-zero gradient.
    for (const v of adapter.variables) expect(tf.max(tf.abs(grads[v.name])).dataSync()[0]).toBeGreaterThan(0);
    value.dispose();
    tf.dispose(grads);
    adapter.dispose();
  });
});

describe('training BitFit', () => {
  it('lowers the loss on a tiny text, leaves every frozen tensor (the biases too) bit-identical, leaks no tensors', async () => {
    const frozenBefore = await weightBytes(model);
    const adapter = bitfit.create(model, cfg('all'), 11);
    const batch = textBatches();
    const { result, losses, leaked } = await overfit(model, adapter, batch, { steps: 40, learningRate: 3e-2 });
    expect(result.reason).toBe('finished');
    expect(leaked).toBe(0);
    expect(losses).toHaveLength(40);
    expect(losses[39]).toBeLessThan(losses[0] * 0.8);
    expect(await changedWeights(model, frozenBefore)).toEqual([]);
    // …while the trained copies moved.
    const moved = await Promise.all(adapter.variables.map(async (v, i) => Buffer.from(((await v.data()) as Float32Array).slice().buffer).equals(frozenBefore.get(chosenBiases(model.info, cfg('all'))[i].name)!)));
    expect(moved.filter((same) => same)).toHaveLength(0);
    adapter.dispose();
  });
});

describe('BitFit export, merge and import', () => {
  async function perturbed(c: BitFitConfig) {
    const adapter = bitfit.create(model, c, 4);
    adapter.variables.forEach((v, i) => tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 20 + i)))));
    return { adapter, ...(await adapter.exportFiles()) };
  }

  it('writes the trained biases under their Hugging Face names and a small config, and reloads to identical outputs', async () => {
    const { adapter, baseName, files } = await perturbed(cfg('mlp'));
    expect(baseName).toBe('test-gpt2-bitfit');
    expect(Object.keys(files).sort()).toEqual(['bitfit_config.json', 'bitfit_model.safetensors']);
    const config = JSON.parse(new TextDecoder().decode(files['bitfit_config.json']));
    expect(config).toMatchObject({ method: 'bitfit', base_model_name_or_path: 'test-gpt2', model_type: 'gpt2', trainable_biases: 'mlp', num_tensors: 4, trainable_params: bitfit.plan(model.info, cfg('mlp')).trainable });
    const { tensors, metadata } = readSafetensors(files['bitfit_model.safetensors'], 'bitfit_model.safetensors');
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()].sort()).toEqual(bitfit.plan(model.info, cfg('mlp')).tensors.map((t) => t.name).sort());
    for (const [i, v] of adapter.variables.entries()) {
      const name = chosenBiases(model.info, cfg('mlp'))[i].name;
      expect(Array.from(tensors.get(name)!.data), name).toEqual(Array.from(await v.data()));
    }

    const want = await logitsOf(model, adapter.hooks(false));
    expect(bitfit.recognizes(files)).toBe(true);
    const reloaded = bitfit.load(model, files);
    expect(Array.from(await logitsOf(model, reloaded.hooks(false)))).toEqual(Array.from(want));
    expect(Array.from(await logitsOf(model, reloaded.hooks(false)))).not.toEqual(Array.from(await logitsOf(model)));
    reloaded.dispose();
    adapter.dispose();
  });

  it('mergedWeights is the base state dict with the trained biases in place, and builds the same model', async () => {
    const { adapter } = await perturbed(cfg('all'));
    const merged = await adapter.mergedWeights!();
    expect(merged.map((t) => t.name)).toEqual(model.info.params.map((p) => p.name));
    const trained = new Map(chosenBiases(model.info, cfg('all')).map((p, i) => [p.name, adapter.variables[i]]));
    for (const t of merged) {
      expect(t.shape).toEqual(model.info.params.find((p) => p.name === t.name)!.shape);
      const source = trained.get(t.name) ?? model.weights.get(t.name)!;
      expect(Buffer.from(t.data.buffer).equals(Buffer.from(((await source.data()) as Float32Array).slice().buffer)), t.name).toBe(true);
    }
    // Written as a checkpoint and read back as the studio reads a model folder.
    const bytes = writeSafetensors(merged, { format: 'pt' });
    const mergedModel = buildModel('merged', gpt2ConfigJson(SHAPE), readSafetensors(bytes, 'model.safetensors').tensors);
    expect(Array.from(await logitsOf(mergedModel))).toEqual(Array.from(await logitsOf(model, adapter.hooks(false))));
    mergedModel.dispose();
    adapter.dispose();
  });

  it('refuses files of another method or another model, naming the field or tensor', async () => {
    const { adapter, files } = await perturbed(cfg('all'));
    adapter.dispose();
    const cfg0 = JSON.parse(new TextDecoder().decode(files['bitfit_config.json']));
    const withConfig = (patch: Record<string, unknown>) => ({ ...files, 'bitfit_config.json': new TextEncoder().encode(JSON.stringify({ ...cfg0, ...patch })) });
    expect(() => bitfit.load(model, withConfig({ method: 'lora' }))).toThrow(/bitfit_config\.json: "method" is "lora", expected "bitfit"/);
    expect(() => bitfit.load(model, withConfig({ base_model_name_or_path: 'gpt2' }))).toThrow(/bitfit_config\.json: "base_model_name_or_path" is "gpt2", expected "test-gpt2"/);
    expect(() => bitfit.load(model, withConfig({ model_type: 'bert' }))).toThrow(/"model_type" is "bert", expected "gpt2"/);
    expect(() => bitfit.load(model, withConfig({ trainable_biases: 'attention' }))).toThrow(/unexpected tensors for the attention biases of test-gpt2: transformer\.h\.0\.ln_1\.bias/);
    expect(() => bitfit.load(model, withConfig({ trainable_biases: 'everything' }))).toThrow(/bitfit_config\.json: trainable_biases: "everything"/);
    const wider = biasedGpt2('test-gpt2', { ...SHAPE, n_embd: 64 }, 1);
    expect(() => bitfit.load(wider, files)).toThrow(/"transformer\.h\.0\.ln_1\.bias" has shape \[32\], test-gpt2 needs \[64\]/);
    wider.dispose();
    const deeper = biasedGpt2('test-gpt2', { ...SHAPE, n_layer: 3 }, 1);
    expect(() => bitfit.load(deeper, files)).toThrow(/tensor "transformer\.h\.2\.ln_1\.bias" is missing/);
    deeper.dispose();
    expect(() => bitfit.load(model, { 'bitfit_config.json': files['bitfit_config.json'] })).toThrow(/bitfit_model\.safetensors is missing/);

    const l = lora.create(model, lora.defaults(model.info), 1);
    const loraFiles = (await l.exportFiles()).files;
    l.dispose();
    expect(bitfit.recognizes(loraFiles)).toBe(false);
    expect(() => bitfit.load(model, loraFiles)).toThrow(/bitfit_config\.json is missing/);
    expect(bitfit.recognizes({ 'bitfit_config.json': new TextEncoder().encode('not json') })).toBe(false);
    expect(bitfit.recognizes({})).toBe(false);
  });
});

describe('BitFit with a sequence-classification head', () => {
  const LABELS = ['neg', 'pos', 'mixed'];

  async function exported(m: LoadedModel, c: BitFitConfig, padId: number) {
    const adapter = bitfit.create(m, c, 4, { classifier: true });
    adapter.variables.forEach((v, i) => tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 40 + i)))));
    const head = SequenceClassifier.seeded(m.info, LABELS.length, padId, 9);
    const out = await adapter.exportWithHead!(head, LABELS);
    const config = JSON.parse(new TextDecoder().decode(out.files[BITFIT_CONFIG]));
    const { tensors, metadata } = readSafetensors(out.files[BITFIT_WEIGHTS], BITFIT_WEIGHTS);
    return { adapter, head, ...out, config, tensors, metadata };
  }

  it("BERT: the body's biases and the pooler + classifier in one file under BertForSequenceClassification's names, the MLM head's biases left out", async () => {
    const bertModel = randomBert('tiny-bert', { hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 32, vocab_size: 40 }, 3);
    const { adapter, head, baseName, files, config, tensors, metadata } = await exported(bertModel, cfg('all'), 0);
    expect(baseName).toBe('tiny-bert-bitfit-classifier');
    expect(Object.keys(files).sort()).toEqual([BITFIT_CONFIG, BITFIT_WEIGHTS]);
    expect(metadata).toEqual({ format: 'pt' });

    // A classifier's BitFit trains the body's biases: the MLM head's get no gradient from the labels.
    const all = chosenBiases(bertModel.info, cfg('all'));
    const lmHead = all.filter((p) => !p.name.startsWith('bert.')).map((p) => p.name);
    expect(lmHead).toEqual(['cls.predictions.bias', 'cls.predictions.transform.dense.bias', 'cls.predictions.transform.LayerNorm.bias']);
    const body = all.filter((p) => p.name.startsWith('bert.'));
    expect(chosenBiases(bertModel.info, cfg('all'), { classifier: true })).toEqual(body);
    expect(bitfit.plan(bertModel.info, cfg('all'), { classifier: true }).tensors.map((t) => t.name)).toEqual(body.map((p) => p.name));
    expect(adapter.variables.map((v) => v.shape)).toEqual(body.map((p) => p.shape));
    const headNames = ['bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'classifier.weight', 'classifier.bias'];
    expect([...tensors.keys()].sort()).toEqual([...body.map((p) => p.name), ...headNames].sort());
    expect(tensors.get('bert.pooler.dense.weight')!.shape).toEqual([16, 16]);
    expect(tensors.get('classifier.weight')!.shape).toEqual([3, 16]);
    expect(tensors.get('classifier.bias')!.shape).toEqual([3]);
    // Byte for byte the trained values: the biases' variables and the head's.
    const trained = new Map(body.map((p, i) => [p.name, adapter.variables[i]]));
    for (const p of body) expect(Buffer.from(tensors.get(p.name)!.data.buffer).equals(Buffer.from(((await trained.get(p.name)!.data()) as Float32Array).slice().buffer)), p.name).toBe(true);
    for (const t of await head.tensors()) expect(Buffer.from(tensors.get(t.name)!.data.buffer).equals(Buffer.from(t.data.buffer)), t.name).toBe(true);

    const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    expect(config).toEqual({
      base_model_name_or_path: 'tiny-bert',
      method: 'bitfit',
      model_type: 'bert',
      paper: 'https://arxiv.org/abs/2106.10199',
      trainable_biases: 'all',
      num_tensors: body.length + 4,
      trainable_params: body.reduce((s, p) => s + size(p.shape), 0) + head.size,
      task_type: 'SEQ_CLS',
      model_class: 'BertForSequenceClassification',
      num_labels: 3,
      id2label: { 0: 'neg', 1: 'pos', 2: 'mixed' },
      pad_token_id: 0,
      head_modules: ['bert.pooler.dense', 'classifier'],
      load_with: 'model = AutoModelForSequenceClassification.from_pretrained("tiny-bert", num_labels=3, pad_token_id=0); model.load_state_dict(safetensors.torch.load_file("bitfit_model.safetensors"), strict=False)',
    });
    adapter.dispose();
    head.dispose();
    bertModel.dispose();
  });

  it("GPT-2: every chosen bias is the body's, and the bias-free score joins them; the plain export is unchanged", async () => {
    const { adapter, head, baseName, config, tensors } = await exported(model, cfg('attention'), 5);
    expect(baseName).toBe('test-gpt2-bitfit-classifier');
    expect([...tensors.keys()].sort()).toEqual([...chosenBiases(model.info, cfg('attention')).map((p) => p.name), 'score.weight'].sort());
    expect(tensors.get('score.weight')!.shape).toEqual([3, SHAPE.n_embd]);
    expect(config).toMatchObject({ task_type: 'SEQ_CLS', model_class: 'GPT2ForSequenceClassification', num_labels: 3, pad_token_id: 5, head_modules: ['score'] });
    expect(config.load_with).toContain('from_pretrained("test-gpt2", num_labels=3, pad_token_id=5)');
    const plain = await adapter.exportFiles();
    expect(plain.baseName).toBe('test-gpt2-bitfit');
    expect(JSON.parse(new TextDecoder().decode(plain.files[BITFIT_CONFIG])).task_type).toBeUndefined();
    expect([...readSafetensors(plain.files[BITFIT_WEIGHTS]).tensors.keys()]).not.toContain('score.weight');
    adapter.dispose();
    head.dispose();
  });

  it('an import of the classifier export is refused, naming the file, the task and the head, and allocates nothing', async () => {
    const { adapter, head, files } = await exported(model, cfg('all'), 5);
    adapter.dispose();
    head.dispose();
    expect(bitfit.recognizes(files)).toBe(true);
    const before = tf.memory().numTensors;
    expect(() => bitfit.load(model, files)).toThrow(
      /^bitfit_config\.json: "task_type" is "SEQ_CLS": these biases were trained with a GPT2ForSequenceClassification head, which the studio does not import/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
