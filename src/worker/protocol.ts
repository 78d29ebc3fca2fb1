// Typed messages between the page and the training worker. The page holds numbers only;
// tensors never cross this boundary.
import type { BackendName, BackendReport } from '../backend/backend';
import type { DatasetSummary } from '../data/dataset';
import type { LabelledColumns } from '../data/labelled';
import type { SequenceLayout } from '../data/layout';
import type { DatasetIssue, ReadChoice } from '../data/parse';
import type { FieldSpec, TensorPlan } from '../peft/types';
import type { ParityCheck } from '../train/parity';
import type { ForwardSpeed, ReferenceLoss, RunKind, RunOutput, RunPlan } from '../train/run-kind';
import type { EvalPoint, ProgressPoint, RunEnd, StepPoint } from '../train/trainer';

// The engine's own types, made where they are produced, that the page receives as they are.
export type { BackendName, BackendReport, DatasetIssue, DatasetSummary, EvalPoint, ForwardSpeed, ParityCheck, ProgressPoint, ReferenceLoss, RunEnd, RunOutput, StepPoint, TensorPlan };

/** Where a loaded model came from: the page's own models, or files the person chose. */
export type ModelSource = 'built-in' | 'disk';

export interface ModelSummary {
  /** A built-in model's id; for a model from disk, its name (the zip's or folder's). */
  id: string;
  name: string;
  source: ModelSource;
  modelType: string;
  numLayers: number;
  hiddenSize: number;
  numHeads: number;
  vocabSize: number;
  maxPositions: number;
  totalParams: number;
  /** Why the model cannot generate text (it is a masked LM); absent when it can. */
  cannotGenerate?: string;
}

/** One entry of the Method select: a PEFT method or distillation (a RunKind) as the loaded model sees it. */
export interface MethodSummary extends Pick<RunKind, 'id' | 'label' | 'summary' | 'paper' | 'output' | 'comparable'> {
  fields: FieldSpec[];
  defaults: Record<string, unknown>;
  /** Set when the method does not apply to the loaded model. */
  unsupported?: string;
}

/** What the chosen method's settings would train: an adapter's or a full fine-tune's budget, or a student's size. */
export type PlanSummary = { methodId: string } & (
  | (Extract<RunPlan, { output: 'adapter' | 'model' }> & { /** 100·trainable/total, unrounded. */ percent: number })
  | Extract<RunPlan, { output: 'student' }>
);

/** One method's row in the all-methods comparison: its counts, or why it cannot be planned. */
export type MethodPlanEntry =
  | { methodId: string; trainable: number; total: number; /** 100·trainable/total, unrounded. */ percent: number; error?: undefined }
  | { methodId: string; error: string };

/** One finished run of a comparison. */
export interface CompareRunResult {
  methodId: string;
  /** How the run ended: a run that failed (loss NaN) is still a result; a stopped one ends the comparison. */
  reason: RunEnd;
  /** Steps completed. */
  step: number;
  /** What the method's plan counts as trainable. */
  trainable: number;
  /** What the plan counts in all (the base model, the method's parameters, a classifier's head): trainable/total is the trainable share. */
  total: number;
  /** Held-out loss at the end of the run; null when nothing is held out. */
  finalEvalLoss: number | null;
  /** A classifier's held-out accuracy and macro-F1 at the end of the run (fractions in 0..1); null for a language-model run or when nothing is held out. */
  finalClassification: { accuracy: number; macroF1: number } | null;
  /** Mean of the run's per-step tokens/s. */
  tokensPerSecond: number;
  /** Bytes of the zip that Export would save for this run (the adapter, or a full fine-tune's checkpoint). */
  adapterBytes: number;
  /** Wall time of the run: creating the adapter, training and evaluating. */
  wallMs: number;
}

/** What `verify` found: each compared quantity against the cpu backend. */
export interface ParityReport {
  methodId: string;
  /** The backend that was checked. */
  backend: BackendName;
  steps: number;
  batchSize: number;
  sequenceLength: number;
  checks: ParityCheck[];
  /** The first failed check as a sentence; absent when every check passed. */
  failure?: string;
  /** Wall time of both runs. */
  ms: number;
}

export interface TrainConfig {
  /** Total optimiser steps; when 0, `epochs` decides. */
  steps: number;
  epochs: number;
  batchSize: number;
  sequenceLength: number;
  learningRate: number;
  warmupSteps: number;
  weightDecay: number;
  /** Global-norm clipping threshold; 0 disables. */
  maxGradNorm: number;
  /**
   * Recompute each transformer block's activations in the backward pass instead of keeping
   * them from the forward (gradient checkpointing): the same updates, less memory, about a
   * third more compute. Absent: off.
   */
  recompute?: boolean;
  /** Fraction of examples held out for evaluation. */
  evalFraction: number;
  /** Evaluate the held-out split every this many steps (and at the end). */
  evalEvery: number;
  seed: number;
}

export type ToWorker =
  | { type: 'init'; backend?: BackendName; modelsBaseUrl: string }
  | { type: 'loadModel'; id: string }
  /**
   * A base model from the person's disk: a Hugging Face folder's files (config.json,
   * model.safetensors or a sharded model.safetensors.index.json with its shards,
   * tokenizer.json, tokenizer_config.json) or one .zip of the folder. Named after the zip, else
   * the folder the files share, else `name`. Answered like loadModel; on failure the previous
   * model stays loaded.
   */
  | { type: 'loadModelFiles'; files: File[]; name?: string }
  /** `layout`: how long and short examples become rows; what is not given takes the data's default (windows; packing for plain text, padding for instruction data). */
  | { type: 'loadDataset'; file: File; sequenceLength: number; evalFraction: number; seed: number; columns?: Partial<LabelledColumns>; wholeText?: boolean; layout?: Partial<SequenceLayout>; reading?: ReadChoice }
  | { type: 'plan'; methodId: string; config: Record<string, unknown> }
  | { type: 'train'; methodId: string; config: Record<string, unknown>; train: TrainConfig }
  /** Ends the run after the steps already queued, and its final evaluation; answered by `stopping`, then `trainingEnded`. */
  | { type: 'stop' }
  /** After `stop`: the run's final evaluation ends at its next held-out batch (or never starts), reporting no held-out loss. */
  | { type: 'skipEvaluation' }
  /** What the last run of this output (default: the adapter) made or an import rebuilt, as a zip; answered by `exported`. */
  | { type: 'export'; output?: RunOutput }
  /** A full Hugging Face checkpoint with the adapter merged into the base weights (`mergedWeights`); answered by `exported`. */
  | { type: 'exportMerged' }
  /** Counts for every method in the registry; a method missing from `configs` is counted at its defaults. */
  | { type: 'planAll'; configs: Record<string, Record<string, unknown>> }
  /** A zipped adapter folder (the studio's export, HF PEFT's or AdapterHub's) becomes the session's adapter. */
  | { type: 'importAdapter'; file: File }
  /** Trains each run in turn on the same data, from the same seed and training settings. */
  | { type: 'compare'; runs: { methodId: string; config: Record<string, unknown> }[]; train: TrainConfig }
  /**
   * Backend parity: `steps` training steps of the method on the dataset's first batches, on
   * this backend and on the cpu backend from the same initial state, compared; answered by
   * `verified`. Leaves what the session trained as it was.
   */
  | { type: 'verify'; methodId: string; config: Record<string, unknown>; train: TrainConfig; steps: number }
  /**
   * Continue `prompt` with the base model, or (`withAdapter`) with what a run trained: the
   * trained or imported adapter on it, or the fine-tuned model when `output` is 'model'
   * (default 'adapter').
   */
  | { type: 'generate'; requestId: number; prompt: string; maxNewTokens: number; temperature: number; topK: number; seed: number; withAdapter: boolean; output?: RunOutput }
  /** The loaded dataset's rows that did not read, as a file of the dropped file's format; answered by `rejectedRows`. */
  | { type: 'exportRejected' };

/**
 * Where a stopped run has got: the steps already queued are finishing (`step` is the last of
 * them), or the model after `step` steps is being evaluated on the held-out set.
 */
export type StopPhase = 'finishing' | 'evaluating';

/** What reading a dataset is doing: reading the file's bytes, or tokenizing its examples. */
export type DatasetPhase = 'reading' | 'tokenizing';

export type FromWorker =
  | { type: 'backend'; report: BackendReport }
  /** Everything the Method select offers for the loaded model, in its order. */
  | { type: 'methods'; methods: MethodSummary[] }
  | { type: 'modelLoaded'; model: ModelSummary }
  | { type: 'datasetLoaded'; dataset: DatasetSummary }
  /** Reading a dropped file: bytes read of the file's size, or examples tokenized of all. */
  /** Reading: bytes of the file (rows, for a Parquet file); tokenizing: examples. */
  | { type: 'datasetProgress'; fileName: string; phase: DatasetPhase; done: number; total: number }
  /** The loaded dataset's refused rows, as a file to save. */
  | { type: 'rejectedRows'; fileName: string; bytes: Uint8Array }
  /** The dropped file was refused; the previously loaded dataset (if any) is kept. */
  | { type: 'datasetRejected'; fileName: string; issues: DatasetIssue[]; message: string }
  | { type: 'planned'; plan: PlanSummary }
  | { type: 'plannedAll'; plans: MethodPlanEntry[] }
  /** A run (alone or one of a comparison) created what it trains, which replaces the last of its output, and starts stepping. */
  | { type: 'trainingStarted'; totalSteps: number; methodId: string; output: RunOutput; mergeable: boolean }
  /** Before the first step of a run whose kind has one: the held-out loss to draw the run's against. */
  | ({ type: 'referenceEval' } & ReferenceLoss)
  /** Losses read back, for the steps since the last read-back. */
  | { type: 'progress'; points: ProgressPoint[] }
  /** Every step as it finishes, before its loss is read back. */
  | { type: 'stepDone'; point: StepPoint }
  /** After `stop`: what the run still does before it ends (sent at once, then when the final evaluation begins). */
  | { type: 'stopping'; phase: StopPhase; step: number }
  /**
   * The model after `step` steps is being evaluated on the held-out set: held-out batch `batch`
   * (from 1) of `batches` has started, the ones before it have run.
   */
  | { type: 'evaluating'; step: number; batch: number; batches: number }
  | { type: 'eval'; point: EvalPoint }
  | { type: 'trainingEnded'; reason: RunEnd; message?: string; step: number }
  | { type: 'exported'; fileName: string; bytes: Uint8Array }
  /** The imported file's adapter replaced the session's adapter. */
  | {
      type: 'adapterImported';
      fileName: string;
      methodId: string;
      /** Parameters in the imported adapter's tensors. */
      trainable: number;
      /** True when it can be folded into the base weights (`exportMerged`). */
      mergeable: boolean;
      /** What the person should know about the imported adapter (e.g. it cannot resume training as it was). */
      notice?: string;
    }
  /** Every config of a `compare` was valid; its runs follow as trainingStarted … trainingEnded, compareRunEnded. */
  | { type: 'compareStarted'; methodIds: string[]; totalSteps: number }
  | ({ type: 'compareRunEnded' } & CompareRunResult)
  /** `completed` runs have results; `stopped` when Stop ended it early. */
  | { type: 'compareEnded'; reason: 'finished' | 'stopped'; completed: number }
  /** Text generated so far for a `generate` request (the new text only, never the prompt); streamed, then once more with `done`. */
  | { type: 'generated'; requestId: number; withAdapter: boolean; text: string; done: boolean }
  /** After a run that trained a model of its own: its median forward time against the base model's on one training-shaped batch, measured in the worker. */
  | ({ type: 'speedup' } & ForwardSpeed)
  | { type: 'verified'; report: ParityReport }
  /** Any failure the page must show; `context` says what was being done, `request` which message failed. */
  | { type: 'error'; context: string; message: string; request?: ToWorker['type'] };
