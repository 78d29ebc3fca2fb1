// The DistilBERT student (Sanh et al. 2019, arXiv 1910.01108, §3 "Student initialization"):
// the teacher's architecture with fewer layers, initialised from the teacher "by taking one
// layer out of two". Hugging Face's extraction script for GPT-2 → DistilGPT2
// (examples/research_projects/distillation/scripts/extract.py) copies teacher blocks
// [0, 2, 4, 7, 9, 11] into student blocks 0..5, plus wte, wpe, ln_f (and the tied head).
//
// Every student parameter is a trainable tf.Variable held in the weights Map that the
// teacher's architecture's ordinary forward reads, so the student is a plain LoadedModel: the
// forward pass, generation, held-out scoring and export all work on it unchanged. The teacher
// is never touched: its weights stay plain frozen tensors and the student's variables are
// separate copies. What the student needs of the architecture: its block paths, to renumber
// the copied blocks, and `withNumLayers`, to write the shallower config.json; a family that does
// not offer the latter is not distilled.
//
// Every tensor outside the blocks is copied under its own name. For a masked LM that is what
// Hugging Face's BERT → DistilBERT and RoBERTa → DistilRoBERTa extraction scripts
// (scripts/extract_distilbert.py, scripts/extract.py with --vocab_transform) take besides the
// blocks: the word, position (and token type) embeddings with their LayerNorm, and the whole MLM
// head (transform dense and LayerNorm, decoder bias; the decoder weight is the word embedding
// when tied). The student keeps the teacher's model type, as DistilRoBERTa and DistilGPT2 do; a
// BERT student is a shallower BertForMaskedLM rather than DistilBertForMaskedLM, so its token
// type embeddings (every token is of type 0 here) come along.
import * as tf from '@tensorflow/tfjs';
import type { Architecture } from '../models/architecture';
import { ARCHITECTURES, architectureOf } from '../models/registry';
import type { ForwardOptions, ForwardResult, Hooks, LoadedModel, ModelInfo } from '../models/types';
import { ownedVariable } from '../train/variable';

/**
 * Which teacher block initialises each student block: `nStudent` blocks spread evenly over the
 * teacher's `nTeacher`, always keeping the first and the last,
 *
 *   teacherLayer(i) = round(i · (nTeacher − 1) / (nStudent − 1)),  i = 0 … nStudent − 1
 *
 * (round half up). For 12 → 6 the exact positions are 0, 2.2, 4.4, 6.6, 8.8, 11, which round
 * to DistilBERT's [0, 2, 4, 7, 9, 11]: the rule reproduces the paper's choice rather than a
 * plain stride of 2 (which would give [0, 2, 4, 6, 8, 10] and lose the last layer, the one that
 * feeds the head). The step (nTeacher − 1)/(nStudent − 1) is ≥ 1, so the indices are strictly
 * increasing and never repeat. A one-block student takes the teacher's first block (the
 * position the paper's list starts from).
 */
export function studentLayerIndices(nTeacher: number, nStudent: number): number[] {
  checkStudentLayers(nTeacher, nStudent);
  if (nStudent === 1) return [0];
  return Array.from({ length: nStudent }, (_, i) => Math.round((i * (nTeacher - 1)) / (nStudent - 1)));
}

/** Throws a message naming the field when `nStudent` is not a valid student depth. */
export function checkStudentLayers(nTeacher: number, nStudent: number): void {
  if (!Number.isInteger(nTeacher) || nTeacher < 2) {
    throw new Error(`student_layers: the teacher has ${nTeacher} layer(s); distillation needs a teacher with at least 2`);
  }
  if (!Number.isInteger(nStudent) || nStudent < 1 || nStudent >= nTeacher) {
    throw new Error(`student_layers must be an integer from 1 to ${nTeacher - 1} (fewer than the teacher's ${nTeacher}), got ${nStudent}`);
  }
}

/** DistilBERT halves the depth; an odd teacher keeps the larger half (5 → 3). */
export function defaultStudentLayers(nTeacher: number): number {
  return Math.min(Math.ceil(nTeacher / 2), nTeacher - 1);
}

/**
 * An architecture that writes config.json at another depth (Architecture.withNumLayers):
 * students can be made of it. The LM term of the loss is the teacher's own objective (causal or
 * masked LM), so either kind of model can teach.
 */
type StudentArchitecture = Architecture & { withNumLayers: NonNullable<Architecture['withNumLayers']> };

function makesStudents(arch: Architecture): arch is StudentArchitecture {
  return arch.withNumLayers !== undefined;
}

/** Why `teacher` cannot be distilled, or undefined when it can. */
export function distillationUnsupported(teacher: ModelInfo): string | undefined {
  if (!makesStudents(architectureOf(teacher))) {
    const supported = ARCHITECTURES.filter(makesStudents).flatMap((a) => a.modelTypes);
    return `distillation supports ${supported.map((t) => JSON.stringify(t)).join(', ')} teachers, not ${JSON.stringify(teacher.config.modelType)}`;
  }
  if (teacher.config.numLayers < 2) return `the teacher has ${teacher.config.numLayers} layer; a student needs fewer`;
  return undefined;
}

/** The teacher's architecture, when students can be made of it; throws the reason otherwise. */
function studentArchitecture(teacher: ModelInfo): StudentArchitecture {
  const arch = architectureOf(teacher);
  if (!makesStudents(arch)) throw new Error(distillationUnsupported(teacher));
  return arch;
}

/** `^<block path, its layer as (\d+)>\.(.+)$`, read off the architecture's blockPath. */
function blockPattern(blockPath: (layer: number) => string): RegExp {
  const MARK = 918273645; // a layer number that stands for itself in the path
  const [before, after] = blockPath(MARK).split(String(MARK));
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${esc(before)}(\\d+)${esc(after)}\\.(.+)$`);
}

/**
 * Student parameter name → teacher parameter name. Block tensors are renumbered
 * (`<block i>.…` ← `<block indices[i]>.…`; GPT-2's blocks are `transformer.h.{i}`); every other
 * tensor (GPT-2's wte, wpe and ln_f) keeps its name.
 */
export function teacherSourceOf(name: string, indices: number[], blockPath: (layer: number) => string): string {
  const m = blockPattern(blockPath).exec(name);
  if (!m) return name;
  const i = Number(m[1]);
  if (i >= indices.length) throw new Error(`student parameter "${name}" has no teacher layer (the student has ${indices.length})`);
  return `${blockPath(indices[i])}.${m[2]}`;
}

export interface StudentPlan {
  /** Teacher block each student block starts from. */
  teacherLayers: number[];
  info: ModelInfo;
  teacherParams: number;
  /** Every student parameter trains. */
  studentParams: number;
  /** teacherParams / studentParams. */
  compression: number;
}

/** Pure: what `initStudent` will allocate, for the page to show before anything is built. */
export function planStudent(teacher: ModelInfo, nStudent: number): StudentPlan {
  const arch = studentArchitecture(teacher);
  const teacherLayers = studentLayerIndices(teacher.config.numLayers, nStudent);
  const raw = arch.withNumLayers(teacher.config.raw, nStudent);
  const info = arch.info(`${teacher.name}-distilled-${nStudent}L`, arch.parseConfig(raw, 'config.json'));
  return {
    teacherLayers,
    info,
    teacherParams: teacher.totalParams,
    studentParams: info.totalParams,
    compression: teacher.totalParams / info.totalParams,
  };
}

/** The teacher's architecture with fewer blocks, every weight a trainable tf.Variable, and the teacher layers it came from. */
export class Student implements LoadedModel {
  private readonly model: LoadedModel;

  constructor(
    readonly info: ModelInfo,
    readonly weights: Map<string, tf.Tensor>,
    /** The trainable parameters, in `info.params` (state-dict) order. */
    readonly variables: tf.Variable[],
    /** `teacherLayers[i]` is the teacher block student block i was copied from. */
    readonly teacherLayers: number[],
  ) {
    // The architecture's own forward, reading this Map: an update to a variable is what it sees next.
    this.model = architectureOf(info).build(info, weights);
  }

  forward(ids: tf.Tensor2D, hooks?: Hooks, opts?: ForwardOptions): ForwardResult {
    return this.model.forward(ids, hooks, opts);
  }

  /** Disposes every variable (the model disposes its weights). */
  dispose(): void {
    this.model.dispose();
  }
}

/**
 * Builds the student: the teacher's config at depth nLayers, block i copied from teacher
 * block `studentLayerIndices(L, nLayers)[i]`, every other tensor copied under its own name
 * (GPT-2's wte/wpe/ln_f, the head tied to wte as in the teacher; BERT's embeddings and MLM head). The copies are new tf.Variables; the teacher's tensors are not shared with,
 * nor changed by, anything the student does.
 */
export function initStudent(teacher: LoadedModel, nLayers: number): Student {
  const arch = studentArchitecture(teacher.info);
  const blockPath = (layer: number) => arch.blockPath(teacher.info.config, layer);
  const plan = planStudent(teacher.info, nLayers);
  const weights = new Map<string, tf.Tensor>();
  const variables: tf.Variable[] = [];
  try {
    for (const { name, shape } of plan.info.params) {
      const source = teacherSourceOf(name, plan.teacherLayers, blockPath);
      const t = teacher.weights.get(source);
      if (!t) throw new Error(`the teacher has no weight "${source}" to initialise "${name}"`);
      if (t.shape.join() !== shape.join()) throw new Error(`teacher "${source}" has shape [${t.shape}], the student's "${name}" needs [${shape}]`);
      // tf.clone shares the buffer until the first update, when assign() swaps in a new one:
      // the teacher's tensor is never written either way. ownedVariable so the clone is not
      // left behind as an extra live tensor per parameter.
      const v = ownedVariable(tf.clone(t), true);
      weights.set(name, v);
      variables.push(v);
    }
  } catch (e) {
    for (const v of variables) v.dispose();
    throw e;
  }
  return new Student(plan.info, weights, variables, plan.teacherLayers);
}
