// Turns a dropped file's text into training examples. A row that does not read is refused by
// itself, with its line and the reason, and the rows that read are kept; nothing is skipped
// silently: every refused row is counted and listed for the page, and can be saved as it was to
// be fixed. The file is refused only when nothing usable remains, or for a problem of the whole
// file (not UTF-8, an unknown extension, a bad header row, a JSON document that does not parse).
//
// An example is its text as segments, each saying whether the loss reads it: a plain text is one
// trained segment; an instruction example (prompt + completion, or Alpaca's instruction / input /
// output) is its prompt, not trained on, then its completion, trained on — what TRL's SFTTrainer
// does by default for prompt-completion data (completion_only_loss). A chat (chat.ts) is the
// text its chat template renders, its assistant replies trained on (assistant_only_loss).
import { ChatReader, ChatTemplateError, isChatRecord } from './chat';
import type { ChatTemplate, ChatTemplateOrigin } from './chat-template';
import { FileRows, LineEndings, type CsvRecord, type RowShape, type TextRow } from './rows';

export type DatasetFormat = 'txt' | 'jsonl' | 'json' | 'csv' | 'tsv' | 'parquet';

/** One refused line (or record) of a dropped file. */
export interface DatasetIssue {
  /** 1-based line number in the file (or record number for formats without lines, row number for Parquet). */
  line: number;
  message: string;
}

export const ACCEPTED_EXTENSIONS: readonly string[] = ['.txt', '.jsonl', '.json', '.csv', '.tsv', '.parquet'];

/** At most this many refused rows are listed to the page; every one is counted. */
export const MAX_ISSUES = 20;

/** A refused file. `issues` carry 1-based line (or record) numbers; empty for file-level problems. */
export class DatasetError extends Error {
  readonly fileName: string;
  readonly issues: DatasetIssue[];

  constructor(fileName: string, message: string, issues: DatasetIssue[] = []) {
    super(message);
    this.name = 'DatasetError';
    this.fileName = fileName;
    this.issues = issues;
  }
}

/** A stretch of an example's text, and whether the loss reads its tokens. */
export interface Segment {
  text: string;
  train: boolean;
}

/**
 * One example: its text in order, cut into segments (never empty). `templated`: the text a chat
 * template rendered, complete as it stands, so it is encoded as transformers' apply_chat_template
 * encodes it: without the tokenizer's added special tokens and with no eos appended (the template
 * writes its own; TRL appends none to conversational data).
 */
export type Example = Segment[] & { templated?: true };

/** How the records of a file were read: plain texts, prompt + completion, Alpaca instructions, or chats ("messages", or ShareGPT "conversations"). */
export type ExampleKind = 'text' | 'prompt-completion' | 'alpaca' | 'chat' | 'sharegpt';

/** The kinds a file's examples were read as, for the page: "mixed" when rows differ. */
export type DatasetKind = ExampleKind | 'mixed';

export interface ParsedDataset {
  format: DatasetFormat;
  kind: DatasetKind;
  examples: Example[];
  /** The rows that did not read, in file order. */
  rejected: RejectedRow[];
  /** The chat template the file's chats were rendered with; absent when it has none. */
  chatTemplate?: ChatTemplateOrigin;
}

/** An example's whole text. */
export function exampleText(example: Example): string {
  return example.map((s) => s.text).join('');
}

/** The example with every token trained on (a chat stays templated). */
export function wholeTextExample(example: Example): Example {
  const whole = textExample(exampleText(example));
  return example.templated ? Object.assign(whole, { templated: true as const }) : whole;
}

/** What records are read as, chosen by the person instead of found from each record's fields. */
export type ReadAs = Exclude<ExampleKind, 'sharegpt'> | 'labelled';

/**
 * How a plain-text file becomes examples: "paragraphs" at blank lines, one per "line", or the
 * "whole" file as one example (split into windows later like any long text). Not chosen: at
 * blank lines when the file has any, else one per line.
 */
export type TextSplit = 'paragraphs' | 'lines' | 'whole';

/** How the person chose to read a file; what is not chosen is found from its content. */
export interface ReadChoice {
  as?: ReadAs;
  split?: TextSplit;
}

export interface ParseOptions extends ReadChoice {
  /** The chat template chat records are rendered with, asked for at the first one; the default ChatML template when absent. */
  chatTemplate?: () => ChatTemplate;
}

/** A plain text: every token trained on. */
export function textExample(text: string): Example {
  return [{ text, train: true }];
}

/** A prompt (context only) followed by its completion (trained on). */
export function promptCompletion(prompt: string, completion: string): Example {
  return [
    { text: prompt, train: false },
    { text: completion, train: true },
  ];
}

/**
 * The Stanford Alpaca prompt, verbatim from its train.py (PROMPT_DICT): one template with the
 * input, one without, chosen by whether the input is empty. The output follows "### Response:"
 * directly, as Alpaca's targets do.
 */
export function alpacaPrompt(instruction: string, input: string): string {
  return input !== ''
    ? 'Below is an instruction that describes a task, paired with an input that provides further context. ' +
        'Write a response that appropriately completes the request.\n\n' +
        `### Instruction:\n${instruction}\n\n### Input:\n${input}\n\n### Response:`
    : 'Below is an instruction that describes a task. ' +
        'Write a response that appropriately completes the request.\n\n' +
        `### Instruction:\n${instruction}\n\n### Response:`;
}

// ---------------------------------------------------------------------------------------------
// Bytes → text

/**
 * Strict UTF-8 decoding (a leading BOM is dropped). TextDecoder's fatal mode says *that* the
 * bytes are invalid but not *where*, so on failure we scan for the first bad sequence.
 */
export function decodeUtf8(bytes: Uint8Array, fileName: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = firstInvalidUtf8Offset(bytes);
    let line = 1;
    for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
    const at = offset < bytes.length ? `0x${bytes[offset].toString(16).padStart(2, '0')}` : 'end of file';
    const message = `not valid UTF-8 at byte offset ${offset} (${at}); save the file as UTF-8`;
    throw new DatasetError(fileName, `${fileName} line ${line}: ${message}`, [{ line, message }]);
  }
}

/**
 * Strict UTF-8 decoding of a file read in pieces, as a File's stream gives them: a character may
 * be split between pieces, and a BOM at the start is dropped. On bytes that are not UTF-8 it
 * names the byte offset and line of the first bad sequence, as decodeUtf8 does for a whole file.
 */
export class Utf8Pieces {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  /** Bytes before the current piece, and the line the current piece starts on. */
  private offset = 0;
  private line = 1;
  /** The last bytes read (at most 3), which may begin a character the next piece ends. */
  private previous: Uint8Array = new Uint8Array(0);

  constructor(private readonly fileName: string) {}

  push(bytes: Uint8Array): string {
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream: true });
    } catch {
      throw this.invalid(bytes);
    }
    this.offset += bytes.length;
    this.line += countNewlines(text);
    const last = new Uint8Array(this.previous.length + Math.min(bytes.length, 3));
    last.set(this.previous);
    last.set(bytes.subarray(bytes.length - Math.min(bytes.length, 3)), this.previous.length);
    this.previous = last.slice(-3);
    return text;
  }

  end(): string {
    try {
      return this.decoder.decode();
    } catch {
      throw this.invalid(new Uint8Array(0));
    }
  }

  /** The error for the first bad sequence, found from the unfinished character the bytes before ended with. */
  private invalid(bytes: Uint8Array): DatasetError {
    const prev = this.previous;
    let start = prev.length;
    for (let i = prev.length - 1; i >= 0; i--) {
      if ((prev[i] & 0xc0) === 0x80) continue;
      const need = prev[i] >= 0xf0 ? 4 : prev[i] >= 0xe0 ? 3 : prev[i] >= 0xc0 ? 2 : 1;
      if (need > prev.length - i) start = i;
      break;
    }
    const scanned = new Uint8Array(prev.length - start + bytes.length);
    scanned.set(prev.subarray(start));
    scanned.set(bytes, prev.length - start);
    const bad = firstInvalidUtf8Offset(scanned);
    let line = this.line;
    for (let i = 0; i < bad; i++) if (scanned[i] === 0x0a) line++;
    const at = bad < scanned.length ? `0x${scanned[bad].toString(16).padStart(2, '0')}` : 'end of file';
    const message = `not valid UTF-8 at byte offset ${this.offset - (prev.length - start) + bad} (${at}); save the file as UTF-8`;
    return new DatasetError(this.fileName, `${this.fileName} line ${line}: ${message}`, [{ line, message }]);
  }
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Offset of the first byte that starts an invalid UTF-8 sequence (RFC 3629), or bytes.length. */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    // Lead byte → continuation count and the smallest code point allowed (lower = overlong).
    let need: number;
    let min: number;
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min, cp] = [1, 0x80, b & 0x1f];
    else if (b >= 0xe0 && b <= 0xef) [need, min, cp] = [2, 0x800, b & 0x0f];
    else if (b >= 0xf0 && b <= 0xf4) [need, min, cp] = [3, 0x10000, b & 0x07];
    else return i;
    if (i + need >= bytes.length) return i; // truncated at end of file
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return bytes.length;
}

// ---------------------------------------------------------------------------------------------
// Text → examples

/** One record read, and how. */
export interface ReadExample {
  example: Example;
  kind: ExampleKind;
}

export function formatOf(fileName: string): DatasetFormat {
  const dot = fileName.lastIndexOf('.');
  const ext = dot >= 0 ? fileName.slice(dot).toLowerCase() : '';
  if (ACCEPTED_EXTENSIONS.includes(ext)) {
    return ext.slice(1) as DatasetFormat;
  }
  const got = ext === '' ? 'has no extension' : `has extension "${ext}"`;
  throw new DatasetError(fileName, `${fileName}: ${got}; accepted: ${ACCEPTED_EXTENSIONS.join(', ')}`);
}

/** How a format's text is cut into rows. */
export function rowShape(format: DatasetFormat): RowShape {
  return format === 'csv' ? ',' : format === 'tsv' ? '\t' : format === 'json' ? 'whole' : 'lines';
}

/**
 * A language-model dataset read from the whole text at once: the same reader the worker streams
 * a file through, given one piece.
 */
export function parseDataset(fileName: string, text: string, options: ParseOptions = {}): ParsedDataset {
  const format = formatOf(fileName);
  const reader = new ExampleReader(fileName, format, options);
  const rows = new FileRows(rowShape(format));
  const endings = new LineEndings();
  const clean = endings.push(text.replace(/^\uFEFF/, '')) + endings.end();
  if (clean.trim() === '') throw new DatasetError(fileName, `${fileName}: the file is empty`);
  for (const row of rows.push(clean)) reader.row(row);
  for (const row of rows.end()) reader.row(row);
  return reader.finish();
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The example of one record: "text"; or "prompt" + "completion", joined as they are (the prompt
 * usually ends with the separator the person wants, e.g. a newline); or Alpaca's "instruction",
 * optional "input" and "output", the first two in Alpaca's prompt template. Returns an error
 * string when the record is none of these.
 */
function recordExample(record: Record<string, unknown>, chat: ChatReader, as?: ReadAs): ReadExample | { error: string } {
  if (as !== undefined) return chosenKindExample(record, chat, as);
  if (isChatRecord(record)) return chat.example(record);
  if ('text' in record) return plainTextExample(record);
  if ('prompt' in record || 'completion' in record) return promptCompletionExample(record);
  if ('instruction' in record || 'output' in record) return alpacaExample(record);
  return { error: `missing "text" (or "prompt" + "completion", or "instruction" + "output", or "messages" / "conversations"); ${foundKeys(record)}` };
}

/** A record read as the person chose: fields of another kind are not looked at. */
function chosenKindExample(record: Record<string, unknown>, chat: ChatReader, as: ReadAs): ReadExample | { error: string } {
  switch (as) {
    case 'chat':
      return isChatRecord(record) ? chat.example(record) : { error: `missing "messages" (or ShareGPT's "conversations"), reading records as chats; ${foundKeys(record)}` };
    case 'text':
      return 'text' in record ? plainTextExample(record) : { error: `missing "text", reading records as plain text; ${foundKeys(record)}` };
    case 'prompt-completion':
      return 'prompt' in record || 'completion' in record ? promptCompletionExample(record) : { error: `missing "prompt" and "completion", reading records as prompt + completion; ${foundKeys(record)}` };
    case 'alpaca':
      return 'instruction' in record || 'output' in record ? alpacaExample(record) : { error: `missing "instruction" and "output", reading records as Alpaca instructions; ${foundKeys(record)}` };
    case 'labelled':
      throw new Error('a labelled file is read by LabelledReader');
  }
}

function foundKeys(record: Record<string, unknown>): string {
  const keys = Object.keys(record);
  return keys.length === 0 ? 'the object is empty' : `found ${keys.slice(0, 5).map((k) => JSON.stringify(k)).join(', ')}`;
}

function plainTextExample(record: Record<string, unknown>): ReadExample | { error: string } {
  const text = record.text;
  if (typeof text !== 'string') return { error: `"text" must be a string, got ${describe(text)}` };
  if (text.trim() === '') return { error: '"text" is empty' };
  return { example: textExample(text), kind: 'text' };
}

/** A "prompt" + "completion" record, joined as they are. */
function promptCompletionExample(record: Record<string, unknown>): ReadExample | { error: string } {
  if (!('prompt' in record)) return { error: '"completion" without "prompt"' };
  if (!('completion' in record)) return { error: '"prompt" without "completion"' };
  const { prompt, completion } = record;
  if (typeof prompt !== 'string') return { error: `"prompt" must be a string, got ${describe(prompt)}` };
  if (typeof completion !== 'string') return { error: `"completion" must be a string, got ${describe(completion)}` };
  if (completion.trim() === '') return { error: '"completion" is empty: there is nothing to train on' };
  return { example: promptCompletion(prompt, completion), kind: 'prompt-completion' };
}

/** An Alpaca record: "instruction" and "output" strings, "input" a string when present. */
function alpacaExample(record: Record<string, unknown>): ReadExample | { error: string } {
  if (!('instruction' in record)) return { error: '"output" without "instruction"' };
  if (!('output' in record)) return { error: '"instruction" without "output"' };
  const { instruction, input = '', output } = record;
  if (typeof instruction !== 'string') return { error: `"instruction" must be a string, got ${describe(instruction)}` };
  if (typeof input !== 'string') return { error: `"input" must be a string, got ${describe(input)}` };
  if (typeof output !== 'string') return { error: `"output" must be a string, got ${describe(output)}` };
  if (instruction.trim() === '') return { error: '"instruction" is empty' };
  if (output.trim() === '') return { error: '"output" is empty: there is nothing to train on' };
  return { example: promptCompletion(alpacaPrompt(instruction, input), output), kind: 'alpaca' };
}


/** A JSON Lines row's object, or why it is none. */
export function jsonObjectOf(text: string): { value: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `not valid JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  return isRecord(value) ? { value } : { error: `expected a JSON object, got ${describe(value)}` };
}

/** The columns of a CSV/TSV language-model file, by the header's names (any case). */
type CsvColumns = { text: number } | { prompt: number; completion: number } | { instruction: number; input: number; output: number };

/**
 * Reads a language-model file's rows, in order, into examples. A row that does not read is
 * refused by itself, with its line (a JSON array's record number) and the reason, and the rows
 * that read are kept: a few bad lines should not cost a person the rest of their data. The
 * file is refused when nothing usable remains, or on a problem of the whole file (its JSON, its
 * header row).
 */
export class ExampleReader {
  readonly rejected: Rejections;
  private readonly read: ReadExample[] = [];
  /** CSV/TSV: the header's field count and the columns it names, once the header row is read. */
  private header?: { fields: number; columns: CsvColumns };
  /** Plain text: the paragraph being read, and whether a blank line has separated two paragraphs yet. */
  private paragraph: string[] = [];
  private blankSeen = false;
  private breakPending = false;

  private readonly chat: ChatReader;
  private readonly as?: ReadAs;
  private readonly split?: TextSplit;
  /** Plain text read whole: every line, blank ones too. */
  private whole: string[] = [];

  constructor(
    readonly fileName: string,
    readonly format: DatasetFormat,
    options: ParseOptions = {},
  ) {
    this.rejected = new Rejections(fileName, rowUnit(format));
    this.chat = new ChatReader(options.chatTemplate);
    this.as = options.as;
    this.split = options.split;
    if (options.as === 'labelled') throw new DatasetError(fileName, `${fileName}: labelled examples are read from CSV, TSV or JSON Lines files; read this one as a language-model dataset`);
    if (format === 'txt' && options.as !== undefined && options.as !== 'text') {
      throw new DatasetError(fileName, `${fileName}: a .txt file holds plain text; it cannot be read as ${READ_AS_NAMES[options.as]}`);
    }
  }

  row(row: TextRow | CsvRecord): void {
    switch (this.format) {
      case 'txt':
        return this.txtLine(row.text);
      case 'jsonl':
        return this.jsonlLine(row);
      case 'json':
        return this.jsonDocument(row.text);
      case 'csv':
      case 'tsv':
        return this.csvRecord(row as CsvRecord);
      case 'parquet':
        throw new Error('a Parquet file is read as records (ExampleReader.record), never as text');
    }
  }

  /**
   * One record that is already an object (a Parquet row), read as a JSON Lines object is: `row`
   * is its 1-based number and `raw` the text a refusal keeps of it (its JSON).
   */
  record(row: number, record: Record<string, unknown>, raw: string): void {
    this.keepRecord(row, record, raw);
  }

  finish(): ParsedDataset {
    if (this.format === 'txt') this.endText();
    if (this.read.length === 0) {
      if (this.rejected.count > 0) throw this.rejected.refusal();
      throw new DatasetError(this.fileName, `${this.fileName}: no examples found`);
    }
    const kinds = new Set(this.read.map((r) => r.kind));
    // Chats in both shapes are one kind to train: each rendered by the same template.
    const kind = kinds.size === 1 ? this.read[0].kind : kinds.size === 2 && kinds.has('chat') && kinds.has('sharegpt') ? 'chat' : 'mixed';
    return {
      format: this.format,
      kind,
      examples: this.read.map((r) => r.example),
      rejected: this.rejected.rows,
      ...(this.chat.origin ? { chatTemplate: this.chat.origin } : {}),
    };
  }

  /**
   * Paragraphs split by blank lines; a file without blank lines is one example per line, unless
   * the person chose paragraphs, lines or the whole file. Which of the two a file is shows at its
   * first blank line between text, so until then the lines of the first paragraph are held.
   */
  private txtLine(text: string): void {
    if (this.split === 'whole') {
      this.whole.push(text);
      return;
    }
    if (this.split === 'lines') return this.keepText(text.trim());
    if (text.trim() === '') {
      if (this.paragraph.length > 0) this.breakPending = true;
      return;
    }
    if (this.breakPending) {
      this.blankSeen = true;
      this.breakPending = false;
      this.keepParagraph();
    }
    this.paragraph.push(text);
  }

  private endText(): void {
    if (this.split === 'whole') this.keepText(this.whole.join('\n').trim());
    else if (this.blankSeen || this.split === 'paragraphs') this.keepParagraph();
    else for (const line of this.paragraph) this.keepText(line.trim());
    this.paragraph = [];
  }

  private keepParagraph(): void {
    this.keepText(this.paragraph.join('\n').trim());
    this.paragraph = [];
  }

  private keepText(text: string): void {
    if (text !== '') this.read.push({ example: textExample(text), kind: 'text' });
  }

  private jsonlLine({ line, text }: TextRow): void {
    if (text.trim() === '') return;
    const parsed = jsonObjectOf(text);
    if ('error' in parsed) return this.rejected.add(line, parsed.error, text);
    this.keepRecord(line, parsed.value, text);
  }

  private keepRecord(line: number, record: Record<string, unknown>, raw: string): void {
    let result: ReadExample | { error: string };
    try {
      result = recordExample(record, this.chat, this.as);
    } catch (e) {
      // A template that cannot be read refuses every chat alike: one message for the file.
      if (e instanceof ChatTemplateError) throw new DatasetError(this.fileName, `${this.fileName}: ${e.message}`);
      throw e;
    }
    if ('error' in result) this.rejected.add(line, result.error, raw);
    else this.read.push(result);
  }

  /** A JSON document: an array of records, or an object holding one under "data", "rows" or "train". */
  private jsonDocument(text: string): void {
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      // V8 reports a character position, Firefox a line; a line is what a person finds in an editor.
      const position = /position (\d+)/.exec(reason);
      const firefoxLine = /line (\d+) column/.exec(reason);
      const line = position
        ? text.slice(0, Number(position[1])).split('\n').length
        : firefoxLine
          ? Number(firefoxLine[1])
          : 1;
      const message = `not valid JSON (${reason})`;
      throw new DatasetError(this.fileName, `${this.fileName} line ${line}: ${message}`, [{ line, message }]);
    }
    let records: unknown[] | undefined;
    if (Array.isArray(value)) records = value;
    else if (isRecord(value)) {
      const key = JSON_ARRAY_KEYS.find((k) => Array.isArray(value[k]));
      if (key) records = value[key] as unknown[];
    }
    if (!records) {
      throw new DatasetError(
        this.fileName,
        `${this.fileName}: expected an array of objects, or an object with a "data", "rows" or "train" array; got ${describe(value)}`,
      );
    }
    // A record's text as it was is not kept by JSON.parse: a refused record is saved as its JSON.
    records.forEach((record, i) => {
      if (!isRecord(record)) this.rejected.add(i + 1, `expected a JSON object, got ${describe(record)}`, JSON.stringify(record));
      else this.keepRecord(i + 1, record, JSON.stringify(record));
    });
  }

  private csvRecord(record: CsvRecord): void {
    const name = this.format === 'csv' ? 'CSV' : 'TSV';
    if (!this.header) {
      this.header = { fields: record.fields.length, columns: csvColumns(this.fileName, record, name, this.as) };
      this.rejected.header = record.text;
      return;
    }
    const { line, text: raw, fields } = record;
    if (record.error) return this.rejected.add(line, `${name}: ${record.error}`, raw);
    const { fields: expected, columns } = this.header;
    if (fields.length !== expected) {
      const hint = fields.length > expected ? `; quote fields that contain ${this.format === 'csv' ? 'commas' : 'tabs'}` : '';
      return this.rejected.add(line, `expected ${expected} field${expected === 1 ? '' : 's'}, found ${fields.length}${hint}`, raw);
    }
    if ('text' in columns) {
      const value = fields[columns.text];
      if (value.trim() === '') this.rejected.add(line, 'text is empty', raw);
      else this.read.push({ example: textExample(value), kind: 'text' });
      return;
    }
    if ('instruction' in columns) {
      const [instruction, input, output] = [fields[columns.instruction], columns.input >= 0 ? fields[columns.input] : '', fields[columns.output]];
      if (instruction.trim() === '') this.rejected.add(line, 'instruction is empty', raw);
      else if (output.trim() === '') this.rejected.add(line, 'output is empty: there is nothing to train on', raw);
      else this.read.push({ example: promptCompletion(alpacaPrompt(instruction, input), output), kind: 'alpaca' });
      return;
    }
    const [prompt, completion] = [fields[columns.prompt], fields[columns.completion]];
    if (completion.trim() === '') this.rejected.add(line, 'completion is empty: there is nothing to train on', raw);
    else this.read.push({ example: promptCompletion(prompt, completion), kind: 'prompt-completion' });
  }
}

const JSON_ARRAY_KEYS = ['data', 'rows', 'train'] as const;

/** The columns a CSV/TSV header names; a header that names none of them refuses the file. */
function csvColumns(fileName: string, record: CsvRecord, name: string, as?: ReadAs): CsvColumns {
  const refuse = (message: string) => {
    throw new DatasetError(fileName, `${fileName} line ${record.line}: ${message}`, [{ line: record.line, message }]);
  };
  if (record.error) refuse(`${name}: ${record.error} in the header row`);
  if (as === 'chat') refuse(`chats are read from JSON Lines or JSON records ("messages" or "conversations"), not ${name} columns`);
  const header = record.fields.map((h) => h.trim().toLowerCase());
  const col = (c: string) => header.indexOf(c);
  const found = `found ${record.fields.map((h) => JSON.stringify(h)).join(', ')}`;
  if ((as ?? 'text') === 'text' && col('text') >= 0) return { text: col('text') };
  if ((as ?? 'prompt-completion') === 'prompt-completion' && col('prompt') >= 0 && col('completion') >= 0) return { prompt: col('prompt'), completion: col('completion') };
  if ((as ?? 'alpaca') === 'alpaca' && col('instruction') >= 0 && col('output') >= 0) return { instruction: col('instruction'), input: col('input'), output: col('output') };
  const needs = as === undefined ? 'a "text" column (or "prompt" and "completion", or "instruction" and "output")' : CSV_COLUMNS_NEEDED[as as Exclude<ReadAs, 'chat' | 'labelled'>];
  return refuse(`the header row needs ${needs}; ${found}`);
}

const CSV_COLUMNS_NEEDED: Record<Exclude<ReadAs, 'chat' | 'labelled'>, string> = {
  text: 'a "text" column to read rows as plain text',
  'prompt-completion': '"prompt" and "completion" columns to read rows as prompt + completion',
  alpaca: '"instruction" and "output" columns to read rows as Alpaca instructions',
};

/** What each choice of reading is called in messages. */
export const READ_AS_NAMES: Record<ReadAs, string> = {
  text: 'plain text',
  'prompt-completion': 'prompt + completion',
  alpaca: 'Alpaca instructions',
  chat: 'chats',
  labelled: 'labelled examples',
};

// ---------------------------------------------------------------------------------------------
// Refused rows

/** A row that did not read: where it is, why, and its text as it was in the file. */
export interface RejectedRow extends DatasetIssue {
  raw: string;
}

/** What the page is told of a file's refused rows: how many, and the first MAX_ISSUES of them. */
export interface RejectionSummary {
  count: number;
  rows: DatasetIssue[];
  /** What the rows' numbers count: a Parquet file's rows, not lines; lines when absent. */
  unit?: RowUnit;
}

/** What a format's refused rows are numbered by: lines; a JSON array's records; a Parquet file's rows. */
export type RowUnit = 'line' | 'record' | 'row';

export function rowUnit(format: DatasetFormat): RowUnit {
  return format === 'json' ? 'record' : format === 'parquet' ? 'row' : 'line';
}

/** Every refused row of a file, in file order, with its text, so they can be saved as they were. */
export class Rejections {
  readonly rows: RejectedRow[] = [];
  /** A CSV/TSV file's header row as it was: a file of its refused rows starts with it. */
  header?: string;

  constructor(
    private readonly fileName: string,
    private readonly unit: RowUnit,
  ) {}

  add(line: number, message: string, raw: string): void {
    this.rows.push({ line, message, raw });
  }

  get count(): number {
    return this.rows.length;
  }

  summary(): RejectionSummary {
    return { count: this.rows.length, rows: this.rows.slice(0, MAX_ISSUES).map(({ line, message }) => ({ line, message })) };
  }

  /** The file refused because none of its rows read: the first problem named, the others counted and the first few listed. */
  refusal(): DatasetError {
    const first = this.rows[0];
    const n = this.rows.length;
    const more = n > 1 ? ` (and ${n - 1} more problem${n > 2 ? 's' : ''})` : '';
    return new DatasetError(this.fileName, `${this.fileName} ${this.unit} ${first.line}: ${first.message}${more}`, this.summary().rows);
  }
}
