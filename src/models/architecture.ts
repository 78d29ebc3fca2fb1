// What every architecture file (gpt2.ts, llama.ts, bert.ts) provides, so nothing outside
// src/models/ knows a family: reading config.json into neutral sizes, naming the parameters
// and linear modules as the family's Hugging Face state dict does, building the forward pass,
// and the names other formats need (PEFT's default LoRA targets, AdapterHub's model class).
import type * as tf from '@tensorflow/tfjs';
import type { LinearModule, LoadedModel, ModelConfig, ModelInfo } from './types';

/**
 * What a family's models are trained to do, and so what the studio trains them on:
 * - 'causal-lm': predict each next token from the ones before it (GPT-2, Llama); the loss
 *   reads position t's logits against token t+1, and the model can generate text.
 * - 'masked-lm': predict tokens hidden in the input from both sides (BERT): a share of the
 *   real tokens is masked and the loss reads the logits at those positions, unshifted. Such a
 *   model does not generate text.
 */
export type TrainingObjective = 'causal-lm' | 'masked-lm';

/** One linear module of a sequence-classification head, applied in order to the pooled hidden state. */
export interface ClassifierLayer {
  /** State-dict path of the module (`classifier`, `bert.pooler.dense`, `score`). */
  path: string;
  inFeatures: number;
  /** Its width, or 'labels' for the layer that outputs one logit per label. */
  outFeatures: number | 'labels';
  hasBias: boolean;
  /** Applied after the linear map. */
  activation: 'tanh' | 'relu' | 'none';
}

/**
 * How the family's *ForSequenceClassification class reads a label off the last hidden state:
 * - 'first-token': the hidden state at position 0 ([CLS] / <s>; a virtual token when a method
 *   put some in front, as PEFT's prompt learning does through inputs_embeds);
 * - 'last-token': the rightmost position whose id is not config.pad_token_id (transformers'
 *   last_non_pad_token); handed embeddings with virtual tokens in front it cannot see the ids,
 *   and reads the last position.
 */
export interface SequenceClassifierSpec {
  pooling: 'first-token' | 'last-token';
  layers: ClassifierLayer[];
  /** The module names PEFT records as modules_to_save for a SEQ_CLS adapter on this model. */
  modulesToSave: string[];
  /** transformers' class for the checkpoint (config.json "architectures"). */
  className: string;
  /**
   * transformers' base_model_prefix (`bert`, `roberta`, `distilbert`, `transformer`, `model`):
   * the state-dict path of the body the head reads. The language-model head beside it (BERT's
   * `cls.predictions`, a decoder's untied `lm_head`) is not part of the classifier.
   */
  baseModelPrefix: string;
}

export interface Architecture {
  /** ModelConfig.family of the models it reads. */
  family: string;
  /** The config.json "model_type" values it reads. */
  modelTypes: string[];
  /** What its models are trained on (the head `build` computes): next-token or masked-token prediction. */
  objective: TrainingObjective;
  /** Reads config.json; throws naming `fileName` and the field for anything it cannot run. */
  parseConfig(raw: Record<string, unknown>, fileName: string): ModelConfig;
  /** Every parameter as the family's *ForCausalLM / *ForMaskedLM state dict names it, and the linear modules methods may target. Pure. */
  info(name: string, config: ModelConfig): ModelInfo;
  /** A checkpoint's tensor name as `info` names it; undefined for what is not a weight (tied heads, buffers). */
  normaliseName(name: string, config: ModelConfig): string | undefined;
  /** The family's *ForSequenceClassification head: how it pools and the linear modules it applies. */
  sequenceClassifier(config: ModelConfig): SequenceClassifierSpec;
  /** The forward pass over these weights (every name in `info.params`, float32). */
  build(info: ModelInfo, weights: Map<string, tf.Tensor>): LoadedModel;
  /** The state-dict path of block `layer` (`transformer.h.3`, `model.layers.3`); a family's model types may name it differently. */
  blockPath(config: ModelConfig, layer: number): string;
  /** PEFT's default LoRA target_modules for this model type (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING). */
  loraTargets(config: ModelConfig): string[];
  /** The model class AdapterHub records for an adapter trained on this model type (LlamaForCausalLM, Qwen2ForCausalLM, …). */
  adapterHubModelClass(config: ModelConfig): string;
  /**
   * The module AdapterHub gives the bottleneck adapters after block `layer`'s attention
   * (`attn`) or feed-forward (`mlp`) sublayer: the parent of its `adapters` ModuleDict. GPT-2,
   * Llama and DistilBERT add `attention_adapters` / `output_adapters` to the block; BERT and
   * RoBERTa make the sublayer's output module itself the adapter layer (`attention.output`, `output`).
   */
  adapterHubLayerPath(config: ModelConfig, layer: number, kind: 'attn' | 'mlp'): string;
  /**
   * Why this model type's transformers class takes no past keys/values, so that PEFT's prefix
   * tuning (which hands the prefixes over as past_key_values) would do nothing there; absent or
   * undefined when it takes them. The studio's forward would run the prefixes, but what it
   * exported would not act where it is loaded.
   */
  kvPrefixUnsupported?(config: ModelConfig): string | undefined;
  /**
   * config.json for the same model with `numLayers` blocks and every other field unchanged:
   * what a distilled student (src/distill/) is built, saved and reloaded with. Optional: a
   * family without it is not offered distillation.
   */
  withNumLayers?(raw: Record<string, unknown>, numLayers: number): Record<string, unknown>;
}

/** ModelInfo from an architecture's named parameters and linear modules; totalParams counts each parameter once. */
export function modelInfoFrom(name: string, config: ModelConfig, linears: LinearModule[], params: { name: string; shape: number[] }[]): ModelInfo {
  return { name, config, linears, params, totalParams: params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0) };
}
