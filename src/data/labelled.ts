// Labelled datasets for sequence classification: a CSV/TSV with a header row or a JSONL file
// whose rows carry a text (or a sentence pair, as GLUE's tasks do) and a label. Column names are
// found the way datasets name them (text/sentence, sentence1 + sentence2, question + sentence,
// premise + hypothesis, …; label/labels); when several fit, the first is used and the others are
// offered so the person can choose. Labels may be strings or integers; they become label ids in
// sorted order (numerically when every label is an integer). A bad row is refused by itself,
// named by its line and the field at fault, and the others are kept, as for language-model datasets.
import type { TextTokenizer } from '../tokenize/tokenizer';
import { deriveSeed, mulberry32, permutation } from './random';
import { DatasetError, formatOf, jsonObjectOf, Rejections, rowShape, rowUnit, type DatasetFormat, type RejectedRow } from './parse';
import { FileRows, LineEndings, type CsvRecord, type TextRow } from './rows';

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
  /** The rows that did not read, in file order. */
  rejected: RejectedRow[];
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

/** The text formats a labelled dataset may come in (a Parquet file's rows are read as records). */
export type LabelledFormat = 'csv' | 'tsv' | 'jsonl';

export function isLabelledFormat(format: DatasetFormat): format is LabelledFormat {
  return format === 'csv' || format === 'tsv' || format === 'jsonl';
}

/**
 * The column names a file's first row shows: a CSV/TSV header, or the keys of the first JSON
 * Lines row that is an object; undefined while no such row has come (blank or broken lines).
 */
export function firstRowNames(format: LabelledFormat, row: TextRow | CsvRecord): string[] | undefined {
  if (format !== 'jsonl') return (row as CsvRecord).error ? undefined : (row as CsvRecord).fields.map((h) => h.trim());
  if (row.text.trim() === '') return undefined;
  const parsed = jsonObjectOf(row.text);
  return 'value' in parsed ? Object.keys(parsed.value) : undefined;
}

/** The label column a file with these column names has (or the one chosen); undefined: a language-model dataset. */
export function labelColumnOf(names: string[], chosen?: Partial<LabelledColumns>): string | undefined {
  return chosen?.label ?? LABEL_COLUMNS.map((l) => find(names, l)).find((c) => c !== undefined);
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
 * Reads a labelled file's rows, in order. The columns are decided by the first row (a CSV
 * header, or the first JSON Lines object), unless the person chose them. A row that does not
 * read (broken JSON, a wrong field count, an empty text, a missing or unusable label) is refused
 * by itself with its line and field, and the others are kept; the file is refused when none
 * reads, or for what concerns it whole (no text column, a chosen column it lacks, one label).
 */
export class LabelledReader {
  readonly rejected: Rejections;
  /** Every column seen, in order of first appearance (a CSV's header; every JSON Lines key). */
  private names: string[] = [];
  private csvFields = 0;
  private columns?: LabelledColumns;
  private ambiguous = false;
  private readonly texts: string[] = [];
  private readonly pairs: string[] = [];
  private readonly rawLabels: string[] = [];

  /**
   * `classLabels`: label names a column's integer ids stand for, in id order, by column (a
   * Parquet file's ClassLabel features). When the label column has them, label id k is name k,
   * in that order, every name included, and an id outside them refuses its row.
   */
  constructor(
    readonly fileName: string,
    readonly format: LabelledFormat | 'parquet',
    private readonly chosen?: Partial<LabelledColumns>,
    private readonly classLabels: Record<string, string[]> = {},
  ) {
    this.rejected = new Rejections(fileName, rowUnit(format));
  }

  /**
   * One record that is already an object (a Parquet row), read as a JSON Lines object is: `row`
   * is its 1-based number and `raw` the text a refusal keeps of it (its JSON).
   */
  record(row: number, values: Record<string, unknown>, raw: string): void {
    for (const k of Object.keys(values)) if (!this.names.includes(k)) this.names.push(k);
    if (!this.columns) this.decideColumns();
    this.keep(row, values, raw);
  }

  /** The known names of the label column's ids, when it has them. */
  private get knownLabels(): string[] | undefined {
    return this.columns && Object.hasOwn(this.classLabels, this.columns.label) ? this.classLabels[this.columns.label] : undefined;
  }

  row(row: TextRow | CsvRecord): void {
    if (this.format === 'parquet') throw new Error('a Parquet file is read as records (LabelledReader.record), never as text');
    if (this.format === 'jsonl') return this.jsonlLine(row);
    const record = row as CsvRecord;
    if (!this.columns) {
      const names = firstRowNames(this.format, record);
      if (!names) {
        const message = `${this.format.toUpperCase()}: ${record.error} in the header row`;
        throw new DatasetError(this.fileName, `${this.fileName} line ${record.line}: ${message}`, [{ line: record.line, message }]);
      }
      this.names = names;
      this.csvFields = names.length;
      this.rejected.header = record.text;
      this.decideColumns();
      for (const c of [this.columns!.text, this.columns!.pair, this.columns!.label]) this.requireColumn(c);
      return;
    }
    const { line, text: raw, fields } = record;
    if (record.error) return this.rejected.add(line, `${this.format.toUpperCase()}: ${record.error}`, raw);
    if (fields.length !== this.csvFields) return this.rejected.add(line, `expected ${this.csvFields} fields, found ${fields.length}`, raw);
    this.keep(line, Object.fromEntries(this.names.map((h, i) => [h, fields[i]])), raw);
  }

  private jsonlLine({ line, text }: TextRow): void {
    if (text.trim() === '') return;
    const parsed = jsonObjectOf(text);
    if ('error' in parsed) return this.rejected.add(line, parsed.error, text);
    for (const k of Object.keys(parsed.value)) if (!this.names.includes(k)) this.names.push(k);
    if (!this.columns) this.decideColumns();
    this.keep(line, parsed.value, text);
  }

  private decideColumns(): void {
    const names = this.names;
    const label = labelColumnOf(names, this.chosen) ?? '';
    const detected = detectText(names.filter((h) => h !== label));
    const chosen = this.chosen;
    this.columns = chosen?.text ? { text: chosen.text, pair: chosen.pair || undefined, label } : { ...detected.columns!, label };
    this.ambiguous = !chosen?.text && detected.ambiguous;
    if (!this.columns.text) {
      throw new DatasetError(this.fileName, `${this.fileName}: the "${label}" column labels examples, but no column holds their text; name it "text" or "sentence" (or "sentence1" and "sentence2" for pairs), or choose it (found ${names.map((h) => JSON.stringify(h)).join(', ')})`);
    }
  }

  private requireColumn(c: string | undefined): void {
    if (c !== undefined && !this.names.includes(c)) throw new DatasetError(this.fileName, `${this.fileName}: there is no column "${c}" (found ${this.names.map((h) => JSON.stringify(h)).join(', ')})`);
  }

  /** One row's text(s) and label, or its refusal naming the field at fault. */
  private keep(line: number, values: Record<string, unknown>, raw: string): void {
    const columns = this.columns!;
    const problems: string[] = [];
    for (const c of columns.pair ? [columns.text, columns.pair] : [columns.text]) {
      const v = values[c];
      if (typeof v !== 'string') problems.push(`"${c}" must be text, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
      else if (v.trim() === '') problems.push(`"${c}" is empty`);
    }
    const l = values[columns.label];
    let name: string | undefined;
    const known = this.knownLabels;
    if (known) {
      if (typeof l === 'number' && Number.isInteger(l) && l >= 0 && l < known.length) name = known[l];
      else problems.push(`"${columns.label}": label ${l === undefined ? 'nothing' : JSON.stringify(l)} is not one of the ${known.length} ClassLabel ids`);
    } else if (typeof l === 'number' && Number.isInteger(l)) name = String(l);
    else if (typeof l === 'string' && l.trim() !== '') name = l.trim();
    if (name === undefined && !known) {
      const got = l === undefined ? 'nothing' : typeof l === 'string' ? 'an empty value' : JSON.stringify(l);
      problems.push(`"${columns.label}" must be a label (a string or an integer), got ${got}`);
    }
    if (problems.length > 0) return this.rejected.add(line, problems.join('; '), raw);
    this.texts.push(values[columns.text] as string);
    if (columns.pair) this.pairs.push(values[columns.pair] as string);
    this.rawLabels.push(name!);
  }

  finish(): LabelledDataset {
    const fileName = this.fileName;
    const columns = this.columns;
    if (!columns || this.texts.length === 0) {
      if (this.rejected.count > 0) throw this.rejected.refusal();
      throw new DatasetError(fileName, `${fileName}: no examples found`);
    }
    // JSON Lines (and Parquet) rows may bring columns after the first: a chosen one must be among them all.
    if (this.format === 'jsonl' || this.format === 'parquet') for (const c of [columns.text, columns.pair, columns.label]) this.requireColumn(c);
    const allIntegers = this.rawLabels.every((n) => /^-?\d+$/.test(n));
    const distinct = [...new Set(this.rawLabels)];
    // Known names keep their ids, as the dataset card has them; others are sorted.
    const labelNames = this.knownLabels ?? (allIntegers ? distinct.sort((a, b) => Number(a) - Number(b)) : distinct.sort());
    if (labelNames.length < 2) {
      const n = this.rejected.count;
      const refused = n > 0 ? ` (${n} other row${n === 1 ? '' : 's'} did not read; the first, ${rowUnit(this.format)} ${this.rejected.rows[0].line}: ${this.rejected.rows[0].message})` : '';
      throw new DatasetError(fileName, `${fileName}: every example has the label ${JSON.stringify(labelNames[0])}; a classifier needs at least two labels${refused}`, this.rejected.summary().rows);
    }
    const id = new Map(labelNames.map((n, i) => [n, i]));
    return {
      format: this.format,
      columns,
      textColumns: this.names.filter((h) => h !== columns.label),
      allColumns: this.names,
      ambiguous: this.ambiguous,
      texts: this.texts,
      pairs: columns.pair ? this.pairs : undefined,
      labelNames,
      classes: this.rawLabels.map((n) => id.get(n)!),
      rejected: this.rejected.rows,
    };
  }
}

/**
 * The file as a labelled dataset, or undefined when it has no label column (a language-model
 * dataset) or is not a CSV, TSV or JSONL file. `chosen` overrides the detected columns. Reads
 * the whole text at once, as the worker's streamed reading does piece by piece.
 */
export function parseLabelled(fileName: string, raw: string, chosen?: Partial<LabelledColumns>): LabelledDataset | undefined {
  const format = formatOf(fileName);
  if (!isLabelledFormat(format)) return undefined;
  const endings = new LineEndings();
  const text = endings.push(raw.replace(/^\uFEFF/, '')) + endings.end();
  const source = new FileRows(rowShape(format));
  const rows = [...source.push(text), ...source.end()];
  const first = rows.map((r) => firstRowNames(format, r)).find((names) => names !== undefined);
  if (!first || !labelColumnOf(first, chosen)) return undefined;
  const reader = new LabelledReader(fileName, format, chosen);
  for (const row of rows) reader.row(row);
  return reader.finish();
}

/**
 * Each example's ids and, for a pair, its segments, cut to `sequenceLength`. No end-of-text
 * token is added: the tokenizer's post-processor frames a sequence as transformers' tokenizer()
 * does, and a decoder's head reads the last real token.
 */
export function tokenizeLabelled(
  d: LabelledDataset,
  tok: TextTokenizer,
  sequenceLength: number,
  onProgress?: (done: number, total: number) => void,
): { ids: number[][]; tokenTypes?: number[][]; tokens: number; truncated: number } {
  let tokens = 0;
  let truncated = 0;
  const cut = (xs: number[]) => {
    if (xs.length > sequenceLength) xs.length = sequenceLength;
    return xs;
  };
  const ids: number[][] = [];
  const tokenTypes: number[][] = [];
  d.texts.forEach((text, i) => {
    if (onProgress && i % 256 === 0) onProgress(i, d.texts.length);
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
