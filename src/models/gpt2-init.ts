// GPT-2 configs and initial weights the way GPT2LMHeadModel initialises itself:
// N(0, 0.02) for weights, the residual projections (c_proj) scaled by 1/√(2·n_layer),
// LayerNorm 1/0, biases 0. Seeded, so the same seed gives the same bytes on any machine.
// Used to make the built-in model, and by tests that need a small real model.
import { BYTE_LEVEL_VOCAB_SIZE, END_OF_TEXT_ID } from '../tokenize/byte-level';
import { mulberry32, normals } from '../data/random';
import { gpt2Config, gpt2Info } from './gpt2';
import { buildModel } from './load';

export interface Gpt2Shape {
  n_layer: number;
  n_embd: number;
  n_head: number;
  n_positions: number;
  vocab_size?: number;
  /** Std of the normal init (HF's initializer_range); 0.02 as GPT-2 when omitted. */
  initializer_range?: number;
}

export const TINY_SHAPE: Gpt2Shape = { n_layer: 4, n_embd: 128, n_head: 4, n_positions: 256 };

export function gpt2ConfigJson(shape: Gpt2Shape = TINY_SHAPE): Record<string, unknown> {
  return {
    activation_function: 'gelu_new',
    architectures: ['GPT2LMHeadModel'],
    // The studio's engine runs the frozen base model without dropout; saying so in the config
    // keeps PyTorch's train-mode outputs equal to ours.
    attn_pdrop: 0.0,
    bos_token_id: END_OF_TEXT_ID,
    embd_pdrop: 0.0,
    eos_token_id: END_OF_TEXT_ID,
    initializer_range: shape.initializer_range ?? 0.02,
    layer_norm_epsilon: 1e-5,
    model_type: 'gpt2',
    n_ctx: shape.n_positions,
    n_embd: shape.n_embd,
    n_head: shape.n_head,
    n_inner: null,
    n_layer: shape.n_layer,
    n_positions: shape.n_positions,
    reorder_and_upcast_attn: false,
    resid_pdrop: 0.0,
    scale_attn_by_inverse_layer_idx: false,
    scale_attn_weights: true,
    summary_activation: null,
    summary_first_dropout: 0.0,
    summary_proj_to_labels: true,
    summary_type: 'cls_index',
    summary_use_proj: true,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
    use_cache: true,
    vocab_size: shape.vocab_size ?? BYTE_LEVEL_VOCAB_SIZE,
  };
}

export function initGpt2Weights(config: Record<string, unknown>, seed: number) {
  const info = gpt2Info('init', gpt2Config(config));
  const rand = mulberry32(seed);
  const std = (config.initializer_range as number | undefined) ?? 0.02;
  const residStd = std / Math.sqrt(2 * info.config.numLayers);
  return info.params.map(({ name, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (/\.ln_\w+\.weight$/.test(name)) data = new Float32Array(n).fill(1);
    else if (name.endsWith('.bias')) data = new Float32Array(n);
    else if (/\.c_proj\.weight$/.test(name)) data = normals(n, residStd, rand);
    else data = normals(n, std, rand);
    return { name, shape, data };
  });
}


/** A small random GPT-2 as a LoadedModel, for tests and benchmarks. */
export function randomGpt2(name: string, shape: Gpt2Shape, seed: number) {
  const config = gpt2ConfigJson(shape);
  const tensors = new Map(initGpt2Weights(config, seed).map((t) => [t.name, { dtype: 'F32' as const, shape: t.shape, data: t.data }]));
  return buildModel(name, config, tensors);
}
