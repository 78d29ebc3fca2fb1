// A small random BertForMaskedLM, initialised as transformers initialises BERT: weights
// N(0, initializer_range), biases 0, LayerNorm 1/0. Seeded, so the same seed gives the same bytes.
// For tests that need a real encoder folder (config.json + model.safetensors).
import { mulberry32, normals } from '../data/random';
import { bert } from './bert';
import { buildModel } from './load';

export interface BertShape {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  max_position_embeddings: number;
  vocab_size: number;
  /** Std of the normal init; BERT's 0.02 when omitted. */
  initializer_range?: number;
}

export function bertConfigJson(shape: BertShape): Record<string, unknown> {
  return {
    architectures: ['BertForMaskedLM'],
    attention_probs_dropout_prob: 0.0,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.0,
    layer_norm_eps: 1e-12,
    model_type: 'bert',
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    tie_word_embeddings: true,
    type_vocab_size: 2,
    ...shape,
    initializer_range: shape.initializer_range ?? 0.02,
  };
}

/** Every parameter of the state dict, named and ordered as `bert.info` lists them. */
export function initBertWeights(config: Record<string, unknown>, seed: number): { name: string; shape: number[]; data: Float32Array }[] {
  const info = bert.info('init', bert.parseConfig(config, 'config.json'));
  const rand = mulberry32(seed);
  const std = (config.initializer_range as number | undefined) ?? 0.02;
  return info.params.map(({ name, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (/LayerNorm\.weight$/.test(name)) data = new Float32Array(n).fill(1);
    else if (name.endsWith('.bias')) data = new Float32Array(n);
    else data = normals(n, std, rand);
    return { name, shape, data };
  });
}

/** A small random BERT masked LM as a LoadedModel. */
export function randomBert(name: string, shape: BertShape, seed: number) {
  const config = bertConfigJson(shape);
  const tensors = new Map(initBertWeights(config, seed).map((t) => [t.name, { dtype: 'F32' as const, shape: t.shape, data: t.data }]));
  return buildModel(name, config, tensors);
}
