// Distillation runs the trainer's loop (src/train/trainer.ts trainVariables) with a teacher
// forward in front of each step and DistilBERT's three-term loss in place of the LM loss, over
// every student parameter (weight decay on matrices and embeddings only).
//
// The teacher runs forward only, outside the gradient tape: its logits and last hidden state
// are computed before tf.variableGrads starts recording, so no gradient is computed for it,
// none of its intermediates are held for a backward pass, and its weights (plain tensors) are
// never assigned.
import * as tf from '@tensorflow/tfjs';
import type { LoadedModel, ModelInfo } from '../models/types';
import type { FieldSpec } from '../peft/types';
import { evaluate, trainVariables, type ProgressPoint, type TokenBatch, type TrainingSpec, type TrainerIO, type TrainerOptions, type TrainResult } from '../train/trainer';
import { DISTILBERT_RECIPE, distillationLoss, lmOutputs, type DistillLossConfig, type LossTerms, type LmOutputs } from './losses';
import { checkEmbeddingGradients } from '../backend/wasm-kernels';
import { checkStudentLayers, defaultStudentLayers, type Student } from './student';

/** Everything the page sets for "Distillation (DistilBERT)": the student's depth and the loss. */
export interface DistillConfig extends DistillLossConfig {
  student_layers: number;
}

export function distillDefaults(teacher: ModelInfo): DistillConfig {
  return { student_layers: defaultStudentLayers(teacher.config.numLayers), ...DISTILBERT_RECIPE };
}

/** Throws a message naming the field when a setting is invalid for this teacher. */
export function validateDistillConfig(teacher: ModelInfo, c: DistillConfig): void {
  checkStudentLayers(teacher.config.numLayers, c.student_layers);
  if (!(c.temperature > 0) || !Number.isFinite(c.temperature)) throw new Error(`temperature must be a positive number, got ${c.temperature}`);
  for (const k of ['alpha_ce', 'alpha_clm', 'alpha_cos'] as const) {
    if (!(c[k] >= 0) || !Number.isFinite(c[k])) throw new Error(`${k} must be a number ≥ 0, got ${c[k]}`);
  }
  if (c.alpha_ce + c.alpha_clm + c.alpha_cos <= 0) throw new Error('alpha_ce, alpha_clm and alpha_cos are all 0: nothing would train');
}

/** The form the page renders, with DistilBERT's recipe as the defaults it shows. */
export function distillFields(teacher: ModelInfo): FieldSpec[] {
  const L = teacher.config.numLayers;
  return [
    { key: 'student_layers', label: 'Student layers', kind: 'number', min: 1, max: L - 1, step: 1, integer: true, help: `Teacher has ${L}; the student starts from every other teacher layer (DistilBERT: 12 → 6 from layers 0, 2, 4, 7, 9, 11).` },
    { key: 'temperature', label: 'Temperature T', kind: 'number', min: 0.1, step: 0.5, help: 'Softens both distributions in the soft-target loss (DistilBERT: 2.0).' },
    { key: 'alpha_ce', label: 'α_ce (soft targets)', kind: 'number', min: 0, step: 0.5, help: 'Weight of KL(teacher ‖ student) at temperature T, × T² (DistilBERT: 5.0).' },
    { key: 'alpha_clm', label: 'α_clm (LM loss)', kind: 'number', min: 0, step: 0.5, help: 'Weight of the ordinary language-modelling loss on the data (DistilBERT’s α_mlm: 2.0).' },
    { key: 'alpha_cos', label: 'α_cos (hidden cosine)', kind: 'number', min: 0, step: 0.5, help: 'Weight of 1 − cos between student and teacher last hidden states (DistilBERT: 1.0).' },
  ];
}

/** A trainer progress point plus each loss term's value at that step (absent when its α is 0). */
export interface DistillProgressPoint extends ProgressPoint {
  terms: LossTerms<number>;
}

export interface DistillIO extends Omit<TrainerIO, 'onProgress'> {
  onProgress(points: DistillProgressPoint[]): void;
  /** Called once before the first step with the teacher's held-out LM loss (the student's target). */
  onTeacherEval?(evalLoss: number): void;
}

/**
 * What distillation optimises: every student weight, on the weighted sum of the soft-target KL,
 * the LM loss and the hidden-state cosine (the terms whose weight is not 0).
 */
export function distillSpec(teacher: LoadedModel, student: Student, loss: DistillLossConfig, evalBatches: TokenBatch[]): TrainingSpec {
  const needTeacher = loss.alpha_ce > 0 || loss.alpha_cos > 0;
  const vars = student.variables;
  const termKeys = (['ce', 'clm', 'cos'] as const).filter((k) => loss[`alpha_${k}`] > 0);
  return {
    variables: vars,
    // Decoupled weight decay on matrices and embeddings only; biases and LayerNorm gains are
    // not pulled toward 0 (they were trained, in the teacher, to be near 1 or a learned offset).
    decay: vars.map((v) => v.rank >= 2),
    termKeys: [...termKeys],
    stepLoss: (batch) => {
      const ids = tf.tensor2d(batch.ids, [batch.batch, batch.length], 'int32');
      // Teacher first, off the tape; its own tidy frees its per-layer intermediates now.
      const target: LmOutputs | undefined = needTeacher ? tf.tidy(() => lmOutputs(teacher, ids, false)) : undefined;
      return () => {
        const r = distillationLoss(lmOutputs(student, ids, true), target, batch.labels, loss);
        return { total: r.total, terms: r.terms as Record<string, tf.Scalar> };
      };
    },
    evaluate: () => evaluate(student, {}, evalBatches),
    noun: 'student',
  };
}

/**
 * Distils `teacher` into `student` (see initStudent). `loss` picks the terms; with
 * α_ce = α_cos = 0 the teacher is not run at all and this is plain LM training of the student,
 * the baseline distillation is measured against.
 */
export async function distill(
  teacher: LoadedModel,
  student: Student,
  loss: DistillLossConfig,
  opts: TrainerOptions,
  io: DistillIO,
): Promise<TrainResult> {
  // Fail before the first step with a message, not inside the backward pass with a kernel name.
  checkEmbeddingGradients();
  if (io.onTeacherEval && io.evalBatches.length > 0) io.onTeacherEval(await evaluate(teacher, {}, io.evalBatches));
  return trainVariables(
    distillSpec(teacher, student, loss, io.evalBatches),
    opts,
    { ...io, onProgress: (points) => io.onProgress(points as DistillProgressPoint[]) },
  );
}


