// Typed messages between the page and the training worker. The page holds numbers only;
// tensors never cross this boundary.
import type { FieldSpec, TensorPlan } from '../peft/types';

export type BackendName = 'webgpu' | 'wasm' | 'cpu';

export interface BackendReport {
  name: BackendName;
  /** Human description, e.g. "WebGPU · SwiftShader (software)". */
  description: string;
  /** True when WebGPU runs on a software rasteriser (SwiftShader): slow. */
  software: boolean;
  /** Why a preferred backend was not used, one line each, in order of preference. */
  fallbacks: string[];
  /** Set when the page forced a backend with ?backend=. */
  forced: boolean;
}

export interface ModelSummary {
  id: string;
  name: string;
  modelType: string;
  nLayer: number;
  nEmbd: number;
  nHead: number;
  vocabSize: number;
  nPositions: number;
  totalParams: number;
}

export interface MethodSummary {
  id: string;
  label: string;
  summary: string;
  paper: { title: string; url: string };
  fields: FieldSpec[];
  defaults: Record<string, unknown>;
  /** Set when the method does not apply to the loaded model. */
  unsupported?: string;
}

export interface PlanSummary {
  methodId: string;
  trainable: number;
  total: number;
  /** 100·trainable/total, unrounded. */
  percent: number;
  tensors: TensorPlan[];
}

export interface DatasetIssue {
  /** 1-based line number in the file (or record number for formats without lines). */
  line: number;
  message: string;
}

export interface DatasetSummary {
  fileName: string;
  format: 'txt' | 'jsonl' | 'json' | 'csv' | 'tsv';
  examples: number;
  trainExamples: number;
  evalExamples: number;
  tokens: number;
  /** Examples longer than the sequence length, cut to it. */
  truncated: number;
  sequenceLength: number;
  /** First few examples, as text. */
  preview: string[];
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
  /** Fraction of examples held out for evaluation. */
  evalFraction: number;
  /** Evaluate the held-out split every this many steps (and at the end). */
  evalEvery: number;
  seed: number;
}

export interface ProgressPoint {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  learningRate: number;
  gradNorm: number;
  tokensPerSecond: number;
  elapsedMs: number;
  etaMs: number;
  numTensors: number;
  numBytes: number;
}

export interface EvalPoint {
  step: number;
  evalLoss: number;
}

export type RunEnd = 'finished' | 'stopped' | 'failed';

export type ToWorker =
  | { type: 'init'; backend?: BackendName; modelsBaseUrl: string }
  | { type: 'loadModel'; id: string }
  | { type: 'loadDataset'; file: File; sequenceLength: number; evalFraction: number; seed: number }
  | { type: 'plan'; methodId: string; config: Record<string, unknown> }
  | { type: 'train'; methodId: string; config: Record<string, unknown>; train: TrainConfig }
  | { type: 'stop' }
  | { type: 'export' }
  /** Continue `prompt` with the base model, or with the trained/imported adapter on it. */
  | { type: 'generate'; requestId: number; prompt: string; maxNewTokens: number; temperature: number; topK: number; seed: number; withAdapter: boolean };

export type FromWorker =
  | { type: 'backend'; report: BackendReport }
  | { type: 'methods'; methods: MethodSummary[] }
  | { type: 'modelLoaded'; model: ModelSummary }
  | { type: 'datasetLoaded'; dataset: DatasetSummary }
  /** The dropped file was refused; the previously loaded dataset (if any) is kept. */
  | { type: 'datasetRejected'; fileName: string; issues: DatasetIssue[]; message: string }
  | { type: 'planned'; plan: PlanSummary }
  | { type: 'trainingStarted'; totalSteps: number; methodId: string }
  | { type: 'progress'; points: ProgressPoint[] }
  | { type: 'eval'; point: EvalPoint }
  | { type: 'trainingEnded'; reason: RunEnd; message?: string; step: number }
  | { type: 'exported'; fileName: string; bytes: Uint8Array }
  /** Text generated so far for a `generate` request (the new text only, never the prompt); streamed, then once more with `done`. */
  | { type: 'generated'; requestId: number; withAdapter: boolean; text: string; done: boolean }
  /** Any failure the page must show; `context` says what was being done, `request` which message failed. */
  | { type: 'error'; context: string; message: string; request?: ToWorker['type'] };
