// The BERT family against transformers: tiny random BertForMaskedLM, RobertaForMaskedLM and
// DistilBertForMaskedLM checkpoints (tied and untied heads, and one saved by BertForPreTraining
// with its pooler) that transformers made and saved (safetensors, float32) are read by src/models/bert.ts alone (parseConfig → info →
// normaliseName → tensors → build) and compute transformers' logits within 1e-4: plain, with
// right padding under an attention mask, with virtual tokens in front (inputs_embeds, as PEFT's
// prompt tuning runs an encoder) and, for BERT and RoBERTa, with past keys/values (as PEFT's
// prefix tuning runs them); every hidden state agrees too; the parameter names, shapes and count
// are the state dict's.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, type SafetensorsTensor } from '../../src/io/safetensors';
import { checkTensors } from '../../src/io/tensor-check';
import { bert } from '../../src/models/bert';
import type { ForwardOptions, Hooks, LoadedModel, ModelConfig } from '../../src/models/types';
import { cleanup, flat, maxAbsDiff, runPythonSpec, tempDir, TOLERANCE } from './helpers';

const WEIGHTS = 'model.safetensors';
const VOCAB = 128;
const BERT_SIZES = { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128, vocab_size: VOCAB, max_position_embeddings: 64 };
const DISTILBERT_SIZES = { dim: 64, n_layers: 2, n_heads: 4, hidden_dim: 128, vocab_size: VOCAB, max_position_embeddings: 64 };

const VARIANTS = [
  { name: 'bert', class: 'BertConfig', config: { ...BERT_SIZES } },
  // Saved as bert-base-uncased is, by BertForPreTraining: with the pooler and the next-sentence
  // head, which the masked LM does not read.
  { name: 'bert-pretraining', class: 'BertConfig', save_as: 'BertForPreTraining', config: { ...BERT_SIZES } },
  { name: 'bert-untied', class: 'BertConfig', config: { ...BERT_SIZES, tie_word_embeddings: false, type_vocab_size: 3, layer_norm_eps: 1e-5 } },
  // As roberta-base: one token type, and two position rows below the first real one.
  { name: 'roberta', class: 'RobertaConfig', config: { ...BERT_SIZES, max_position_embeddings: 66, type_vocab_size: 1 } },
  { name: 'roberta-untied', class: 'RobertaConfig', config: { ...BERT_SIZES, max_position_embeddings: 66, tie_word_embeddings: false } },
  { name: 'distilbert', class: 'DistilBertConfig', config: { ...DISTILBERT_SIZES } },
  { name: 'distilbert-untied', class: 'DistilBertConfig', config: { ...DISTILBERT_SIZES, tie_word_embeddings: false } },
];

const PREFIX = 3;
const VIRTUAL = 2;
/** Two rows of 24 ids over the whole vocabulary, a few repeated, the pad ids 0 and 1 among them. */
const IDS = [
  [2, 17, 127, 5, 64, 33, 5, 90, 0, 101, 45, 45, 76, 12, 88, 3, 119, 54, 21, 9, 70, 1, 99, 38],
  [126, 4, 58, 81, 13, 27, 110, 1, 8, 92, 35, 71, 19, 50, 123, 6, 41, 84, 29, 115, 60, 0, 97, 47],
];
/** The second row padded on the right after 18 real tokens (the script writes each model's pad id there). */
const MASK = [new Array<number>(24).fill(1), [...new Array<number>(18).fill(1), ...new Array<number>(6).fill(0)]];

interface Variant {
  class: string;
  loading_info: Record<string, string[]>;
  warnings: string[];
  state_dict: [string, number[]][];
  num_parameters: number;
  tied: boolean;
  saved_tensors: Record<string, [string, number[]]>;
  logits: unknown;
  hidden_states: unknown[];
  padded_ids: number[][];
  masked_logits: unknown;
  virtual: number[][][];
  virtual_logits: unknown;
  prefix_k: unknown[] | null;
  prefix_v: unknown[] | null;
  prefix_logits: unknown;
}

let work: string;
let report: { versions: Record<string, string>; variants: Record<string, Variant> };

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = tempDir('bert');
  report = runPythonSpec('bert_logits.py', work, 'bert', {
    ids: IDS,
    mask: MASK,
    prefix_length: PREFIX,
    virtual_tokens: VIRTUAL,
    variants: VARIANTS.map((v) => ({ ...v, dir: join(work, v.name) })),
  });
  console.log(`interop against ${JSON.stringify(report.versions)}`);
});

afterAll(() => cleanup(work));

/** The folder's model through the architecture alone, as a loader would: config, names, tensors, build. */
function load(name: string): { model: LoadedModel; config: ModelConfig } {
  const dir = join(work, name);
  const raw = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf-8')) as Record<string, unknown>;
  const config = bert.parseConfig(raw, `${name}/config.json`);
  const info = bert.info(name, config);
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(dir, WEIGHTS))), `${name}/${WEIGHTS}`);
  const named = new Map<string, SafetensorsTensor>();
  for (const [n, t] of tensors) {
    const k = bert.normaliseName(n, config);
    if (k !== undefined) named.set(k, t);
  }
  const data = checkTensors(`${name}/${WEIGHTS}`, named, info.params, name);
  const weights = new Map<string, tf.Tensor>();
  for (const p of info.params) weights.set(p.name, tf.tensor(data.get(p.name)!, p.shape, 'float32'));
  return { model: bert.build(info, weights), config };
}

async function logitsOf(model: LoadedModel, ids: number[][], hooks: Hooks = {}, mask?: number[][]): Promise<Float32Array> {
  const out = tf.tidy(() => {
    const opts: ForwardOptions = mask ? { attentionMask: tf.tensor2d(mask, [mask.length, mask[0].length], 'float32') } : {};
    return model.forward(tf.tensor2d(ids, [ids.length, ids[0].length], 'int32'), hooks, opts).logits;
  });
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

const CLASS: Record<string, string> = { bert: 'BertForMaskedLM', roberta: 'RobertaForMaskedLM', distilbert: 'DistilBertForMaskedLM' };

/** The state dict's entries that are another's weight when the head is tied: the decoder (and BERT's / RoBERTa's decoder bias). */
const tiedAway = (name: string) => /^(cls\.predictions\.decoder|lm_head\.decoder)\.(weight|bias)$|^vocab_projector\.weight$/.test(name);

describe.each(VARIANTS.map((v) => v.name))('%s', (name) => {
  let v: Variant;
  let model: LoadedModel;
  let config: ModelConfig;
  beforeAll(() => {
    v = report.variants[name];
    ({ model, config } = load(name));
  });
  afterAll(() => model?.dispose());

  it('transformers saved float32 and reloads it as the masked LM, ignoring only what normaliseName drops', () => {
    const dropped = Object.keys(v.saved_tensors).filter((n) => bert.normaliseName(n, config) === undefined);
    expect(v.loading_info).toEqual({ missing_keys: [], unexpected_keys: dropped.sort(), mismatched_keys: [], error_msgs: [] });
    if (name === 'bert-pretraining') {
      expect(dropped).toEqual(['bert.pooler.dense.bias', 'bert.pooler.dense.weight', 'cls.seq_relationship.bias', 'cls.seq_relationship.weight']);
      // transformers reports them in one load report, and nothing else.
      expect(v.warnings).toHaveLength(1);
      expect(v.warnings[0]).toMatch(/BertForMaskedLM LOAD REPORT/);
      expect(v.warnings[0].match(/UNEXPECTED/g)).toHaveLength(5);
    } else {
      expect(dropped).toEqual([]);
      expect(v.warnings).toEqual([]);
    }
    expect(new Set(Object.values(v.saved_tensors).map(([dtype]) => dtype))).toEqual(new Set(['F32']));
    expect(v.class).toBe(CLASS[config.modelType]);
    expect(bert.adapterHubModelClass(config)).toBe(v.class);
  });

  it('names and shapes every parameter as the state dict does, a tied decoder once', () => {
    const stateDict = v.state_dict.filter(([n]) => !(v.tied && tiedAway(n)));
    expect(model.info.params.map((p) => [p.name, p.shape])).toEqual(stateDict);
    expect(model.info.totalParams).toBe(v.num_parameters);
    expect(config.tiedHead).toBe(v.tied);
    // What transformers 5 writes for a masked LM is exactly what info lists: no buffers, no tied decoder.
    const kept = Object.keys(v.saved_tensors).filter((n) => bert.normaliseName(n, config) !== undefined);
    expect(kept.sort()).toEqual(model.info.params.map((p) => p.name).sort());
    // Every block path is a prefix of that block's parameters.
    for (const l of model.info.linears.filter((m) => m.layer < config.numLayers)) expect(l.path.startsWith(`${bert.blockPath(config, l.layer)}.`)).toBe(true);
  });

  it(`computes transformers' logits and every hidden state within ${TOLERANCE}`, async () => {
    const out = tf.tidy(() => {
      const r = model.forward(tf.tensor2d(IDS, [2, 24], 'int32'), {}, { outputHidden: true });
      return [r.logits, r.lastHidden, ...r.hidden!];
    });
    const [logits, last, ...hidden] = await Promise.all(out.map((t) => t.data()));
    tf.dispose(out);
    const want = flat(v.logits);
    expect(logits.length).toBe(2 * 24 * VOCAB);
    const diff = maxAbsDiff(logits, want);
    console.log(`${name}: max |transformers − studio| logits ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
    expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(1);
    expect(hidden).toHaveLength(v.hidden_states.length);
    hidden.forEach((h, i) => expect(maxAbsDiff(h, flat(v.hidden_states[i]))).toBeLessThan(TOLERANCE));
    expect(maxAbsDiff(last, flat(v.hidden_states[v.hidden_states.length - 1]))).toBeLessThan(TOLERANCE);
  });

  it(`with right padding under an attention mask, transformers' logits within ${TOLERANCE}`, async () => {
    const got = await logitsOf(model, v.padded_ids, {}, MASK);
    const diff = maxAbsDiff(got, flat(v.masked_logits));
    console.log(`${name} padded, attention_mask: max |transformers − studio| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
    // The mask matters: without it the pads are attended.
    expect(maxAbsDiff(await logitsOf(model, v.padded_ids), flat(v.masked_logits))).toBeGreaterThan(1e-2);
  });

  it(`with ${VIRTUAL} virtual tokens in front (inputs_embeds) and the mask, transformers' logits within ${TOLERANCE}`, async () => {
    const virtual = tf.tensor3d(v.virtual);
    const got = await logitsOf(model, v.padded_ids, { inputEmbeds: (e) => tf.concat([virtual, e], 1) }, MASK);
    virtual.dispose();
    const diff = maxAbsDiff(got, flat(v.virtual_logits));
    console.log(`${name} with virtual tokens: max |transformers − studio| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
  });

  it(`with ${PREFIX} past keys/values per layer (kvPrefix) and the mask, transformers' logits with past_key_values within ${TOLERANCE}`, async () => {
    if (v.prefix_logits === null) {
      // DistilBERT takes no past_key_values in transformers: nothing to compare against.
      expect(config.modelType).toBe('distilbert');
      return;
    }
    const prefix = v.prefix_k!.map((k, i) => ({ k: tf.tensor4d(k as number[][][][]), v: tf.tensor4d(v.prefix_v![i] as number[][][][]) }));
    const got = await logitsOf(model, v.padded_ids, { kvPrefix: (layer) => prefix[layer] }, MASK);
    tf.dispose(prefix.flatMap((p) => [p.k, p.v]));
    const diff = maxAbsDiff(got, flat(v.prefix_logits));
    console.log(`${name} with past keys/values: max |transformers − studio| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(got, flat(v.masked_logits))).toBeGreaterThan(1e-2);
  });
});
