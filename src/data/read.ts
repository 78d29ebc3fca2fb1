// Reading a dropped dataset file, whole or as a stream of bytes: strict UTF-8, one line ending,
// rows cut as the format has them, and each row read as a language-model example or, when the
// first row shows a label column, as a labelled one. Only the current piece of text and the rows
// read so far are held, never the whole file's text (a JSON document, which cannot be parsed in
// pieces, is the exception). The same reader serves the whole-text path, so both read alike.
import { isLabelledFormat, labelColumnOf, firstRowNames, LabelledReader, type LabelledColumns, type LabelledDataset } from './labelled';
import { DatasetError, ExampleReader, formatOf, MAX_ISSUES, rowShape, rowUnit, Utf8Pieces, type DatasetFormat, type ParsedDataset, type ParseOptions, type RejectedRow, type RejectionSummary } from './parse';
import { FileRows, LineEndings, type CsvRecord, type TextRow } from './rows';

/** A file read: its examples (a language-model dataset) or its labelled rows, and the rows refused. */
export interface DatasetRead {
  format: DatasetFormat;
  /** Set for a language-model dataset. */
  examples?: ParsedDataset;
  /** Set for a labelled dataset (sequence classification). */
  labelled?: LabelledDataset;
  /** The rows that did not read, and a CSV/TSV file's header row, to save them as they were. */
  rejected: { rows: RejectedRow[]; header?: string };
}

type Row = TextRow | CsvRecord;

/** Reads a file's text pushed in pieces; `end` gives what was read, or throws DatasetError. */
export class DatasetReader {
  readonly format: DatasetFormat;
  private readonly endings = new LineEndings();
  private readonly rows: FileRows;
  private reader?: ExampleReader | LabelledReader;
  /** Rows that came before the first row that shows the columns (blank or broken JSON lines). */
  private waiting: Row[] = [];
  private started = false;
  private sawText = false;

  constructor(
    readonly fileName: string,
    private readonly chosen?: Partial<LabelledColumns>,
    private readonly options: ParseOptions = {},
  ) {
    this.format = formatOf(fileName);
    if (this.format === 'parquet') throw new Error(`${fileName} is a Parquet file: it is read with readParquetDataset, not as text`);
    this.rows = new FileRows(rowShape(this.format));
    // A language-model reading chosen, or a format without labelled rows: no need to look at the first row.
    const lm = options.as !== undefined && options.as !== 'labelled';
    if (!isLabelledFormat(this.format) || lm) this.reader = new ExampleReader(fileName, this.format, options);
  }

  push(piece: string): void {
    // A BOM opens the text only; TextDecoder drops it too, a string given whole may hold it.
    if (!this.started) piece = piece.replace(/^\uFEFF/, '');
    this.started ||= piece !== '';
    if (!this.sawText && /\S/.test(piece)) this.sawText = true;
    this.feed(this.rows.push(this.endings.push(piece)));
  }

  end(): DatasetRead {
    this.feed(this.rows.push(this.endings.end()));
    this.feed(this.rows.end());
    if (!this.sawText) throw new DatasetError(this.fileName, `${this.fileName}: the file is empty`);
    // No row showed columns (a JSON Lines file with no object at all): it is read as text, and refused row by row.
    if (!this.reader) this.decide(undefined);
    const reader = this.reader!;
    const rejected = { rows: reader.rejected.rows, ...(reader.rejected.header !== undefined ? { header: reader.rejected.header } : {}) };
    return reader instanceof LabelledReader ? { format: this.format, labelled: reader.finish(), rejected } : { format: this.format, examples: reader.finish(), rejected };
  }

  private feed(rows: Row[]): void {
    if (this.reader) {
      for (const row of rows) this.reader.row(row);
      return;
    }
    for (const [i, row] of rows.entries()) {
      const names = firstRowNames(this.format as 'csv' | 'tsv' | 'jsonl', row);
      // A CSV's first record is its header, whether or not it reads.
      if (names === undefined && this.format === 'jsonl') {
        this.waiting.push(row);
        continue;
      }
      this.waiting.push(row);
      this.decide(names);
      this.feed(rows.slice(i + 1));
      return;
    }
  }

  /** A label column among the first row's names makes the file a labelled dataset. */
  private decide(names: string[] | undefined): void {
    const labelColumn = names !== undefined ? labelColumnOf(names, this.chosen) : undefined;
    if (this.options.as === 'labelled' && (labelColumn === undefined || !names!.includes(labelColumn))) {
      const found = names === undefined ? 'no row is a JSON object' : `found ${names.map((h) => JSON.stringify(h)).join(', ')}`;
      throw new DatasetError(this.fileName, `${this.fileName}: reading labelled examples needs a "label" (or "labels") column; ${found}`);
    }
    const labelled = labelColumn !== undefined;
    this.reader = labelled ? new LabelledReader(this.fileName, this.format as 'csv' | 'tsv' | 'jsonl', this.chosen) : new ExampleReader(this.fileName, this.format, this.options);
    const waiting = this.waiting;
    this.waiting = [];
    for (const row of waiting) this.reader.row(row);
  }
}

/** A whole text read as the worker reads a file. */
export function readDatasetText(fileName: string, text: string, chosen?: Partial<LabelledColumns>, options?: ParseOptions): DatasetRead {
  const reader = new DatasetReader(fileName, chosen, options);
  reader.push(text);
  return reader.end();
}

/**
 * A file read from its byte stream in the pieces the stream gives, decoded as strict UTF-8.
 * `onBytes` hears how many bytes have been read after each piece.
 */
export async function readDatasetStream(
  fileName: string,
  stream: ReadableStream<Uint8Array>,
  chosen?: Partial<LabelledColumns>,
  onBytes?: (read: number) => void,
  options?: ParseOptions,
): Promise<DatasetRead> {
  const reader = new DatasetReader(fileName, chosen, options);
  const utf8 = new Utf8Pieces(fileName);
  const source = stream.getReader();
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await source.read();
      if (done) break;
      reader.push(utf8.push(value));
      read += value.length;
      onBytes?.(read);
    }
  } finally {
    source.releaseLock();
  }
  reader.push(utf8.end());
  return reader.end();
}

/** What the page is told of the refused rows: all counted, the first few listed. */
export function rejectionSummary(read: DatasetRead): RejectionSummary {
  const rows = read.rejected.rows;
  const unit = rowUnit(read.format);
  return { count: rows.length, rows: rows.slice(0, MAX_ISSUES).map(({ line, message }) => ({ line, message })), ...(unit === 'row' ? { unit } : {}) };
}

/**
 * The refused rows as a file of the dropped file's format, to fix and drop again: JSON Lines and
 * text files get the lines as they were; a Parquet file's refused rows become a JSON Lines file
 * (`name.rejected.jsonl`), one row a line as JSON.stringify writes it, since Parquet holds no text; CSV and TSV files the header row, then the rows as they
 * were (quoted line breaks included). A JSON document's refused records are saved as a JSON
 * array of them, each written by JSON.stringify, since JSON.parse keeps no record's text as it
 * was. Line endings are \n whatever the file had.
 */
export function rejectedFile(fileName: string, read: Pick<DatasetRead, 'format' | 'rejected'>): { fileName: string; bytes: Uint8Array } {
  const rows = read.rejected.rows.map((r) => r.raw);
  const dot = fileName.lastIndexOf('.');
  const name = `${fileName.slice(0, dot)}.rejected${read.format === 'parquet' ? '.jsonl' : fileName.slice(dot)}`;
  let text: string;
  if (read.format === 'json') text = `[\n${rows.join(',\n')}\n]\n`;
  else text = [...(read.rejected.header !== undefined ? [read.rejected.header] : []), ...rows].map((r) => `${r}\n`).join('');
  return { fileName: name, bytes: new TextEncoder().encode(text) };
}
