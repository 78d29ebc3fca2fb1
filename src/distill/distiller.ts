// Distillation runs the trainer's loop (src/train/trainer.ts trainVariables) with a teacher
// forward in front of each step and DistilBERT's three-term loss in place of the LM loss, over
// every student parameter (weight decay on matrices and embeddings only).
//
// The teacher runs forward only, outside the gradient tape: its logits and last hidden state
// are computed before tf.variableGrads starts recording, so no gradient is computed for it,
// none of its intermediates are held for a backward pass, and its weights (plain tensors) are
// never assigned.
import * as tf from '@tensorflow/tfjs';
import { architectureOf } from '../models/registry';
import type { LoadedModel, ModelInfo } from '../models/types';
import type { FieldSpec } from '../peft/types';
import { CAUSAL_LM, type LmObjective } from '../train/objective';
import { evaluate, trainVariables, type ProgressPoint, type TokenBatch, type TrainingSpec, type TrainerIO, type TrainerOptions, type TrainResult } from '../train/trainer';
import {
  DISTILBERT_MLM_RECIPE,
  DISTILBERT_RECIPE,
  distillationLoss,
  isMaskedConfig,
  lmOutputs,
  maskedDistillationLoss,
  type DistillLossConfig,
  type LossTerms,
  type LmOutputs,
  type MaskedDistillLossConfig,
} from './losses';
import { checkEmbeddingGradients } from '../backend/wasm-kernels';
import { checkStudentLayers, defaultStudentLayers, type Student } from './student';

/**
 * Everything the page sets for "Distillation (DistilBERT)": the student's depth and the loss,
 * whose LM term is the teacher's own objective (α_mlm for a masked LM, α_clm for a causal one).
 */
export type DistillConfig = (DistillLossConfig | MaskedDistillLossConfig) & { student_layers: number };

const teachesMaskedLm = (teacher: ModelInfo) => architectureOf(teacher).objective === 'masked-lm';

export function distillDefaults(teacher: ModelInfo): DistillConfig {
  const recipe = teachesMaskedLm(teacher) ? DISTILBERT_MLM_RECIPE : DISTILBERT_RECIPE;
  return { student_layers: defaultStudentLayers(teacher.config.numLayers), ...recipe };
}

/** The LM term's weight under its reference name: α_mlm for a masked-LM teacher, α_clm for a causal one. */
function lmWeight(c: DistillConfig): ['alpha_mlm' | 'alpha_clm', number] {
  return isMaskedConfig(c) ? ['alpha_mlm', c.alpha_mlm] : ['alpha_clm', c.alpha_clm];
}

/** Throws a message naming the field when a setting is invalid for this teacher. */
export function validateDistillConfig(teacher: ModelInfo, c: DistillConfig): void {
  checkStudentLayers(teacher.config.numLayers, c.student_layers);
  if (isMaskedConfig(c) !== teachesMaskedLm(teacher)) {
    const [key] = lmWeight(c);
    throw new Error(`${key}: ${teacher.name} is a ${teachesMaskedLm(teacher) ? 'masked' : 'causal'} LM, whose LM term is weighted by ${key === 'alpha_mlm' ? 'alpha_clm' : 'alpha_mlm'}`);
  }
  if (!(c.temperature > 0) || !Number.isFinite(c.temperature)) throw new Error(`temperature must be a positive number, got ${c.temperature}`);
  const [lmKey, lm] = lmWeight(c);
  const alphas: [string, number][] = [['alpha_ce', c.alpha_ce], [lmKey, lm], ['alpha_cos', c.alpha_cos]];
  for (const [k, v] of alphas) {
    if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`${k} must be a number ≥ 0, got ${v}`);
  }
  if (c.alpha_ce + lm + c.alpha_cos <= 0) throw new Error(`alpha_ce, ${lmKey} and alpha_cos are all 0: nothing would train`);
}

/** The form the page renders, with DistilBERT's recipe as the defaults it shows; the LM term named for the teacher's objective. */
export function distillFields(teacher: ModelInfo): FieldSpec[] {
  const L = teacher.config.numLayers;
  const lmField: FieldSpec = teachesMaskedLm(teacher)
    ? { key: 'alpha_mlm', label: 'α_mlm (MLM loss)', kind: 'number', min: 0, step: 0.5, help: 'Weight of the masked-LM loss on the true tokens at the masked positions (DistilBERT: 2.0).' }
    : { key: 'alpha_clm', label: 'α_clm (CLM loss)', kind: 'number', min: 0, step: 0.5, help: 'Weight of the causal-LM (next-token) loss on the data (DistilBERT’s α_mlm: 2.0).' };
  const fields: FieldSpec[] = [
    { key: 'student_layers', label: 'Student layers', kind: 'number', min: 1, max: L - 1, step: 1, integer: true, help: `Teacher has ${L}; the student starts from every other teacher layer (DistilBERT: 12 → 6 from layers 0, 2, 4, 7, 9, 11).` },
    { key: 'temperature', label: 'Temperature T', kind: 'number', min: 0.1, step: 0.5, help: 'Softens both distributions in the soft-target loss (DistilBERT: 2.0).' },
    { key: 'alpha_ce', label: 'α_ce (soft targets)', kind: 'number', min: 0, step: 0.5, help: 'Weight of KL(teacher ‖ student) at temperature T, × T² (DistilBERT: 5.0).' },
    lmField,
    { key: 'alpha_cos', label: 'α_cos (hidden cosine)', kind: 'number', min: 0, step: 0.5, help: 'Weight of 1 − cos between student and teacher last hidden states (DistilBERT: 1.0).' },
  ];
  if (teachesMaskedLm(teacher)) {
    fields.push({
      key: 'restrict_ce_to_mask',
      label: 'Soft targets over',
      kind: 'select',
      options: [
        { value: 'false', label: 'every real token (DistilBERT)' },
        { value: 'true', label: 'the masked tokens only' },
      ],
      help: 'Where the soft-target loss compares teacher and student (the reference distiller’s restrict_ce_to_mask, off by default).',
    });
  }
  return fields;
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
 * the LM loss and the hidden-state cosine (the terms whose weight is not 0). `objective` is the
 * teacher's (objectiveFor): for a masked LM it masks each step's batch once, from the run's seed
 * and the step, and both models read those same masked ids; the student's held-out loss is on
 * it too, so it stands next to the teacher's.
 */
export function distillSpec(
  teacher: LoadedModel,
  student: Student,
  loss: DistillLossConfig | MaskedDistillLossConfig,
  evalBatches: TokenBatch[],
  objective: LmObjective = CAUSAL_LM,
): TrainingSpec {
  if (isMaskedConfig(loss) !== (objective.name === 'masked-lm')) {
    throw new Error(`distillation on ${objective.name} needs ${objective.name === 'masked-lm' ? 'alpha_mlm' : 'alpha_clm'} among its loss weights`);
  }
  const needTeacher = loss.alpha_ce > 0 || loss.alpha_cos > 0;
  const vars = student.variables;
  const weights = isMaskedConfig(loss) ? { ce: loss.alpha_ce, mlm: loss.alpha_mlm, cos: loss.alpha_cos } : { ce: loss.alpha_ce, clm: loss.alpha_clm, cos: loss.alpha_cos };
  const termKeys = Object.entries(weights).flatMap(([k, alpha]) => (alpha > 0 ? [k] : []));
  return {
    variables: vars,
    // Decoupled weight decay on matrices and embeddings only; biases and LayerNorm gains are
    // not pulled toward 0 (they were trained, in the teacher, to be near 1 or a learned offset).
    decay: vars.map((v) => v.rank >= 2),
    termKeys,
    stepLoss: (batch, step) => {
      const inp = objective.inputs(batch, { step });
      const ids = tf.tensor2d(inp.ids, [batch.batch, batch.length], 'int32');
      const mask = inp.attentionMask ? tf.tensor2d(inp.attentionMask, [batch.batch, batch.length], 'int32') : undefined;
      // Teacher first, off the tape; its own tidy frees its per-layer intermediates now.
      const target: LmOutputs | undefined = needTeacher ? tf.tidy(() => lmOutputs(teacher, ids, false, mask)) : undefined;
      return () => {
        const out = lmOutputs(student, ids, true, mask);
        const r = isMaskedConfig(loss) ? maskedDistillationLoss(out, target, batch.labels, inp.targets, loss) : distillationLoss(out, target, batch.labels, loss);
        return { total: r.total, terms: r.terms as Record<string, tf.Scalar> };
      };
    },
    evaluate: (skip) => evaluate(student, {}, evalBatches, objective, skip),
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
  loss: DistillLossConfig | MaskedDistillLossConfig,
  opts: TrainerOptions,
  io: DistillIO,
  objective: LmObjective = CAUSAL_LM,
): Promise<TrainResult> {
  // Fail before the first step with a message, not inside the backward pass with a kernel name.
  checkEmbeddingGradients();
  if (io.onTeacherEval && io.evalBatches.length > 0) io.onTeacherEval(await evaluate(teacher, {}, io.evalBatches, objective));
  return trainVariables(
    distillSpec(teacher, student, loss, io.evalBatches, objective),
    opts,
    { ...io, onProgress: (points) => io.onProgress(points as DistillProgressPoint[]) },
  );
}


