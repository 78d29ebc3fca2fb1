// The training-settings form: field specs, defaults, and validation into a TrainConfig.
// Inputs are kept as the strings a person typed; validation turns them into numbers.
import type { TrainConfig } from '../src/worker/protocol';

/** Fraction of examples held out for evaluation (fixed for now). */
export const EVAL_FRACTION = 0.1;

export type TrainField =
  | 'steps'
  | 'epochs'
  | 'batchSize'
  | 'sequenceLength'
  | 'learningRate'
  | 'warmupSteps'
  | 'weightDecay'
  | 'maxGradNorm'
  | 'evalEvery'
  | 'seed';

export type TrainInputs = Record<TrainField, string>;
export type TrainErrors = Partial<Record<TrainField, string>>;

export interface TrainFieldSpec {
  key: TrainField;
  /** Accessible name; tests and screen readers depend on these exact strings. */
  label: string;
  integer: boolean;
  min: number;
  /** Whether `min` itself is allowed (false: strictly greater). */
  minInclusive: boolean;
  max?: number;
  step: number | 'any';
  help?: string;
}

export const TRAIN_FIELDS: readonly TrainFieldSpec[] = [
  { key: 'steps', label: 'Steps', integer: true, min: 0, minInclusive: true, max: 1_000_000, step: 1, help: 'Optimiser steps. When above 0, Steps wins over Epochs; 0 lets Epochs decide.' },
  { key: 'epochs', label: 'Epochs', integer: true, min: 1, minInclusive: true, max: 10_000, step: 1, help: 'Passes over the training split; used only when Steps is 0.' },
  { key: 'batchSize', label: 'Batch size', integer: true, min: 1, minInclusive: true, max: 1024, step: 1, help: 'Examples per step.' },
  { key: 'sequenceLength', label: 'Sequence length', integer: true, min: 2, minInclusive: true, max: 65_536, step: 1, help: 'Tokens per example; longer examples are cut. Changing it re-reads the dataset.' },
  { key: 'learningRate', label: 'Learning rate', integer: false, min: 0, minInclusive: false, max: 1, step: 'any', help: 'Peak rate after warmup; 2e-4 to 3e-4 is typical for LoRA.' },
  { key: 'warmupSteps', label: 'Warmup steps', integer: true, min: 0, minInclusive: true, max: 1_000_000, step: 1, help: 'Linear warmup, then cosine decay.' },
  { key: 'weightDecay', label: 'Weight decay', integer: false, min: 0, minInclusive: true, max: 10, step: 'any', help: 'AdamW decoupled weight decay.' },
  { key: 'maxGradNorm', label: 'Max grad norm', integer: false, min: 0, minInclusive: true, max: 1e6, step: 'any', help: 'Global-norm gradient clipping; 0 turns it off.' },
  { key: 'evalEvery', label: 'Eval every', integer: true, min: 1, minInclusive: true, max: 1_000_000, step: 1, help: 'Steps between held-out evaluations (and one at the end).' },
  { key: 'seed', label: 'Seed', integer: true, min: 0, minInclusive: true, max: 2 ** 31 - 1, step: 1, help: 'Makes initialisation, shuffling and the held-out split reproducible.' },
];

export const TRAIN_DEFAULTS: TrainInputs = {
  steps: '100',
  epochs: '1',
  batchSize: '8',
  sequenceLength: '128',
  learningRate: '0.0003',
  warmupSteps: '10',
  weightDecay: '0.01',
  maxGradNorm: '1',
  evalEvery: '20',
  seed: '42',
};

export interface TrainLimits {
  /** The model's context length; Sequence length may not exceed it. */
  maxSequenceLength?: number;
}

/** Validates one field's text; returns the number or an error message. */
export function parseTrainField(
  spec: TrainFieldSpec,
  text: string,
  limits: TrainLimits = {},
): { value: number } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { error: `${spec.label} is required.` };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { error: `${spec.label} must be a number.` };
  if (spec.integer && !Number.isInteger(value)) return { error: `${spec.label} must be a whole number.` };
  if (spec.minInclusive ? value < spec.min : value <= spec.min) {
    if (spec.integer && spec.min === 1) return { error: `${spec.label} must be a positive whole number.` };
    if (!spec.minInclusive && spec.min === 0) return { error: `${spec.label} must be greater than 0.` };
    return { error: `${spec.label} must be at least ${spec.min}.` };
  }
  let max = spec.max;
  if (spec.key === 'sequenceLength' && limits.maxSequenceLength !== undefined) {
    max = Math.min(max ?? Infinity, limits.maxSequenceLength);
    if (value > max) return { error: `Sequence length must be at most ${max}, the model's context length.` };
  }
  if (max !== undefined && value > max) return { error: `${spec.label} must be at most ${max}.` };
  return { value };
}

export interface TrainValidation {
  /** Present only when every field is valid. */
  config?: TrainConfig;
  errors: TrainErrors;
}

export function validateTrainInputs(inputs: TrainInputs, limits: TrainLimits = {}): TrainValidation {
  const errors: TrainErrors = {};
  const values: Partial<Record<TrainField, number>> = {};
  for (const spec of TRAIN_FIELDS) {
    const r = parseTrainField(spec, inputs[spec.key] ?? '', limits);
    if ('error' in r) errors[spec.key] = r.error;
    else values[spec.key] = r.value;
  }
  if (Object.keys(errors).length > 0) return { errors };
  const v = values as Record<TrainField, number>;
  return {
    errors,
    config: {
      steps: v.steps,
      epochs: v.epochs,
      batchSize: v.batchSize,
      sequenceLength: v.sequenceLength,
      learningRate: v.learningRate,
      warmupSteps: v.warmupSteps,
      weightDecay: v.weightDecay,
      maxGradNorm: v.maxGradNorm,
      evalFraction: EVAL_FRACTION,
      evalEvery: v.evalEvery,
      seed: v.seed,
    },
  };
}

/** The valid value of one field, or undefined. */
export function trainFieldValue(inputs: TrainInputs, key: TrainField, limits: TrainLimits = {}): number | undefined {
  const spec = TRAIN_FIELDS.find((f) => f.key === key)!;
  const r = parseTrainField(spec, inputs[key] ?? '', limits);
  return 'value' in r ? r.value : undefined;
}
