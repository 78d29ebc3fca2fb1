import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/random';
import { randomBert } from '../models/bert-init';
import { randomGpt2 } from '../models/gpt2-init';
import type { LoadedModel } from '../models/types';
import { CAUSAL_LM, maskedLm } from '../train/objective';
import { evaluate, type EvalPoint, type TokenBatch, type TrainerOptions } from '../train/trainer';
import { distill, distillDefaults, distillFields, distillSpec, validateDistillConfig, type DistillProgressPoint } from './distiller';
import { DISTILBERT_MLM_RECIPE, DISTILBERT_RECIPE, distillationLoss, lmOutputs, maskedDistillationLoss } from './losses';
import { checkEmbeddingGradients } from '../backend/wasm-kernels';
import { initStudent } from './student';

// Wider init than GPT-2's 0.02 so the random teacher has distinct, confident distributions to
// imitate (with 0.02 every distribution is nearly uniform and L_ce starts near 0).
const SHAPE = { n_layer: 4, n_embd: 32, n_head: 4, n_positions: 32, initializer_range: 0.2 };
const TEXT = 'the quick brown fox jumps over the lazy dog. ';

/** Byte ids of a repeated sentence, `batch` rows of `length`, the last row right-padded. */
function textBatch(batch = 4, length = 16, offset = 0): TokenBatch {
  const bytes = Array.from(new TextEncoder().encode(TEXT.repeat(4)));
  const ids = new Int32Array(batch * length);
  const labels = new Int32Array(batch * length);
  for (let b = 0; b < batch; b++) {
    const real = b === batch - 1 ? length - 6 : length;
    for (let t = 0; t < length; t++) {
      ids[b * length + t] = t < real ? bytes[offset + b * 5 + t] : 0;
      labels[b * length + t] = t < real ? ids[b * length + t] : -100;
    }
  }
  return { ids, labels, batch, length };
}

const OPTS: TrainerOptions = { totalSteps: 20, learningRate: 3e-3, warmupSteps: 3, weightDecay: 0.01, maxGradNorm: 1, evalEvery: 0, readbackEvery: 4 };

async function snapshot(model: LoadedModel): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of model.weights) out.set(name, Float32Array.from((await t.data()) as Float32Array));
  return out;
}

/** The teacher behind a counter of forward calls. */
function counted(model: LoadedModel): { model: LoadedModel; calls: () => number } {
  let n = 0;
  return {
    model: { info: model.info, weights: model.weights, forward: (...a) => (n++, model.forward(...a)), dispose: () => model.dispose() },
    calls: () => n,
  };
}

let teacher: LoadedModel;
beforeAll(async () => {
  await tf.setBackend('cpu');
  teacher = randomGpt2('teacher', SHAPE, 5);
});
afterAll(() => teacher.dispose());

describe('distill', () => {
  it('trains every student weight, keeps the teacher bit-identical, lowers the loss, and leaks no tensor', async () => {
    const before = await snapshot(teacher);
    const student = initStudent(teacher, 2);
    const init = await snapshot(student);
    const startTensors = tf.memory().numTensors;
    const points: DistillProgressPoint[] = [];
    const evals: EvalPoint[] = [];
    const teacherEvals: number[] = [];
    const evalBatches = [textBatch(2, 16, 7)];
    const result = await distill(teacher, student, DISTILBERT_RECIPE, OPTS, {
      nextBatch: () => ({ batch: textBatch(), epoch: 0 }),
      evalBatches,
      onProgress: (p) => points.push(...p),
      onEval: (e) => evals.push(e),
      onTeacherEval: (l) => teacherEvals.push(l),
      shouldStop: () => false,
    });
    expect(result).toEqual({ reason: 'finished', step: 20 });
    expect(tf.memory().numTensors).toBe(startTensors);
    expect(new Set(points.map((p) => p.numTensors)).size).toBe(1);

    // The teacher: every byte as before.
    const after = await snapshot(teacher);
    for (const [name, data] of before) expect(after.get(name), name).toEqual(data);
    // The student: every parameter moved, embeddings and final norm included.
    const trained = await snapshot(student);
    for (const [name, data] of init) expect(trained.get(name), name).not.toEqual(data);

    expect(points.map((p) => p.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const p of points) {
      expect(Object.keys(p.terms).sort()).toEqual(['ce', 'clm', 'cos']);
      expect(p.loss).toBeCloseTo(5 * p.terms.ce! + 2 * p.terms.clm! + 1 * p.terms.cos!, 3);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = points.slice(0, 3);
    const last = points.slice(-3);
    console.log(`distill: loss ${mean(first.map((p) => p.loss)).toFixed(3)} → ${mean(last.map((p) => p.loss)).toFixed(3)}; ce ${first[0].terms.ce!.toFixed(3)} → ${last[2].terms.ce!.toFixed(3)}, clm ${first[0].terms.clm!.toFixed(3)} → ${last[2].terms.clm!.toFixed(3)}, cos ${first[0].terms.cos!.toFixed(3)} → ${last[2].terms.cos!.toFixed(3)}`);
    // The teacher is random, so imitating it and fitting the text pull apart; the weighted sum
    // and the text's LM loss must fall (the imitation terms alone are tested below).
    expect(mean(last.map((p) => p.loss))).toBeLessThan(0.6 * mean(first.map((p) => p.loss)));
    expect(mean(last.map((p) => p.terms.clm!))).toBeLessThan(0.5 * mean(first.map((p) => p.terms.clm!)));

    // Held-out LM loss of the student at the start and the end; the teacher's once.
    expect(evals.map((e) => e.step)).toEqual([0, 20]);
    expect(evals[1].evalLoss).toBeLessThan(evals[0].evalLoss);
    expect(teacherEvals).toHaveLength(1);
    expect(teacherEvals[0]).toBeCloseTo(await evaluate(teacher, {}, evalBatches), 6);
    student.dispose();
  });

  it('brings the student toward the teacher: L_ce and L_cos fall when they are the whole loss', async () => {
    const student = initStudent(teacher, 1);
    const points: DistillProgressPoint[] = [];
    await distill(teacher, student, { temperature: 2, alpha_ce: 1, alpha_clm: 0, alpha_cos: 1 }, { ...OPTS, totalSteps: 12 }, {
      nextBatch: () => ({ batch: textBatch(), epoch: 0 }),
      evalBatches: [],
      onProgress: (p) => points.push(...p),
      onEval: () => {},
      shouldStop: () => false,
    });
    const [a, z] = [points[0].terms, points[points.length - 1].terms];
    console.log(`imitation only: ce ${a.ce!.toFixed(3)} → ${z.ce!.toFixed(3)}, cos ${a.cos!.toFixed(3)} → ${z.cos!.toFixed(3)}`);
    expect(z.ce!).toBeLessThan(0.7 * a.ce!);
    expect(z.cos!).toBeLessThan(0.7 * a.cos!);
    student.dispose();
  });

  it('sends gradients to the student variables only, every one of them', async () => {
    const student = initStudent(teacher, 2);
    const b = textBatch();
    const names = student.variables.map((v) => v.name).sort();
    const grads = tf.tidy(() => {
      const ids = tf.tensor2d(b.ids, [b.batch, b.length], 'int32');
      const target = lmOutputs(teacher, ids, false);
      // No variable list: tfjs takes every trainable variable that exists, so a teacher weight
      // that were a variable would show up here.
      const { grads } = tf.variableGrads(() => distillationLoss(lmOutputs(student, ids, true), target, b.labels, DISTILBERT_RECIPE).total);
      return grads;
    });
    expect(Object.keys(grads).sort()).toEqual(names);
    for (const [name, g] of Object.entries(grads)) {
      const d = (await g.data()) as Float32Array;
      expect(d.some((x) => x !== 0), name).toBe(true);
      g.dispose();
    }
    student.dispose();
  });

  it("sends L_cos's gradient through the forward's last hidden state to the student's final norm (ln_f)", async () => {
    const student = initStudent(teacher, 2);
    const b = textBatch();
    const lnF = ['transformer.ln_f.weight', 'transformer.ln_f.bias'].map((n) => student.weights.get(n) as tf.Variable);
    const grads = tf.tidy(() => {
      const ids = tf.tensor2d(b.ids, [b.batch, b.length], 'int32');
      const target = lmOutputs(teacher, ids, false);
      const cosOnly = { ...DISTILBERT_RECIPE, alpha_ce: 0, alpha_clm: 0, alpha_cos: 1 };
      return tf.variableGrads(() => distillationLoss(lmOutputs(student, ids, true), target, b.labels, cosOnly).total, lnF).grads;
    });
    for (const v of lnF) {
      const d = (await grads[v.name].data()) as Float32Array;
      expect(d.some((x) => x !== 0), v.name).toBe(true);
    }
    tf.dispose(grads);
    student.dispose();
  });

  it('never runs the teacher for LM-only training (the baseline), once per step when distilling', async () => {
    for (const [loss, calls] of [
      [{ temperature: 2, alpha_ce: 0, alpha_clm: 1, alpha_cos: 0 }, 0],
      [{ temperature: 2, alpha_ce: 1, alpha_clm: 0, alpha_cos: 0 }, 3],
    ] as const) {
      const t = counted(teacher);
      const student = initStudent(teacher, 1);
      const points: DistillProgressPoint[] = [];
      const r = await distill(t.model, student, loss, { ...OPTS, totalSteps: 3 }, {
        nextBatch: () => ({ batch: textBatch(), epoch: 0 }),
        evalBatches: [],
        onProgress: (p) => points.push(...p),
        onEval: () => {},
        shouldStop: () => false,
      });
      expect(r.reason).toBe('finished');
      expect(t.calls()).toBe(calls);
      expect(Object.keys(points[0].terms)).toEqual(loss.alpha_ce > 0 ? ['ce'] : ['clm']);
      student.dispose();
    }
  });

  it('stops between steps when asked, and restores the last finite state when the loss blows up', async () => {
    const student = initStudent(teacher, 2);
    let steps = 0;
    const stopped = await distill(teacher, student, DISTILBERT_RECIPE, OPTS, {
      nextBatch: () => (steps++, { batch: textBatch(), epoch: 0 }),
      evalBatches: [],
      onProgress: () => {},
      onEval: () => {},
      shouldStop: () => steps >= 2,
    });
    expect(stopped).toEqual({ reason: 'stopped', step: 2 });

    const tensors = tf.memory().numTensors;
    const blown = await distill(teacher, student, DISTILBERT_RECIPE, { ...OPTS, learningRate: 1e30, maxGradNorm: 0, warmupSteps: 0, readbackEvery: 1 }, {
      nextBatch: () => ({ batch: textBatch(), epoch: 0 }),
      evalBatches: [],
      onProgress: () => {},
      onEval: () => {},
      shouldStop: () => false,
    });
    expect(blown.reason).toBe('failed');
    expect(blown.message).toMatch(/NaN or infinite/);
    for (const [name, d] of await snapshot(student)) expect(d.every(Number.isFinite), name).toBe(true);
    expect(tf.memory().numTensors).toBe(tensors);
    student.dispose();
  });

  it('fails with a message, not a kernel error, on a backend without the embedding gradient', () => {
    const kernel = tf.getKernel('UnsortedSegmentSum', 'cpu')!;
    expect(kernel).toBeDefined();
    tf.unregisterKernel('UnsortedSegmentSum', 'cpu');
    try {
      expect(() => checkEmbeddingGradients()).toThrow(/needs the "UnsortedSegmentSum" kernel; the "cpu" backend has none/);
    } finally {
      tf.registerKernel(kernel);
    }
    expect(() => checkEmbeddingGradients()).not.toThrow();
  });
});

describe('distillation settings', () => {
  it("shows DistilBERT's recipe with half the teacher's layers and refuses bad values by name", () => {
    expect(distillDefaults(teacher.info)).toEqual({ student_layers: 2, temperature: 2, alpha_ce: 5, alpha_clm: 2, alpha_cos: 1 });
    const ok = distillDefaults(teacher.info);
    expect(() => validateDistillConfig(teacher.info, ok)).not.toThrow();
    expect(() => validateDistillConfig(teacher.info, { ...ok, student_layers: 4 })).toThrow(/^student_layers/);
    expect(() => validateDistillConfig(teacher.info, { ...ok, temperature: 0 })).toThrow(/^temperature/);
    expect(() => validateDistillConfig(teacher.info, { ...ok, alpha_cos: -1 })).toThrow(/^alpha_cos/);
    expect(() => validateDistillConfig(teacher.info, { ...ok, alpha_ce: 0, alpha_clm: 0, alpha_cos: 0 })).toThrow(/nothing would train/);
  });
});

// A BERT teacher: each step's batch is masked once (BERT's 15%, 80/10/10, from the seed and the
// step) and both models read those masked ids under the padding mask; the LM term is L_mlm.
describe('distilling a masked-LM teacher', () => {
  const BERT_SHAPE = { hidden_size: 32, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 48, max_position_embeddings: 32, vocab_size: 40, initializer_range: 0.3 };
  // [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4; words from 5.
  const TOKENS = { maskId: 4, specialIds: [0, 1, 2, 3, 4], vocabSize: 40 };
  const SEED = 7;
  const objective = maskedLm(TOKENS, SEED);
  let bertTeacher: LoadedModel;
  beforeAll(() => {
    bertTeacher = randomBert('bert-teacher', BERT_SHAPE, 9);
  });
  afterAll(() => bertTeacher.dispose());

  /** [CLS] words [SEP] per row, the last row right-padded by 5; the words drawn from `seed`. */
  function sentenceBatch(seed: number, batch = 4, length = 16): TokenBatch {
    const rand = mulberry32(seed);
    const ids = new Int32Array(batch * length);
    const labels = new Int32Array(batch * length).fill(-100);
    for (let b = 0; b < batch; b++) {
      const real = b === batch - 1 ? length - 5 : length;
      for (let t = 0; t < real; t++) {
        ids[b * length + t] = t === 0 ? 2 : t === real - 1 ? 3 : 5 + Math.floor(rand() * 35);
        labels[b * length + t] = ids[b * length + t];
      }
    }
    return { ids, labels, batch, length };
  }

  /** The teacher behind a recorder of the ids and attention mask each forward reads. */
  function recorded(model: LoadedModel): { model: LoadedModel; seen: { ids: number[]; mask: number[] | undefined }[] } {
    const seen: { ids: number[]; mask: number[] | undefined }[] = [];
    return {
      seen,
      model: {
        info: model.info,
        weights: model.weights,
        forward: (ids, hooks, opts) => {
          seen.push({ ids: Array.from(ids.dataSync()), mask: opts?.attentionMask ? Array.from(opts.attentionMask.dataSync()) : undefined });
          return model.forward(ids, hooks, opts);
        },
        dispose: () => model.dispose(),
      },
    };
  }

  it("feeds teacher and student the step's one masked batch under the padding mask, and the step's loss is the masked-LM terms on it", async () => {
    const batch = sentenceBatch(1);
    const student = initStudent(bertTeacher, 2);
    const t = recorded(bertTeacher);
    const spec = distillSpec(t.model, student, DISTILBERT_MLM_RECIPE, [], objective);
    expect(spec.termKeys).toEqual(['ce', 'mlm', 'cos']);
    const step = 3;
    const inp = objective.inputs(batch, { step });
    const [viaSpec, byHand] = tf.tidy(() => {
      const got = spec.stepLoss(batch, step)();
      const ids = tf.tensor2d(inp.ids, [batch.batch, batch.length], 'int32');
      const mask = tf.tensor2d(inp.attentionMask!, [batch.batch, batch.length], 'int32');
      const want = maskedDistillationLoss(lmOutputs(student, ids, true, mask), lmOutputs(bertTeacher, ids, false, mask), batch.labels, inp.targets, DISTILBERT_MLM_RECIPE);
      return [tf.stack([got.total, got.terms!.ce, got.terms!.mlm, got.terms!.cos]), tf.stack([want.total, want.terms.ce!, want.terms.mlm!, want.terms.cos!])];
    });
    expect(Array.from(await viaSpec.data())).toEqual(Array.from(await byHand.data()));
    tf.dispose([viaSpec, byHand]);
    // The teacher read the masked ids (not the batch's own) and the padding mask.
    expect(t.seen).toHaveLength(1);
    expect(t.seen[0].ids).toEqual(Array.from(inp.ids));
    expect(t.seen[0].mask).toEqual(Array.from(batch.labels, (l) => (l === -100 ? 0 : 1)));
    const changed = Array.from(inp.ids).filter((id, i) => id !== batch.ids[i]).length;
    const targets = Array.from(inp.targets).filter((y) => y !== -100).length;
    // round(15% of the non-special real tokens: 3 rows of 14 words, one of 9) = 8 targets.
    expect(targets).toBe(8);
    expect(changed).toBeGreaterThan(0);
    expect(changed).toBeLessThanOrEqual(targets);
    student.dispose();
  });

  it('trains every student weight on L_ce + L_mlm + L_cos, keeps the teacher bit-identical, lowers the loss, and leaks no tensor', async () => {
    const before = await snapshot(bertTeacher);
    const student = initStudent(bertTeacher, 2);
    const init = await snapshot(student);
    const startTensors = tf.memory().numTensors;
    const points: DistillProgressPoint[] = [];
    const evals: EvalPoint[] = [];
    const teacherEvals: number[] = [];
    const evalBatches = [sentenceBatch(99, 2)];
    const batches = [sentenceBatch(1), sentenceBatch(2)];
    let step = 0;
    const result = await distill(
      bertTeacher,
      student,
      DISTILBERT_MLM_RECIPE,
      { ...OPTS, evalEvery: 10 },
      {
        nextBatch: () => ({ batch: batches[step++ % 2], epoch: 0 }),
        evalBatches,
        onProgress: (p) => points.push(...p),
        onEval: (e) => evals.push(e),
        onTeacherEval: (l) => teacherEvals.push(l),
        shouldStop: () => false,
      },
      objective,
    );
    expect(result).toEqual({ reason: 'finished', step: 20 });
    expect(tf.memory().numTensors).toBe(startTensors);
    expect(new Set(points.map((p) => p.numTensors)).size).toBe(1);
    const after = await snapshot(bertTeacher);
    for (const [name, data] of before) expect(after.get(name), name).toEqual(data);
    const trained = await snapshot(student);
    for (const [name, data] of init) expect(trained.get(name), name).not.toEqual(data);

    for (const p of points) {
      expect(Object.keys(p.terms).sort()).toEqual(['ce', 'cos', 'mlm']);
      expect(p.loss).toBeCloseTo(5 * p.terms.ce! + 2 * p.terms.mlm! + 1 * p.terms.cos!, 3);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = points.slice(0, 3);
    const last = points.slice(-3);
    console.log(`distill BERT: loss ${mean(first.map((p) => p.loss)).toFixed(3)} → ${mean(last.map((p) => p.loss)).toFixed(3)}; ce ${first[0].terms.ce!.toFixed(3)} → ${last[2].terms.ce!.toFixed(3)}, mlm ${first[0].terms.mlm!.toFixed(3)} → ${last[2].terms.mlm!.toFixed(3)}, cos ${first[0].terms.cos!.toFixed(3)} → ${last[2].terms.cos!.toFixed(3)}`);
    expect(mean(last.map((p) => p.loss))).toBeLessThan(0.7 * mean(first.map((p) => p.loss)));
    // Held-out losses on the masked-LM objective (held-out masking by index): the teacher's once,
    // the student's at steps 0, 10 and 20, on the same masked positions.
    expect(teacherEvals).toEqual([await evaluate(bertTeacher, {}, evalBatches, objective)]);
    expect(evals.map((e) => e.step)).toEqual([0, 10, 20]);
    expect(evals[2].evalLoss).toBeCloseTo(await evaluate(student, {}, evalBatches, objective), 5);
    expect(teacherEvals[0]).not.toBeCloseTo(await evaluate(bertTeacher, {}, evalBatches, CAUSAL_LM), 1);
    student.dispose();
  });

  it("names the LM term for the teacher's objective and refuses the other's weight", () => {
    const bertInfo = bertTeacher.info;
    expect(distillDefaults(bertInfo)).toEqual({ student_layers: 2, temperature: 2, alpha_ce: 5, alpha_mlm: 2, alpha_cos: 1, restrict_ce_to_mask: false });
    const label = (info: typeof bertInfo, key: string) => distillFields(info).find((f) => f.key === key)?.label;
    expect(label(bertInfo, 'alpha_mlm')).toBe('α_mlm (MLM loss)');
    expect(label(bertInfo, 'alpha_clm')).toBeUndefined();
    expect(distillFields(bertInfo).find((f) => f.key === 'restrict_ce_to_mask')).toMatchObject({ kind: 'select', options: [{ value: 'false' }, { value: 'true' }] });
    expect(label(teacher.info, 'alpha_clm')).toBe('α_clm (CLM loss)');
    expect(label(teacher.info, 'alpha_mlm')).toBeUndefined();
    const ok = distillDefaults(bertInfo);
    expect(() => validateDistillConfig(bertInfo, ok)).not.toThrow();
    expect(() => validateDistillConfig(bertInfo, { ...DISTILBERT_RECIPE, student_layers: 2 })).toThrow('alpha_clm: bert-teacher is a masked LM, whose LM term is weighted by alpha_mlm');
    expect(() => validateDistillConfig(teacher.info, { ...ok, student_layers: 2 })).toThrow('alpha_mlm: teacher is a causal LM, whose LM term is weighted by alpha_clm');
    expect(() => validateDistillConfig(bertInfo, { ...ok, alpha_ce: 0, alpha_mlm: 0, alpha_cos: 0 })).toThrow('alpha_ce, alpha_mlm and alpha_cos are all 0: nothing would train');
    const student = initStudent(bertTeacher, 1);
    expect(() => distillSpec(bertTeacher, student, DISTILBERT_RECIPE, [], objective)).toThrow('distillation on masked-lm needs alpha_mlm among its loss weights');
    student.dispose();
  });
});
