// A dropped file's text arrives in pieces (a File read as a stream): these cut it into the rows a
// format is made of, each with the 1-based line it starts on and its text as it was, so that a
// row that does not read can be named by its line and saved as it was. Pushing the whole text at
// once gives the same rows as pushing it in any number of pieces, split anywhere.
import Papa from 'papaparse';

/** One row of a file: the line it starts on and its text (without the line break that ends it). */
export interface TextRow {
  line: number;
  text: string;
}

/**
 * One line ending everywhere: \r\n and a lone \r each end one line, as they do in an editor, so
 * line numbers stay right and examples never carry a stray \r into the tokenizer. A \r at the
 * end of a piece waits for the next one, which may start with its \n.
 */
export class LineEndings {
  private pendingCR = false;

  push(piece: string): string {
    let text = this.pendingCR ? `\r${piece}` : piece;
    this.pendingCR = text.endsWith('\r');
    if (this.pendingCR) text = text.slice(0, -1);
    return text.replace(/\r\n?/g, '\n');
  }

  end(): string {
    const rest = this.pendingCR ? '\n' : '';
    this.pendingCR = false;
    return rest;
  }
}

/** Lines of text with \n line endings: each complete line as soon as its \n arrives, the last one at the end. */
export class LineSplitter {
  private partial = '';
  private line = 1;

  push(text: string, out: TextRow[] = []): TextRow[] {
    // A piece inside one long line only lengthens it: nothing to split, so a long line is not split again piece by piece.
    if (!text.includes('\n')) {
      this.partial += text;
      return out;
    }
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop()!;
    for (const t of parts) out.push({ line: this.line++, text: t });
    return out;
  }

  /** The last line, when the text does not end with a line break. */
  end(out: TextRow[] = []): TextRow[] {
    if (this.partial !== '') out.push({ line: this.line++, text: this.partial });
    this.partial = '';
    return out;
  }
}

/** One CSV/TSV record: where it starts, its text as it was (quoted line breaks included), its fields, and Papa Parse's complaint about it. */
export interface CsvRecord extends TextRow {
  fields: string[];
  error?: string;
}

/**
 * CSV or TSV records of text with \n line endings, parsed by Papa Parse's own parser the way its
 * streaming readers drive it: each piece is parsed with the last, possibly incomplete record
 * held back (`ignoreLastRow`) and parsed again with the next piece, so a quoted field may span
 * pieces. Blank records are left out (Papa Parse's skipEmptyLines: 'greedy').
 */
export class CsvRecords {
  private pending = '';
  private line = 1;
  private out: CsvRecord[] = [];
  /** End of the last complete record in `pending`, as the parser's step reports it. */
  private consumed = 0;
  /** Text held back after the last parse: a record still open (a quoted field yet to close, a line yet to end). */
  private held = 0;
  private readonly parser: Papa.Parser;

  constructor(readonly delimiter: ',' | '\t') {
    this.parser = new Papa.Parser({
      delimiter,
      newline: '\n',
      // The bare parser's step sees one record as a one-row `data`.
      step: (result: { data: string[][]; errors: Papa.ParseError[]; meta: { cursor: number } }) => {
        const end = result.meta.cursor;
        // The record's own text, without the line break that ends it.
        const raw = this.pending.slice(this.consumed, end).replace(/\n$/, '');
        const record: CsvRecord = { line: this.line, text: raw, fields: result.data[0] };
        if (result.errors.length > 0) record.error = result.errors[0].message.toLowerCase();
        this.line += countLineBreaks(this.pending, this.consumed, end);
        this.consumed = end;
        if (record.error || record.fields.some((f) => f.trim() !== '')) this.out.push(record);
      },
    } as unknown as Papa.ParseConfig);
  }

  push(text: string): CsvRecord[] {
    this.pending += text;
    // A record still open after the last parse (say, a quote never closed) is parsed again only
    // once the text held has doubled, so a long one costs linear time, not quadratic. Parsing
    // later gives the same records, only later.
    if (this.pending.length < 2 * this.held) return [];
    return this.parse(true);
  }

  end(): CsvRecord[] {
    return this.parse(false);
  }

  private parse(holdLast: boolean): CsvRecord[] {
    this.consumed = 0;
    this.out = [];
    if (this.pending !== '') this.parser.parse(this.pending, 0, holdLast);
    this.pending = this.pending.slice(this.consumed);
    this.held = this.pending.length;
    const out = this.out;
    this.out = [];
    return out;
  }
}

function countLineBreaks(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** How a format's text is cut into rows: lines (JSONL, txt), CSV or TSV records, or the whole text as one (a JSON document). */
export type RowShape = 'lines' | ',' | '\t' | 'whole';

/** A file's rows in the shape its format has, as its text arrives. */
export class FileRows {
  private readonly lines?: LineSplitter;
  private readonly records?: CsvRecords;
  private whole: string[] = [];

  constructor(readonly shape: RowShape) {
    if (shape === 'lines') this.lines = new LineSplitter();
    else if (shape !== 'whole') this.records = new CsvRecords(shape);
  }

  push(text: string): (TextRow | CsvRecord)[] {
    if (this.lines) return this.lines.push(text);
    if (this.records) return this.records.push(text);
    this.whole.push(text);
    return [];
  }

  end(): (TextRow | CsvRecord)[] {
    if (this.lines) return this.lines.end();
    if (this.records) return this.records.end();
    const text = this.whole.join('');
    this.whole = [];
    return [{ line: 1, text }];
  }
}
