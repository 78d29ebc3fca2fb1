// What the studio can train, seen the same way whatever it is: a PEFT method that trains an
// adapter on the frozen base (src/peft/run.ts), full fine-tuning that trains a copy of every
// weight (src/finetune/full.ts), or distillation that trains a smaller student from it
// (src/distill/run.ts). The session drives every kind through this interface on one
// path: check the settings, plan, create, train the spec, export. A new training objective is a
// new RunKind, not a new branch in the session or the page.
import type { Hooks, LoadedModel, ModelInfo } from '../models/types';
import type { ExportedFiles, FieldSpec, MethodDescription, TensorPlan } from '../peft/types';
import type { TextTokenizer } from '../tokenize/tokenizer';
import type { TokenBatch, TrainingSpec } from './trainer';

/**
 * What a run makes: an adapter for the loaded base model, the base model fine-tuned whole
 * (`model`), or a smaller student model of its own.
 */
export type RunOutput = 'adapter' | 'model' | 'student';

/** The counts of a run that trains parameters of (or added to) the loaded model. */
export interface ParameterBudget {
  /** Exactly what HF PEFT's print_trainable_parameters calls trainable. */
  trainable: number;
  /** frozen + trainable, as print_trainable_parameters counts "all params". */
  total: number;
  tensors: TensorPlan[];
}

/** What a kind's settings would train, counted before anything is allocated. */
export type RunPlan =
  | ({ output: 'adapter' } & ParameterBudget)
  /** Full fine-tuning: every parameter of the model trains (trainable = total). */
  | ({ output: 'model' } & ParameterBudget)
  | {
      output: 'student';
      teacherParams: number;
      /** Every student parameter trains. */
      studentParams: number;
      /** teacherParams / studentParams. */
      compression: number;
      /** Teacher block each student block starts from. */
      teacherLayers: number[];
    };

/** A held-out loss the run's own is drawn against (distillation: the teacher's). */
export interface ReferenceLoss {
  label: string;
  evalLoss: number;
}

/** Forward time of what the run trained against the base model's, measured on this backend. */
export interface ForwardSpeed {
  baseMs: number;
  trainedMs: number;
  /** baseMs / trainedMs. */
  ratio: number;
}

/** What `RunKind.create` may need beyond the model and the settings. */
export interface RunContext {
  /** Prompt tuning's initialisation text is tokenized with it. */
  tokenizer?: TextTokenizer;
  /** The base model folder's files as loaded (config.json, tokenizer files), for checkpoints that ship them. */
  baseFiles: Record<string, Uint8Array>;
  /**
   * Set when the dataset is labelled: the run trains a sequence classifier, a head for these
   * labels on top of what the kind trains; `padId` is what the batches are padded with (a
   * decoder's head reads the last token that is not it).
   */
  classification?: { labels: string[]; padId: number };
}

/** What a plan needs to know of a labelled dataset: a classifier's head has one output per label. */
export interface ClassificationPlan {
  numLabels: number;
}

/** The thing a run trains and then holds: it knows its loss, its evaluation and its files. */
export interface Trained {
  readonly output: RunOutput;
  /** The trainable tensors' names, in TrainingSpec.variables order (for per-tensor reports). */
  readonly names: string[];
  /** True when `mergedWeights` can fold it into the base model's weights. */
  readonly mergeable: boolean;
  /** What trains, on which loss (and its named terms), evaluated on `evalBatches`. */
  spec(evalBatches: TokenBatch[]): TrainingSpec;
  /** Measured once before the first step, when the kind has a reference to show. */
  reference?(evalBatches: TokenBatch[]): Promise<ReferenceLoss>;
  /** Measured after a run that did not fail, on one batch of the training data's shape. */
  forwardSpeed?(batch: TokenBatch): Promise<ForwardSpeed>;
  /** The model and hooks that generate text with what was trained. */
  generator(): { model: LoadedModel; hooks: Hooks };
  /** The download: a folder of files, named without the .zip. */
  exportFiles(): Promise<ExportedFiles>;
  /** The base model's full state dict with this folded in (HF names, float32). */
  mergedWeights?(): Promise<{ name: string; shape: number[]; data: Float32Array }[]>;
  dispose(): void;
}

/** One entry of the Method select: its form, its checks, its plan, and how it creates what trains. */
export interface RunKind<Config extends object = Record<string, unknown>> extends MethodDescription {
  output: RunOutput;
  /** Whether the all-methods comparison and parameter table include it (they compare runs on the loaded model). */
  comparable: boolean;
  fields(model: ModelInfo): FieldSpec[];
  defaults(model: ModelInfo): Config;
  /** Why this kind cannot be used on this model, or undefined when it can. */
  unsupported(model: ModelInfo): string | undefined;
  /** Throws an Error naming the field when a config is invalid for this model. */
  validate(model: ModelInfo, c: Config): void;
  /** Context positions taken from every sequence (virtual tokens, prefix slots). */
  positionsUsed(c: Config): number;
  /**
   * Pure: counts and shapes, nothing allocated. With `classification` (a labelled dataset) the
   * plan is the sequence classifier's: what trains includes a head for that many labels.
   */
  plan(model: ModelInfo, c: Config, classification?: ClassificationPlan): RunPlan;
  /** Allocates what trains; `seed` makes initialisation reproducible. */
  create(model: LoadedModel, c: Config, seed: number, ctx: RunContext): Trained;
}

/**
 * Brings settings that crossed the worker boundary (form values are strings) back to the types
 * of the kind's defaults: numbers, booleans, string lists. Unknown keys are refused so a typo
 * never silently falls back to a default.
 */
export function coerceConfig(kind: Pick<RunKind<any>, 'label' | 'defaults'>, model: ModelInfo, raw: Record<string, unknown>): Record<string, unknown> {
  const defaults = kind.defaults(model) as Record<string, unknown>;
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in defaults)) throw new Error(`${kind.label}: unknown setting "${key}"`);
    const d = defaults[key];
    if (typeof d === 'number') {
      const n = typeof value === 'number' ? value : Number(value);
      if (!Number.isFinite(n)) throw new Error(`${kind.label}: "${key}" must be a number (got ${JSON.stringify(value)})`);
      out[key] = n;
    } else if (typeof d === 'boolean') {
      out[key] = value === true || value === 'true';
    } else if (Array.isArray(d)) {
      if (!Array.isArray(value)) throw new Error(`${kind.label}: "${key}" must be a list`);
      out[key] = value.map(String);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/**
 * A kind's settings coerced and validated for `model`; a kind that does not apply to the model
 * is refused with its reason. Errors name the kind when `prefix` is set (a comparison's runs).
 */
export function checkedConfig(kind: RunKind<any>, model: ModelInfo, raw: Record<string, unknown>, prefix = false): Record<string, unknown> {
  try {
    const reason = kind.unsupported(model);
    if (reason) throw new Error(`cannot be used with ${model.name}: ${reason}`);
    const config = coerceConfig(kind, model, raw);
    kind.validate(model, config);
    return config;
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    throw new Error(prefix && !message.startsWith(kind.label) ? `${kind.label}: ${message}` : message);
  }
}

/** Refuses settings whose sequences plus the kind's virtual positions overflow the context. */
export function checkContext(kind: RunKind<any>, model: ModelInfo, config: Record<string, unknown>, sequenceLength: number): void {
  const context = model.config.maxPositions;
  const used = kind.positionsUsed(config);
  if (sequenceLength + used > context) {
    throw new Error(
      used > 0
        ? `Sequence length ${sequenceLength} plus ${kind.label}'s ${used} virtual positions exceeds ${model.name}'s context of ${context}; set "Sequence length" to at most ${context - used}`
        : `Sequence length ${sequenceLength} exceeds ${model.name}'s context of ${context}`,
    );
  }
}
