// Distillation → transformers. A student of the built-in model (4 → 2 layers) is made by the
// studio and exported twice as a full checkpoint: untouched, and after a few distillation steps.
// transformers must load both with AutoModelForCausalLM, every weight landing and nothing
// warning. The untouched one must hold exactly what Hugging Face's DistilGPT2 extraction script
// takes from the teacher; the trained one must compute the studio's logits within 1e-4. The
// studio's three loss terms and their gradient must equal what the reference distiller's torch
// code computes on the same two models. The same again for a BERT teacher on the masked-LM terms
// (tests/interop/distill_mlm.py), at the end of this file.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBatch, tokenizeExamples } from '../../src/data/dataset';
import { distill } from '../../src/distill/distiller';
import { exportStudent } from '../../src/distill/export';
import { DISTILBERT_MLM_RECIPE, DISTILBERT_RECIPE, distillationLoss, lmOutputs, maskedDistillationLoss, type LossTerms } from '../../src/distill/losses';
import { initStudent, type Student } from '../../src/distill/student';
import { unzipFiles, zipFiles } from '../../src/io/zip';
import { objectiveFor } from '../../src/train/objective';
import { BERT_CONFIG, BERT_FAMILY, type BertSession, makeMaskedLmFolders, maskedInput, maskedLogits, openBertSession } from './bert-folder';
import { cleanup, flat, maxAbsDiff, MODEL_DIR, openStudio, readFolder, readJson, runPython, runPythonSpec, studioLogits, type Studio, tempDir, TOLERANCE, writeFolder, writeJson } from './helpers';

interface DistillReport {
  versions: Record<string, string>;
  warnings: string[];
  init: { n_layer: number; checked: number; missing: string[]; different: string[]; unchecked: string[] };
  class: string;
  loading_info: Record<string, string[]>;
  n_layer: number;
  num_parameters: number;
  tied: boolean;
  logits: unknown;
  loss: { ce: number; clm: number; cos: number; total: number };
  grad_norm: number;
  grad_wte: unknown;
  grad_h0_c_attn: unknown;
  grad_none: string[];
}

const STUDENT_LAYERS = 2;
const TEXT = [
  'The quick brown fox jumps over the lazy dog, and the dog sleeps on.',
  'A smaller student learns from the teacher what the teacher learned from the text.',
];

let studio: Studio;
let student: Student;
let dir: string;
let ids: number[][];
let labels: number[][];
let report: DistillReport;
let ours: { logits: Float32Array; ce: number; clm: number; cos: number; total: number; norm: number; wte: Float32Array; cAttn: Float32Array };

/** The teacher folder's files as the page has them after loading the built-in model. */
function teacherFiles(): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) out[f] = new Uint8Array(readFileSync(join(MODEL_DIR, f)));
  return out;
}

/** Exported, zipped and unzipped as a person downloads it, then written out as a folder. */
async function exportTo(path: string): Promise<void> {
  const { files } = await exportStudent(student, teacherFiles());
  writeFolder(path, unzipFiles(zipFiles(files), 'student.zip'));
}

beforeAll(async () => {
  ({ studio, ids, work: dir } = await openStudio('distill'));
  // Row 1's last 5 positions stand for padding: labels −100, left out of every term.
  labels = ids.map((row, r) => row.map((id, t) => (r === 1 && t >= row.length - 5 ? -100 : id)));
  student = initStudent(studio.model, STUDENT_LAYERS);
  await exportTo(join(dir, 'init'));

  const batch = makeBatch(tokenizeExamples(TEXT, studio.tokenizer, 48).ids, 48, studio.tokenizer.eosId!);
  const result = await distill(studio.model, student, DISTILBERT_RECIPE, { totalSteps: 3, learningRate: 1e-3, warmupSteps: 0, weightDecay: 0.01, maxGradNorm: 1, evalEvery: 0 }, {
    nextBatch: () => ({ batch, epoch: 0 }),
    evalBatches: [],
    onProgress: () => {},
    onEval: () => {},
    shouldStop: () => false,
  });
  expect(result.reason).toBe('finished');
  await exportTo(join(dir, 'trained'));

  // The studio's loss terms and gradient on the fixed input.
  const flatLabels = Int32Array.from(labels.flat());
  const r = tf.tidy(() => {
    const x = tf.tensor2d(ids, [ids.length, ids[0].length], 'int32');
    const target = lmOutputs(studio.model, x, false);
    let terms: Record<string, tf.Scalar> = {};
    const { value, grads } = tf.variableGrads(() => {
      const l = distillationLoss(lmOutputs(student, x, true), target, flatLabels, DISTILBERT_RECIPE);
      terms = l.terms as Record<string, tf.Scalar>;
      for (const t of Object.values(terms)) tf.keep(t);
      return l.total;
    }, student.variables);
    const all = student.variables.map((v) => grads[v.name]);
    const norm = tf.sqrt(tf.addN(all.map((g) => tf.sum(tf.square(g)))));
    const at = (name: string) => grads[(student.weights.get(name) as tf.Variable).name];
    return { total: value, ce: terms.ce, clm: terms.clm, cos: terms.cos, norm, wte: at('transformer.wte.weight'), cAttn: at('transformer.h.0.attn.c_attn.weight') };
  });
  const read = async (t: tf.Tensor) => {
    const d = (await t.data()) as Float32Array;
    t.dispose();
    return d;
  };
  ours = {
    logits: await studioLogits(student, ids),
    ce: (await read(r.ce))[0],
    clm: (await read(r.clm))[0],
    cos: (await read(r.cos))[0],
    total: (await read(r.total))[0],
    norm: (await read(r.norm))[0],
    wte: await read(r.wte),
    cAttn: await read(r.cAttn),
  };

  writeJson(join(dir, 'input.json'), { ids, labels, teacher_layers: student.teacherLayers, ...DISTILBERT_RECIPE });
  runPython('distill.py', [MODEL_DIR, join(dir, 'init'), join(dir, 'trained'), join(dir, 'input.json'), join(dir, 'out.json')]);
  report = readJson<DistillReport>(join(dir, 'out.json'));
});

afterAll(() => {
  student?.dispose();
  studio?.model.dispose();
  cleanup(dir);
});

describe('the exported student in transformers', () => {
  it("holds, untrained, exactly the teacher layers Hugging Face's DistilGPT2 extraction takes ([0, 3] of 4), wte, wpe and ln_f", () => {
    expect(student.teacherLayers).toEqual([0, 3]);
    expect(report.init).toEqual({ n_layer: 2, checked: 4 + 2 * 12, missing: [], different: [], unchecked: [] });
  });

  it('loads with AutoModelForCausalLM as GPT2LMHeadModel: 2 layers, every weight from the file, head tied, no warning', () => {
    expect(report.versions.transformers).toMatch(/^5\./);
    expect(report.class).toBe('GPT2LMHeadModel');
    expect(report.loading_info).toEqual({ missing_keys: [], unexpected_keys: [], mismatched_keys: [], error_msgs: [] });
    expect(report.warnings).toEqual([]);
    expect(report.n_layer).toBe(STUDENT_LAYERS);
    expect(report.tied).toBe(true);
    expect(report.num_parameters).toBe(student.info.totalParams);
  });

  it(`computes the studio's logits within ${TOLERANCE}`, async () => {
    const theirs = flat(report.logits);
    expect(theirs.length).toBe(ours.logits.length);
    const diff = maxAbsDiff(ours.logits, theirs);
    console.log(`distilled student: max |transformers − studio| logits ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
    // Training moved it: its logits are not the teacher's.
    expect(maxAbsDiff(await studioLogits(studio.model, ids), theirs)).toBeGreaterThan(0.01);
  });
});

describe("the studio's loss against the reference distiller's torch code", () => {
  it('gives the same L_ce (KLDivLoss batchmean × T²), L_clm and L_cos (CosineEmbeddingLoss) and weighted sum', () => {
    console.log(`loss terms studio ${JSON.stringify({ ce: ours.ce, clm: ours.clm, cos: ours.cos, total: ours.total })} torch ${JSON.stringify(report.loss)}`);
    for (const k of ['ce', 'clm', 'cos', 'total'] as const) {
      // Relative: the random built-in model's L_ce is small (its distributions are near uniform).
      expect(Math.abs(ours[k] - report.loss[k]), k).toBeLessThan(1e-4 * Math.abs(report.loss[k]) + 1e-6);
    }
    expect(report.loss.ce).toBeGreaterThan(1e-3);
    expect(report.loss.cos).toBeGreaterThan(1e-4);
  });

  it('gives the same gradient: global norm over the student, and wte and h.0.attn.c_attn in full', () => {
    expect(report.grad_none).toEqual([]);
    expect(Math.abs(ours.norm - report.grad_norm) / report.grad_norm).toBeLessThan(1e-3);
    for (const [name, mine, theirs] of [
      ['wte', ours.wte, flat(report.grad_wte)],
      ['h.0.attn.c_attn', ours.cAttn, flat(report.grad_h0_c_attn)],
    ] as const) {
      const scale = Math.max(...theirs.map(Math.abs));
      console.log(`gradient of ${name}: max |torch − studio| / max |torch| = ${(maxAbsDiff(mine, theirs) / scale).toExponential(2)}`);
      expect(scale, name).toBeGreaterThan(0);
      expect(maxAbsDiff(mine, theirs) / scale, name).toBeLessThan(1e-3);
    }
  });
});

// A BERT teacher (DistilBERT's own case): transformers makes a tiny random 4-layer
// BertForMaskedLM folder with its WordPiece tokenizer; the studio's session loads it as a person
// drops it and distils a 2-layer student on the masked-LM terms. The untouched student must hold
// exactly what the extraction takes from the teacher's state dict, the trained one must load
// with AutoModelForMaskedLM and compute the studio's logits, and the studio's three terms and
// gradient on one masked batch must equal the reference distiller's MLM step in torch.
interface MlmReport {
  versions: Record<string, string>;
  warnings: string[];
  init: { class: string; num_hidden_layers: number; checked: number; missing: string[]; different: string[]; unchecked: string[]; decoder_bias_is_head_bias: boolean };
  class: string;
  loading_info: Record<string, string[]>;
  num_hidden_layers: number;
  num_parameters: number;
  tied: boolean;
  logits: unknown;
  loss: { ce: number; ce_restricted: number; mlm: number; cos: number; total: number };
  grad_norm: number;
  grad_word_embeddings: unknown;
  grad_l0_query: unknown;
  grad_none: string[];
}

describe('a BERT teacher', () => {
  let bertWork: string;
  let bs: BertSession;
  let bertStudent: Student;
  let mlm: MlmReport;
  let terms: { ce: number; ceRestricted: number; mlm: number; cos: number; total: number; norm: number; words: Float32Array; query: Float32Array; logits: Float32Array; targets: number };

  beforeAll(async () => {
    bertWork = tempDir('distill-bert');
    const [{ dir: teacherDir }] = makeMaskedLmFolders(bertWork, [{ ...BERT_FAMILY, config: { ...BERT_CONFIG, num_hidden_layers: 4 } }]);
    bs = await openBertSession(teacherDir, 16);
    const teacher = bs.session.current.model!;
    const folder = readFolder(teacherDir);

    // The untouched student, exported as the page exports one.
    const init = initStudent(teacher, 2);
    writeFolder(join(bertWork, 'init'), unzipFiles(zipFiles((await exportStudent(init, folder)).files), 'init.zip'));
    init.dispose();

    // Distilled through the session on the dropped dataset, downloaded as a zip.
    await bs.session.handle({ type: 'train', methodId: 'distill', config: { student_layers: 2 }, train: { steps: 4, epochs: 1, batchSize: 4, sequenceLength: 16, learningRate: 1e-2, warmupSteps: 0, weightDecay: 0.01, maxGradNorm: 1, evalFraction: 0.1, evalEvery: 0, seed: 5 } });
    expect(bs.events.filter((e) => e.type === 'error')).toEqual([]);
    expect(bs.last('trainingEnded')).toMatchObject({ reason: 'finished', step: 4 });
    await bs.session.handle({ type: 'export', output: 'student' });
    const ex = bs.last('exported')!;
    writeFolder(join(bertWork, 'trained'), unzipFiles(ex.bytes, ex.fileName));
    bertStudent = bs.session.current.student!;

    // One masked batch of two sentences, the second right-padded: masked as a training step is.
    const input = maskedInput(bs.tokenizer);
    const [B, L] = [input.ids.length, input.ids[0].length];
    const batch = { ids: Int32Array.from(input.ids.flat()), labels: Int32Array.from(input.ids.flat().map((id, i) => (input.mask.flat()[i] ? id : -100))), batch: B, length: L };
    const inp = objectiveFor(teacher.info, bs.tokenizer, 11).inputs(batch, { step: 0 });
    const r = tf.tidy(() => {
      const x = tf.tensor2d(inp.ids, [B, L], 'int32');
      const m = tf.tensor2d(inp.attentionMask!, [B, L], 'int32');
      const target = lmOutputs(teacher, x, false, m);
      let kept: LossTerms<tf.Scalar> = {};
      const { value, grads } = tf.variableGrads(() => {
        const l = maskedDistillationLoss(lmOutputs(bertStudent, x, true, m), target, batch.labels, inp.targets, DISTILBERT_MLM_RECIPE);
        kept = l.terms;
        for (const t of Object.values(l.terms)) tf.keep(t!);
        return l.total;
      }, bertStudent.variables);
      const restricted = maskedDistillationLoss(lmOutputs(bertStudent, x, false, m), target, batch.labels, inp.targets, { ...DISTILBERT_MLM_RECIPE, restrict_ce_to_mask: true }).terms.ce!;
      const all = bertStudent.variables.map((v) => grads[v.name]);
      const norm = tf.sqrt(tf.addN(all.map((g) => tf.sum(tf.square(g)))));
      const at = (name: string) => grads[(bertStudent.weights.get(name) as tf.Variable).name];
      return { total: value, ce: kept.ce!, ceRestricted: restricted, mlm: kept.mlm!, cos: kept.cos!, norm, words: at('bert.embeddings.word_embeddings.weight'), query: at('bert.encoder.layer.0.attention.self.query.weight') };
    });
    const read = async (t: tf.Tensor) => {
      const d = (await t.data()) as Float32Array;
      t.dispose();
      return d;
    };
    terms = {
      ce: (await read(r.ce))[0],
      ceRestricted: (await read(r.ceRestricted))[0],
      mlm: (await read(r.mlm))[0],
      cos: (await read(r.cos))[0],
      total: (await read(r.total))[0],
      norm: (await read(r.norm))[0],
      words: await read(r.words),
      query: await read(r.query),
      logits: await maskedLogits(bertStudent, input),
      targets: Array.from(inp.targets).filter((y) => y !== -100).length,
    };
    const rows = (a: Int32Array) => Array.from({ length: B }, (_, i) => Array.from(a.subarray(i * L, (i + 1) * L)));
    mlm = runPythonSpec<MlmReport>('distill_mlm.py', bertWork, 'mlm', {
      teacher_dir: teacherDir,
      init_dir: join(bertWork, 'init'),
      trained_dir: join(bertWork, 'trained'),
      teacher_layers: [0, 3],
      ids: rows(inp.ids),
      attention_mask: rows(inp.attentionMask!),
      mlm_labels: rows(inp.targets),
      logit_ids: input.ids,
      logit_mask: input.mask,
      ...DISTILBERT_MLM_RECIPE,
    });
  });

  afterAll(() => {
    bs?.session.current.model?.dispose();
    cleanup(bertWork);
  });

  it("holds, untrained, exactly what the extraction takes from the teacher: embeddings, blocks [0, 3] renumbered, the whole MLM head", () => {
    expect(mlm.init).toEqual({ class: 'BertForMaskedLM', num_hidden_layers: 2, checked: 5 + 2 * 16 + 6, missing: [], different: [], unchecked: [], decoder_bias_is_head_bias: true });
  });

  it('loads with AutoModelForMaskedLM as BertForMaskedLM: 2 layers, every weight from the file, head tied, no warning, the studio’s logits', () => {
    expect(mlm.versions.transformers).toMatch(/^5\./);
    expect(mlm.class).toBe('BertForMaskedLM');
    expect(mlm.loading_info).toEqual({ missing_keys: [], unexpected_keys: [], mismatched_keys: [], error_msgs: [] });
    expect(mlm.warnings).toEqual([]);
    expect(mlm.num_hidden_layers).toBe(2);
    expect(mlm.tied).toBe(true);
    expect(mlm.num_parameters).toBe(bertStudent.info.totalParams);
    const theirs = flat(mlm.logits);
    expect(theirs.length).toBe(terms.logits.length);
    const diff = maxAbsDiff(terms.logits, theirs);
    console.log(`distilled BERT student: max |transformers − studio| logits ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
  });

  it("gives the reference MLM step's L_ce (over every real token, and over the masked ones), L_mlm, L_cos and weighted sum", () => {
    console.log(`masked-LM loss terms (${terms.targets} masked) studio ${JSON.stringify({ ce: terms.ce, ce_restricted: terms.ceRestricted, mlm: terms.mlm, cos: terms.cos, total: terms.total })} torch ${JSON.stringify(mlm.loss)}`);
    expect(terms.targets).toBeGreaterThan(0);
    const ours = { ce: terms.ce, ce_restricted: terms.ceRestricted, mlm: terms.mlm, cos: terms.cos, total: terms.total };
    for (const k of ['ce', 'ce_restricted', 'mlm', 'cos', 'total'] as const) {
      expect(Math.abs(ours[k] - mlm.loss[k]), k).toBeLessThan(1e-4 * Math.abs(mlm.loss[k]) + 1e-6);
    }
    expect(mlm.loss.ce).toBeGreaterThan(1e-3);
    expect(mlm.loss.cos).toBeGreaterThan(1e-4);
    expect(Math.abs(mlm.loss.ce - mlm.loss.ce_restricted)).toBeGreaterThan(1e-3);
  });

  it('gives the same gradient: global norm over the student, the word embeddings and layer 0’s query in full', () => {
    expect(mlm.grad_none).toEqual([]);
    expect(Math.abs(terms.norm - mlm.grad_norm) / mlm.grad_norm).toBeLessThan(1e-3);
    for (const [name, mine, theirs] of [
      ['word_embeddings', terms.words, flat(mlm.grad_word_embeddings)],
      ['layer.0.attention.self.query', terms.query, flat(mlm.grad_l0_query)],
    ] as const) {
      const scale = Math.max(...theirs.map(Math.abs));
      console.log(`gradient of ${name}: max |torch − studio| / max |torch| = ${(maxAbsDiff(mine, theirs) / scale).toExponential(2)}`);
      expect(scale, name).toBeGreaterThan(0);
      expect(maxAbsDiff(mine, theirs) / scale, name).toBeLessThan(1e-3);
    }
  });
});
