// Masked-LM masking: 15% of the eligible tokens chosen, 80/10/10 among them, padding and special
// tokens never chosen, labels exactly at the chosen positions, the same masking for the same seed.
import { describe, expect, it } from 'vitest';
import { IGNORE_INDEX, makeBatch } from './dataset';
import { MASK_PROBABILITY, maskTokens, targetCount, type MaskingTokens } from './masking';
import { deriveSeed, mulberry32 } from './random';

const VOCAB = 1000;
const CLS = 1;
const SEP = 2;
const PAD = 0;
const MASK = 3;
const TOKENS: MaskingTokens = { maskId: MASK, specialIds: [PAD, CLS, SEP, MASK], vocabSize: VOCAB };

/** Rows of [CLS] w… [SEP] with random ordinary ids (≥ 10) of random lengths, right-padded. */
function randomBatch(rows: number, length: number, seed: number) {
  const r = mulberry32(seed);
  const seqs = Array.from({ length: rows }, () => {
    const n = 2 + Math.floor(r() * (length - 2));
    return [CLS, ...Array.from({ length: n - 2 }, () => 10 + Math.floor(r() * (VOCAB - 10))), SEP];
  });
  return makeBatch(seqs, length, PAD);
}

describe('targetCount', () => {
  it('is 15% rounded, at least one when any token is eligible', () => {
    expect(targetCount(0)).toBe(0);
    expect(targetCount(1)).toBe(1);
    expect(targetCount(3)).toBe(1);
    expect(targetCount(100)).toBe(15);
    expect(targetCount(110)).toBe(17); // 16.5 rounds up
    expect(targetCount(1000)).toBe(150);
  });
});

describe('maskTokens', () => {
  it('chooses 15% of the eligible tokens of each batch, and splits them 80/10/10 over many tokens', () => {
    let eligible = 0;
    let chosen = 0;
    let toMask = 0;
    let toRandom = 0;
    let kept = 0;
    for (let step = 0; step < 200; step++) {
      const b = randomBatch(8, 64, 100 + step);
      const m = maskTokens(b, TOKENS, deriveSeed(5, step));
      let n = 0;
      for (let i = 0; i < b.ids.length; i++) if (b.labels[i] !== IGNORE_INDEX && ![CLS, SEP].includes(b.ids[i])) n++;
      // The count is exact per batch.
      expect(m.chosen.length).toBe(targetCount(n));
      eligible += n;
      chosen += m.chosen.length;
      for (const p of m.chosen) {
        if (m.ids[p] === MASK) toMask++;
        else if (m.ids[p] === b.ids[p]) kept++;
        else toRandom++;
      }
    }
    expect(eligible).toBeGreaterThan(40_000);
    expect(Math.abs(chosen / eligible - MASK_PROBABILITY)).toBeLessThan(0.002);
    // A random replacement can draw the token itself (1 in 1000 here), so "kept" is a hair over 10%.
    expect(Math.abs(toMask / chosen - 0.8)).toBeLessThan(0.01);
    expect(Math.abs(toRandom / chosen - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(kept / chosen - 0.1)).toBeLessThan(0.01);
  });

  it('never chooses padding or a special token, and changes nothing it did not choose', () => {
    for (let step = 0; step < 50; step++) {
      const b = randomBatch(4, 32, step);
      // Specials in the middle of the text too, and ids above the special range.
      b.ids[5] = MASK;
      const m = maskTokens(b, TOKENS, step);
      const chosen = new Set(m.chosen);
      for (let i = 0; i < b.ids.length; i++) {
        if (b.labels[i] === IGNORE_INDEX || TOKENS.specialIds.includes(b.ids[i])) expect(chosen.has(i), `position ${i}`).toBe(false);
        if (!chosen.has(i)) expect(m.ids[i]).toBe(b.ids[i]);
      }
    }
  });

  it('labels the original id exactly at the chosen positions and IGNORE_INDEX everywhere else', () => {
    const b = randomBatch(6, 48, 9);
    const m = maskTokens(b, TOKENS, 1234);
    const chosen = new Set(m.chosen);
    expect(chosen.size).toBe(m.chosen.length);
    expect([...m.chosen]).toEqual([...m.chosen].sort((x, y) => x - y));
    for (let i = 0; i < b.ids.length; i++) expect(m.labels[i]).toBe(chosen.has(i) ? b.ids[i] : IGNORE_INDEX);
    // The batch itself is not changed.
    expect(b.labels.filter((l) => l !== IGNORE_INDEX).length).toBeGreaterThan(m.chosen.length);
  });

  it('gives the same masking for the same seed, and another for another seed', () => {
    const b = randomBatch(8, 64, 3);
    const a1 = maskTokens(b, TOKENS, deriveSeed(7, 4));
    const a2 = maskTokens(b, TOKENS, deriveSeed(7, 4));
    expect(Array.from(a2.ids)).toEqual(Array.from(a1.ids));
    expect(Array.from(a2.labels)).toEqual(Array.from(a1.labels));
    expect(a2.chosen).toEqual(a1.chosen);
    const other = maskTokens(b, TOKENS, deriveSeed(7, 5));
    expect(other.chosen).not.toEqual(a1.chosen);
  });

  it('draws random replacements from the whole vocabulary', () => {
    const b = randomBatch(8, 64, 11);
    const seen = new Set<number>();
    for (let s = 0; s < 300; s++) {
      const m = maskTokens(b, { ...TOKENS, vocabSize: 20 }, s);
      for (const p of m.chosen) if (m.ids[p] !== MASK && m.ids[p] !== b.ids[p]) seen.add(m.ids[p]);
    }
    // Every id but the mask token's, which cannot be told apart from a masked position.
    expect([...seen].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== MASK));
  });

  it('chooses nothing in a batch without eligible tokens, and refuses mismatched sizes', () => {
    const b = makeBatch([[CLS, SEP], [CLS, SEP]], 4, PAD);
    const m = maskTokens(b, TOKENS, 1);
    expect(m.chosen).toEqual([]);
    expect(Array.from(m.labels).every((l) => l === IGNORE_INDEX)).toBe(true);
    expect(() => maskTokens({ ...b, length: 5 }, TOKENS, 1)).toThrow(/2×5/);
  });
});
