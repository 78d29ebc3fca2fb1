// From examples to what the trainer consumes: token ids, a seeded held-out split, and
// fixed-shape causal-LM batches. Shapes are fixed ([batch, sequenceLength]) so the backend
// compiles its kernels once instead of once per distinct padded length.
import type { TextTokenizer } from '../tokenize/tokenizer';
import { stratifiedSplit, tokenizeLabelled, type LabelledColumns, type LabelledDataset } from './labelled';
import type { ChatTemplate, ChatTemplateOrigin } from './chat-template';
import { DatasetError, exampleText, textExample, wholeTextExample, type DatasetFormat, type DatasetKind, type Example, type ReadChoice, type RejectionSummary } from './parse';
import { readDatasetText, type DatasetRead } from './read';
import { cut, defaultLayout, exampleKey, firstOccurrences, layoutRows, lengthHistogram, type LengthHistogram, type LongExamples, type Rows, type SequenceLayout } from './layout';
import { deriveSeed, mulberry32, permutation } from './random';

/** Label value ignored by the loss, as in PyTorch / Hugging Face. */
export const IGNORE_INDEX = -100;

export interface TokenizedExamples {
  ids: number[][];
  /**
   * Per example, 1 where the loss reads the token and 0 where it is context only (a prompt
   * under completion-only loss); undefined for an example trained on everywhere. Absent when no
   * example has an untrained token.
   */
  trained?: (Uint8Array | undefined)[];
  /** Each example's tokens before any cut, eos included. */
  lengths: number[];
  /** Tokens kept after truncation, eos included. */
  tokens: number;
  /** Of `tokens`, those the loss does not read (prompt tokens). */
  untrained: number;
  /** Examples cut before their first trained token: they teach nothing. */
  nothingTrained: number;
  /** Examples that were longer than sequenceLength and were cut (none when `long` is 'windows'). */
  truncated: number;
}

/** Hears how many of the examples have been tokenized so far. */
export type TokenizeProgress = (done: number, total: number) => void;
/** Examples between two progress reports. */
export const PROGRESS_EVERY = 256;

function checkSequenceLength(sequenceLength: number): void {
  // A causal LM needs at least two positions for one next-token target.
  if (!Number.isInteger(sequenceLength) || sequenceLength < 2) {
    throw new Error(`sequenceLength must be an integer ≥ 2, got ${sequenceLength}`);
  }
}

/**
 * Each example's whole text encoded, followed by eos when the tokenizer has one (so a causal LM
 * learns where text ends; a BERT tokenizer has none and closes each sequence with [SEP] itself)
 * and its post-processor has not already put it there (RoBERTa's closes each sequence with its
 * eos `</s>`, as transformers' tokenizer gives it). An example longer than sequenceLength is cut
 * to it keeping its start (the default) or its end, or left whole with 'windows' for
 * `layoutRows` to split.
 *
 * Which tokens are trained on follows TRL's SFTTrainer for prompt-completion data: the whole
 * text is encoded once, and a segment's tokens start where the encoding of the text before it
 * ends (TRL: `[0] * len(prompt_ids) + [1] * (len(prompt_completion_ids) - len(prompt_ids))`),
 * so the eos after the last segment belongs to it. Plain strings are trained on everywhere.
 *
 * A templated example (a chat) is encoded as transformers' apply_chat_template encodes its
 * rendered text: no special tokens added by the tokenizer, no eos appended.
 */
export function tokenizeExamples(
  examples: readonly (string | Example)[],
  tok: TextTokenizer,
  sequenceLength: number,
  long: LongExamples = 'keep-start',
  onProgress?: TokenizeProgress,
): TokenizedExamples {
  checkSequenceLength(sequenceLength);
  const lengths: number[] = [];
  let tokens = 0;
  let untrained = 0;
  let nothingTrained = 0;
  let truncated = 0;
  const trained: (Uint8Array | undefined)[] = [];
  const ids = examples.map((given, i) => {
    if (onProgress && i % PROGRESS_EVERY === 0) onProgress(i, examples.length);
    const example = typeof given === 'string' ? textExample(given) : given;
    let seq = tok.encode(exampleText(example), { addSpecialTokens: !example.templated });
    if (tok.eosId !== undefined && seq.at(-1) !== tok.eosId && !example.templated) seq.push(tok.eosId);
    let mask = example.every((s) => s.train) ? undefined : trainedMask(example, seq.length, tok);
    lengths.push(seq.length);
    if (seq.length > sequenceLength && long !== 'windows') {
      truncated++;
      seq = cut(seq, sequenceLength, long);
      mask = mask && cut(mask, sequenceLength, long);
    }
    tokens += seq.length;
    if (mask) {
      const read = mask.reduce((n, m) => n + m, 0);
      untrained += mask.length - read;
      if (read === 0) nothingTrained++;
    }
    trained.push(mask);
    return seq;
  });
  return { ids, ...(untrained > 0 ? { trained } : {}), lengths, tokens, untrained, nothingTrained, truncated };
}

/** 1 for each of `length` tokens that a trained segment owns, by the encoded lengths of the text before each segment. */
function trainedMask(example: Example, length: number, tok: TextTokenizer): Uint8Array {
  const mask = new Uint8Array(length);
  let before = '';
  let start = 0;
  example.forEach((segment, k) => {
    before += segment.text;
    const end = k === example.length - 1 ? length : Math.min(tok.encode(before, { addSpecialTokens: !example.templated }).length, length);
    if (segment.train && end > start) mask.fill(1, start, end);
    start = Math.max(start, end);
  });
  return mask;
}

export interface HeldOutSplit {
  /** Example indices, ascending. */
  train: number[];
  /** Example indices, ascending. */
  eval: number[];
}

/**
 * A seeded random split. The held-out size is round(n·fraction), at least 1 whenever there are
 * two examples and a fraction was asked for (a 0-example eval set would silently disable eval),
 * and never all of the data (there must be something to train on).
 */
export function splitHeldOut(n: number, fraction: number, seed: number): HeldOutSplit {
  if (!Number.isInteger(n) || n < 0) throw new Error(`splitHeldOut: n must be a non-negative integer, got ${n}`);
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`evalFraction must be in [0, 1), got ${fraction}`);
  let evalSize = Math.round(n * fraction);
  if (fraction > 0 && n >= 2) evalSize = Math.max(1, evalSize);
  evalSize = Math.min(evalSize, Math.max(n - 1, 0));
  const order = permutation(n, mulberry32(seed));
  const ascending = (a: number, b: number): number => a - b;
  return { train: order.slice(evalSize).sort(ascending), eval: order.slice(0, evalSize).sort(ascending) };
}

export interface Batch {
  /** [batch, length] row-major, right-padded with padId. */
  ids: Int32Array;
  /** Same as ids, IGNORE_INDEX (-100) at padding; unshifted (the model shifts, as Hugging Face does). */
  labels: Int32Array;
  batch: number;
  length: number;
  /** A labelled dataset's label id per row [batch]. */
  classes?: Int32Array;
  /** Each token's segment [batch, length], for sentence pairs (padding is 0). */
  tokenTypes?: Int32Array;
  /** Real (non-padding) tokens, given when the labels also ignore some real ones (a prompt's). */
  tokens?: number;
}

/** What a labelled dataset carries per example besides its ids: its label id, and its segments for a sentence pair. */
export interface ExampleLabels {
  classes: number[];
  /** Per example, one segment id per token (as long as its ids); absent for single texts. */
  tokenTypes?: number[][];
}

/** Per sequence, 1 where the loss reads the token, 0 where not; undefined: all read (TokenizedExamples.trained). */
export type TrainedMasks = readonly (Uint8Array | undefined)[];

/**
 * Packs sequences into one fixed-length batch. Padding is by position, not by id: pad may equal
 * eos. `labelled` (indexed like `sequences`) adds each row's label id and segments; `trained`
 * (indexed likewise) puts IGNORE_INDEX in the labels of the tokens not trained on.
 */
export function makeBatch(sequences: number[][], sequenceLength: number, padId: number, labelled?: ExampleLabels, trained?: TrainedMasks): Batch {
  const batch = sequences.length;
  const ids = new Int32Array(batch * sequenceLength).fill(padId);
  const labels = new Int32Array(batch * sequenceLength).fill(IGNORE_INDEX);
  sequences.forEach((seq, row) => {
    if (seq.length > sequenceLength) {
      throw new Error(`makeBatch: a sequence of ${seq.length} tokens exceeds sequenceLength ${sequenceLength}`);
    }
    ids.set(seq, row * sequenceLength);
    labels.set(seq, row * sequenceLength);
    const mask = trained?.[row];
    if (mask) mask.forEach((m, t) => m === 0 && (labels[row * sequenceLength + t] = IGNORE_INDEX));
  });
  const out: Batch = { ids, labels, batch, length: sequenceLength };
  if (trained?.some((m) => m !== undefined)) out.tokens = sequences.reduce((n, seq) => n + seq.length, 0);
  if (labelled) {
    out.classes = Int32Array.from(labelled.classes);
    if (labelled.tokenTypes) {
      out.tokenTypes = new Int32Array(batch * sequenceLength);
      labelled.tokenTypes.forEach((types, row) => out.tokenTypes!.set(types, row * sequenceLength));
    }
  }
  return out;
}

/** The labels of the examples at `indices`. */
function pickLabels(labelled: ExampleLabels | undefined, indices: number[]): ExampleLabels | undefined {
  if (!labelled) return undefined;
  return { classes: indices.map((i) => labelled.classes[i]), tokenTypes: labelled.tokenTypes && indices.map((i) => labelled.tokenTypes![i]) };
}

export interface BatchSamplerOptions {
  batchSize: number;
  sequenceLength: number;
  padId: number;
  seed: number;
}

/**
 * Epoch-based training batches: each epoch visits every sequence exactly once in a seeded order
 * that differs per epoch; the last batch of an epoch may be smaller. Random access by
 * (epoch, index) or by global step, so a run is reproducible from its seed alone.
 */
export class BatchSampler {
  readonly batchesPerEpoch: number;
  private readonly opts: BatchSamplerOptions;
  private cachedEpoch = -1;
  private cachedOrder: number[] = [];

  constructor(
    private readonly sequences: number[][],
    opts: BatchSamplerOptions,
    private readonly labelled?: ExampleLabels,
    private readonly trained?: TrainedMasks,
  ) {
    if (sequences.length === 0) throw new Error('BatchSampler: no training sequences');
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
      throw new Error(`batchSize must be a positive integer, got ${opts.batchSize}`);
    }
    checkSequenceLength(opts.sequenceLength);
    this.opts = { ...opts };
    this.batchesPerEpoch = Math.ceil(sequences.length / opts.batchSize);
  }

  get size(): number {
    return this.sequences.length;
  }

  /** The order in which `epoch` visits the sequences (indices into the constructor's array). */
  order(epoch: number): number[] {
    if (epoch !== this.cachedEpoch) {
      this.cachedOrder = permutation(this.sequences.length, mulberry32(deriveSeed(this.opts.seed, epoch)));
      this.cachedEpoch = epoch;
    }
    return this.cachedOrder;
  }

  batch(epoch: number, index: number): Batch {
    if (!Number.isInteger(index) || index < 0 || index >= this.batchesPerEpoch) {
      throw new Error(`batch index ${index} is outside 0..${this.batchesPerEpoch - 1}`);
    }
    const { batchSize, sequenceLength, padId } = this.opts;
    const picked = this.order(epoch).slice(index * batchSize, (index + 1) * batchSize);
    const trained = this.trained && picked.map((i) => this.trained![i]);
    return makeBatch(picked.map((i) => this.sequences[i]), sequenceLength, padId, pickLabels(this.labelled, picked), trained);
  }

  /** The batch for a global 0-based optimiser step, with the epoch it falls in. */
  batchAtStep(step: number): { epoch: number; index: number; batch: Batch } {
    const epoch = Math.floor(step / this.batchesPerEpoch);
    const index = step % this.batchesPerEpoch;
    return { epoch, index, batch: this.batch(epoch, index) };
  }

  *epoch(epoch: number): Generator<Batch> {
    for (let i = 0; i < this.batchesPerEpoch; i++) yield this.batch(epoch, i);
  }
}

/** The held-out set in its given order, unshuffled, in batches of at most batchSize. */
export function evalBatches(sequences: number[][], batchSize: number, sequenceLength: number, padId: number, labelled?: ExampleLabels, trained?: TrainedMasks): Batch[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  checkSequenceLength(sequenceLength);
  const batches: Batch[] = [];
  for (let start = 0; start < sequences.length; start += batchSize) {
    const rows = Array.from({ length: Math.min(batchSize, sequences.length - start) }, (_, k) => start + k);
    batches.push(makeBatch(sequences.slice(start, start + batchSize), sequenceLength, padId, pickLabels(labelled, rows), trained?.slice(start, start + batchSize)));
  }
  return batches;
}

export const PREVIEW_EXAMPLES = 5;
export const PREVIEW_CHARS = 400;

export interface SummaryInput {
  fileName: string;
  format: DatasetFormat;
  /** How the records were read; absent for a labelled dataset. */
  kind?: DatasetKind;
  /** The chat template chats were rendered with, when the file has chats. */
  chatTemplate?: ChatTemplateOrigin;
  examples: string[];
  tokenized: Pick<TokenizedExamples, 'tokens' | 'truncated'> & Partial<Pick<TokenizedExamples, 'untrained' | 'nothingTrained'>>;
  split: HeldOutSplit;
  sequenceLength: number;
  /** Rows each split became. */
  rows: { train: number; eval: number };
  duplicates: number;
  lengths: LengthHistogram;
}

/** What the page shows of a prepared dataset. */
export interface DatasetSummary {
  fileName: string;
  format: DatasetFormat;
  /** How the records were read (plain text, prompt/completion, Alpaca); absent for a labelled dataset. */
  kind?: DatasetKind;
  /** The chat template chats were rendered with: the model's own, or the default ChatML template (the model has none). */
  chatTemplate?: ChatTemplateOrigin;
  /**
   * Instruction data: whether a prompt's tokens are left out of the loss (only the completion is
   * trained on); for chats, everything but the assistant's replies (assistant-only loss).
   */
  completionOnly?: boolean;
  /** Why the loaded model trains on every token of instruction data, whatever is chosen; absent when it can leave prompts out. */
  completionOnlyUnsupported?: string;
  /** Tokens in the rows that the loss does not read: the prompts', under completion-only loss. */
  untrainedTokens?: number;
  /**
   * Examples cut at the sequence length before their completion began, so left out (as TRL's
   * SFTTrainer drops them): `examples` counts them, `trainExamples` and `evalExamples` do not,
   * nor `tokens`.
   */
  nothingTrained?: number;
  /** Examples read from the file, duplicates included. */
  examples: number;
  /** Exact duplicates of an earlier example, left out before the split: `examples` counts them, the splits do not. */
  duplicates: number;
  trainExamples: number;
  evalExamples: number;
  /** Rows of at most sequenceLength tokens the examples became (windows, packed runs, or one example each). */
  trainRows: number;
  evalRows: number;
  /** Real tokens in the rows. */
  tokens: number;
  /** Examples longer than the sequence length, cut to it (0 when long examples are split into windows). */
  truncated: number;
  sequenceLength: number;
  /** How examples became rows; absent for a labelled dataset (one example per row, cut keeping its start). */
  layout?: SequenceLayout & {
    /** The short-example choice is this kind of data's default, not the person's. */
    shortByDefault: boolean;
  };
  /** Under windows with padding: the rows made by splitting examples longer than the sequence length. */
  windows?: number;
  /** Windows or packed rows holding prompt tokens only, left out (every label ignored). */
  promptOnlyRows?: number;
  /** Token lengths of the examples (duplicates left out) before any window or cut. */
  lengths: LengthHistogram;
  /** First few examples, as text. */
  preview: string[];
  /** A labelled dataset (sequence classification): its labels, how many examples each has, and the columns read. */
  classification?: ClassificationSummary;
  /** The file's rows that did not read and were left out: how many, and the first few with their line and reason. */
  rejected?: RejectionSummary;
}

export interface ClassificationSummary {
  /** Label names by id. */
  labels: string[];
  /** Examples per label id, over the whole file (duplicates left out). */
  counts: number[];
  /** Held-out examples per label id. */
  evalCounts: number[];
  columns: LabelledColumns;
  /** The columns a person may choose the text from. */
  textColumns: string[];
  /** Every column of the file, in its order (the label's choices). */
  allColumns: string[];
  /** More than one choice of text column(s) fitted; the first was used. */
  ambiguous: boolean;
}

export function summarize(input: SummaryInput): DatasetSummary {
  return {
    fileName: input.fileName,
    format: input.format,
    ...(input.kind ? { kind: input.kind } : {}),
    ...(input.chatTemplate ? { chatTemplate: input.chatTemplate } : {}),
    examples: input.examples.length,
    duplicates: input.duplicates,
    trainExamples: input.split.train.length,
    evalExamples: input.split.eval.length,
    trainRows: input.rows.train,
    evalRows: input.rows.eval,
    tokens: input.tokenized.tokens,
    truncated: input.tokenized.truncated,
    ...(input.tokenized.untrained !== undefined ? { untrainedTokens: input.tokenized.untrained } : {}),
    ...(input.tokenized.nothingTrained ? { nothingTrained: input.tokenized.nothingTrained } : {}),
    sequenceLength: input.sequenceLength,
    lengths: input.lengths,
    // Cut by code point so a preview never ends in half a surrogate pair.
    preview: input.examples.slice(0, PREVIEW_EXAMPLES).map((e) => Array.from(e).slice(0, PREVIEW_CHARS).join('')),
  };
}

export interface PreparedDataset {
  summary: DatasetSummary;
  /** The training rows (token ids, at most sequenceLength each), in example order. */
  train: number[][];
  /** The held-out rows, in example order. */
  eval: number[][];
  /** Which tokens the loss reads, parallel to `train` and `eval`; absent when it reads every one. */
  trained?: { train: TrainedMasks; eval: TrainedMasks };
  /** For a labelled dataset: label names, and each split's label ids (and segments, for pairs) parallel to its ids. */
  labelled?: { names: string[]; train: ExampleLabels; eval: ExampleLabels };
}

export interface PrepareOptions {
  sequenceLength: number;
  evalFraction: number;
  seed: number;
  columns?: Partial<LabelledColumns>;
  completionOnly?: boolean;
  /** How examples become rows; what is not given takes `defaultLayout`'s. A labelled dataset ignores it. */
  layout?: Partial<SequenceLayout>;
  /** The chat template chat records are rendered with (the model's), asked for at the first chat. */
  chatTemplate?: () => ChatTemplate;
  /** How the person chose to read the file, instead of from its content. */
  reading?: ReadChoice;
  onProgress?: TokenizeProgress;
}

/** The worker's whole path from a dropped file (its text, or what reading it gave) to a summary and rows of token ids. Throws DatasetError. */
export function prepareDataset(fileName: string, source: string | DatasetRead, tok: TextTokenizer, opts: PrepareOptions): PreparedDataset {
  const read = typeof source === 'string' ? readDatasetText(fileName, source, opts.columns, { ...opts.reading, chatTemplate: opts.chatTemplate }) : source;
  if (read.labelled) return prepareLabelled(fileName, read.labelled, tok, opts);
  const { format, kind, examples, chatTemplate } = read.examples!;
  const layout = defaultLayout(kind === 'text', opts.layout);
  const sequenceLength = opts.sequenceLength;
  // Exact duplicates would be trained on twice, or land on both sides of the split.
  const unique = firstOccurrences(examples.map(exampleKey)).map((i) => examples[i]);
  // Completion-only (and, for chats, assistant-only) loss is the default, as in TRL; without it every segment is trained on.
  const completionOnly = opts.completionOnly ?? true;
  const texts = completionOnly ? unique : unique.map(wholeTextExample);
  const tokenized = tokenizeExamples(texts, tok, sequenceLength, layout.long, opts.onProgress);
  // An example cut before its completion teaches nothing; TRL's SFTTrainer drops such examples
  // ("fully masked by truncation"), and so do we, before the split. The summary counts them.
  const masks = tokenized.trained;
  const kept = unique.map((_, i) => i).filter((i) => !masks?.[i] || masks[i]!.includes(1));
  if (kept.length === 0) {
    throw new DatasetError(fileName, `${fileName}: every example's prompt fills the ${sequenceLength} tokens of the sequence length, leaving no completion to train on; raise the sequence length`);
  }
  // The split is by example, before windows and packing: every window of an example and every
  // packed row holding its tokens fall on the same side, so no held-out text is trained on.
  const byKept = splitHeldOut(kept.length, opts.evalFraction, opts.seed);
  const split = { train: byKept.train.map((k) => kept[k]), eval: byKept.eval.map((k) => kept[k]) };
  const rowsOf = (idx: number[]) => layoutRows(idx.map((i) => tokenized.ids[i]), masks && idx.map((i) => masks[i]), sequenceLength, layout.short);
  const train = rowsOf(split.train);
  const held = rowsOf(split.eval);
  const rows = [...train.ids, ...held.ids];
  const rowMasks = [...(train.trained ?? []), ...(held.trained ?? [])];
  const counts = {
    tokens: rows.reduce((n, r) => n + r.length, 0),
    untrained: rowMasks.reduce((n, m) => n + (m ? m.length - m.reduce((a, b) => a + b, 0) : 0), 0),
    truncated: tokenized.truncated,
    nothingTrained: unique.length - kept.length,
  };
  const summary = summarize({
    fileName,
    format,
    kind,
    chatTemplate,
    examples: examples.map(exampleText),
    tokenized: counts,
    split,
    sequenceLength,
    rows: { train: train.ids.length, eval: held.ids.length },
    duplicates: examples.length - unique.length,
    lengths: lengthHistogram(tokenized.lengths, sequenceLength),
  });
  summary.layout = { ...layout, shortByDefault: opts.layout?.short === undefined };
  if (layout.long === 'windows' && layout.short === 'pad') summary.windows = train.windows + held.windows;
  if (train.promptOnly + held.promptOnly > 0) summary.promptOnlyRows = train.promptOnly + held.promptOnly;
  if (kind !== 'text') summary.completionOnly = completionOnly;
  const parallel = (r: Rows) => r.trained ?? r.ids.map(() => undefined);
  return {
    summary,
    train: train.ids,
    eval: held.ids,
    ...(train.trained || held.trained ? { trained: { train: parallel(train), eval: parallel(held) } } : {}),
  };
}

/**
 * A labelled dataset tokenized (pairs with their segments), cut to the sequence length keeping
 * each example's start (a classifier reads one whole row per example), and split, stratified
 * by label. Exact duplicates (same texts, same label) are left out first.
 */
function prepareLabelled(fileName: string, given: LabelledDataset, tok: TextTokenizer, opts: { sequenceLength: number; evalFraction: number; seed: number; onProgress?: TokenizeProgress }): PreparedDataset {
  checkSequenceLength(opts.sequenceLength);
  const unique = firstOccurrences(given.texts.map((t, i) => JSON.stringify([t, given.pairs?.[i], given.classes[i]])));
  const d: LabelledDataset = { ...given, texts: unique.map((i) => given.texts[i]), pairs: given.pairs && unique.map((i) => given.pairs![i]), classes: unique.map((i) => given.classes[i]) };
  const whole = tokenizeLabelled(d, tok, Number.MAX_SAFE_INTEGER, opts.onProgress);
  const lengths = whole.ids.map((ids) => ids.length);
  const ids = whole.ids.map((x) => cut(x, opts.sequenceLength, 'keep-start'));
  const tokenTypes = whole.tokenTypes?.map((x) => cut(x, opts.sequenceLength, 'keep-start'));
  const tokenized = { tokens: ids.reduce((n, x) => n + x.length, 0), truncated: lengths.filter((n) => n > opts.sequenceLength).length };
  const split = stratifiedSplit(d.classes, d.labelNames.length, opts.evalFraction, opts.seed);
  const labelsOf = (idx: number[]): ExampleLabels => ({ classes: idx.map((i) => d.classes[i]), tokenTypes: tokenTypes && idx.map((i) => tokenTypes[i]) });
  const count = (idx: number[]) => d.labelNames.map((_, k) => idx.filter((i) => d.classes[i] === k).length);
  const shown = given.texts.map((t, i) => (given.pairs ? `${t} ‖ ${given.pairs[i]}` : t));
  const summary = summarize({
    fileName,
    format: d.format,
    examples: shown,
    tokenized,
    split,
    sequenceLength: opts.sequenceLength,
    rows: { train: split.train.length, eval: split.eval.length },
    duplicates: given.texts.length - unique.length,
    lengths: lengthHistogram(lengths, opts.sequenceLength),
  });
  summary.preview = summary.preview.map((p, i) => `${given.labelNames[given.classes[i]]}: ${p}`);
  summary.classification = {
    labels: d.labelNames,
    counts: count(d.classes.map((_, i) => i)),
    evalCounts: count(split.eval),
    columns: d.columns,
    textColumns: d.textColumns,
    allColumns: d.allColumns,
    ambiguous: d.ambiguous,
  };
  return {
    summary,
    train: split.train.map((i) => ids[i]),
    eval: split.eval.map((i) => ids[i]),
    labelled: { names: d.labelNames, train: labelsOf(split.train), eval: labelsOf(split.eval) },
  };
}
