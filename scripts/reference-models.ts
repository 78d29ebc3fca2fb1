// The reference-sized model of each family, for the benchmark: config.json as the model's own
// Hugging Face repository has it (fields that only tokenizers or generation read are left
// out), read through the architecture registry exactly as a checkpoint a person loads, with
// seeded random weights made here, so nothing is downloaded. Speed depends on the shapes, not
// on the values, so random weights time the same as the trained ones.
//
// Two ways to get one: `buildReference` makes the LoadedModel in this process (tensors created
// one parameter at a time, so a 0.5B model never holds a second copy of its weights in
// JavaScript), and `writeReferenceFolder` writes the Hugging Face folder a person would hand
// to "Load model from disk" (model.safetensors in the dtype the real checkpoint is saved in,
// streamed to disk one tensor at a time).
import * as tf from '@tensorflow/tfjs';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { MaskingTokens } from '../src/data/masking';
import { deriveSeed, mulberry32, normals } from '../src/data/random';
import { architectureForModelType } from '../src/models/registry';
import type { LoadedModel, ModelInfo } from '../src/models/types';
import { WORD_PIECE_SPECIALS, wordPieceTokenizerFiles } from '../src/tokenize/word-piece';

export interface ReferenceModel {
  /** The architecture file that reads it (ModelConfig.family). */
  family: string;
  /** The Hugging Face repository whose config.json this is. */
  model: string;
  config: Record<string, unknown>;
  /** A masked LM's mask token and special ids, as its tokenizer has them. */
  masking?: MaskingTokens;
}

// The 0.5B model last: a run cut short has still timed every other family.
export const REFERENCE_MODELS: readonly ReferenceModel[] = [
  {
    family: 'gpt2',
    model: 'gpt2',
    config: {
      activation_function: 'gelu_new',
      architectures: ['GPT2LMHeadModel'],
      attn_pdrop: 0.1,
      bos_token_id: 50256,
      embd_pdrop: 0.1,
      eos_token_id: 50256,
      initializer_range: 0.02,
      layer_norm_epsilon: 1e-5,
      model_type: 'gpt2',
      n_ctx: 1024,
      n_embd: 768,
      n_head: 12,
      n_layer: 12,
      n_positions: 1024,
      resid_pdrop: 0.1,
      summary_activation: null,
      summary_first_dropout: 0.1,
      summary_proj_to_labels: true,
      summary_type: 'cls_index',
      summary_use_proj: true,
      vocab_size: 50257,
    },
  },
  {
    family: 'bert',
    model: 'bert-base-uncased',
    config: {
      architectures: ['BertForMaskedLM'],
      attention_probs_dropout_prob: 0.1,
      gradient_checkpointing: false,
      hidden_act: 'gelu',
      hidden_dropout_prob: 0.1,
      hidden_size: 768,
      initializer_range: 0.02,
      intermediate_size: 3072,
      layer_norm_eps: 1e-12,
      max_position_embeddings: 512,
      model_type: 'bert',
      num_attention_heads: 12,
      num_hidden_layers: 12,
      pad_token_id: 0,
      position_embedding_type: 'absolute',
      type_vocab_size: 2,
      use_cache: true,
      vocab_size: 30522,
    },
    // bert-base-uncased's vocab.txt: [PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103.
    masking: { maskId: 103, specialIds: [0, 100, 101, 102, 103], vocabSize: 30522 },
  },
  {
    family: 'llama',
    model: 'HuggingFaceTB/SmolLM2-135M',
    config: {
      architectures: ['LlamaForCausalLM'],
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: 0,
      eos_token_id: 0,
      head_dim: 64,
      hidden_act: 'silu',
      hidden_size: 576,
      initializer_range: 0.041666666666666664,
      intermediate_size: 1536,
      is_llama_config: true,
      max_position_embeddings: 8192,
      mlp_bias: false,
      model_type: 'llama',
      num_attention_heads: 9,
      num_hidden_layers: 30,
      num_key_value_heads: 3,
      pretraining_tp: 1,
      rms_norm_eps: 1e-5,
      rope_interleaved: false,
      rope_scaling: null,
      rope_theta: 100000,
      tie_word_embeddings: true,
      torch_dtype: 'bfloat16',
      use_cache: true,
      vocab_size: 49152,
    },
  },
  {
    family: 'llama',
    model: 'Qwen/Qwen2.5-0.5B',
    config: {
      architectures: ['Qwen2ForCausalLM'],
      attention_dropout: 0.0,
      bos_token_id: 151643,
      eos_token_id: 151643,
      hidden_act: 'silu',
      hidden_size: 896,
      initializer_range: 0.02,
      intermediate_size: 4864,
      max_position_embeddings: 32768,
      max_window_layers: 24,
      model_type: 'qwen2',
      num_attention_heads: 14,
      num_hidden_layers: 24,
      num_key_value_heads: 2,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000.0,
      sliding_window: 32768,
      tie_word_embeddings: true,
      torch_dtype: 'bfloat16',
      use_cache: true,
      use_sliding_window: false,
      vocab_size: 151936,
    },
  },
];

/** The folder's (and the model's) name: the repository name without its owner. */
export function referenceName(ref: ReferenceModel): string {
  return ref.model.split('/').pop()!;
}

/** config.json read by the family's architecture file, as when a checkpoint is loaded. */
export function referenceInfo(ref: ReferenceModel): ModelInfo {
  const arch = architectureForModelType(ref.config.model_type);
  if (!arch) throw new Error(`${ref.model}: no architecture reads model_type ${JSON.stringify(ref.config.model_type)}`);
  return arch.info(referenceName(ref), arch.parseConfig(ref.config, 'config.json'));
}

/**
 * Parameter `index` of the model, seeded by its position so each tensor can be made on its
 * own: normalisation weights 1, biases 0, every other weight N(0, initializer_range) as the
 * families' _init_weights draw them.
 */
function referenceWeight(ref: ReferenceModel, name: string, shape: number[], index: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (/(norm|LayerNorm|ln_\w+)\.weight$/.test(name)) return new Float32Array(n).fill(1);
  if (name.endsWith('.bias')) return new Float32Array(n);
  return normals(n, (ref.config.initializer_range as number | undefined) ?? 0.02, mulberry32(deriveSeed(1, index)));
}

/** The model on the current tfjs backend, built by its architecture file. */
export function buildReference(ref: ReferenceModel): LoadedModel {
  const info = referenceInfo(ref);
  const weights = new Map<string, tf.Tensor>();
  info.params.forEach((p, i) => weights.set(p.name, tf.tensor(referenceWeight(ref, p.name, p.shape, i), p.shape, 'float32')));
  return architectureForModelType(ref.config.model_type)!.build(info, weights);
}

/**
 * Writes the model as a Hugging Face folder `dir/<name>`: config.json, model.safetensors
 * (bfloat16 when the real checkpoint is, else float32) and a stand-in tokenizer: WordPiece with
 * BERT's special tokens over the words w0, w1, …, exactly as many tokens as the model's
 * vocabulary, so every id the model produces decodes (Generate) and a masked LM finds its
 * mask token. Tokenization is not what is timed.
 */
export function writeReferenceFolder(ref: ReferenceModel, dir: string): string {
  const folder = join(dir, referenceName(ref));
  const info = referenceInfo(ref);
  const bf16 = ref.config.torch_dtype === 'bfloat16';
  const width = bf16 ? 2 : 4;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const p of info.params) {
    const bytes = p.shape.reduce((a, b) => a * b, 1) * width;
    header[p.name] = { dtype: bf16 ? 'BF16' : 'F32', shape: p.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  while (json.length % 8 !== 0) json += ' ';
  mkdirSync(folder, { recursive: true });
  const fd = openSync(join(folder, 'model.safetensors'), 'w');
  try {
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(json.length));
    writeSync(fd, size);
    writeSync(fd, Buffer.from(json, 'utf8'));
    info.params.forEach((p, i) => {
      const values = referenceWeight(ref, p.name, p.shape, i);
      // bfloat16 is a float32's top 16 bits (truncated; the values are random anyway).
      let data: Float32Array | Uint16Array = values;
      if (bf16) {
        // A plain loop: TypedArray.from with a map function goes through a JS array, which a
        // 136M-element embedding overflows.
        const bits = new Uint32Array(values.buffer);
        data = new Uint16Array(bits.length);
        for (let j = 0; j < bits.length; j++) data[j] = bits[j] >>> 16;
      }
      writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
  } finally {
    closeSync(fd);
  }
  writeFileSync(join(folder, 'config.json'), JSON.stringify(ref.config, null, 2));
  const { tokenizer, tokenizerConfig } = wordPieceTokenizerFiles(Array.from({ length: info.config.vocabSize - WORD_PIECE_SPECIALS.length }, (_, i) => `w${i}`));
  writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(tokenizer));
  // A causal LM's examples end with an end-of-text token; [SEP] plays it here.
  const causal = architectureForModelType(ref.config.model_type)!.objective === 'causal-lm';
  writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify(causal ? { ...tokenizerConfig, eos_token: '[SEP]' } : tokenizerConfig));
  return folder;
}

/** `n` words of the stand-in tokenizer's vocabulary, one token each. */
export function standInText(n: number): string {
  return Array.from({ length: n }, (_, i) => `w${(i * 37) % 1000}`).join(' ');
}
