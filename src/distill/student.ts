// The DistilBERT student (Sanh et al. 2019, arXiv 1910.01108, §3 "Student initialization"):
// the teacher's architecture with fewer layers, initialised from the teacher "by taking one
// layer out of two". Hugging Face's extraction script for GPT-2 → DistilGPT2
// (examples/research_projects/distillation/scripts/extract.py) copies teacher blocks
// [0, 2, 4, 7, 9, 11] into student blocks 0..5, plus wte, wpe, ln_f (and the tied head).
//
// Every student parameter is a trainable tf.Variable held in the weights Map that the ordinary
// GPT-2 forward reads, so the student is a plain LoadedModel: the forward pass, generation,
// held-out scoring and export all work on it unchanged. The teacher is never touched: its
// weights stay plain frozen tensors and the student's variables are separate copies.
import * as tf from '@tensorflow/tfjs';
import { Gpt2, gpt2Config, gpt2Info } from '../models/gpt2';
import type { LoadedModel, ModelInfo } from '../models/types';
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

/** The teacher's config.json with only the depth changed (and the architecture stated). */
export function studentConfigJson(teacherRaw: Record<string, unknown>, nStudent: number): Record<string, unknown> {
  return { ...teacherRaw, n_layer: nStudent };
}

/**
 * Student parameter name → teacher parameter name. Block tensors are renumbered
 * (`transformer.h.{i}.…` ← `transformer.h.{indices[i]}.…`); wte, wpe and ln_f keep their names.
 */
export function teacherSourceOf(name: string, indices: number[]): string {
  const m = /^transformer\.h\.(\d+)\.(.+)$/.exec(name);
  if (!m) return name;
  const i = Number(m[1]);
  if (i >= indices.length) throw new Error(`student parameter "${name}" has no teacher layer (the student has ${indices.length})`);
  return `transformer.h.${indices[i]}.${m[2]}`;
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
  const teacherLayers = studentLayerIndices(teacher.config.numLayers, nStudent);
  const raw = studentConfigJson(teacher.config.raw, nStudent);
  const info = gpt2Info(`${teacher.name}-distilled-${nStudent}L`, gpt2Config(raw));
  return {
    teacherLayers,
    info,
    teacherParams: teacher.totalParams,
    studentParams: info.totalParams,
    compression: teacher.totalParams / info.totalParams,
  };
}

/** A GPT-2 whose every weight is a trainable tf.Variable, with the teacher layers it came from. */
export class Student extends Gpt2 {
  constructor(
    info: ModelInfo,
    weights: Map<string, tf.Tensor>,
    /** The trainable parameters, in `info.params` (state-dict) order. */
    readonly variables: tf.Variable[],
    /** `teacherLayers[i]` is the teacher block student block i was copied from. */
    readonly teacherLayers: number[],
  ) {
    super(info, weights);
  }
}

/**
 * Builds the student: the teacher's config with n_layer = nLayers, block i copied from teacher
 * block `studentLayerIndices(L, nLayers)[i]`, wte/wpe/ln_f copied (the head is tied to wte, as
 * in the teacher). The copies are new tf.Variables; the teacher's tensors are not shared with,
 * nor changed by, anything the student does.
 */
export function initStudent(teacher: LoadedModel, nLayers: number): Student {
  if (teacher.info.config.modelType !== 'gpt2') throw new Error(`distillation supports GPT-2 teachers, not "${teacher.info.config.modelType}"`);
  const plan = planStudent(teacher.info, nLayers);
  const weights = new Map<string, tf.Tensor>();
  const variables: tf.Variable[] = [];
  try {
    for (const { name, shape } of plan.info.params) {
      const source = teacherSourceOf(name, plan.teacherLayers);
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
