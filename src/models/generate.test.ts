// Text generation against a manual forward step by step: greedy is argmax, the seed decides
// the draw, top-k 1 is greedy, eos and maxNewTokens stop it, long prompts are cropped to the
// context (minus what hooks prepend), and no tensor outlives a call.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/random';
import { generate, reservedPositions, sampleToken } from './generate';
import { randomGpt2 } from './gpt2-init';
import type { Hooks, LoadedModel } from './types';

const SHAPE = { n_layer: 2, n_embd: 16, n_head: 2, n_positions: 16, vocab_size: 50, initializer_range: 0.5 };
let model: LoadedModel;

beforeAll(async () => {
  await tf.setBackend('cpu');
  // A large init std gives peaked, well-separated logits, so argmax is never a near tie.
  model = randomGpt2('gen-test', SHAPE, 7);
});

afterAll(() => model.dispose());

/** The last real position's logits for `ids` (cropped by the caller), read synchronously. */
function lastLogits(ids: number[], hooks: Hooks = {}): Float32Array {
  return tf.tidy(() => {
    const { logits, prepended } = model.forward(tf.tensor2d(ids, [1, ids.length], 'int32'), hooks);
    const all = logits.dataSync() as Float32Array;
    const V = SHAPE.vocab_size;
    const t = prepended + ids.length - 1;
    return all.slice(t * V, (t + 1) * V);
  });
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** Greedy decoding written out by hand: forward, argmax, append, crop to `window`. */
function manualGreedy(prompt: number[], n: number, window: number, hooks: Hooks = {}): number[] {
  const ids = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const next = argmax(lastLogits(ids.slice(-window), hooks));
    ids.push(next);
    out.push(next);
  }
  return out;
}

const GREEDY = { maxNewTokens: 8, temperature: 0, topK: 0, seed: 1 };

/** Prepends `n` fixed virtual tokens, as prompt tuning does. */
function virtualTokens(n: number): { hooks: Hooks; dispose(): void } {
  const prompt = tf.randomNormal([1, n, SHAPE.n_embd], 0, 0.5, 'float32', 3);
  return {
    hooks: { inputEmbeds: (e) => tf.concat([tf.tile(prompt, [e.shape[0], 1, 1]), e], 1) as tf.Tensor3D },
    dispose: () => prompt.dispose(),
  };
}

/** Per-layer key/value prefixes of `n` slots, as prefix tuning does. */
function kvPrefixes(n: number): { hooks: Hooks; dispose(): void } {
  const hd = SHAPE.n_embd / SHAPE.n_head;
  const k = tf.randomNormal([1, SHAPE.n_head, n, hd], 0, 1, 'float32', 4);
  const v = tf.randomNormal([1, SHAPE.n_head, n, hd], 0, 1, 'float32', 5);
  return {
    hooks: {
      kvPrefix: (_layer, batch) => ({ k: tf.tile(k, [batch, 1, 1, 1]) as tf.Tensor4D, v: tf.tile(v, [batch, 1, 1, 1]) as tf.Tensor4D }),
    },
    dispose: () => {
      k.dispose();
      v.dispose();
    },
  };
}

describe('generate', () => {
  it('greedy equals the argmax of a manual forward, step by step', async () => {
    const prompt = [3, 14, 15, 9];
    const streamed: number[] = [];
    const out = await generate(model, {}, prompt, GREEDY, (id) => {
      streamed.push(id);
    });
    expect(out).toEqual(manualGreedy(prompt, 8, SHAPE.n_positions));
    expect(streamed).toEqual(out);
    // The distribution is not degenerate: greedy did not just repeat one token.
    expect(new Set(out).size).toBeGreaterThan(1);
  });

  it('top-k 1 is greedy at any temperature', async () => {
    const prompt = [1, 2, 3];
    const greedy = await generate(model, {}, prompt, GREEDY);
    expect(await generate(model, {}, prompt, { ...GREEDY, temperature: 5, topK: 1, seed: 99 })).toEqual(greedy);
  });

  it('the same seed gives the same tokens, another seed other tokens', async () => {
    const opts = { maxNewTokens: 24, temperature: 20, topK: 0, seed: 11 };
    const a = await generate(model, {}, [5], opts);
    const b = await generate(model, {}, [5], opts);
    const c = await generate(model, {}, [5], { ...opts, seed: 12 });
    expect(a).toHaveLength(24);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('samples only among the top k', async () => {
    const prompt = [7, 8];
    const logits = lastLogits(prompt);
    const top3 = Array.from(logits.keys()).sort((x, y) => logits[y] - logits[x]).slice(0, 3);
    const firsts = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      const [first] = await generate(model, {}, prompt, { maxNewTokens: 1, temperature: 50, topK: 3, seed });
      firsts.add(first);
    }
    expect([...firsts].every((t) => top3.includes(t))).toBe(true);
    // At a high temperature all three come up.
    expect(firsts.size).toBe(3);
  });

  it('stops at eos without returning it', async () => {
    const prompt = [4, 4, 2];
    const full = await generate(model, {}, prompt, GREEDY);
    const eosId = full[3];
    const cut = full.indexOf(eosId);
    const stopped = await generate(model, {}, prompt, { ...GREEDY, eosId });
    expect(stopped).toEqual(full.slice(0, cut));
    expect(stopped).not.toContain(eosId);
  });

  it('respects maxNewTokens', async () => {
    expect(await generate(model, {}, [1], { ...GREEDY, maxNewTokens: 0 })).toEqual([]);
    expect(await generate(model, {}, [1], { ...GREEDY, maxNewTokens: 3 })).toHaveLength(3);
    expect(await generate(model, {}, [1], { maxNewTokens: 5, temperature: 1, topK: 10, seed: 2 })).toHaveLength(5);
  });

  it('crops a prompt longer than the context to its last n_positions tokens', async () => {
    const rand = mulberry32(5);
    const prompt = Array.from({ length: 40 }, () => Math.floor(rand() * SHAPE.vocab_size));
    const out = await generate(model, {}, prompt, { ...GREEDY, maxNewTokens: 6 });
    expect(out).toEqual(manualGreedy(prompt, 6, SHAPE.n_positions));
  });

  it('leaves room for virtual tokens a hook prepends', async () => {
    const vt = virtualTokens(4);
    expect(reservedPositions(model, vt.hooks)).toBe(4);
    const rand = mulberry32(6);
    const prompt = Array.from({ length: 30 }, () => Math.floor(rand() * SHAPE.vocab_size));
    const out = await generate(model, vt.hooks, prompt, { ...GREEDY, maxNewTokens: 6 });
    expect(out).toEqual(manualGreedy(prompt, 6, SHAPE.n_positions - 4, vt.hooks));
    // The virtual tokens change what comes out (the hook is honoured).
    const short = [9, 3, 1];
    expect(await generate(model, vt.hooks, short, GREEDY)).toEqual(manualGreedy(short, 8, 12, vt.hooks));
    expect(await generate(model, vt.hooks, short, GREEDY)).not.toEqual(await generate(model, {}, short, GREEDY));
    vt.dispose();
  });

  it('leaves room for key/value prefix slots', async () => {
    const kv = kvPrefixes(5);
    expect(reservedPositions(model, kv.hooks)).toBe(5);
    const prompt = Array.from({ length: 20 }, (_, i) => (i * 7) % SHAPE.vocab_size);
    const out = await generate(model, kv.hooks, prompt, { ...GREEDY, maxNewTokens: 4 });
    expect(out).toEqual(manualGreedy(prompt, 4, SHAPE.n_positions - 5, kv.hooks));
    kv.dispose();
  });

  it('refuses hooks that leave no room, and bad options', async () => {
    const vt = virtualTokens(SHAPE.n_positions);
    await expect(generate(model, vt.hooks, [1], GREEDY)).rejects.toThrow(/leaving none for text/);
    vt.dispose();
    await expect(generate(model, {}, [], GREEDY)).rejects.toThrow(/no tokens/);
    await expect(generate(model, {}, [SHAPE.vocab_size], GREEDY)).rejects.toThrow(/outside the vocabulary/);
    await expect(generate(model, {}, [1], { ...GREEDY, temperature: -1 })).rejects.toThrow(/temperature/);
    await expect(generate(model, {}, [1], { ...GREEDY, topK: 1.5 })).rejects.toThrow(/topK/);
    await expect(generate(model, {}, [1], { ...GREEDY, maxNewTokens: -1 })).rejects.toThrow(/maxNewTokens/);
  });

  it('leaves the tensor count as it found it', async () => {
    const vt = virtualTokens(3);
    const kv = kvPrefixes(2);
    const hooks: Hooks = { ...vt.hooks, ...kv.hooks, linear: (_p, _x, y) => tf.add(y, 0) };
    const before = tf.memory().numTensors;
    await generate(model, hooks, Array.from({ length: 20 }, (_, i) => i), { maxNewTokens: 5, temperature: 0.8, topK: 5, seed: 3 });
    await generate(model, {}, [1, 2], GREEDY);
    await expect(generate(model, {}, [SHAPE.vocab_size + 1], GREEDY)).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
    vt.dispose();
    kv.dispose();
  });
});

describe('sampleToken', () => {
  it('follows the softmax of logits / temperature', () => {
    const logits = [Math.log(1), Math.log(2), Math.log(7), -Infinity];
    const rand = mulberry32(1);
    const counts = [0, 0, 0, 0];
    const N = 20000;
    for (let i = 0; i < N; i++) counts[sampleToken(logits, 1, 0, rand)]++;
    expect(counts[0] / N).toBeCloseTo(0.1, 1);
    expect(counts[1] / N).toBeCloseTo(0.2, 1);
    expect(counts[2] / N).toBeCloseTo(0.7, 1);
    expect(counts[3]).toBe(0);
    // Temperature 0.5 squares the odds: 1 : 4 : 49.
    const hot = [0, 0, 0, 0];
    for (let i = 0; i < N; i++) hot[sampleToken(logits, 0.5, 0, rand)]++;
    expect(hot[2] / N).toBeCloseTo(49 / 54, 1);
  });

  it('is greedy at temperature 0, ties to the lower id, and refuses NaN', () => {
    const never = () => {
      throw new Error('greedy must not draw');
    };
    expect(sampleToken([0.5, 2, 2, 1], 0, 0, never)).toBe(1);
    expect(sampleToken([0.5, 2, 2, 1], 3, 1, never)).toBe(1);
    expect(() => sampleToken([0, NaN], 1, 0, Math.random)).toThrow(/non-finite/);
  });
});
