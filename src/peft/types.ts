import type * as tf from '@tensorflow/tfjs';
import type { SequenceClassifier } from '../models/classifier';
import type { Hooks, LoadedModel, ModelInfo } from '../models/types';
import type { TextTokenizer } from '../tokenize/tokenizer';

/** What `create` may need beyond the model: the tokenizer (prompt tuning's init text). */
export interface CreateContext {
  tokenizer?: TextTokenizer;
  /** The adapter feeds a sequence-classification head, not the model's LM head (see PlanContext). */
  classifier?: boolean;
}

/**
 * What the adapter is planned for. A classifier reads the model's body only: the LM head
 * (BERT's `cls.predictions`, an untied `lm_head`) takes no part, so a method whose parameters
 * are the model's own (BitFit's biases) leaves it out.
 */
export interface PlanContext {
  classifier?: boolean;
}

export interface TensorPlan {
  name: string;
  shape: number[];
}

export interface Plan {
  /** Exactly what HF PEFT's print_trainable_parameters calls trainable. */
  trainable: number;
  /** frozen + trainable, as print_trainable_parameters counts "all params". */
  total: number;
  tensors: TensorPlan[];
}

/** A hyperparameter field the UI renders for a method; the form is derived from this. */
export type FieldSpec =
  | { key: string; label: string; kind: 'number'; min?: number; max?: number; step?: number; integer?: boolean; help?: string }
  | { key: string; label: string; kind: 'select'; options: { value: string; label: string }[]; help?: string }
  | { key: string; label: string; kind: 'multiselect'; options: { value: string; label: string }[]; help?: string }
  | { key: string; label: string; kind: 'text'; help?: string };

export interface ExportedFiles {
  /** Suggested zip name without extension, e.g. `tiny-gpt2-lora`. */
  baseName: string;
  files: Record<string, Uint8Array>;
}

export interface Adapter {
  /** The only tensors that train. */
  variables: tf.Variable[];
  hooks(training: boolean): Hooks;
  exportFiles(): Promise<ExportedFiles>;
  /**
   * The export with a sequence-classification head trained beside the adapter, for a method
   * whose own format has a place for the head (BitFit's file, AdapterHub's folder). `labels`
   * are the label names by id. Without it the head goes in as PEFT saves a SEQ_CLS adapter
   * (src/export/seq-cls.ts).
   */
  exportWithHead?(head: SequenceClassifier, labels: string[]): Promise<ExportedFiles>;
  /** Something a person should know about this adapter, e.g. that an import cannot resume training as it was. */
  readonly notice?: string;
  /**
   * The base model's full state dict with this adapter folded in (HF names, float32), for
   * methods that can be merged (BitFit, LoRA). The session writes it as a complete Hugging
   * Face checkpoint next to the base model's config and tokenizer files.
   */
  mergedWeights?(): Promise<{ name: string; shape: number[]; data: Float32Array }[]>;
  dispose(): void;
}

/** How the page names and explains a method, and the paper it comes from. */
export interface MethodDescription {
  id: string;
  label: string;
  /** One line for the method picker. */
  summary: string;
  paper: { title: string; url: string };
}

export interface PeftMethod<Config extends object = Record<string, unknown>> extends MethodDescription {
  defaults(model: ModelInfo): Config;
  fields(model: ModelInfo): FieldSpec[];
  /** Why this method cannot be used on this model, or undefined when it can. */
  unsupported?(model: ModelInfo): string | undefined;
  /** Throws an Error naming the field when a config is invalid for this model. */
  validate(model: ModelInfo, c: Config): void;
  /** Context positions the method takes from every sequence (virtual tokens, prefix slots). */
  positionsUsed?(c: Config): number;
  /** Pure: counts and shapes, nothing allocated. */
  plan(model: ModelInfo, c: Config, ctx?: PlanContext): Plan;
  /** Allocates the method's tf.Variables. `seed` makes initialisation reproducible. */
  create(model: LoadedModel, c: Config, seed: number, ctx?: CreateContext): Adapter;
  /** True when these files (an unzipped export) are this method's, judged by their config alone. */
  recognizes(files: Record<string, Uint8Array>): boolean;
  /** Rebuilds an adapter from files this method (or HF PEFT) wrote. */
  load(model: LoadedModel, files: Record<string, Uint8Array>): Adapter;
}
