// Writes the built-in base model "tiny-gpt2" to public/models/tiny-gpt2/ in Hugging Face
// layout: a GPT-2 (4 layers, width 128, 4 heads, context 256) over a byte-level vocabulary,
// randomly initialised the way GPT2LMHeadModel initialises itself (N(0, 0.02), the residual
// projections scaled by 1/√(2·n_layer), LayerNorm 1/0, biases 0). Seeded: the same bytes
// every run. `npm run make-tiny-model [outDir]`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gpt2Config, gpt2Info } from '../src/models/gpt2';
import { writeSafetensors } from '../src/io/safetensors';
import { byteLevelTokenizerFiles, BYTE_LEVEL_VOCAB_SIZE, END_OF_TEXT_ID } from '../src/tokenize/byte-level';
import { mulberry32 } from '../src/data/random';

export const TINY_SHAPE = { n_layer: 4, n_embd: 128, n_head: 4, n_positions: 256 };

export function tinyGpt2Config(shape = TINY_SHAPE): Record<string, unknown> {
  return {
    activation_function: 'gelu_new',
    architectures: ['GPT2LMHeadModel'],
    // The studio's engine runs the frozen base model without dropout; saying so in the config
    // keeps PyTorch's train-mode outputs equal to ours.
    attn_pdrop: 0.0,
    bos_token_id: END_OF_TEXT_ID,
    embd_pdrop: 0.0,
    eos_token_id: END_OF_TEXT_ID,
    initializer_range: 0.02,
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
    vocab_size: BYTE_LEVEL_VOCAB_SIZE,
  };
}

/** Standard normal samples from a seeded uniform source (Box–Muller). */
function normals(n: number, std: number, rand: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

export function initGpt2Weights(config: Record<string, unknown>, seed: number) {
  const info = gpt2Info('init', gpt2Config(config));
  const rand = mulberry32(seed);
  const std = 0.02;
  const residStd = std / Math.sqrt(2 * info.config.nLayer);
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

export function writeModelFolder(dir: string, config: Record<string, unknown>, tensors: { name: string; shape: number[]; data: Float32Array }[]) {
  mkdirSync(dir, { recursive: true });
  const { tokenizer, tokenizerConfig } = byteLevelTokenizerFiles({ modelMaxLength: config.n_positions as number });
  const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
  writeFileSync(join(dir, 'config.json'), json(config));
  writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  writeFileSync(join(dir, 'tokenizer.json'), json(tokenizer));
  writeFileSync(join(dir, 'tokenizer_config.json'), json(tokenizerConfig));
  writeFileSync(
    join(dir, 'generation_config.json'),
    json({ bos_token_id: END_OF_TEXT_ID, eos_token_id: END_OF_TEXT_ID, transformers_version: '4.57.0' }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? 'public/models/tiny-gpt2';
  const config = tinyGpt2Config();
  writeModelFolder(dir, config, initGpt2Weights(config, 1234));
  console.log(`wrote ${dir}`);
}
