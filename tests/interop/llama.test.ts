// The Llama family against transformers: tiny random LlamaForCausalLM, Qwen2ForCausalLM and
// MistralForCausalLM checkpoints that transformers made and saved (safetensors, float32) are read
// by src/models/llama.ts alone (parseConfig → info → normaliseName → tensors → build) and
// compute transformers' logits within 1e-4, with and without past keys/values; the parameter
// names, shapes and count are the state dict's.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, type SafetensorsTensor } from '../../src/io/safetensors';
import { checkTensors } from '../../src/io/tensor-check';
import { llama } from '../../src/models/llama';
import type { LoadedModel, ModelConfig } from '../../src/models/types';
import { cleanup, flat, maxAbsDiff, runPythonSpec, tempDir, TOLERANCE } from './helpers';

const WEIGHTS = 'model.safetensors';
const SIZES = {
  hidden_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  intermediate_size: 128,
  vocab_size: 128,
  max_position_embeddings: 64,
};

/**
 * head_dim 16: RoPE wavelengths 2π·10^(j/2) for j < 8. With original_max_position_embeddings 64
 * the llama3 band edges are 64/4 = 16 and 64/1 = 64: the first wavelength is kept, the next two
 * blended, the rest divided by 8.
 */
const VARIANTS = [
  { name: 'llama', class: 'LlamaConfig', config: { ...SIZES } },
  {
    name: 'llama3-tied',
    class: 'LlamaConfig',
    config: {
      ...SIZES,
      max_position_embeddings: 128,
      tie_word_embeddings: true,
      rope_parameters: { rope_type: 'llama3', rope_theta: 10000.0, factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 64 },
    },
  },
  {
    name: 'llama-biases',
    class: 'LlamaConfig',
    config: { ...SIZES, attention_bias: true, mlp_bias: true, rms_norm_eps: 1e-5, rope_parameters: { rope_type: 'linear', rope_theta: 500.0, factor: 2.0 } },
  },
  { name: 'qwen2', class: 'Qwen2Config', config: { ...SIZES, rope_parameters: { rope_type: 'default', rope_theta: 1000000.0 } } },
  { name: 'mistral', class: 'MistralConfig', config: { ...SIZES, sliding_window: null } },
];

const PREFIX = 3;
/** Two rows of 24 ids over the whole vocabulary, a few repeated. */
const IDS = [
  [0, 17, 127, 5, 64, 33, 5, 90, 2, 101, 45, 45, 76, 12, 88, 3, 119, 54, 21, 9, 70, 1, 99, 38],
  [126, 4, 58, 81, 13, 27, 110, 66, 8, 92, 35, 71, 19, 50, 123, 6, 41, 84, 29, 115, 60, 10, 97, 47],
];

interface Variant {
  class: string;
  loading_info: Record<string, string[]>;
  warnings: string[];
  state_dict: [string, number[]][];
  num_parameters: number;
  tied: boolean;
  saved_tensors: Record<string, [string, number[]]>;
  logits: unknown;
  prefix_k: unknown[];
  prefix_v: unknown[];
  prefix_logits: unknown;
  legacy_logits_diff: number | null;
}

const normalise = llama.normaliseName;

let work: string;
let report: { versions: Record<string, string>; variants: Record<string, Variant> };

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = tempDir('llama');
  report = runPythonSpec('llama_logits.py', work, 'llama', {
    ids: IDS,
    prefix_length: PREFIX,
    variants: VARIANTS.map((v) => ({ ...v, dir: join(work, v.name) })),
  });
  console.log(`interop against ${JSON.stringify(report.versions)}`);
});

afterAll(() => cleanup(work));

/** The folder's model through the architecture alone, as a loader would: config, names, tensors, build. */
function load(name: string, configJson?: Record<string, unknown>): { model: LoadedModel; config: ModelConfig; tensors: Map<string, SafetensorsTensor> } {
  const dir = join(work, name);
  const raw = configJson ?? (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf-8')) as Record<string, unknown>);
  const config = llama.parseConfig(raw, `${name}/config.json`);
  const info = llama.info(name, config);
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(dir, WEIGHTS))), `${name}/${WEIGHTS}`);
  const named = new Map<string, SafetensorsTensor>();
  for (const [n, t] of tensors) {
    const k = normalise(n, config);
    if (k !== undefined) named.set(k, t);
  }
  const data = checkTensors(`${name}/${WEIGHTS}`, named, info.params, name);
  const weights = new Map<string, tf.Tensor>();
  for (const p of info.params) weights.set(p.name, tf.tensor(data.get(p.name)!, p.shape, 'float32'));
  return { model: llama.build(info, weights), config, tensors };
}

async function logitsOf(model: LoadedModel, prefix?: { k: tf.Tensor4D; v: tf.Tensor4D }[]): Promise<Float32Array> {
  const out = tf.tidy(() => model.forward(tf.tensor2d(IDS, [2, IDS[0].length], 'int32'), prefix ? { kvPrefix: (layer) => prefix[layer] } : {}).logits);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

describe.each(VARIANTS.map((v) => v.name))('%s', (name) => {
  let v: Variant;
  let model: LoadedModel;
  let config: ModelConfig;
  beforeAll(() => {
    v = report.variants[name];
    ({ model, config } = load(name));
  });
  afterAll(() => model?.dispose());

  it('transformers saved float32 and reloads it with no missing or unexpected weights or warnings', () => {
    expect(v.loading_info).toEqual({ missing_keys: [], unexpected_keys: [], mismatched_keys: [], error_msgs: [] });
    expect(v.warnings).toEqual([]);
    expect(new Set(Object.values(v.saved_tensors).map(([dtype]) => dtype))).toEqual(new Set(['F32']));
    expect(v.class).toBe({ llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', mistral: 'MistralForCausalLM' }[config.modelType]);
  });

  it('names and shapes every parameter as the state dict does, the tied head once', () => {
    const stateDict = v.state_dict.filter(([n]) => !(v.tied && n === 'lm_head.weight'));
    expect(model.info.params.map((p) => [p.name, p.shape])).toEqual(stateDict);
    expect(model.info.totalParams).toBe(v.num_parameters);
    expect(config.tiedHead).toBe(v.tied);
  });

  it(`computes transformers' logits within ${TOLERANCE}`, async () => {
    const want = flat(v.logits);
    const got = await logitsOf(model);
    expect(got.length).toBe(2 * IDS[0].length * 128);
    const diff = maxAbsDiff(got, want);
    console.log(`${name}: max |transformers − studio| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
    expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(1);
  });

  it(`with ${PREFIX} past keys/values per layer (kvPrefix), transformers' logits with past_key_values within ${TOLERANCE}`, async () => {
    const prefix = v.prefix_k.map((k, i) => ({ k: tf.tensor4d(k as number[][][][]), v: tf.tensor4d(v.prefix_v[i] as number[][][][]) }));
    const got = await logitsOf(model, prefix);
    tf.dispose(prefix.flatMap((p) => [p.k, p.v]));
    const diff = maxAbsDiff(got, flat(v.prefix_logits));
    console.log(`${name} with past keys/values: max |transformers − studio| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(got, flat(v.logits))).toBeGreaterThan(1e-2);
  });

  it("reads transformers 4.x's spelling of RoPE (rope_theta, rope_scaling) as the same model", async () => {
    const saved = config.raw;
    const { rope_parameters: params, ...rest } = saved as { rope_parameters: Record<string, unknown> };
    const { rope_theta, ...scaling } = params;
    const legacy = { ...rest, rope_theta, rope_scaling: scaling.rope_type === 'default' ? null : scaling };
    // transformers itself reads both spellings as one model.
    expect(v.legacy_logits_diff).toBe(0);
    const { model: again } = load(name, legacy);
    expect(await logitsOf(again)).toEqual(await logitsOf(model));
    again.dispose();
  });
});

describe('what the comparison can see', () => {
  it('llama3 scaling changes the logits: without it they are far from transformers', async () => {
    const raw = JSON.parse(readFileSync(join(work, 'llama3-tied', 'config.json'), 'utf-8')) as Record<string, unknown>;
    const { model } = load('llama3-tied', { ...raw, rope_parameters: { rope_type: 'default', rope_theta: 10000.0 } });
    expect(maxAbsDiff(await logitsOf(model), flat(report.variants['llama3-tied'].logits))).toBeGreaterThan(1e-2);
    model.dispose();
  });

  it("transformers 5 leaves a tied head out of the file; one saved anyway would be dropped, an untied one kept", () => {
    const tied = load('llama3-tied');
    const untied = load('llama');
    expect(tied.tensors.has('lm_head.weight')).toBe(false);
    expect(untied.tensors.has('lm_head.weight')).toBe(true);
    expect(normalise('lm_head.weight', tied.config)).toBeUndefined();
    expect(normalise('lm_head.weight', untied.config)).toBe('lm_head.weight');
    tied.model.dispose();
    untied.model.dispose();
  });
});
