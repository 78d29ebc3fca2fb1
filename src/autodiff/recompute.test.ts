// Recomputing blocks in the backward pass gives the gradients of keeping their activations, bit
// for bit, for every kind of run and every model family, holds fewer bytes at its peak, and
// leaves no tensor behind; outside a recomputing pass a block is an ordinary scope.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBert } from '../models/bert-init';
import { randomGpt2 } from '../models/gpt2-init';
import { randomLlama } from '../models/llama-init';
import type { LoadedModel } from '../models/types';
import { textBatches } from '../peft/testing';
import { loadTokenizer, type TextTokenizer } from '../tokenize/tokenizer';
import { wordPieceTokenizerFiles } from '../tokenize/word-piece';
import { getRunKind, RUN_KINDS } from '../train/registry';
import { TrainingStepper } from '../train/trainer';
import { leanVariableGrads } from './lean-grads';
import { recomputeInBackward } from './recompute';

let bertTok: TextTokenizer;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const files = wordPieceTokenizerFiles(['the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'to', 'a', 'big', '.', '##s']);
  bertTok = loadTokenizer(files.tokenizer, files.tokenizerConfig, 'tokenizer.json', { requireEos: false });
});

const LLAMA = { hidden_size: 32, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 48, max_position_embeddings: 64, vocab_size: 300, hidden_act: 'silu', rms_norm_eps: 1e-5, model_type: 'llama', tie_word_embeddings: false };


const FAMILIES: Record<string, () => LoadedModel> = {
  gpt2: () => randomGpt2('tiny', { n_layer: 4, n_embd: 32, n_head: 2, n_positions: 64 }, 1),
  llama: () => randomLlama('tiny-llama', LLAMA, 2),
  bert: () => randomBert('tiny-bert', { hidden_size: 32, num_hidden_layers: 4, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64, vocab_size: 200 }, 3),
};

/** Every run kind on GPT-2; the kinds that touch every block in different ways on Llama and BERT. */
const CASES: [string, string][] = [
  ...RUN_KINDS.map((k) => ['gpt2', k.id] as [string, string]),
  ...['lora', 'houlsby', 'prefix-tuning', 'bitfit', 'full-finetune'].flatMap((id) => [['llama', id] as [string, string], ['bert', id] as [string, string]]),
].filter(([family, id]) => family === 'gpt2' || id !== 'bitfit' || family === 'bert');

async function gradsOf(loss: () => tf.Scalar, vars: tf.Variable[], recompute: boolean) {
  let out: { value: number; grads: Record<string, Float32Array> } | undefined;
  const profile = await tf.profile(async () => {
    const r = leanVariableGrads(loss, vars, { recompute });
    out = { value: (await r.value.data())[0], grads: Object.fromEntries(await Promise.all(Object.entries(r.grads).map(async ([k, g]) => [k, (await g.data()) as Float32Array]))) };
    tf.dispose([r.value, ...Object.values(r.grads)]);
  });
  return { ...out!, peak: profile.peakBytes };
}

describe('recomputeInBackward', () => {
  it.each(CASES)('%s %s: the same gradients as keeping activations, bit for bit, at a lower peak', async (family, id) => {
    const kind = getRunKind(id);
    const model = FAMILIES[family]();
    const config = kind.defaults(model.info);
    if ('student_layers' in config) (config as { student_layers: number }).student_layers = 2;
    const trained = kind.create(model, config, 3, { baseFiles: {}, tokenizer: family === 'bert' ? bertTok : undefined });
    const spec = trained.spec([]);
    // Ids every family's vocabulary holds (BERT's here is the word pieces and specials).
    const batch = textBatches(4, 32);
    if (family === 'bert') batch.ids.forEach((id, i) => (batch.ids[i] = batch.labels[i] = 5 + (id % (bertTok.vocabSize - 5))));
    const loss = () => spec.stepLoss(batch, 0)().total;
    const before = tf.memory().numTensors;
    const kept = await gradsOf(loss, spec.variables, false);
    const recomputed = await gradsOf(loss, spec.variables, true);
    expect(tf.memory().numTensors).toBe(before);
    expect(recomputed.value).toBe(kept.value);
    expect(Object.keys(recomputed.grads).sort()).toEqual(Object.keys(kept.grads).sort());
    for (const [name, g] of Object.entries(kept.grads)) expect(Buffer.from(recomputed.grads[name].buffer).equals(Buffer.from(g.buffer)), name).toBe(true);
    expect(recomputed.peak).toBeLessThan(kept.peak);
    console.log(`${family} ${id}: peak ${kept.peak} -> ${recomputed.peak} bytes (${((100 * recomputed.peak) / kept.peak).toFixed(0)}%)`);
    trained.dispose();
    model.dispose();
  });

  it('trains to the same weights over several steps, and frees what each step kept', async () => {
    const model = FAMILIES.gpt2();
    const kind = getRunKind('lora');
    const weightsAfter = async (recompute: boolean) => {
      const trained = kind.create(model, kind.defaults(model.info), 5, { baseFiles: {} });
      const spec = trained.spec([]);
      const stepper = new TrainingStepper(spec, { totalSteps: 3, learningRate: 1e-2, warmupSteps: 0, weightDecay: 0.01, maxGradNorm: 1, recompute });
      for (let s = 0; s < 3; s++) {
        const before = tf.memory().numTensors;
        const r = stepper.step(textBatches(4, 32), s);
        tf.dispose([r.loss, r.norm, ...r.terms]);
        expect(tf.memory().numTensors).toBe(before);
      }
      const out = await Promise.all(spec.variables.map(async (v) => (await v.data()) as Float32Array));
      trained.dispose();
      return out;
    };
    const kept = await weightsAfter(false);
    const recomputed = await weightsAfter(true);
    kept.forEach((w, i) => expect(Buffer.from(recomputed[i].buffer).equals(Buffer.from(w.buffer))).toBe(true));
    model.dispose();
  });

  it('is a plain scope outside a recomputing pass: under tf.variableGrads the block is recorded as it runs', () => {
    const x = tf.variable(tf.tensor1d([1, 2, 3]), true, 'x');
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => recomputeInBackward(() => tf.sum(tf.square(tf.mul(x, 2)))) as tf.Scalar, [x]);
    expect(Array.from(value.dataSync())).toEqual([56]);
    expect(Array.from(grads.x.dataSync())).toEqual([8, 16, 24]);
    tf.dispose([value, grads.x]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('reruns a block once per backward pass, with the tensors it read from outside still alive', () => {
    const w = tf.variable(tf.tensor1d([0.5, -1]), true, 'w');
    let runs = 0;
    const before = tf.memory().numTensors;
    const { value, grads } = leanVariableGrads(
      () => {
        // `h` is made inside the forward pass, which would dispose it at its end; both blocks read it.
        const h = tf.add(tf.tensor1d([1, 2]), 1);
        const a = recomputeInBackward(() => {
          runs++;
          return tf.mul(tf.exp(tf.mul(h, w)), 2);
        });
        const b = recomputeInBackward(() => tf.mul(a, h));
        return tf.sum(b) as tf.Scalar;
      },
      [w],
      { recompute: true },
    );
    // b = 2·h·exp(h·w): db/dw = 2·h²·exp(h·w), with h = [2, 3].
    const h = [2, 3];
    const expected = h.map((hi, i) => 2 * hi * hi * Math.exp(hi * [0.5, -1][i]));
    const got = Array.from(grads.w.dataSync());
    got.forEach((g, i) => expect(g).toBeCloseTo(expected[i], 4));
    expect(value.dataSync()[0]).toBeCloseTo(h.reduce((s, hi, i) => s + 2 * hi * Math.exp(hi * [0.5, -1][i]), 0), 4);
    expect(runs).toBe(2);
    tf.dispose([value, grads.w]);
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
  });
});
