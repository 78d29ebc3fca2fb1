// P-tuning: GPT Understands, Too (Liu et al. 2021, arXiv 2103.10385).
//
// Like prompt tuning, n virtual tokens are prepended to the token embeddings, but they are not
// trained directly: a prompt encoder produces them from trainable embeddings E ∈ ℝ^{n×d},
//     P = encoder(E),   inputs_embeds = [P ; wte[ids]]
// so the virtual tokens depend on each other and train more stably. The encoder follows
// Hugging Face PEFT's PromptEncoder exactly (h = encoder_hidden_size, default d):
//   MLP  (default): Linear(d, h) → ReLU → Linear(h, h) → ReLU → Linear(h, d). PEFT always
//        uses these three layers and no dropout; encoder_num_layers and encoder_dropout are
//        ignored, as PEFT ignores them.
//   LSTM: a bidirectional LSTM (encoder_num_layers layers, hidden size h, dropout
//        encoder_dropout between layers while training, as torch.nn.LSTM) over E, then
//        Linear(2h, 2h) → ReLU → Linear(2h, d).
// Init as PyTorch: E ~ N(0, 1) (nn.Embedding); every Linear weight and bias U(±1/√fan_in);
// every LSTM weight and bias U(±1/√h). Tensor names and layouts are PyTorch's ([out, in]
// weights, LSTM gates stacked i, f, g, o) so plan counts and names match PEFT's.
//
// PEFT saves only the encoder's output P as `prompt_embeddings` [n, d] (the encoder is not in
// the file), and loads it in inference mode as a fixed prompt (PEFT refuses is_trainable=True
// for prompt-learning adapters). So does the studio: an imported P-tuning adapter is the saved
// virtual tokens and nothing else, and it says so (`notice`). Its one tensor is still a
// tf.Variable so the adapter's parameters are counted like any other import's.
import * as tf from '@tensorflow/tfjs';
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
import { prependVirtualTokens, validateVirtualTokens } from './prompt-tuning';
import type { Adapter, ExportedFiles, FieldSpec, PeftMethod, Plan, TensorPlan } from './types';

// Config: the settings, their defaults and form fields, validation and the plan.

export type EncoderType = 'MLP' | 'LSTM';
const ENCODERS: EncoderType[] = ['MLP', 'LSTM'];

export interface PTuningConfig {
  num_virtual_tokens: number;
  encoder_reparameterization_type: EncoderType;
  encoder_hidden_size: number;
  /** LSTM layers; PEFT ignores it for the MLP (always three linear layers). */
  encoder_num_layers: number;
  /** Dropout between LSTM layers while training; PEFT ignores it for the MLP. */
  encoder_dropout: number;
}

/** PEFT's PromptEncoderConfig default for encoder_num_layers. */
const DEFAULT_ENCODER_LAYERS = 2;

/**
 * Every trainable tensor of PEFT's PromptEncoder, in its named_parameters order, named as PEFT
 * names them inside `prompt_encoder.default.` (embedding, lstm_head, mlp_head).
 */
export function encoderTensors(model: ModelInfo, c: PTuningConfig): TensorPlan[] {
  const d = model.config.hiddenSize;
  const h = c.encoder_hidden_size;
  const out: TensorPlan[] = [{ name: 'embedding.weight', shape: [c.num_virtual_tokens, d] }];
  const linear = (name: string, inF: number, outF: number) => {
    out.push({ name: `${name}.weight`, shape: [outF, inF] }, { name: `${name}.bias`, shape: [outF] });
  };
  if (c.encoder_reparameterization_type === 'MLP') {
    linear('mlp_head.0', d, h);
    linear('mlp_head.2', h, h);
    linear('mlp_head.4', h, d);
    return out;
  }
  for (let l = 0; l < c.encoder_num_layers; l++) {
    // Layers above the first read both directions' outputs.
    const inF = l === 0 ? d : 2 * h;
    for (const dir of ['', '_reverse']) {
      out.push(
        { name: `lstm_head.weight_ih_l${l}${dir}`, shape: [4 * h, inF] },
        { name: `lstm_head.weight_hh_l${l}${dir}`, shape: [4 * h, h] },
        { name: `lstm_head.bias_ih_l${l}${dir}`, shape: [4 * h] },
        { name: `lstm_head.bias_hh_l${l}${dir}`, shape: [4 * h] },
      );
    }
  }
  linear('mlp_head.0', 2 * h, 2 * h);
  linear('mlp_head.2', 2 * h, d);
  return out;
}

function defaults(model: ModelInfo): PTuningConfig {
  // PEFT: MLP, encoder_hidden_size = token_dim, 2 layers, no dropout. num_virtual_tokens has
  // no PEFT default; 20 is the studio's choice (as for prompt tuning).
  return {
    num_virtual_tokens: 20,
    encoder_reparameterization_type: 'MLP',
    encoder_hidden_size: model.config.hiddenSize,
    encoder_num_layers: DEFAULT_ENCODER_LAYERS,
    encoder_dropout: 0,
  };
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
      help: 'How many virtual tokens the encoder produces in front of every input (PEFT has no default; the studio starts at 20). They take positions of the context.',
    },
    {
      key: 'encoder_reparameterization_type',
      label: 'Prompt encoder',
      kind: 'select',
      options: [
        { value: 'MLP', label: 'MLP (3 linear layers)' },
        { value: 'LSTM', label: 'Bidirectional LSTM + MLP' },
      ],
      help: 'MLP: Linear → ReLU → Linear → ReLU → Linear. LSTM: a bidirectional LSTM, then Linear → ReLU → Linear.',
    },
    {
      key: 'encoder_hidden_size',
      label: 'Encoder hidden size',
      kind: 'number',
      min: 1,
      step: 1,
      integer: true,
      help: `Width of the encoder's hidden layers (PEFT's default is the model's hidden size, ${model.config.hiddenSize}).`,
    },
    {
      key: 'encoder_num_layers',
      label: 'LSTM layers',
      kind: 'number',
      min: 1,
      max: 8,
      step: 1,
      integer: true,
      help: 'Stacked LSTM layers. LSTM only: PEFT ignores it for the MLP, which always has three layers.',
    },
    {
      key: 'encoder_dropout',
      label: 'LSTM dropout',
      kind: 'number',
      min: 0,
      max: 0.99,
      step: 0.05,
      help: 'Dropout between LSTM layers while training. LSTM only: PEFT ignores it for the MLP.',
    },
  ];
}

function validate(model: ModelInfo, c: PTuningConfig): void {
  validateVirtualTokens(model, c.num_virtual_tokens);
  if (!ENCODERS.includes(c.encoder_reparameterization_type)) {
    throw new Error(`encoder_reparameterization_type must be MLP or LSTM (got ${JSON.stringify(c.encoder_reparameterization_type)})`);
  }
  if (!Number.isInteger(c.encoder_hidden_size) || c.encoder_hidden_size < 1) throw new Error(`encoder_hidden_size must be a positive integer (got ${c.encoder_hidden_size})`);
  if (!Number.isInteger(c.encoder_num_layers) || c.encoder_num_layers < 1) throw new Error(`encoder_num_layers must be a positive integer (got ${c.encoder_num_layers})`);
  if (!(c.encoder_dropout >= 0 && c.encoder_dropout < 1)) throw new Error(`encoder_dropout must be in [0, 1) (got ${c.encoder_dropout})`);
}

function plan(model: ModelInfo, c: PTuningConfig): Plan {
  validate(model, c);
  const tensors = encoderTensors(model, c).map((t) => ({ name: `prompt_encoder.${t.name}`, shape: t.shape }));
  const trainable = tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  return { trainable, total: model.totalParams + trainable, tensors };
}

function positionsUsed(c: PTuningConfig): number {
  return c.num_virtual_tokens;
}

// Adapter: the prompt encoder, its math, and the virtual tokens it prepends.

type Params = ReadonlyMap<string, tf.Tensor>;

function param(p: Params, name: string): tf.Tensor {
  const t = p.get(name);
  if (!t) throw new Error(`P-tuning encoder: tensor "${name}" is missing`);
  return t;
}

/** torch.nn.Linear: x·Wᵀ + b with W stored [out, in]. */
function linear(p: Params, name: string, x: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(x, param(p, `${name}.weight`), false, true), param(p, `${name}.bias`));
}

/**
 * One direction of one torch.nn.LSTM layer over x [n, in] → [n, h], from zero state:
 *   [i f g o] = x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh
 *   c_t = σ(f)·c_{t−1} + σ(i)·tanh(g),   h_t = σ(o)·tanh(c_t)
 * The reverse direction runs t = n−1 … 0 and writes h_t at position t.
 */
function lstmDirection(p: Params, suffix: string, x: tf.Tensor2D, h: number, reverse: boolean): tf.Tensor2D {
  const n = x.shape[0];
  const wHh = param(p, `lstm_head.weight_hh_${suffix}`);
  // The input projection of every step at once; only the recurrent part is sequential.
  const xw = tf.add(tf.add(tf.matMul(x, param(p, `lstm_head.weight_ih_${suffix}`), false, true), param(p, `lstm_head.bias_ih_${suffix}`)), param(p, `lstm_head.bias_hh_${suffix}`));
  let hPrev: tf.Tensor2D = tf.zeros([1, h]);
  let cPrev: tf.Tensor2D = tf.zeros([1, h]);
  const outputs: tf.Tensor2D[] = new Array(n);
  for (let k = 0; k < n; k++) {
    const t = reverse ? n - 1 - k : k;
    const gates = tf.add(tf.slice(xw, [t, 0], [1, 4 * h]), tf.matMul(hPrev, wHh, false, true));
    const [i, f, g, o] = tf.split(gates, 4, 1);
    cPrev = tf.add(tf.mul(tf.sigmoid(f), cPrev), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    hPrev = tf.mul(tf.sigmoid(o), tf.tanh(cPrev));
    outputs[t] = hPrev;
  }
  return tf.concat(outputs, 0);
}

/**
 * PEFT's PromptEncoder.forward over the n virtual-token embeddings → the virtual tokens [n, d].
 * `training` turns on the LSTM's between-layer dropout (the MLP has none).
 */
export function encodePrompt(p: Params, c: PTuningConfig, training: boolean): tf.Tensor2D {
  const E = param(p, 'embedding.weight') as tf.Tensor2D;
  if (c.encoder_reparameterization_type === 'MLP') {
    const a = tf.relu(linear(p, 'mlp_head.0', E));
    const b = tf.relu(linear(p, 'mlp_head.2', a));
    return linear(p, 'mlp_head.4', b);
  }
  const h = c.encoder_hidden_size;
  let x = E;
  for (let l = 0; l < c.encoder_num_layers; l++) {
    // torch.nn.LSTM applies `dropout` to every layer's output except the last, in training only.
    if (l > 0 && training && c.encoder_dropout > 0) x = tf.dropout(x, c.encoder_dropout) as tf.Tensor2D;
    x = tf.concat([lstmDirection(p, `l${l}`, x, h, false), lstmDirection(p, `l${l}_reverse`, x, h, true)], 1);
  }
  return linear(p, 'mlp_head.2', tf.relu(linear(p, 'mlp_head.0', x)));
}

/** Where the virtual tokens come from: the trainable encoder, or the saved prompt read from a file. */
type PromptSource = { kind: 'encoder'; params: Map<string, tf.Variable> } | { kind: 'fixed'; prompt: tf.Variable<tf.Rank.R2> };

export class PTuningAdapter implements Adapter {
  readonly variables: tf.Variable[];
  /** Set on an imported adapter: what the studio restored, for the page to show. */
  readonly notice?: string;

  constructor(
    private readonly model: LoadedModel,
    private readonly config: PTuningConfig,
    private readonly source: PromptSource,
  ) {
    this.variables = source.kind === 'encoder' ? [...source.params.values()] : [source.prompt];
    if (source.kind === 'fixed') {
      this.notice =
        `This P-tuning file holds only the prompt encoder's output (PEFT saves no more): its ${config.num_virtual_tokens} virtual tokens ` +
        `were restored as a fixed prompt. The ${config.encoder_reparameterization_type} encoder that produced them is not in the file, ` +
        'so P-tuning cannot resume from it; training starts a new encoder.';
    }
  }

  /** PEFT-named encoder tensors (`embedding.weight`, `mlp_head.0.weight`, …); empty for a fixed prompt. */
  get params(): ReadonlyMap<string, tf.Variable> {
    return this.source.kind === 'encoder' ? this.source.params : new Map();
  }

  /** The virtual tokens [n, d]. A fixed prompt is returned as is (callers must not dispose it). */
  prompt(training: boolean): tf.Tensor2D {
    return this.source.kind === 'fixed' ? this.source.prompt : encodePrompt(this.source.params, this.config, training);
  }

  hooks(training: boolean): Hooks {
    return { inputEmbeds: (e) => prependVirtualTokens(this.prompt(training), e) };
  }

  async exportFiles() {
    // What PEFT's save_pretrained writes for P_TUNING: the encoder's (eval-mode) output.
    const out = tf.tidy(() => tf.clone(this.prompt(false)));
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return writeFiles(this.model.info, this.config, data);
  }

  dispose(): void {
    if (this.source.kind === 'fixed') this.source.prompt.dispose();
    else for (const v of this.source.params.values()) v.dispose();
  }
}

function create(model: LoadedModel, c: PTuningConfig, seed: number): Adapter {
  validate(model.info, c);
  const params = new Map<string, tf.Variable>();
  const lstmBound = 1 / Math.sqrt(c.encoder_hidden_size);
  encoderTensors(model.info, c).forEach(({ name, shape }, i) => {
    let init: tf.Tensor;
    if (name === 'embedding.weight') init = tf.randomNormal(shape, 0, 1, 'float32', seed);
    else if (name.startsWith('lstm_head.')) init = tf.randomUniform(shape, -lstmBound, lstmBound, 'float32', seed + i);
    else {
      // nn.Linear: kaiming_uniform_(a=√5) on the weight gives U(±1/√fan_in); the bias the same bound.
      const fanIn = params.get(name.replace(/\.bias$/, '.weight'))?.shape[1] ?? shape[1];
      const bound = 1 / Math.sqrt(fanIn);
      init = tf.randomUniform(shape, -bound, bound, 'float32', seed + i);
    }
    params.set(name, ownedVariable(init));
  });
  return new PTuningAdapter(model, { ...c }, { kind: 'encoder', params });
}

// File format: Hugging Face PEFT's P_TUNING adapter (src/export/peft-files.ts).

async function writeFiles(info: ModelInfo, c: PTuningConfig, prompt: Float32Array): Promise<ExportedFiles> {
  const config: Record<string, JsonValue> = {
    ...promptLearningDims(info),
    auto_mapping: null,
    base_model_name_or_path: info.name,
    encoder_dropout: c.encoder_dropout,
    encoder_hidden_size: c.encoder_hidden_size,
    encoder_num_layers: c.encoder_num_layers,
    encoder_reparameterization_type: c.encoder_reparameterization_type,
    inference_mode: true,
    modules_to_save: null,
    num_virtual_tokens: c.num_virtual_tokens,
    peft_type: 'P_TUNING',
    revision: null,
    task_type: peftTaskType(info),
  };
  const files = writePeftAdapter(config, [{ name: PROMPT_EMBEDDINGS, shape: [c.num_virtual_tokens, info.config.hiddenSize], data: prompt }]);
  return { baseName: `${info.name}-p-tuning`, files };
}

function recognizes(files: Record<string, Uint8Array>): boolean {
  return peftTypeOf(files) === 'P_TUNING';
}

function load(model: LoadedModel, files: Record<string, Uint8Array>): Adapter {
  const { config, tensors, n } = readPromptLearningConfig(model.info, files, 'P_TUNING');
  validateVirtualTokens(model.info, n);
  const type = config.encoder_reparameterization_type ?? 'MLP';
  if (typeof type !== 'string' || !ENCODERS.includes(type as EncoderType)) {
    throw new Error(`${ADAPTER_CONFIG}: "encoder_reparameterization_type" is ${JSON.stringify(type)}, expected "MLP" or "LSTM"`);
  }
  const num = (key: string, fallback: number) => {
    const v = config[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${ADAPTER_CONFIG}: "${key}" is ${JSON.stringify(v)}, expected a number`);
    return v;
  };
  const c: PTuningConfig = {
    num_virtual_tokens: n,
    encoder_reparameterization_type: type as EncoderType,
    encoder_hidden_size: num('encoder_hidden_size', model.info.config.hiddenSize),
    encoder_num_layers: num('encoder_num_layers', DEFAULT_ENCODER_LAYERS),
    encoder_dropout: num('encoder_dropout', 0),
  };
  validate(model.info, c);
  const data = readPromptEmbeddings(model.info, tensors, n);
  const prompt = ownedVariable(tf.tensor2d(data, [n, model.info.config.hiddenSize])) as tf.Variable<tf.Rank.R2>;
  return new PTuningAdapter(model, c, { kind: 'fixed', prompt });
}

export const pTuning: PeftMethod<PTuningConfig> = {
  id: 'p-tuning',
  label: 'P-tuning',
  summary: 'Virtual tokens produced by a small prompt encoder (MLP or LSTM) are prepended to every input; the model stays frozen.',
  paper: { title: 'GPT Understands, Too (Liu et al. 2021)', url: 'https://arxiv.org/abs/2103.10385' },
  defaults,
  fields,
  validate,
  plan,
  create,
  positionsUsed,
  recognizes,
  load,
};
