// Prompt tuning: The Power of Scale for Parameter-Efficient Prompt Tuning (Lester et al. 2021,
// arXiv 2104.08691).
//
// A soft prompt P ∈ ℝ^{n×d} — n "virtual tokens" living in the model's embedding space — is
// prepended to the token embeddings of every sequence:
//     inputs_embeds = [P ; wte[ids]]            (positions 0..n−1 go to the virtual tokens)
// and only P trains. Hugging Face PEFT's PromptEmbedding is an nn.Embedding(n, d), so its
// RANDOM init is PyTorch's N(0, 1); TEXT copies the word embeddings of the tokenised init
// text, repeated and cut to n; SAMPLE_VOCAB copies the embeddings of n tokens drawn uniformly
// from the vocabulary. The attention mask gains n ones in front and the labels n ignored
// entries, so the last virtual position predicts the first real token (src/train/loss.ts).
//
// Saved as PEFT's PROMPT_TUNING: `prompt_embeddings` [n, d] and the PromptTuningConfig keys.
// validateVirtualTokens and prependVirtualTokens are exported: P-tuning (p-tuning.ts) checks and
// prepends its virtual tokens the same way. The prompt-learning parts of the PEFT files, which
// P-tuning shares, are in src/export/peft-files.ts.
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../data/random';
import {
  ADAPTER_CONFIG,
  type JsonValue,
  peftTaskType,
  peftTypeOf,
  PROMPT_EMBEDDINGS,
  promptLearningDims,
  readPromptEmbeddings,
  readPromptLearningConfig,
  writePeftAdapter,
} from '../export/peft-files';
import type { Hooks, LoadedModel, ModelInfo } from '../models/types';
import { ownedVariable } from '../train/variable';
import type { Adapter, CreateContext, ExportedFiles, FieldSpec, PeftMethod, Plan } from './types';

// Config: the settings, their defaults and form fields, validation and the plan.

export type PromptTuningInit = 'RANDOM' | 'TEXT' | 'SAMPLE_VOCAB';
const INITS: PromptTuningInit[] = ['RANDOM', 'TEXT', 'SAMPLE_VOCAB'];

export interface PromptTuningConfig {
  num_virtual_tokens: number;
  prompt_tuning_init: PromptTuningInit;
  /** Only read when prompt_tuning_init is TEXT. */
  prompt_tuning_init_text: string;
}

/** n virtual tokens must be a whole number and leave at least one position of the context for text. */
export function validateVirtualTokens(info: ModelInfo, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`num_virtual_tokens must be a positive integer (got ${n})`);
  if (n >= info.config.maxPositions) {
    throw new Error(`num_virtual_tokens: ${n} virtual tokens leave no room for text in ${info.name}'s context of ${info.config.maxPositions} positions`);
  }
}

function defaults(): PromptTuningConfig {
  // PEFT's num_virtual_tokens has no default (it must be given); 20 is the studio's choice.
  return { num_virtual_tokens: 20, prompt_tuning_init: 'RANDOM', prompt_tuning_init_text: '' };
}

function fields(model: ModelInfo): FieldSpec[] {
  return [
    {
      key: 'num_virtual_tokens',
      label: 'Virtual tokens',
      kind: 'number',
      min: 1,
      max: model.config.maxPositions - 1,
      step: 1,
      integer: true,
      help: 'How many trainable embeddings are put in front of every input (PEFT has no default; the studio starts at 20). They take positions of the context.',
    },
    {
      key: 'prompt_tuning_init',
      label: 'Initialisation',
      kind: 'select',
      options: [
        { value: 'RANDOM', label: 'Random, N(0, 1)' },
        { value: 'TEXT', label: 'From text' },
        { value: 'SAMPLE_VOCAB', label: 'Random vocabulary tokens' },
      ],
      help: 'RANDOM draws each value from N(0, 1), as PyTorch initialises an embedding; TEXT copies the embeddings of the init text’s tokens; SAMPLE_VOCAB copies those of random tokens.',
    },
    {
      key: 'prompt_tuning_init_text',
      label: 'Init text',
      kind: 'text',
      help: 'Used when the initialisation is “From text”: its tokens’ embeddings are repeated or cut to the number of virtual tokens.',
    },
  ];
}

function validate(model: ModelInfo, c: PromptTuningConfig): void {
  validateVirtualTokens(model, c.num_virtual_tokens);
  if (!INITS.includes(c.prompt_tuning_init)) {
    throw new Error(`prompt_tuning_init must be one of ${INITS.join(', ')} (got ${JSON.stringify(c.prompt_tuning_init)})`);
  }
  if (c.prompt_tuning_init === 'TEXT' && !(typeof c.prompt_tuning_init_text === 'string' && c.prompt_tuning_init_text.length > 0)) {
    throw new Error('prompt_tuning_init_text: give a text to initialise from (prompt_tuning_init is TEXT)');
  }
}

function plan(model: ModelInfo, c: PromptTuningConfig): Plan {
  validate(model, c);
  const shape = [c.num_virtual_tokens, model.config.hiddenSize];
  const trainable = shape[0] * shape[1];
  // PEFT's in-memory name, less the adapter name (prompt_encoder.default.embedding.weight).
  return { trainable, total: model.totalParams + trainable, tensors: [{ name: 'prompt_encoder.embedding.weight', shape }] };
}

function positionsUsed(c: PromptTuningConfig): number {
  return c.num_virtual_tokens;
}

// Adapter: the soft prompt, its initialisation and the prepending.

/** [P ; e] for every row of the batch: `prompt` [n, d], `e` [B, T, d] → [B, n+T, d]. */
export function prependVirtualTokens(prompt: tf.Tensor2D, e: tf.Tensor3D): tf.Tensor3D {
  const [B] = e.shape;
  const [n, d] = prompt.shape;
  // PEFT computes one prompt and repeats it over the batch (peft_model.get_prompt).
  const rows = tf.tile(tf.reshape(prompt, [1, n, d]), [B, 1, 1]);
  return tf.concat([rows, e], 1) as tf.Tensor3D;
}

/** The word-embedding matrix, found as PEFT finds it: the first parameter with vocab_size rows. */
function wordEmbeddings(model: LoadedModel): tf.Tensor2D {
  const { vocabSize } = model.info.config;
  const p = model.info.params.find((x) => x.shape.length === 2 && x.shape[0] === vocabSize);
  const t = p && model.weights.get(p.name);
  if (!t) throw new Error(`${model.info.name} has no word-embedding matrix with ${vocabSize} rows`);
  return t as tf.Tensor2D;
}

/**
 * PEFT's TEXT rule (PromptEmbedding.__init__): cut the ids to n when longer; when shorter,
 * repeat the whole list ceil(n / len) times, then cut to n.
 */
export function initTokenIds(ids: number[], n: number): number[] {
  if (ids.length === 0) throw new Error('prompt_tuning_init_text: the init text gives no tokens');
  if (ids.length >= n) return ids.slice(0, n);
  const reps = Math.ceil(n / ids.length);
  return Array.from({ length: reps }, () => ids).flat().slice(0, n);
}

/** What the export writes besides the tensor; a loaded adapter keeps the file's values. */
interface PromptTuningMeta {
  init: PromptTuningInit;
  initText: string | null;
  tokenizerName: string | null;
}

class PromptTuningAdapter implements Adapter {
  readonly variables: tf.Variable[];

  constructor(
    private readonly model: LoadedModel,
    /** The soft prompt P [n, d]: the only trainable tensor. */
    readonly prompt: tf.Variable<tf.Rank.R2>,
    private readonly meta: PromptTuningMeta,
  ) {
    this.variables = [prompt];
  }

  hooks(): Hooks {
    // No dropout or other train-only behaviour: PEFT's PromptEmbedding is a bare lookup.
    return { inputEmbeds: (e) => prependVirtualTokens(this.prompt, e) };
  }

  exportFiles() {
    return writeFiles(this.model.info, this.prompt, this.meta);
  }

  dispose(): void {
    this.prompt.dispose();
  }
}

/** The initial soft prompt [n, d] for `c`, seeded. */
function initialPrompt(model: LoadedModel, c: PromptTuningConfig, seed: number, ctx?: CreateContext): tf.Tensor2D {
  const n = c.num_virtual_tokens;
  const d = model.info.config.hiddenSize;
  if (c.prompt_tuning_init === 'RANDOM') return tf.randomNormal([n, d], 0, 1, 'float32', seed);
  let ids: number[];
  if (c.prompt_tuning_init === 'TEXT') {
    if (!ctx?.tokenizer) throw new Error('prompt_tuning_init: TEXT needs the model\'s tokenizer to tokenise the init text');
    ids = initTokenIds(ctx.tokenizer.encode(c.prompt_tuning_init_text), n);
  } else {
    // SAMPLE_VOCAB: torch.randint(0, vocab_size, (n,)) in PEFT; here a seeded uniform draw.
    const rand = mulberry32(seed);
    ids = Array.from({ length: n }, () => Math.floor(rand() * model.info.config.vocabSize));
  }
  const vocab = model.info.config.vocabSize;
  const bad = ids.find((id) => !(Number.isInteger(id) && id >= 0 && id < vocab));
  if (bad !== undefined) throw new Error(`prompt_tuning_init_text: token id ${bad} is outside ${model.info.name}'s vocabulary of ${vocab}`);
  return tf.tidy(() => tf.gather(wordEmbeddings(model), tf.tensor1d(ids, 'int32')) as tf.Tensor2D);
}

function create(model: LoadedModel, c: PromptTuningConfig, seed: number, ctx?: CreateContext): Adapter {
  validate(model.info, c);
  const prompt = ownedVariable(initialPrompt(model, c, seed, ctx)) as tf.Variable<tf.Rank.R2>;
  const text = c.prompt_tuning_init === 'TEXT';
  return new PromptTuningAdapter(model, prompt, {
    init: c.prompt_tuning_init,
    initText: text ? c.prompt_tuning_init_text : null,
    // PEFT refuses a TEXT config without a tokenizer; the base model's own is the one used.
    tokenizerName: text ? model.info.name : null,
  });
}

// File format: Hugging Face PEFT's PROMPT_TUNING adapter (src/export/peft-files.ts).

async function writeFiles(info: ModelInfo, prompt: tf.Variable<tf.Rank.R2>, meta: PromptTuningMeta): Promise<ExportedFiles> {
  const [n] = prompt.shape;
  const config: Record<string, JsonValue> = {
    ...promptLearningDims(info),
    auto_mapping: null,
    base_model_name_or_path: info.name,
    inference_mode: true,
    modules_to_save: null,
    num_virtual_tokens: n,
    peft_type: 'PROMPT_TUNING',
    prompt_tuning_init: meta.init,
    prompt_tuning_init_text: meta.initText,
    revision: null,
    task_type: peftTaskType(info),
    tokenizer_kwargs: null,
    tokenizer_name_or_path: meta.tokenizerName,
  };
  const data = (await prompt.data()) as Float32Array;
  const files = writePeftAdapter(config, [{ name: PROMPT_EMBEDDINGS, shape: [...prompt.shape], data }]);
  return { baseName: `${info.name}-prompt-tuning`, files };
}

function recognizes(files: Record<string, Uint8Array>): boolean {
  return peftTypeOf(files) === 'PROMPT_TUNING';
}

function load(model: LoadedModel, files: Record<string, Uint8Array>): Adapter {
  const { config, tensors, n } = readPromptLearningConfig(model.info, files, 'PROMPT_TUNING');
  validateVirtualTokens(model.info, n);
  const init = config.prompt_tuning_init ?? 'RANDOM';
  if (typeof init !== 'string' || !INITS.includes(init as PromptTuningInit)) {
    throw new Error(`${ADAPTER_CONFIG}: "prompt_tuning_init" is ${JSON.stringify(init)}, expected one of ${INITS.join(', ')}`);
  }
  const data = readPromptEmbeddings(model.info, tensors, n);
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const prompt = ownedVariable(tf.tensor2d(data, [n, model.info.config.hiddenSize])) as tf.Variable<tf.Rank.R2>;
  return new PromptTuningAdapter(model, prompt, {
    init: init as PromptTuningInit,
    initText: str(config.prompt_tuning_init_text),
    tokenizerName: str(config.tokenizer_name_or_path),
  });
}

export const promptTuning: PeftMethod<PromptTuningConfig> = {
  id: 'prompt-tuning',
  label: 'Prompt tuning',
  summary: 'Learns a few virtual-token embeddings prepended to every input; the whole model stays frozen.',
  paper: { title: 'The Power of Scale for Parameter-Efficient Prompt Tuning (Lester et al. 2021)', url: 'https://arxiv.org/abs/2104.08691' },
  defaults,
  fields,
  validate,
  plan,
  create,
  positionsUsed,
  recognizes,
  load,
};
