// Full fine-tuning: the baseline every PEFT paper measures itself against (BERT's recipe,
// Devlin et al. 2018, arXiv 1810.04805: "all of the parameters are fine-tuned end-to-end").
// Every weight of the base model trains on its own objective (causal LM for a decoder, masked
// LM for an encoder: src/train/objective.ts).
//
// The base model stays frozen and shared: it is what other runs train adapters on and what
// "without adapter" generation reads. Every parameter is a tf.Variable initialised from the
// frozen tensor, and the model reads it through the `param` hook in place of the frozen one, so
// the architecture's ordinary forward trains it. A tied head is the embedding read a second
// time: its name is not among the model's parameters (info.params counts it once), so the
// same variable serves both places and trains once, on the sum of both gradients.
//
// What it leaves is a model of the base's shape: it exports as a complete Hugging Face
// checkpoint (the base's config.json and tokenizer files, the trained state dict) that
// AutoModelForCausalLM / AutoModelForMaskedLM loads like the base, and generates text as one.
//
// On a labelled dataset it trains a sequence classifier instead, as BERT fine-tunes for GLUE:
// a fresh head (the family's *ForSequenceClassification head, src/models/classifier.ts) on the
// body's last hidden state, and every weight of that body, on the labels' cross-entropy. The
// language-model head (BERT's `cls.predictions`, a decoder's untied `lm_head`) is not read by
// the classifier: it neither trains nor ships. The export is the *ForSequenceClassification
// checkpoint AutoModelForSequenceClassification loads: the body and the head under their
// state-dict names, config.json naming the class and the labels.
import * as tf from '@tensorflow/tfjs';
import { checkEmbeddingGradients } from '../backend/wasm-kernels';
import { checkpointFiles, stateDict, type StateTensor } from '../export/checkpoint';
import { backbonePrefix, classifierPlan, SequenceClassifier } from '../models/classifier';
import type { Hooks, LoadedModel, ModelInfo } from '../models/types';
import { classifierSpec } from '../train/classification';
import { objectiveFor, type LmObjective } from '../train/objective';
import type { ClassificationPlan, RunKind, Trained } from '../train/run-kind';
import { evaluate, type TokenBatch, type TrainingSpec } from '../train/trainer';
import { ownedVariable } from '../train/variable';

/** The id full fine-tuning goes by in the Method select and in run messages. */
export const FULL_FINETUNE_ID = 'full-finetune';

/** Full fine-tuning has no settings of its own: the training settings are all it takes. */
export type FullFineTuneConfig = Record<string, never>;

/**
 * A variable for each of `names`, initialised from the base model's frozen tensor; nothing is
 * left allocated when one is missing.
 */
function trainableCopies(base: LoadedModel, names: string[]): Map<string, tf.Variable> {
  const trained = new Map<string, tf.Variable>();
  try {
    for (const name of names) {
      const frozen = base.weights.get(name);
      if (!frozen) throw new Error(`${base.info.name} has no weight "${name}"`);
      // tf.clone shares the frozen buffer (reference-counted, no read-back, so it works on
      // WebGPU too); the optimizer's assign() swaps in a new buffer and never writes into
      // the base model's.
      trained.set(name, ownedVariable(tf.clone(frozen)));
    }
  } catch (e) {
    for (const v of trained.values()) v.dispose();
    throw e;
  }
  return trained;
}

/** The base model with every parameter trainable, read through the `param` hook. */
export class FineTunedModel implements Trained {
  readonly output = 'model' as const;
  /** Its weights are already whole: `mergedWeights` is the trained state dict. */
  readonly mergeable = true;
  readonly names: string[];
  /** One variable per parameter, in `info.params` (state-dict) order. */
  readonly variables: tf.Variable[];
  private readonly trained: Map<string, tf.Variable>;

  constructor(
    readonly base: LoadedModel,
    private readonly objective: LmObjective,
    private readonly baseFiles: Record<string, Uint8Array>,
  ) {
    this.names = base.info.params.map((p) => p.name);
    this.trained = trainableCopies(base, this.names);
    this.variables = [...this.trained.values()];
  }

  /** The trained tensor for every parameter the forward reads; no dropout of its own, so the same hooks train and evaluate. */
  hooks(): Hooks {
    return { param: (name, frozen) => this.trained.get(name) ?? frozen };
  }

  spec(evalBatches: TokenBatch[]): TrainingSpec {
    const hooks = this.hooks();
    return {
      variables: this.variables,
      // Decoupled weight decay on matrices and embeddings only; biases and LayerNorm gains are
      // not pulled toward 0 (the pretrained values are near 1 or a learned offset).
      decay: this.variables.map((v) => v.rank >= 2),
      stepLoss: (batch, step) => () => ({ total: this.objective.batchLoss(this.base, hooks, batch, true, { step }).loss }),
      evaluate: (skip) => evaluate(this.base, hooks, evalBatches, this.objective, skip),
      noun: 'fine-tuned model',
    };
  }

  generator(): { model: LoadedModel; hooks: Hooks } {
    return { model: this.base, hooks: this.hooks() };
  }

  /** The trained state dict under the base model's names (a tied head once, as the base ships it). */
  mergedWeights(): ReturnType<typeof stateDict> {
    return stateDict(this.base.info, (name) => this.trained.get(name));
  }

  /** The base's config.json unchanged: the fine-tuned model has the base's shape. */
  async exportFiles() {
    const config = this.baseFiles['config.json'] ?? new TextEncoder().encode(JSON.stringify(this.base.info.config.raw, null, 2) + '\n');
    return checkpointFiles(`${this.base.info.name}-${FULL_FINETUNE_ID}`, config, await this.mergedWeights(), this.baseFiles);
  }

  dispose(): void {
    for (const v of this.trained.values()) v.dispose();
    this.trained.clear();
  }
}

/**
 * The parameters a sequence classifier on `info` reads of the base model, in `info.params`
 * order: every one under the family's base model prefix, the language-model head left out.
 */
export function classifierBody(info: ModelInfo): { name: string; shape: number[] }[] {
  const prefix = backbonePrefix(info);
  return info.params.filter((p) => p.name.startsWith(prefix));
}

/** A sequence classifier fully fine-tuned: the body's every weight and a fresh head train on the labels. */
export class FineTunedClassifier implements Trained {
  readonly output = 'model' as const;
  /** A classifier has no language-model head to merge into. */
  readonly mergeable = false;
  /** The body's names in `info.params` order, then the head's. */
  readonly names: string[];
  /** The body's variables, then the head's, in `names` order. */
  readonly variables: tf.Variable[];
  private readonly trained: Map<string, tf.Variable>;

  /** `head` is owned from here on; `labels` are the dataset's label names by id. */
  constructor(
    readonly base: LoadedModel,
    readonly head: SequenceClassifier,
    private readonly labels: string[],
    private readonly baseFiles: Record<string, Uint8Array>,
  ) {
    if (labels.length !== head.numLabels) throw new Error(`the head has ${head.numLabels} outputs for ${labels.length} labels`);
    const body = classifierBody(base.info).map((p) => p.name);
    this.trained = trainableCopies(base, body);
    this.names = [...body, ...head.params.map((p) => p.name)];
    this.variables = [...this.trained.values(), ...head.variables];
  }

  /** The body's trained tensors; the language-model head (still computed by the forward) stays frozen. */
  hooks(): Hooks {
    return { param: (name, frozen) => this.trained.get(name) ?? frozen };
  }

  spec(evalBatches: TokenBatch[]): TrainingSpec {
    const hooks = this.hooks();
    // Decay as the language-model run decays: weight matrices and embeddings, not biases or gains.
    const body = { variables: [...this.trained.values()], hooks: () => hooks, decay: [...this.trained.values()].map((v) => v.rank >= 2) };
    return classifierSpec(this.base, body, this.head, evalBatches, 'fine-tuned classifier');
  }

  /** Text from the fine-tuned body through the base's own (untrained) language-model head. */
  generator(): { model: LoadedModel; hooks: Hooks } {
    return { model: this.base, hooks: this.hooks() };
  }

  /**
   * config.json: the base's, naming the family's *ForSequenceClassification class and the
   * labels (transformers counts num_labels from id2label). A decoder's head reads the last
   * token that is not padding, found by config.pad_token_id, so that is the id the batches
   * were padded with.
   */
  config(): Record<string, unknown> {
    const raw = this.base.info.config.raw;
    const spec = this.head.spec;
    return {
      ...raw,
      architectures: [spec.className],
      id2label: Object.fromEntries(this.labels.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(this.labels.map((l, i) => [l, i])),
      ...(spec.pooling === 'last-token' ? { pad_token_id: this.head.padId } : {}),
    };
  }

  async exportFiles() {
    const body = await stateDict({ ...this.base.info, params: classifierBody(this.base.info) }, (name) => this.trained.get(name));
    const weights: StateTensor[] = [...body, ...(await this.head.tensors())];
    const config = new TextEncoder().encode(JSON.stringify(this.config(), null, 2) + '\n');
    return checkpointFiles(`${this.base.info.name}-${FULL_FINETUNE_ID}-classifier`, config, weights, this.baseFiles);
  }

  dispose(): void {
    for (const v of this.trained.values()) v.dispose();
    this.trained.clear();
    this.head.dispose();
  }
}

/**
 * Every parameter trains: trainable = total = the model's parameter count, tied heads once. A
 * classifier is the body and its head, as AutoModelForSequenceClassification counts them.
 */
function plan(info: ModelInfo, classification?: ClassificationPlan) {
  const params = classification ? classifierBody(info) : info.params;
  const tensors = params.map((p) => ({ name: p.name, shape: [...p.shape] }));
  if (classification) tensors.push(...classifierPlan(info, classification.numLabels).tensors);
  const count = tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  return { output: 'model' as const, trainable: count, total: count, tensors };
}

export const fullFineTuning: RunKind<FullFineTuneConfig> = {
  id: FULL_FINETUNE_ID,
  label: 'Full fine-tuning',
  summary:
    'Trains every weight of the model: the baseline the PEFT methods are measured against. Costs gradients and AdamW state for every parameter; exports a complete checkpoint.',
  paper: { title: 'BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding (Devlin et al. 2018)', url: 'https://arxiv.org/abs/1810.04805' },
  output: 'model',
  comparable: true,
  fields: () => [],
  defaults: () => ({}),
  unsupported: () => undefined,
  validate: () => {},
  positionsUsed: () => 0,
  plan: (info, _c, classification) => plan(info, classification),
  create: (base, _c, seed, ctx) => {
    if (ctx.classification) {
      checkEmbeddingGradients();
      const { labels, padId } = ctx.classification;
      const head = SequenceClassifier.seeded(base.info, labels.length, padId, seed);
      try {
        return new FineTunedClassifier(base, head, labels, ctx.baseFiles);
      } catch (e) {
        head.dispose();
        throw e;
      }
    }
    // Refusals first, before a copy of every weight is allocated: a masked LM whose tokenizer
    // has no mask token, a backend that cannot compute the embeddings' gradient.
    const objective = objectiveFor(base.info, ctx.tokenizer, seed);
    checkEmbeddingGradients();
    return new FineTunedModel(base, objective, ctx.baseFiles);
  },
};
