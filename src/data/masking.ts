// Masked-language-model inputs, as BERT is trained (Devlin et al. 2019, §3.1 "Task #1: Masked
// LM" and appendix A.1) and as transformers' DataCollatorForLanguageModeling prepares them:
// 15% of the real tokens are chosen as targets; of those, 80% are replaced by the mask token,
// 10% by a random token of the vocabulary and 10% left as they are. The labels are the original
// ids at the chosen positions and IGNORE_INDEX everywhere else, so the loss reads only those.
//
// Padding and special tokens ([CLS], [SEP], [PAD], …) are never chosen, as the collator's
// special_tokens_mask excludes them. The collator draws each token's choice independently, so a
// small batch may get no target at all; here the count per batch is exact, round(15% of the
// eligible tokens) and at least one, so every step has a loss to learn from. Which tokens, and
// what each becomes, come from a PRNG seeded by the caller: the same seed gives the same masked
// batch on every backend and in every run.
import { IGNORE_INDEX } from './dataset';
import { mulberry32 } from './random';

/** Share of the eligible tokens chosen as targets. */
export const MASK_PROBABILITY = 0.15;
/** Of the chosen tokens: the share replaced by the mask token, and (next) by a random token; the rest stay. */
export const MASK_TOKEN_SHARE = 0.8;
export const RANDOM_TOKEN_SHARE = 0.1;

/** What masking needs from the tokenizer. */
export interface MaskingTokens {
  /** The id chosen tokens are replaced with (tokenizer_config.json's mask_token). */
  maskId: number;
  /** Ids never chosen as targets (the tokenizer's special tokens). */
  specialIds: readonly number[];
  /** Random replacements are drawn uniformly from 0..vocabSize-1, as the collator draws from len(tokenizer). */
  vocabSize: number;
}

/** A batch as the sampler makes it: ids [batch, length] row-major, labels IGNORE_INDEX exactly at padding. */
export interface UnmaskedBatch {
  ids: Int32Array;
  labels: Int32Array;
  batch: number;
  length: number;
}

export interface MaskedBatch {
  /** The model's input: the batch's ids with the chosen tokens replaced (or kept). */
  ids: Int32Array;
  /** The original id at each chosen position, IGNORE_INDEX elsewhere. */
  labels: Int32Array;
  /** Positions chosen as targets, ascending (row-major indices). */
  chosen: number[];
}

/** How many of `eligible` tokens are chosen: round(15%), at least one when there is any. */
export function targetCount(eligible: number): number {
  if (eligible <= 0) return 0;
  return Math.max(1, Math.round(eligible * MASK_PROBABILITY));
}

/**
 * Chooses and replaces the targets of one batch, drawn from a PRNG seeded with `seed`. A
 * position is eligible when it is a real token (its label is not IGNORE_INDEX) whose id is not
 * special. Pure: the batch is not changed.
 */
export function maskTokens(batch: UnmaskedBatch, tokens: MaskingTokens, seed: number): MaskedBatch {
  const { ids, labels } = batch;
  if (ids.length !== batch.batch * batch.length || labels.length !== ids.length) {
    throw new Error(`maskTokens: ids (${ids.length}) and labels (${labels.length}) must both hold ${batch.batch}×${batch.length} entries`);
  }
  if (!Number.isInteger(tokens.vocabSize) || tokens.vocabSize < 1) throw new Error(`maskTokens: vocabSize must be a positive integer, got ${tokens.vocabSize}`);
  const special = new Set(tokens.specialIds);
  const eligible: number[] = [];
  for (let i = 0; i < ids.length; i++) if (labels[i] !== IGNORE_INDEX && !special.has(ids[i])) eligible.push(i);

  const rand = mulberry32(seed);
  // A partial Fisher–Yates shuffle: the first k entries become a uniform sample without replacement.
  const k = targetCount(eligible.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (eligible.length - i));
    const t = eligible[i];
    eligible[i] = eligible[j];
    eligible[j] = t;
  }
  const chosen = eligible.slice(0, k).sort((a, b) => a - b);

  const masked = Int32Array.from(ids);
  const targets = new Int32Array(ids.length).fill(IGNORE_INDEX);
  for (const p of chosen) {
    targets[p] = ids[p];
    const u = rand();
    if (u < MASK_TOKEN_SHARE) masked[p] = tokens.maskId;
    else if (u < MASK_TOKEN_SHARE + RANDOM_TOKEN_SHARE) masked[p] = Math.floor(rand() * tokens.vocabSize);
    // else: the token stays as it is, and is still a target.
  }
  return { ids: masked, labels: targets, chosen };
}
