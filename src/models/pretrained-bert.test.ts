// The built-in masked LM (public/models/studio-bert-en) as it ships: the studio's engine loads
// it, reproduces the held-out masked-token loss its model card states on the documented slice,
// and the worker loads it by id, as the page does, and trains every method that applies to it.
import * as tf from '@tensorflow/tfjs';
import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_KINDS } from '../train/registry';
import type { FromWorker, TrainConfig } from '../worker/protocol';
import { StudioSession } from '../worker/session';
import { HELDOUT, heldoutSlice, maskedHeldoutLoss, maskedWindows } from './heldout';
import { loadModelFolder, PRETRAINED_MLM_DIR, PRETRAINED_MLM_NAME, readModuleFile, sliceDigest, useWasmBackend } from './pretrained-node';
import type { LoadedModel } from './types';
import type { TextTokenizer } from '../tokenize/tokenizer';

interface EvalJson {
  eval_k: number;
  heldout: { moby_dick: string[]; sotu: string[]; pytorch_nats_per_token: number; pytorch_nats_per_byte: number };
  slice: {
    chars_per_document: number;
    sha256: string;
    bytes: number;
    tokens: number;
    windows: number;
    pytorch_nats_per_token: number;
    pytorch_nats_per_byte: number;
    studio_nats_per_token: number;
    studio_nats_per_byte: number;
  };
  params: number;
  training: { steps: number };
  fill_mask: { text: string; top5: { token: string; p: number }[] }[];
}

const file = (name: string) => readFileSync(new URL(name, PRETRAINED_MLM_DIR), 'utf8');
const evalJson = JSON.parse(file('eval.json')) as EvalJson;
const card = file('README.md');
const config = JSON.parse(file('config.json')) as Record<string, unknown>;

let model: LoadedModel;
let tokenizer: TextTokenizer;
beforeAll(async () => {
  await useWasmBackend();
  ({ model, tokenizer } = loadModelFolder(PRETRAINED_MLM_DIR));
});
afterAll(() => model?.dispose());

describe('built-in masked LM studio-bert-en', () => {
  it('ships a BertForMaskedLM config within the size limits, without dropout, with a tied decoder', () => {
    expect(config.model_type).toBe('bert');
    expect(config.architectures).toEqual(['BertForMaskedLM']);
    expect(config.tie_word_embeddings).toBe(true);
    expect(config.hidden_act).toBe('gelu');
    for (const k of ['hidden_dropout_prob', 'attention_probs_dropout_prob']) expect(config[k], k).toBe(0);
    expect(statSync(new URL('model.safetensors', PRETRAINED_MLM_DIR)).size).toBeLessThanOrEqual(12_000_000);
    expect(model.info.totalParams).toBe(evalJson.params);
    expect(model.info.config.maxPositions).toBe(config.max_position_embeddings);
    expect(tokenizer.vocabSize).toBe(config.vocab_size);
  });

  it('tokenizes lower-cased WordPiece in [CLS] … [SEP], with [MASK] and [PAD] special', () => {
    const vocab = file('vocab.txt').split('\n').slice(0, -1);
    expect(vocab).toHaveLength(tokenizer.vocabSize);
    expect(vocab.slice(0, 5)).toEqual(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    expect(tokenizer.padId).toBe(0);
    expect(tokenizer.maskId).toBe(4);
    expect(tokenizer.specialIds).toEqual([0, 1, 2, 3, 4]);
    expect(tokenizer.eosId).toBeUndefined();
    const ids = tokenizer.encode('Call me Ishmael. The WHALE!');
    expect(ids[0]).toBe(2);
    expect(ids.at(-1)).toBe(3);
    // Case is folded: the same ids whatever the case; common words are single tokens.
    expect(tokenizer.encode('call me ishmael. the whale!')).toEqual(ids);
    expect(ids.slice(1, -1).map((i) => vocab[i])).toEqual(expect.arrayContaining(['call', 'me', 'the', 'whale', '.', '!']));
    expect(tokenizer.decode(ids)).toBe('[CLS] call me ishmael. the whale! [SEP]');
  });

  it('the card states the figures eval.json holds, and the held-out set and slice are the documented ones', () => {
    const f4 = (x: number) => x.toFixed(4);
    expect(card).toContain(`**${f4(evalJson.heldout.pytorch_nats_per_token)} nats per masked token**, **${f4(evalJson.heldout.pytorch_nats_per_byte)} nats per byte**`);
    expect(card).toContain(`**${f4(evalJson.slice.studio_nats_per_token)} nats/masked token** and **${f4(evalJson.slice.studio_nats_per_byte)} nats/byte** in the studio's own engine`);
    expect(card).toContain(`${f4(evalJson.slice.pytorch_nats_per_token)} nats/masked token and ${f4(evalJson.slice.pytorch_nats_per_byte)} nats/byte in PyTorch`);
    expect(card).toContain(`| steps run | ${evalJson.training.steps} |`);
    expect(evalJson.heldout.moby_dick).toEqual(HELDOUT.mobyDick);
    expect(evalJson.heldout.sotu).toEqual(HELDOUT.sotu);
    expect(evalJson.slice.chars_per_document).toBe(HELDOUT.sliceChars);
    expect(evalJson.fill_mask.length).toBeGreaterThanOrEqual(3);
    for (const f of evalJson.fill_mask) {
      expect(f.text).toContain('[MASK]');
      expect(f.top5).toHaveLength(5);
    }
  });

  it('cuts documents into windows that cover every token once', () => {
    const ids = Array.from({ length: 300 }, (_, i) => i);
    const w = maskedWindows(ids, 126);
    expect(w.map((x) => x.length)).toEqual([126, 126, 48]);
    expect(w.flat()).toEqual(ids);
  });

  it("reproduces the card's held-out masked-token loss on the documented slice", async () => {
    const docs = heldoutSlice(readModuleFile);
    expect(sliceDigest(docs)).toBe(evalJson.slice.sha256);
    const before = tf.memory().numTensors;
    const got = await maskedHeldoutLoss(model, tokenizer, docs, evalJson.eval_k);
    expect(tf.memory().numTensors).toBe(before);
    expect(got.bytes).toBe(evalJson.slice.bytes);
    expect(got.tokens).toBe(evalJson.slice.tokens);
    expect(got.windows).toBe(evalJson.slice.windows);
    expect(Math.abs(got.natsPerToken - evalJson.slice.studio_nats_per_token)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(got.natsPerByte - evalJson.slice.studio_nats_per_byte)).toBeLessThanOrEqual(0.002);
    // PyTorch scored the same masked tokens.
    expect(Math.abs(got.natsPerToken - evalJson.slice.pytorch_nats_per_token)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(got.natsPerByte - evalJson.slice.pytorch_nats_per_byte)).toBeLessThanOrEqual(0.002);
  }, 600_000);
});

describe('the worker loads studio-bert-en by id and trains masked-LM methods on it', () => {
  const publicModels = new URL('../../public/models/', import.meta.url);
  const source = async (id: string, name: string) => new Uint8Array(readFileSync(new URL(`${id}/${name}`, publicModels)));
  const TRAIN: TrainConfig = {
    steps: 2,
    epochs: 1,
    batchSize: 2,
    sequenceLength: 32,
    learningRate: 1e-3,
    warmupSteps: 0,
    weightDecay: 0.01,
    maxGradNorm: 1,
    evalFraction: 0.1,
    evalEvery: 0,
    seed: 3,
  };
  const text = Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: `Call me Ishmael, said the sailor on watch ${i}; the whale rose from the sea.` })).join('\n');

  it('as a masked LM that cannot generate; every method, full fine-tuning and distillation train two steps on it', async () => {
    const events: FromWorker[] = [];
    const s = new StudioSession((m) => events.push(m), { source });
    const last = <T extends FromWorker['type']>(type: T) => events.filter((e) => e.type === type).at(-1) as Extract<FromWorker, { type: T }> | undefined;
    await s.handle({ type: 'init', backend: 'wasm', modelsBaseUrl: 'http://unused/' });
    await s.handle({ type: 'loadModel', id: PRETRAINED_MLM_NAME });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    expect(last('modelLoaded')!.model).toMatchObject({ id: PRETRAINED_MLM_NAME, modelType: 'bert', totalParams: evalJson.params, cannotGenerate: expect.any(String) });
    await s.handle({ type: 'loadDataset', file: new File([text], 'sea.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    // Everything the Method select offers applies to a BERT.
    const methods = last('methods')!.methods.filter((m) => !m.unsupported);
    expect(methods.map((m) => m.id).sort()).toEqual(RUN_KINDS.map((m) => m.id).sort());
    for (const m of methods) {
      events.length = 0;
      await s.handle({ type: 'train', methodId: m.id, config: {}, train: TRAIN });
      expect(events.filter((e) => e.type === 'error'), m.id).toEqual([]);
      expect(last('trainingEnded'), m.id).toMatchObject({ reason: 'finished', step: 2 });
      const losses = events.flatMap((e) => (e.type === 'progress' ? e.points.map((p) => p.loss) : []));
      expect(losses, m.id).toHaveLength(2);
      for (const l of losses) expect(Number.isFinite(l) && l > 0, `${m.id} loss ${l}`).toBe(true);
      s.current.adapter?.dispose();
    }
    s.current.model?.dispose();
  }, 600_000);
});
