import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32, normals } from '../data/random';
import { classifierParams, poolPositions, SequenceClassifier } from './classifier';
import { buildModel, modelInfo } from './load';
import { architectureOf } from './registry';
import { gpt2ConfigJson } from './gpt2-init';
import type { LoadedModel } from './types';

const D = 16;
const LABELS = 3;
const PAD = 0;

/** One small config per family's head: GPT-2, Llama, Qwen2, BERT, RoBERTa, DistilBERT. */
const CONFIGS: Record<string, Record<string, unknown>> = {
  gpt2: gpt2ConfigJson({ n_layer: 1, n_embd: D, n_head: 2, n_positions: 16, vocab_size: 20 }),
  llama: { model_type: 'llama', hidden_size: D, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 24, max_position_embeddings: 16, vocab_size: 20, hidden_act: 'silu', tie_word_embeddings: false },
  qwen2: { model_type: 'qwen2', hidden_size: D, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 2, intermediate_size: 24, max_position_embeddings: 16, vocab_size: 20, hidden_act: 'silu', tie_word_embeddings: true },
  bert: { model_type: 'bert', hidden_size: D, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 24, max_position_embeddings: 16, vocab_size: 20, type_vocab_size: 2, pad_token_id: 0 },
  roberta: { model_type: 'roberta', hidden_size: D, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 24, max_position_embeddings: 20, vocab_size: 20, type_vocab_size: 1, pad_token_id: 1 },
  distilbert: { model_type: 'distilbert', dim: D, n_layers: 1, n_heads: 2, hidden_dim: 24, max_position_embeddings: 16, vocab_size: 20, pad_token_id: 0 },
};

/** Random weights for any family: norms' scales 1, biases small, the rest N(0, 0.3). */
function randomModel(raw: Record<string, unknown>, seed: number): LoadedModel {
  const rand = mulberry32(seed);
  const tensors = new Map(
    modelInfo('probe', raw).params.map(({ name, shape }) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = /(norm|LayerNorm|ln_\d|ln_f)[^.]*\.weight$/i.test(name) ? new Float32Array(n).fill(1) : normals(n, name.endsWith('.bias') ? 0.05 : 0.3, rand);
      return [name, { dtype: 'F32' as const, shape, data }];
    }),
  );
  return buildModel(raw.model_type as string, raw, tensors);
}

// Two rows of 6 tokens, the second right-padded after 4 (pad id 0; RoBERTa's pad is 1).
const ROWS = [
  [5, 6, 7, 8, 9, 10],
  [5, 11, 12, 13, PAD, PAD],
];

/** Built on first use, one per family. */
const models: Record<string, LoadedModel> = {};
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => Object.values(models).forEach((m) => m.dispose()));

describe('classification heads', () => {
  it('are named and shaped as each family’s *ForSequenceClassification state dict, with exact counts', () => {
    const named = (family: string) => {
      const spec = architectureOf(buildSpecInfo(family)).sequenceClassifier(buildSpecInfo(family).config);
      return { spec, params: classifierParams(spec, LABELS) };
    };
    expect(named('gpt2').params).toEqual([{ name: 'score.weight', shape: [LABELS, D] }]);
    expect(named('llama').params).toEqual([{ name: 'score.weight', shape: [LABELS, D] }]);
    expect(named('qwen2').spec.className).toBe('Qwen2ForSequenceClassification');
    expect(named('bert').params).toEqual([
      { name: 'bert.pooler.dense.weight', shape: [D, D] },
      { name: 'bert.pooler.dense.bias', shape: [D] },
      { name: 'classifier.weight', shape: [LABELS, D] },
      { name: 'classifier.bias', shape: [LABELS] },
    ]);
    expect(named('roberta').params.map((p) => p.name)).toEqual(['classifier.dense.weight', 'classifier.dense.bias', 'classifier.out_proj.weight', 'classifier.out_proj.bias']);
    expect(named('distilbert').params.map((p) => p.name)).toEqual(['pre_classifier.weight', 'pre_classifier.bias', 'classifier.weight', 'classifier.bias']);
    // BERT's head: pooler d·d + d, classifier L·d + L.
    const count = (ps: { shape: number[] }[]) => ps.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(count(named('bert').params)).toBe(D * D + D + LABELS * D + LABELS);
    expect(count(named('gpt2').params)).toBe(LABELS * D);
    expect(named('bert').spec.modulesToSave).toEqual(['pooler', 'classifier', 'score']);
  });

  it('pool the first token for encoders and the last non-padding token for decoders', () => {
    const ids = Int32Array.from(ROWS.flat());
    const first = architectureOf(buildSpecInfo('bert')).sequenceClassifier(buildSpecInfo('bert').config);
    const last = architectureOf(buildSpecInfo('gpt2')).sequenceClassifier(buildSpecInfo('gpt2').config);
    expect(poolPositions(first, ids, 2, 6, 0, PAD)).toEqual([0, 0]);
    expect(poolPositions(last, ids, 2, 6, 0, PAD)).toEqual([5, 3]);
    // A pad id that also ends a text (GPT-2's eos as pad) is not a real token there either.
    expect(poolPositions(last, Int32Array.from([5, 6, PAD, PAD]), 1, 4, 0, PAD)).toEqual([1]);
    // With 3 virtual tokens in front: position 0 is a virtual token; a decoder handed embeddings reads the last position.
    expect(poolPositions(first, ids, 2, 6, 3, PAD)).toEqual([0, 0]);
    expect(poolPositions(last, ids, 2, 6, 3, PAD)).toEqual([8, 8]);
  });

  for (const family of Object.keys(CONFIGS)) {
    it(`${family}: logits equal a naive reference over the model's last hidden state`, async () => {
      const raw = CONFIGS[family];
      const model = (models[family] ??= randomModel(raw, 11));
      const pad = family === 'roberta' ? 1 : PAD;
      const rows = ROWS.map((r) => r.map((t) => (t === PAD ? pad : t)));
      const ids = Int32Array.from(rows.flat());
      const head = SequenceClassifier.seeded(model.info, LABELS, pad, 3);
      const before = tf.memory().numTensors;
      const [hidden, logits] = tf.tidy(() => {
        const mask = tf.tensor2d(rows.map((r) => r.map((t) => (t === pad ? 0 : 1))), [2, 6], 'int32');
        const out = model.forward(tf.tensor2d(ids, [2, 6], 'int32'), {}, { attentionMask: mask });
        return [out.lastHidden, head.logits(out.lastHidden, ids, 0)];
      });
      const h = (await hidden.array()) as number[][][];
      const got = (await logits.array()) as number[][];
      hidden.dispose();
      logits.dispose();
      expect(tf.memory().numTensors).toBe(before);

      const weights = new Map((await head.tensors()).map((t) => [t.name, t]));
      const spec = head.spec;
      const pooledAt = spec.pooling === 'first-token' ? [0, 0] : [5, 3];
      rows.forEach((_, b) => {
        let x = h[b][pooledAt[b]];
        for (const layer of spec.layers) {
          const w = weights.get(`${layer.path}.weight`)!;
          const bias = weights.get(`${layer.path}.bias`);
          const [out, inF] = w.shape;
          x = Array.from({ length: out }, (_, o) => {
            let s = bias ? bias.data[o] : 0;
            for (let i = 0; i < inF; i++) s += w.data[o * inF + i] * x[i];
            return layer.activation === 'tanh' ? Math.tanh(s) : layer.activation === 'relu' ? Math.max(0, s) : s;
          });
        }
        expect(got[b].length).toBe(LABELS);
        got[b].forEach((v, k) => expect(Math.abs(v - x[k])).toBeLessThan(1e-5));
      });
      head.dispose();
    });
  }

  it('draws the same head from the same seed, biases zero, weights at the config’s initializer_range', async () => {
    const model = (models.bert ??= randomModel(CONFIGS.bert, 11));
    const a = SequenceClassifier.seeded(model.info, LABELS, PAD, 5);
    const b = SequenceClassifier.seeded(model.info, LABELS, PAD, 5);
    const c = SequenceClassifier.seeded(model.info, LABELS, PAD, 6);
    const [ta, tb, tc] = await Promise.all([a.tensors(), b.tensors(), c.tensors()]);
    expect(ta).toEqual(tb);
    expect(ta[0].data).not.toEqual(tc[0].data);
    expect(Array.from(ta.find((t) => t.name === 'classifier.bias')!.data)).toEqual([0, 0, 0]);
    const w = ta.find((t) => t.name === 'bert.pooler.dense.weight')!.data;
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.025);
    expect(a.size).toBe(D * D + D + LABELS * D + LABELS);
    expect(() => SequenceClassifier.seeded(model.info, 1, PAD, 5)).toThrow(/at least 2 labels, got 1/);
    for (const h of [a, b, c]) h.dispose();
  });
});

function buildSpecInfo(family: string) {
  models[family] ??= randomModel(CONFIGS[family], 11);
  return models[family].info;
}
