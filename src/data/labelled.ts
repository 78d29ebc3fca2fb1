// Labelled datasets for sequence classification: a CSV/TSV with a header row or a JSONL file
// whose rows carry a text (or a sentence pair, as GLUE's tasks do) and a label. Column names are
// found the way datasets name them (text/sentence, sentence1 + sentence2, question + sentence,
// premise + hypothesis, …; label/labels); when several fit, the first is used and the others are
// offered so the person can choose. Labels may be strings or integers; they become label ids in
// sorted order (numerically when every label is an integer). Every bad row is named by its line
// and the field at fault, and the whole file is refused, as for language-model datasets.
import Papa from 'papaparse';
import type { TextTokenizer } from '../tokenize/tokenizer';
import { deriveSeed, mulberry32, permutation } from './random';
import { DatasetError, formatOf, IssueCollector, lineLocator, type DatasetFormat } from './parse';

/** Which columns hold the text, the optional second text of a pair, and the label. */
export interface LabelledColumns {
  text: string;
  pair?: string;
  label: string;
}

export interface LabelledDataset {
  format: DatasetFormat;
  columns: LabelledColumns;
  /** Every column whose values are text, for the person to choose from. */
  textColumns: string[];
  /** Every column of the file, in its order: the label may be chosen among them. */
  allColumns: string[];
  /** True when more than one choice of text column(s) fits the names datasets use. */
  ambiguous: boolean;
  texts: string[];
  /** The second text of each pair, when `columns.pair` is set. */
  pairs?: string[];
  /** Label names by id. */
  labelNames: string[];
  /** Each example's label id. */
  classes: number[];
}

const LABEL_COLUMNS = ['label', 'labels'];
/** Sentence-pair columns as GLUE's tasks and common datasets name them, most specific first. */
const PAIR_COLUMNS: [string, string][] = [
  ['sentence1', 'sentence2'],
  ['premise', 'hypothesis'],
  ['question1', 'question2'],
  ['question', 'sentence'],
  ['text_a', 'text_b'],
];
const TEXT_COLUMNS = ['text', 'sentence', 'content', 'review', 'question', 'document'];

interface Row {
  line: number;
  values: Record<string, unknown>;
}

/** Rows with their 1-based line numbers and the column names, or issues for malformed lines. */
function readRows(text: string, format: DatasetFormat, issues: IssueCollector): { header: string[]; rows: Row[] } | undefined {
  const rows: Row[] = [];
  if (format === 'jsonl') {
    const header: string[] = [];
    text.split('\n').forEach((raw, i) => {
      if (raw.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (err) {
        issues.add(i + 1, `not valid JSON (${(err as Error).message})`);
        return;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        issues.add(i + 1, 'expected a JSON object');
        return;
      }
      for (const k of Object.keys(value)) if (!header.includes(k)) header.push(k);
      rows.push({ line: i + 1, values: value as Record<string, unknown> });
    });
    return { header, rows };
  }
  if (format !== 'csv' && format !== 'tsv') return undefined;
  const delimiter = format === 'tsv' ? '\t' : ',';
  const lineOf = lineLocator(text);
  let header: string[] | undefined;
  let previousCursor = 0;
  Papa.parse<string[]>(text, {
    delimiter,
    skipEmptyLines: 'greedy',
    step: (result) => {
      const start = text.slice(previousCursor).search(/\S/);
      const line = lineOf(previousCursor + Math.max(start, 0));
      previousCursor = result.meta.cursor;
      for (const error of result.errors) issues.add(line, `${format.toUpperCase()}: ${error.message.toLowerCase()}`);
      if (result.errors.length > 0) return;
      const row = result.data;
      if (!header) {
        header = row.map((h) => h.trim());
        return;
      }
      if (row.length !== header.length) {
        issues.add(line, `expected ${header.length} fields, found ${row.length}`);
        return;
      }
      rows.push({ line, values: Object.fromEntries(header.map((h, i) => [h, row[i]])) });
    },
  });
  return { header: header ?? [], rows };
}

const find = (header: string[], name: string) => header.find((h) => h.toLowerCase() === name);

/** The text column(s) the names suggest, and whether more than one choice fits. */
function detectText(header: string[]): { columns?: Omit<LabelledColumns, 'label'>; ambiguous: boolean } {
  const choices: Omit<LabelledColumns, 'label'>[] = [];
  for (const [a, b] of PAIR_COLUMNS) {
    const ca = find(header, a);
    const cb = find(header, b);
    if (ca && cb) choices.push({ text: ca, pair: cb });
  }
  for (const t of TEXT_COLUMNS) {
    const c = find(header, t);
    if (c && !choices.some((ch) => ch.text === c || ch.pair === c)) choices.push({ text: c });
  }
  return { columns: choices[0], ambiguous: choices.length > 1 };
}

/**
 * The file as a labelled dataset, or undefined when it has no label column (a language-model
 * dataset) or is not a CSV, TSV or JSONL file. `chosen` overrides the detected columns.
 * Throws DatasetError naming each bad row's line and field.
 */
export function parseLabelled(fileName: string, raw: string, chosen?: Partial<LabelledColumns>): LabelledDataset | undefined {
  const format = formatOf(fileName);
  const text = raw.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const issues = new IssueCollector(fileName, 'line');
  const read = readRows(text, format, issues);
  if (!read) return undefined;
  const { header, rows } = read;
  // A file without a label column is a language-model dataset: its parser reports its bad
  // rows, all of them. A labelled file's rows that did not read are refused here.
  const label = chosen?.label ?? LABEL_COLUMNS.map((l) => find(header, l)).find((c) => c !== undefined);
  if (!label) return undefined;
  issues.throwIfAny();
  const detected = detectText(header.filter((h) => h !== label));
  const columns: LabelledColumns = chosen?.text ? { text: chosen.text, pair: chosen.pair || undefined, label } : { ...detected.columns!, label };
  const textColumns = header.filter((h) => h !== label);
  if (!columns.text) {
    throw new DatasetError(fileName, `${fileName}: the "${label}" column labels examples, but no column holds their text; name it "text" or "sentence" (or "sentence1" and "sentence2" for pairs), or choose it (found ${header.map((h) => JSON.stringify(h)).join(', ')})`);
  }
  for (const c of [columns.text, columns.pair, columns.label]) {
    if (c !== undefined && !header.includes(c)) throw new DatasetError(fileName, `${fileName}: there is no column "${c}" (found ${header.map((h) => JSON.stringify(h)).join(', ')})`);
  }
  if (rows.length === 0) throw new DatasetError(fileName, `${fileName}: no examples found`);

  const texts: string[] = [];
  const pairs: string[] = [];
  const rawLabels: string[] = [];
  let allIntegers = true;
  for (const { line, values } of rows) {
    let ok = true;
    for (const c of columns.pair ? [columns.text, columns.pair] : [columns.text]) {
      const v = values[c];
      if (typeof v !== 'string') {
        issues.add(line, `"${c}" must be text, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
        ok = false;
      } else if (v.trim() === '') {
        issues.add(line, `"${c}" is empty`);
        ok = false;
      }
    }
    const l = values[columns.label];
    let name: string | undefined;
    if (typeof l === 'number' && Number.isInteger(l)) name = String(l);
    else if (typeof l === 'string' && l.trim() !== '') name = l.trim();
    if (name === undefined) {
      const got = l === undefined ? 'nothing' : typeof l === 'string' ? 'an empty value' : JSON.stringify(l);
      issues.add(line, `"${columns.label}" must be a label (a string or an integer), got ${got}`);
      ok = false;
    }
    if (!ok) continue;
    if (!/^-?\d+$/.test(name!)) allIntegers = false;
    texts.push(values[columns.text] as string);
    if (columns.pair) pairs.push(values[columns.pair] as string);
    rawLabels.push(name!);
  }
  issues.throwIfAny();
  const distinct = [...new Set(rawLabels)];
  const labelNames = allIntegers ? distinct.sort((a, b) => Number(a) - Number(b)) : distinct.sort();
  if (labelNames.length < 2) {
    throw new DatasetError(fileName, `${fileName}: every example has the label ${JSON.stringify(labelNames[0])}; a classifier needs at least two labels`);
  }
  const id = new Map(labelNames.map((n, i) => [n, i]));
  return {
    format,
    columns,
    textColumns,
    allColumns: header,
    ambiguous: !chosen?.text && detected.ambiguous,
    texts,
    pairs: columns.pair ? pairs : undefined,
    labelNames,
    classes: rawLabels.map((n) => id.get(n)!),
  };
}

/**
 * Each example's ids and, for a pair, its segments, cut to `sequenceLength`. No end-of-text
 * token is added: the tokenizer's post-processor frames a sequence as transformers' tokenizer()
 * does, and a decoder's head reads the last real token.
 */
export function tokenizeLabelled(d: LabelledDataset, tok: TextTokenizer, sequenceLength: number): { ids: number[][]; tokenTypes?: number[][]; tokens: number; truncated: number } {
  let tokens = 0;
  let truncated = 0;
  const cut = (xs: number[]) => {
    if (xs.length > sequenceLength) xs.length = sequenceLength;
    return xs;
  };
  const ids: number[][] = [];
  const tokenTypes: number[][] = [];
  d.texts.forEach((text, i) => {
    const e = d.pairs ? tok.encodePair(text, d.pairs[i]) : { ids: tok.encode(text), typeIds: [] as number[] };
    if (e.ids.length > sequenceLength) truncated++;
    ids.push(cut(e.ids));
    if (d.pairs) tokenTypes.push(cut(e.typeIds));
    tokens += Math.min(e.ids.length, sequenceLength);
  });
  return { ids, tokenTypes: d.pairs ? tokenTypes : undefined, tokens, truncated };
}

/**
 * A seeded held-out split stratified by label: round(count·fraction) of each label's examples,
 * drawn in a seeded order, so the held-out set has the labels in the data's proportions. When
 * rounding leaves none and a fraction was asked for, one example of the most frequent label is
 * held out. Indices ascending.
 */
export function stratifiedSplit(classes: number[], numLabels: number, fraction: number, seed: number): { train: number[]; eval: number[] } {
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`evalFraction must be in [0, 1), got ${fraction}`);
  const byLabel = Array.from({ length: numLabels }, () => [] as number[]);
  classes.forEach((c, i) => byLabel[c].push(i));
  const held: number[] = [];
  byLabel.forEach((members, k) => {
    const order = permutation(members.length, mulberry32(deriveSeed(seed, k)));
    const n = Math.min(Math.round(members.length * fraction), Math.max(members.length - 1, 0));
    held.push(...order.slice(0, n).map((j) => members[j]));
  });
  if (held.length === 0 && fraction > 0 && classes.length >= 2) {
    const largest = byLabel.reduce((a, b) => (b.length > a.length ? b : a));
    held.push(largest[permutation(largest.length, mulberry32(seed))[0]]);
  }
  const inEval = new Set(held);
  return { train: classes.map((_, i) => i).filter((i) => !inEval.has(i)), eval: [...inEval].sort((a, b) => a - b) };
}
