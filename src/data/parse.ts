// Turns a dropped file's text into training examples. Strict on purpose: a bad line rejects the
// whole file with every problem listed, because silently skipping rows would train on a
// different dataset from the one the person believes they gave.
//
// An example is its text as segments, each saying whether the loss reads it: a plain text is one
// trained segment; an instruction example (prompt + completion, or Alpaca's instruction / input /
// output) is its prompt, not trained on, then its completion, trained on — what TRL's SFTTrainer
// does by default for prompt-completion data (completion_only_loss). A chat (chat.ts) is the
// text its chat template renders, its assistant replies trained on (assistant_only_loss).
import Papa from 'papaparse';
import { ChatReader, ChatTemplateError, isChatRecord } from './chat';
import type { ChatTemplate, ChatTemplateOrigin } from './chat-template';

export type DatasetFormat = 'txt' | 'jsonl' | 'json' | 'csv' | 'tsv';

/** One rejected line of a dropped file. */
export interface DatasetIssue {
  /** 1-based line number in the file (or record number for formats without lines). */
  line: number;
  message: string;
}

export const ACCEPTED_EXTENSIONS: readonly string[] = ['.txt', '.jsonl', '.json', '.csv', '.tsv'];

/** At most this many issues are collected; the message still counts all of them. */
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

export interface ParseOptions {
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

export function parseDataset(fileName: string, text: string, options: ParseOptions = {}): ParsedDataset {
  const format = formatOf(fileName);
  // One line ending everywhere: line numbers stay the same (\r\n and lone \r each end one line)
  // and examples never carry stray \r into the tokenizer.
  const clean = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (clean.trim() === '') throw new DatasetError(fileName, `${fileName}: the file is empty`);

  const chat = new ChatReader(options.chatTemplate);
  let read: ReadExample[];
  try {
    switch (format) {
      case 'txt':
        read = parseTxt(clean).map((text) => ({ example: textExample(text), kind: 'text' }));
        break;
      case 'jsonl':
        read = parseJsonl(fileName, clean, chat);
        break;
      case 'json':
        read = parseJson(fileName, clean, chat);
        break;
      case 'csv':
      case 'tsv':
        read = parseDelimited(fileName, clean, format === 'tsv' ? '\t' : ',');
        break;
    }
  } catch (e) {
    // A template that cannot be read refuses every chat alike: one message for the file.
    if (e instanceof ChatTemplateError) throw new DatasetError(fileName, `${fileName}: ${e.message}`);
    throw e;
  }
  if (read.length === 0) throw new DatasetError(fileName, `${fileName}: no examples found`);
  const kinds = new Set(read.map((r) => r.kind));
  const kind = kinds.size === 1 ? read[0].kind : kinds.size === 2 && kinds.has('chat') && kinds.has('sharegpt') ? 'chat' : 'mixed';
  return { format, kind, examples: read.map((r) => r.example), ...(chat.origin ? { chatTemplate: chat.origin } : {}) };
}

/** One record read, and how. */
interface ReadExample {
  example: Example;
  kind: ExampleKind;
}

export function formatOf(fileName: string): DatasetFormat {
  const dot = fileName.lastIndexOf('.');
  const ext = dot >= 0 ? fileName.slice(dot).toLowerCase() : '';
  if (ext === '.txt' || ext === '.jsonl' || ext === '.json' || ext === '.csv' || ext === '.tsv') {
    return ext.slice(1) as DatasetFormat;
  }
  const got = ext === '' ? 'has no extension' : `has extension "${ext}"`;
  throw new DatasetError(fileName, `${fileName}: ${got}; accepted: ${ACCEPTED_EXTENSIONS.join(', ')}`);
}

/** Paragraphs split by blank lines; a file without blank lines is one example per line. */
function parseTxt(text: string): string[] {
  const body = text.trim();
  const blankLine = /\n[^\S\n]*\n\s*/;
  const pieces = blankLine.test(body) ? body.split(blankLine) : body.split('\n');
  return pieces.map((p) => p.trim()).filter((p) => p !== '');
}

/** Collects issues (capped) and raises them together, so one drop shows every problem. */
export class IssueCollector {
  readonly issues: DatasetIssue[] = [];
  total = 0;

  constructor(private readonly fileName: string, private readonly unit: 'line' | 'record') {}

  add(line: number, message: string): void {
    this.total++;
    if (this.issues.length < MAX_ISSUES) this.issues.push({ line, message });
  }

  throwIfAny(): void {
    if (this.total === 0) return;
    const first = this.issues[0];
    const more = this.total > 1 ? ` (and ${this.total - 1} more problem${this.total > 2 ? 's' : ''})` : '';
    throw new DatasetError(this.fileName, `${this.fileName} ${this.unit} ${first.line}: ${first.message}${more}`, this.issues);
  }
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
function recordExample(record: Record<string, unknown>, chat: ChatReader): ReadExample | { error: string } {
  if (isChatRecord(record)) return chat.example(record);
  if ('text' in record) {
    const text = record.text;
    if (typeof text !== 'string') return { error: `"text" must be a string, got ${describe(text)}` };
    if (text.trim() === '') return { error: '"text" is empty' };
    return { example: textExample(text), kind: 'text' };
  }
  const hasPrompt = 'prompt' in record;
  const hasCompletion = 'completion' in record;
  if (hasPrompt || hasCompletion) {
    if (!hasPrompt) return { error: '"completion" without "prompt"' };
    if (!hasCompletion) return { error: '"prompt" without "completion"' };
    const { prompt, completion } = record;
    if (typeof prompt !== 'string') return { error: `"prompt" must be a string, got ${describe(prompt)}` };
    if (typeof completion !== 'string') return { error: `"completion" must be a string, got ${describe(completion)}` };
    if (completion.trim() === '') return { error: '"completion" is empty: there is nothing to train on' };
    return { example: promptCompletion(prompt, completion), kind: 'prompt-completion' };
  }
  if ('instruction' in record || 'output' in record) return alpacaExample(record);
  const keys = Object.keys(record);
  const found = keys.length === 0 ? 'the object is empty' : `found ${keys.slice(0, 5).map((k) => JSON.stringify(k)).join(', ')}`;
  return { error: `missing "text" (or "prompt" + "completion", or "instruction" + "output", or "messages" / "conversations"); ${found}` };
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

function parseJsonl(fileName: string, text: string, chat: ChatReader): ReadExample[] {
  const issues = new IssueCollector(fileName, 'line');
  const examples: ReadExample[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      issues.add(line, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
      return;
    }
    if (!isRecord(value)) {
      issues.add(line, `expected a JSON object, got ${describe(value)}`);
      return;
    }
    const result = recordExample(value, chat);
    if ('error' in result) issues.add(line, result.error);
    else examples.push(result);
  });
  issues.throwIfAny();
  return examples;
}

const JSON_ARRAY_KEYS = ['data', 'rows', 'train'] as const;

function parseJson(fileName: string, text: string, chat: ChatReader): ReadExample[] {
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
    throw new DatasetError(fileName, `${fileName} line ${line}: ${message}`, [{ line, message }]);
  }
  let records: unknown[] | undefined;
  if (Array.isArray(value)) records = value;
  else if (isRecord(value)) {
    const key = JSON_ARRAY_KEYS.find((k) => Array.isArray(value[k]));
    if (key) records = value[key] as unknown[];
  }
  if (!records) {
    throw new DatasetError(
      fileName,
      `${fileName}: expected an array of objects, or an object with a "data", "rows" or "train" array; got ${describe(value)}`,
    );
  }
  const issues = new IssueCollector(fileName, 'record');
  const examples: ReadExample[] = [];
  records.forEach((record, i) => {
    if (!isRecord(record)) {
      issues.add(i + 1, `expected a JSON object, got ${describe(record)}`);
      return;
    }
    const result = recordExample(record, chat);
    if ('error' in result) issues.add(i + 1, result.error);
    else examples.push(result);
  });
  issues.throwIfAny();
  return examples;
}

/** 1-based line of a character offset, by binary search over the line starts. */
export function lineLocator(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

function parseDelimited(fileName: string, text: string, delimiter: ',' | '\t'): ReadExample[] {
  const lineOf = lineLocator(text);
  const issues = new IssueCollector(fileName, 'line');
  const examples: ReadExample[] = [];
  const name = delimiter === ',' ? 'CSV' : 'TSV';
  let header: string[] | undefined;
  let columns: { text: number } | { prompt: number; completion: number } | { instruction: number; input: number; output: number } | undefined;
  let previousCursor = 0;

  // Step mode gives each row's end offset (meta.cursor), which is how rows that span lines
  // (quoted newlines) and skipped blank lines still get their true line numbers.
  Papa.parse<string[]>(text, {
    delimiter,
    skipEmptyLines: 'greedy',
    step: (result, parser) => {
      const start = text.slice(previousCursor).search(/\S/);
      const line = lineOf(previousCursor + Math.max(start, 0));
      previousCursor = result.meta.cursor;
      for (const error of result.errors) {
        issues.add(error.index !== undefined ? lineOf(error.index) : line, `${name}: ${error.message.toLowerCase()}`);
      }
      if (result.errors.length > 0) return;
      const row = result.data;
      if (!header) {
        header = row.map((h) => h.trim().toLowerCase());
        const textCol = header.indexOf('text');
        const promptCol = header.indexOf('prompt');
        const completionCol = header.indexOf('completion');
        const [instructionCol, outputCol] = [header.indexOf('instruction'), header.indexOf('output')];
        if (textCol >= 0) columns = { text: textCol };
        else if (promptCol >= 0 && completionCol >= 0) columns = { prompt: promptCol, completion: completionCol };
        else if (instructionCol >= 0 && outputCol >= 0) columns = { instruction: instructionCol, input: header.indexOf('input'), output: outputCol };
        else {
          issues.add(line, `the header row needs a "text" column (or "prompt" and "completion", or "instruction" and "output"); found ${row.map((h) => JSON.stringify(h)).join(', ')}`);
          parser.abort();
        }
        return;
      }
      if (row.length !== header.length) {
        const hint = row.length > header.length ? `; quote fields that contain ${delimiter === ',' ? 'commas' : 'tabs'}` : '';
        issues.add(line, `expected ${header.length} field${header.length === 1 ? '' : 's'}, found ${row.length}${hint}`);
        return;
      }
      if (!columns) return;
      if ('text' in columns) {
        const value = row[columns.text];
        if (value.trim() === '') issues.add(line, 'text is empty');
        else examples.push({ example: textExample(value), kind: 'text' });
        return;
      }
      if ('instruction' in columns) {
        const [instruction, input, output] = [row[columns.instruction], columns.input >= 0 ? row[columns.input] : '', row[columns.output]];
        if (instruction.trim() === '') issues.add(line, 'instruction is empty');
        else if (output.trim() === '') issues.add(line, 'output is empty: there is nothing to train on');
        else examples.push({ example: promptCompletion(alpacaPrompt(instruction, input), output), kind: 'alpaca' });
        return;
      }
      const [prompt, completion] = [row[columns.prompt], row[columns.completion]];
      if (completion.trim() === '') issues.add(line, 'completion is empty: there is nothing to train on');
      else examples.push({ example: promptCompletion(prompt, completion), kind: 'prompt-completion' });
    },
  });
  issues.throwIfAny();
  return examples;
}
