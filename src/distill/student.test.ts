import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomGpt2 } from '../models/gpt2-init';
import { bertConfigJson, initBertWeights } from '../models/bert-init';
import { buildModel, modelInfo } from '../models/load';
import type { LoadedModel } from '../models/types';
import { mulberry32 } from '../data/random';
import { gpt2 } from '../models/gpt2';
import { distillationUnsupported, defaultStudentLayers, initStudent, planStudent, studentLayerIndices, teacherSourceOf } from './student';

// A 12-layer teacher so the paper's 12 → 6 case is tested on real tensors; tiny otherwise.
const SHAPE = { n_layer: 12, n_embd: 16, n_head: 2, n_positions: 16, vocab_size: 40 };

async function bytesOf(t: tf.Tensor): Promise<Uint8Array> {
  const d = (await t.data()) as Float32Array;
  return new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
}

async function logitsOf(model: LoadedModel, ids: number[][]): Promise<Float32Array> {
  const out = tf.tidy(() => model.forward(tf.tensor2d(ids, [ids.length, ids[0].length], 'int32')).logits);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

let teacher: LoadedModel;
beforeAll(async () => {
  await tf.setBackend('cpu');
  teacher = randomGpt2('teacher', SHAPE, 11);
});
afterAll(() => teacher.dispose());

describe('which teacher layers initialise the student', () => {
  it("gives DistilBERT's layers for 12 → 6: [0, 2, 4, 7, 9, 11]", () => {
    expect(studentLayerIndices(12, 6)).toEqual([0, 2, 4, 7, 9, 11]);
  });

  it('spreads evenly for other depths, keeping the first and last layer', () => {
    expect(studentLayerIndices(12, 4)).toEqual([0, 4, 7, 11]);
    expect(studentLayerIndices(12, 3)).toEqual([0, 6, 11]);
    expect(studentLayerIndices(5, 3)).toEqual([0, 2, 4]);
    expect(studentLayerIndices(4, 2)).toEqual([0, 3]);
    expect(studentLayerIndices(24, 12)).toEqual([0, 2, 4, 6, 8, 10, 13, 15, 17, 19, 21, 23]);
    expect(studentLayerIndices(12, 1)).toEqual([0]);
    for (let L = 2; L <= 48; L++) {
      for (let n = 2; n < L; n++) {
        const idx = studentLayerIndices(L, n);
        expect(idx).toHaveLength(n);
        expect(idx[0]).toBe(0);
        expect(idx[n - 1]).toBe(L - 1);
        const gaps = idx.slice(1).map((x, i) => x - idx[i]);
        // Strictly increasing, and no gap more than one layer wider than another.
        expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1);
        expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('refuses depths that are not fewer layers than the teacher, naming the field', () => {
    expect(() => studentLayerIndices(12, 12)).toThrow(/^student_layers must be an integer from 1 to 11/);
    expect(() => studentLayerIndices(12, 0)).toThrow(/student_layers/);
    expect(() => studentLayerIndices(12, 2.5)).toThrow(/student_layers/);
    expect(() => studentLayerIndices(1, 1)).toThrow(/at least 2/);
    expect(defaultStudentLayers(12)).toBe(6);
    expect(defaultStudentLayers(5)).toBe(3);
    expect(defaultStudentLayers(2)).toBe(1);
  });

  it('renumbers block tensors and keeps wte/wpe/ln_f names', () => {
    const idx = [0, 2, 4, 7, 9, 11];
    const at = (name: string) => teacherSourceOf(name, idx, (l: number) => gpt2.blockPath(teacher.info.config, l));
    expect(at('transformer.h.3.attn.c_attn.weight')).toBe('transformer.h.7.attn.c_attn.weight');
    expect(at('transformer.h.5.ln_2.bias')).toBe('transformer.h.11.ln_2.bias');
    expect(at('transformer.wte.weight')).toBe('transformer.wte.weight');
    expect(at('transformer.ln_f.bias')).toBe('transformer.ln_f.bias');
    expect(() => at('transformer.h.6.ln_1.weight')).toThrow('student parameter "transformer.h.6.ln_1.weight" has no teacher layer (the student has 6)');
    // Block paths come from the architecture: another family's are renumbered the same way.
    const layers = (i: number) => `model.layers.${i}`;
    expect(teacherSourceOf('model.layers.1.self_attn.q_proj.weight', [0, 3], layers)).toBe('model.layers.3.self_attn.q_proj.weight');
    expect(teacherSourceOf('model.norm.weight', [0, 3], layers)).toBe('model.norm.weight');
  });

  it('is offered for a family whose architecture writes config.json at another depth, with a teacher of 2 or more layers', () => {
    expect(gpt2.withNumLayers!({ model_type: 'gpt2', n_layer: 12, n_embd: 16 }, 6)).toEqual({ model_type: 'gpt2', n_layer: 6, n_embd: 16 });
    expect(distillationUnsupported(teacher.info)).toBeUndefined();
    const shallow = { ...teacher.info, config: { ...teacher.info.config, numLayers: 1 } };
    expect(distillationUnsupported(shallow)).toBe('the teacher has 1 layer; a student needs fewer');
  });
});

describe('initStudent', () => {
  it('copies exactly the chosen teacher layers (bit-identical, renumbered) and the embeddings and final norm', async () => {
    const student = initStudent(teacher, 6);
    expect(student.teacherLayers).toEqual([0, 2, 4, 7, 9, 11]);
    expect(student.info.config.numLayers).toBe(6);
    expect(student.info.params).toHaveLength(2 + 6 * 12 + 2);
    for (const { name } of student.info.params) {
      const source = teacherSourceOf(name, student.teacherLayers, (l: number) => gpt2.blockPath(teacher.info.config, l));
      expect(await bytesOf(student.weights.get(name)!), `${name} ← ${source}`).toEqual(await bytesOf(teacher.weights.get(source)!));
    }
    for (const name of ['transformer.wte.weight', 'transformer.wpe.weight', 'transformer.ln_f.weight', 'transformer.ln_f.bias']) {
      expect(await bytesOf(student.weights.get(name)!)).toEqual(await bytesOf(teacher.weights.get(name)!));
    }
    // The copy is the one the paper prescribes, not some other set of layers: student block 3
    // differs from the teacher's block 3 and 6 (the neighbours a plain stride would pick).
    const s3 = await bytesOf(student.weights.get('transformer.h.3.mlp.c_fc.weight')!);
    expect(s3).not.toEqual(await bytesOf(teacher.weights.get('transformer.h.3.mlp.c_fc.weight')!));
    expect(s3).not.toEqual(await bytesOf(teacher.weights.get('transformer.h.6.mlp.c_fc.weight')!));
    student.dispose();
  });

  it('makes every student parameter a trainable tf.Variable; the teacher keeps plain tensors', () => {
    const student = initStudent(teacher, 4);
    expect(student.variables).toHaveLength(student.info.params.length);
    student.info.params.forEach(({ name }, i) => {
      const w = student.weights.get(name)!;
      expect(w).toBeInstanceOf(tf.Variable);
      expect((w as tf.Variable).trainable).toBe(true);
      expect(student.variables[i]).toBe(w);
    });
    for (const t of teacher.weights.values()) expect(t).not.toBeInstanceOf(tf.Variable);
    expect(student.variables.reduce((s, v) => s + v.size, 0)).toBe(student.info.totalParams);
    student.dispose();
  });

  it("has the teacher's config with only n_layer changed, and the plan's counts", () => {
    const plan = planStudent(teacher.info, 6);
    const student = initStudent(teacher, 6);
    expect(student.info.config.raw).toEqual({ ...teacher.info.config.raw, n_layer: 6 });
    expect(student.info.totalParams).toBe(plan.studentParams);
    const d = SHAPE.n_embd;
    const perBlock = 12 * d * d + 13 * d;
    const embeddings = SHAPE.vocab_size * d + SHAPE.n_positions * d + 2 * d;
    expect(plan.teacherParams).toBe(embeddings + 12 * perBlock);
    expect(plan.studentParams).toBe(embeddings + 6 * perBlock);
    expect(plan.compression).toBeCloseTo(plan.teacherParams / plan.studentParams, 12);
    student.dispose();
  });

  it('computes what a GPT-2 built from the chosen teacher tensors computes', async () => {
    const student = initStudent(teacher, 6);
    const tensors = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
    for (const { name, shape } of student.info.params) {
      tensors.set(name, { dtype: 'F32', shape, data: (await teacher.weights.get(teacherSourceOf(name, student.teacherLayers, (l: number) => gpt2.blockPath(teacher.info.config, l)))!.data()) as Float32Array });
    }
    const reference = buildModel('reference', student.info.config.raw, tensors);
    const ids = [
      [1, 5, 9, 2, 30, 7],
      [39, 0, 4, 4, 8, 12],
    ];
    expect(Array.from(await logitsOf(student, ids))).toEqual(Array.from(await logitsOf(reference, ids)));
    reference.dispose();
    student.dispose();
  });

  it('leaves the teacher untouched when the student changes or is disposed, and leaks no tensor', async () => {
    const before = tf.memory().numTensors;
    const wte = await bytesOf(teacher.weights.get('transformer.wte.weight')!);
    const h7 = await bytesOf(teacher.weights.get('transformer.h.7.attn.c_attn.weight')!);
    const student = initStudent(teacher, 6);
    tf.tidy(() => {
      (student.weights.get('transformer.wte.weight') as tf.Variable).assign(tf.zeros([SHAPE.vocab_size, SHAPE.n_embd]));
      (student.weights.get('transformer.h.3.attn.c_attn.weight') as tf.Variable).assign(tf.ones([SHAPE.n_embd, 3 * SHAPE.n_embd]));
    });
    expect(await bytesOf(teacher.weights.get('transformer.wte.weight')!)).toEqual(wte);
    expect(await bytesOf(teacher.weights.get('transformer.h.7.attn.c_attn.weight')!)).toEqual(h7);
    student.dispose();
    expect(await bytesOf(teacher.weights.get('transformer.h.7.attn.c_attn.weight')!)).toEqual(h7);
    await logitsOf(teacher, [[1, 2, 3]]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

// A BERT-family teacher: the student is the teacher's *ForMaskedLM at half the depth, with what
// Hugging Face's extraction scripts take (scripts/extract_distilbert.py for BERT, extract.py
// for RoBERTa, both with --vocab_transform): the embeddings, every block at its chosen index,
// the whole MLM head. The names each test expects are spelled out here, not derived from student.ts.
describe('a BERT-family teacher', () => {
  const SIZES = { hidden_size: 16, num_hidden_layers: 4, num_attention_heads: 2, intermediate_size: 24, max_position_embeddings: 12, vocab_size: 30, initializer_range: 0.3 };
  /** A random masked LM of `raw`, every parameter drawn (biases and norms too, so no two tensors are alike). */
  function maskedLm(raw: Record<string, unknown>, seed: number): LoadedModel {
    const rand = mulberry32(seed);
    const tensors = new Map(
      initBertWeights(raw, seed).map((t) => [t.name, { dtype: 'F32' as const, shape: t.shape, data: t.data.map((x) => x + 0.1 * (rand() * 2 - 1)) }]),
    );
    return buildModel('teacher', raw, tensors);
  }
  const BERT_BLOCK = ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense', 'attention.output.LayerNorm', 'intermediate.dense', 'output.dense', 'output.LayerNorm'];
  const DISTILBERT_BLOCK = ['attention.q_lin', 'attention.k_lin', 'attention.v_lin', 'attention.out_lin', 'sa_layer_norm', 'ffn.lin1', 'ffn.lin2', 'output_layer_norm'];
  const wb = (m: string) => [`${m}.weight`, `${m}.bias`];

  /** Student name → teacher name, for a 4 → 2 student (teacher blocks 0 and 3). */
  function expectedCopies(layers: string, block: string[], others: string[]): Map<string, string> {
    const m = new Map(others.map((n) => [n, n]));
    [0, 3].forEach((t, i) => block.flatMap(wb).forEach((w) => m.set(`${layers}.${i}.${w}`, `${layers}.${t}.${w}`)));
    return m;
  }

  const cases = [
    {
      type: 'bert',
      raw: bertConfigJson(SIZES),
      depthKey: 'num_hidden_layers',
      copies: expectedCopies('bert.encoder.layer', BERT_BLOCK, [
        ...['word_embeddings', 'position_embeddings', 'token_type_embeddings'].map((e) => `bert.embeddings.${e}.weight`),
        ...wb('bert.embeddings.LayerNorm'),
        'cls.predictions.bias',
        ...wb('cls.predictions.transform.dense'),
        ...wb('cls.predictions.transform.LayerNorm'),
      ]),
    },
    {
      type: 'roberta (untied head)',
      raw: { ...bertConfigJson(SIZES), model_type: 'roberta', pad_token_id: 1, type_vocab_size: 1, max_position_embeddings: 14, tie_word_embeddings: false },
      depthKey: 'num_hidden_layers',
      copies: expectedCopies('roberta.encoder.layer', BERT_BLOCK, [
        ...['word_embeddings', 'position_embeddings', 'token_type_embeddings'].map((e) => `roberta.embeddings.${e}.weight`),
        ...wb('roberta.embeddings.LayerNorm'),
        'lm_head.bias',
        ...wb('lm_head.dense'),
        ...wb('lm_head.layer_norm'),
        ...wb('lm_head.decoder'),
      ]),
    },
    {
      type: 'distilbert',
      raw: { model_type: 'distilbert', dim: 16, n_layers: 4, n_heads: 2, hidden_dim: 24, max_position_embeddings: 12, vocab_size: 30, pad_token_id: 0, initializer_range: 0.3 },
      depthKey: 'n_layers',
      copies: expectedCopies('distilbert.transformer.layer', DISTILBERT_BLOCK, [
        'distilbert.embeddings.word_embeddings.weight',
        'distilbert.embeddings.position_embeddings.weight',
        ...wb('distilbert.embeddings.LayerNorm'),
        ...wb('vocab_transform'),
        ...wb('vocab_layer_norm'),
        'vocab_projector.bias',
      ]),
    },
  ];

  for (const c of cases) {
    it(`${c.type}: copies exactly the embeddings, blocks [0, 3] renumbered and the MLM head, bit-identical, into a ${c.depthKey} = 2 config`, async () => {
      const teacher = maskedLm(c.raw, 5);
      expect(distillationUnsupported(teacher.info)).toBeUndefined();
      const before = tf.memory().numTensors;
      const student = initStudent(teacher, 2);
      expect(student.teacherLayers).toEqual([0, 3]);
      expect(student.info.config.raw).toEqual({ ...c.raw, [c.depthKey]: 2 });
      expect(student.info.config.numLayers).toBe(2);
      expect(new Set(student.info.params.map((p) => p.name))).toEqual(new Set(c.copies.keys()));
      for (const [name, source] of c.copies) {
        expect(await bytesOf(student.weights.get(name)!), `${name} ← ${source}`).toEqual(await bytesOf(teacher.weights.get(source)!));
      }
      // Block 1 is teacher block 3, not the block 1 a plain renumbering would keep.
      const block1 = [...c.copies.keys()].find((n) => /\.1\..*\.weight$/.test(n) && !/norm/i.test(n))!;
      expect(await bytesOf(student.weights.get(block1)!)).not.toEqual(await bytesOf(teacher.weights.get(block1)!));
      expect(student.variables.reduce((s, v) => s + v.size, 0)).toBe(planStudent(teacher.info, 2).studentParams);
      // What the student computes is the teacher's masked LM at that depth, built from those tensors.
      const tensors = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
      for (const { name, shape } of student.info.params) tensors.set(name, { dtype: 'F32', shape, data: (await teacher.weights.get(c.copies.get(name)!)!.data()) as Float32Array });
      const reference = buildModel('reference', { ...c.raw, [c.depthKey]: 2 }, tensors);
      const ids = [
        [2, 5, 9, 7, 29, 3],
        [2, 11, 4, 4, 8, 3],
      ];
      expect(Array.from(await logitsOf(student, ids))).toEqual(Array.from(await logitsOf(reference, ids)));
      reference.dispose();
      student.dispose();
      expect(tf.memory().numTensors).toBe(before);
      teacher.dispose();
    });
  }

  it('is refused for a family whose architecture cannot write a shallower config (Llama), naming the ones it can', () => {
    const llama = modelInfo('llama', { model_type: 'llama', hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 24, max_position_embeddings: 16, vocab_size: 30 });
    expect(distillationUnsupported(llama)).toBe('distillation supports "gpt2", "bert", "roberta", "distilbert" teachers, not "llama"');
  });
});
