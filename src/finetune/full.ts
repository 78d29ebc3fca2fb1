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
import * as tf from '@tensorflow/tfjs';
import { checkEmbeddingGradients } from '../backend/wasm-kernels';
import { checkpointFiles, stateDict } from '../export/checkpoint';
import type { Hooks, LoadedModel, ModelInfo } from '../models/types';
import { objectiveFor, type LmObjective } from '../train/objective';
import type { RunKind, Trained } from '../train/run-kind';
import { evaluate, type TokenBatch, type TrainingSpec } from '../train/trainer';
import { ownedVariable } from '../train/variable';

/** The id full fine-tuning goes by in the Method select and in run messages. */
export const FULL_FINETUNE_ID = 'full-finetune';

/** Full fine-tuning has no settings of its own: the training settings are all it takes. */
export type FullFineTuneConfig = Record<string, never>;

/** The base model with every parameter trainable, read through the `param` hook. */
export class FineTunedModel implements Trained {
  readonly output = 'model' as const;
  /** Its weights are already whole: `mergedWeights` is the trained state dict. */
  readonly mergeable = true;
  readonly names: string[];
  /** One variable per parameter, in `info.params` (state-dict) order. */
  readonly variables: tf.Variable[];
  private readonly trained = new Map<string, tf.Variable>();

  constructor(
    readonly base: LoadedModel,
    private readonly objective: LmObjective,
    private readonly baseFiles: Record<string, Uint8Array>,
  ) {
    const info = base.info;
    this.names = info.params.map((p) => p.name);
    try {
      for (const { name } of info.params) {
        const frozen = base.weights.get(name);
        if (!frozen) throw new Error(`${info.name} has no weight "${name}"`);
        // tf.clone shares the frozen buffer (reference-counted, no read-back, so it works on
        // WebGPU too); the optimizer's assign() swaps in a new buffer and never writes into
        // the base model's.
        this.trained.set(name, ownedVariable(tf.clone(frozen)));
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
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
      evaluate: () => evaluate(this.base, hooks, evalBatches, this.objective),
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

/** Every parameter trains: trainable = total = the model's parameter count, tied heads once. */
function plan(info: ModelInfo) {
  const tensors = info.params.map((p) => ({ name: p.name, shape: [...p.shape] }));
  return { output: 'model' as const, trainable: info.totalParams, total: info.totalParams, tensors };
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
  plan: (info) => plan(info),
  create: (base, _c, seed, ctx) => {
    // Refusals first, before a copy of every weight is allocated: a masked LM whose tokenizer
    // has no mask token, a backend that cannot compute the embeddings' gradient.
    const objective = objectiveFor(base.info, ctx.tokenizer, seed);
    checkEmbeddingGradients();
    return new FineTunedModel(base, objective, ctx.baseFiles);
  },
};
