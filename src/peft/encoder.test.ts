// Every PEFT method on a BERT masked LM: each trains on the masked-LM objective (loss finite and
// falling on a batch it can overfit, frozen weights bit-identical, no tensor leaked) and exports
// its files under BertForMaskedLM's names, PEFT formats with the masked LM's task type; Houlsby
// adapters in AdapterHub's BERT layout; BitFit's subsets on BERT's linears; an untied head.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBatch, tokenizeExamples } from '../data/dataset';
import { ADAPTER_CONFIG } from '../export/peft-files';
import { ADAPTERHUB_CONFIG, ADAPTERHUB_WEIGHTS } from '../export/adapterhub';
import { readSafetensors } from '../io/safetensors';
import { bertConfigJson, initBertWeights, randomBert, type BertShape } from '../models/bert-init';
import { buildModel, modelInfo } from '../models/load';
import type { LoadedModel } from '../models/types';
import { loadTokenizer, type TextTokenizer } from '../tokenize/tokenizer';
import { wordPieceTokenizerFiles } from '../tokenize/word-piece';
import { objectiveFor } from '../train/objective';
import { train, type TokenBatch } from '../train/trainer';
import { bitfit, BITFIT_CONFIG, chosenBiases } from './bitfit';
import { METHODS } from './registry';
import { changedWeights, weightBytes } from './testing';
import type { Adapter } from './types';

const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'to', 'a', 'big', 'red', 'house', '.', '##s'];
const TEXTS = ['the cat sat on the mat.', 'a big red dog ran to the house.', 'the dogs sat on a red mat.', 'a cat ran to a big house.'];

let tok: TextTokenizer;
let model: LoadedModel;
let batch: TokenBatch;

function shape(vocab: number): BertShape {
  return { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 64, vocab_size: vocab };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  const files = wordPieceTokenizerFiles(WORDS);
  tok = loadTokenizer(files.tokenizer, files.tokenizerConfig, 'tokenizer.json', { requireEos: false });
  model = randomBert('tiny-bert', shape(files.vocab.length), 3);
  batch = makeBatch(tokenizeExamples(TEXTS, tok, 16).ids, 16, tok.padId);
});
afterAll(() => model.dispose());

/** Small settings per method so the test stays quick; the rest are the method's defaults. */
const SMALL: Record<string, Record<string, unknown>> = {
  'prompt-tuning': { num_virtual_tokens: 4 },
  'prefix-tuning': { num_virtual_tokens: 4 },
  'p-tuning': { num_virtual_tokens: 4 },
  'p-tuning-v2': { num_virtual_tokens: 4 },
  houlsby: { init_weights: 'mam_adapter' },
};

/** Trains `adapter` on the one batch (its masking drawn anew each step) on the masked-LM objective. */
async function trainMasked(m: LoadedModel, adapter: Adapter, steps: number, learningRate: number) {
  const losses: number[] = [];
  const before = tf.memory().numTensors;
  const result = await train(
    m,
    adapter,
    { totalSteps: steps, learningRate, warmupSteps: 0, weightDecay: 0, maxGradNorm: 1, evalEvery: 0 },
    { nextBatch: () => ({ batch, epoch: 0 }), evalBatches: [], onProgress: (pts) => losses.push(...pts.map((p) => p.loss)), onEval: () => {}, shouldStop: () => false },
    objectiveFor(m.info, tok, 11),
  );
  return { result, losses, leaked: tf.memory().numTensors - before };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('PEFT methods on a BERT masked LM', () => {
  it.each(METHODS.map((m) => [m.id]))('%s trains on masked LM and exports under BertForMaskedLM names', async (id) => {
    const method = METHODS.find((m) => m.id === id)!;
    expect(method.unsupported?.(model.info)).toBeUndefined();
    const config = { ...method.defaults(model.info), ...SMALL[id] };
    method.validate(model.info, config);
    const plan = method.plan(model.info, config);
    expect(plan.trainable).toBeGreaterThan(0);
    const frozen = await weightBytes(model);
    const adapter = method.create(model, config, 5, { tokenizer: tok });
    const start = adapter.variables.map((v) => v.dataSync().slice());
    try {
      const { result, losses, leaked } = await trainMasked(model, adapter, 24, 2e-2);
      expect(result.reason, result.message).toBe('finished');
      expect(losses.every(Number.isFinite)).toBe(true);
      // The masking changes every step, so the loss is noisy: compare the first and last few.
      expect(mean(losses.slice(-6)), `losses ${losses.map((l) => l.toFixed(2)).join(' ')}`).toBeLessThan(mean(losses.slice(0, 6)));
      expect(leaked).toBe(0);
      expect(adapter.variables.some((v, i) => v.dataSync().some((x, k) => x !== start[i][k]))).toBe(true);
      expect(await changedWeights(model, frozen)).toEqual([]);

      const { files } = await adapter.exportFiles();
      const names = Object.keys(files);
      const configFile = names.find((n) => n.endsWith(ADAPTER_CONFIG) || n.endsWith(ADAPTERHUB_CONFIG) || n.endsWith(BITFIT_CONFIG))!;
      const saved = JSON.parse(new TextDecoder().decode(files[configFile]));
      if ('peft_type' in saved) expect(saved.task_type).toBe('FEATURE_EXTRACTION');
      const weightsFile = names.find((n) => n.endsWith('.safetensors'))!;
      const tensors = [...readSafetensors(files[weightsFile]).tensors.keys()];
      for (const t of tensors) expect(t === 'prompt_embeddings' || /^(base_model\.model\.)?(bert|cls)\./.test(t), t).toBe(true);
      if (id === 'houlsby') {
        expect(saved).toMatchObject({ model_class: 'BertForMaskedLM', model_type: 'bert' });
        expect(weightsFile.endsWith(ADAPTERHUB_WEIGHTS)).toBe(true);
        expect(tensors).toContain('bert.encoder.layer.0.attention.output.adapters.houlsby.adapter_down.0.weight');
        expect(tensors).toContain('bert.encoder.layer.1.output.adapters.houlsby.adapter_up.bias');
        // It loads back onto the model, every tensor where it was saved.
        const back = method.load(model, files);
        expect(back.variables.map((v) => Array.from(v.dataSync()))).toEqual(adapter.variables.map((v) => Array.from(v.dataSync())));
        back.dispose();
      }
    } finally {
      adapter.dispose();
    }
  });

  it('prefix tuning and P-tuning v2 say why not on DistilBERT, whose transformers class takes no past keys/values; the rest apply', () => {
    const info = modelInfo('tiny-distilbert', { model_type: 'distilbert', dim: 32, n_layers: 2, n_heads: 4, hidden_dim: 64, max_position_embeddings: 64, vocab_size: 40 });
    for (const m of METHODS) {
      const reason = m.unsupported?.(info);
      if (m.id === 'prefix-tuning' || m.id === 'p-tuning-v2') expect(reason, m.id).toMatch(/DistilBERT takes no past keys\/values in transformers/);
      else expect(reason, m.id).toBeUndefined();
    }
  });

  it("BitFit's subsets are BERT's attention linears' and feed-forward linears' biases", () => {
    const names = (set: 'attention' | 'mlp') => chosenBiases(model.info, { trainable_biases: set }).map((p) => p.name.replace(/^bert\.encoder\.layer\.0\./, ''));
    expect(names('attention').slice(0, 4)).toEqual(['attention.self.query.bias', 'attention.self.key.bias', 'attention.self.value.bias', 'attention.output.dense.bias']);
    expect(names('mlp').slice(0, 2)).toEqual(['intermediate.dense.bias', 'output.dense.bias']);
    expect(names('attention')).toHaveLength(8);
    expect(names('mlp')).toHaveLength(4);
  });

  it('BitFit on an untied head trains every bias, the one the forward does not read staying as it was', async () => {
    const config = { ...bertConfigJson(shape(model.info.config.vocabSize)), tie_word_embeddings: false };
    const untied = buildModel('untied-bert', config, new Map(initBertWeights(config, 4).map((t) => [t.name, { dtype: 'F32' as const, shape: t.shape, data: t.data }])));
    const adapter = bitfit.create(untied, { trainable_biases: 'all' }, 1);
    try {
      const names = chosenBiases(untied.info, { trainable_biases: 'all' }).map((p) => p.name);
      expect(names).toContain('cls.predictions.bias');
      expect(names).toContain('cls.predictions.decoder.bias');
      const { result, losses } = await trainMasked(untied, adapter, 4, 1e-2);
      expect(result.reason, result.message).toBe('finished');
      expect(losses.every(Number.isFinite)).toBe(true);
      const unread = adapter.variables[names.indexOf('cls.predictions.bias')];
      expect(Array.from(unread.dataSync()).every((x) => x === 0)).toBe(true);
      expect(Array.from(adapter.variables[names.indexOf('cls.predictions.decoder.bias')].dataSync()).some((x) => x !== 0)).toBe(true);
    } finally {
      adapter.dispose();
      untied.dispose();
    }
  });
});
