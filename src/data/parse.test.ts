import { describe, expect, it } from 'vitest';
import { MAX_ISSUES, decodeUtf8, exampleText, parseDataset } from './parse';
import { datasetRejection } from './testing';

/** A file's refused rows, as the page lists them: line and reason. */
const refused = (fileName: string, text: string) => parseDataset(fileName, text).rejected.map(({ line, message }) => ({ line, message }));

/** The whole texts of a file's examples. */
const texts = (fileName: string, text: string): string[] => parseDataset(fileName, text).examples.map(exampleText);

describe('file formats', () => {
  it('picks the format from the extension, case-insensitively', () => {
    expect(parseDataset('A.TXT', 'x').format).toBe('txt');
    expect(parseDataset('d.JsonL', '{"text":"x"}').format).toBe('jsonl');
    expect(parseDataset('d.Json', '[{"text":"x"}]').format).toBe('json');
    expect(parseDataset('d.CSV', 'text\nx').format).toBe('csv');
    expect(parseDataset('d.tsv', 'text\nx').format).toBe('tsv');
  });

  it('rejects an unknown extension, listing the accepted ones', () => {
    const err = datasetRejection(() => parseDataset('notes.md', 'hello'));
    expect(err.message).toBe('notes.md: has extension ".md"; accepted: .txt, .jsonl, .json, .csv, .tsv, .parquet');
    expect(err.fileName).toBe('notes.md');
    expect(datasetRejection(() => parseDataset('README', 'x')).message).toMatch(/README: has no extension; accepted: \.txt/);
  });

  it('rejects empty and whitespace-only files', () => {
    for (const name of ['a.txt', 'a.jsonl', 'a.json', 'a.csv']) {
      expect(datasetRejection(() => parseDataset(name, '')).message).toBe(`${name}: the file is empty`);
      expect(datasetRejection(() => parseDataset(name, '\uFEFF \r\n\n  ')).message).toBe(`${name}: the file is empty`);
    }
  });
});

describe('.txt', () => {
  it('splits paragraphs on blank lines, keeping inner newlines', () => {
    const text = '\n\n  First para\nline two  \n\n\n \t \nSecond\n\nThird\n';
    expect(texts('a.txt', text)).toEqual(['First para\nline two', 'Second', 'Third']);
  });

  it('gives one example per non-empty line when there are no blank lines', () => {
    expect(texts('a.txt', 'one\n two \nthree\n')).toEqual(['one', 'two', 'three']);
  });

  it('handles CRLF and a BOM', () => {
    expect(texts('a.txt', '\uFEFFa\r\nb\r\n\r\nc\r\n')).toEqual(['a\nb', 'c']);
    expect(texts('a.txt', '\uFEFFx\r\ny\r\n')).toEqual(['x', 'y']);
  });
});

describe('.jsonl', () => {
  it('reads "text" records and prompt+completion records, skipping blank lines', () => {
    const text = '{"text":"hello"}\n\n{"prompt":"Q: 2+2?\\nA:","completion":" 4"}\n  \n{"text":"é 😀","id":3}\n';
    expect(texts('d.jsonl', text)).toEqual(['hello', 'Q: 2+2?\nA: 4', 'é 😀']);
  });

  it('keeps the rows that read and refuses every kind of bad line by itself, with its line number and text', () => {
    const lines = [
      '{"text":"ok"}', // 1
      '{"text": "broken', // 2
      '["text"]', // 3
      '{"txt":"typo"}', // 4
      '{"text":42}', // 5
      '{"text":"   "}', // 6
      '', // 7
      '{"prompt":"p"}', // 8
      '"just a string"', // 9
      '{"prompt":"p","completion":null}', // 10
      '{}', // 11
      '{"text":"last"}', // 12
    ];
    const read = parseDataset('data.jsonl', lines.join('\n'));
    expect(read.examples.map(exampleText)).toEqual(['ok', 'last']);
    const issues = read.rejected;
    expect(issues.map((i) => i.line)).toEqual([2, 3, 4, 5, 6, 8, 9, 10, 11]);
    expect(issues.map((i) => i.raw)).toEqual([2, 3, 4, 5, 6, 8, 9, 10, 11].map((line) => lines[line - 1]));
    expect(issues[0].message).toMatch(/^not valid JSON \(.+\)$/);
    expect(issues[1].message).toBe('expected a JSON object, got an array');
    expect(issues[2].message).toBe('missing "text" (or "prompt" + "completion", or "instruction" + "output", or "messages" / "conversations"); found "txt"');
    expect(issues[3].message).toBe('"text" must be a string, got a number');
    expect(issues[4].message).toBe('"text" is empty');
    expect(issues[5].message).toBe('"prompt" without "completion"');
    expect(issues[6].message).toBe('expected a JSON object, got a string');
    expect(issues[7].message).toBe('"completion" must be a string, got null');
    expect(issues[8].message).toBe('missing "text" (or "prompt" + "completion", or "instruction" + "output", or "messages" / "conversations"); the object is empty');
  });

  it('refuses a file none of whose lines read, naming the first problem and counting the rest', () => {
    const err = datasetRejection(() => parseDataset('data.jsonl', '{"text": "broken\n\n["text"]\n{"txt":"typo"}\n'));
    expect(err.issues.map((i) => i.line)).toEqual([1, 3, 4]);
    expect(err.message).toMatch(/^data\.jsonl line 1: not valid JSON \(.+\) \(and 2 more problems\)$/);
  });

  it('keeps line numbers right in CRLF files with a BOM', () => {
    const read = parseDataset('d.jsonl', '\uFEFF{"text":"a"}\r\n\r\n{"text":"b"}\r\nnot json\r\n');
    expect(read.examples.map(exampleText)).toEqual(['a', 'b']);
    expect(read.rejected).toHaveLength(1);
    expect(read.rejected[0]).toMatchObject({ line: 4, raw: 'not json' });
    expect(read.rejected[0].message).toMatch(/^not valid JSON/);
  });

  it('a BOM does not break the first line', () => {
    expect(texts('d.jsonl', '\uFEFF{"text":"a"}\r\n')).toEqual(['a']);
  });

  it('lists at most MAX_ISSUES issues of a refused file but counts them all', () => {
    const text = Array.from({ length: 30 }, () => 'x').join('\n');
    const err = datasetRejection(() => parseDataset('d.jsonl', text));
    expect(err.issues).toHaveLength(MAX_ISSUES);
    expect(err.issues[MAX_ISSUES - 1].line).toBe(MAX_ISSUES);
    expect(err.message).toMatch(/\(and 29 more problems\)$/);
  });

  it('never drops a line silently: a bad line is kept out and recorded, the others are read', () => {
    const read = parseDataset('d.jsonl', '{"text":"a"}\n{"text":"b"}\n{"text":""}');
    expect(read.examples.map(exampleText)).toEqual(['a', 'b']);
    expect(read.rejected).toEqual([{ line: 3, message: '"text" is empty', raw: '{"text":""}' }]);
  });
});

describe('instruction data', () => {
  const NO_INPUT =
    'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n' +
    '### Instruction:\nName a colour.\n\n### Response:';
  const WITH_INPUT =
    'Below is an instruction that describes a task, paired with an input that provides further context. ' +
    'Write a response that appropriately completes the request.\n\n' +
    '### Instruction:\nTranslate.\n\n### Input:\nbonjour\n\n### Response:';

  it('reads prompt + completion as an untrained prompt then a trained completion', () => {
    const out = parseDataset('d.jsonl', '{"prompt":"Q: 2+2?\\nA:","completion":" 4"}\n{"prompt":"Q: 1+1?\\nA:","completion":" 2"}');
    expect(out.kind).toBe('prompt-completion');
    expect(out.examples[0]).toEqual([
      { text: 'Q: 2+2?\nA:', train: false },
      { text: ' 4', train: true },
    ]);
  });

  it('reads Alpaca records with the Alpaca prompt, with and without an input', () => {
    const text = [
      JSON.stringify({ instruction: 'Name a colour.', input: '', output: 'Blue.' }),
      JSON.stringify({ instruction: 'Translate.', input: 'bonjour', output: 'hello' }),
      JSON.stringify({ instruction: 'Name a colour.', output: 'Red.' }),
    ].join('\n');
    const out = parseDataset('alpaca.jsonl', text);
    expect(out.kind).toBe('alpaca');
    expect(out.examples).toEqual([
      [
        { text: NO_INPUT, train: false },
        { text: 'Blue.', train: true },
      ],
      [
        { text: WITH_INPUT, train: false },
        { text: 'hello', train: true },
      ],
      [
        { text: NO_INPUT, train: false },
        { text: 'Red.', train: true },
      ],
    ]);
  });

  it('reads an Alpaca JSON array, as alpaca_data.json is', () => {
    const out = parseDataset('alpaca_data.json', JSON.stringify([{ instruction: 'Translate.', input: 'bonjour', output: 'hello' }]));
    expect(out.kind).toBe('alpaca');
    expect(out.examples.map(exampleText)).toEqual([`${WITH_INPUT}hello`]);
  });

  it('plain text is one trained segment; rows of different kinds are "mixed"', () => {
    expect(parseDataset('a.txt', 'one\ntwo')).toEqual({ format: 'txt', kind: 'text', examples: [[{ text: 'one', train: true }], [{ text: 'two', train: true }]], rejected: [] });
    expect(parseDataset('d.json', '[{"text":"a"},{"prompt":"b","completion":"c"}]').kind).toBe('mixed');
  });

  it('reads prompt and completion columns of a CSV as prompt and completion', () => {
    expect(parseDataset('d.csv', 'prompt,completion\nQ:, A\n').examples).toEqual([
      [
        { text: 'Q:', train: false },
        { text: ' A', train: true },
      ],
    ]);
  });

  it('reports every bad instruction row with its line number', () => {
    const lines = [
      '{"instruction":"ok","output":"fine"}', // 1
      '{"instruction":"no output"}', // 2
      '{"output":"no instruction"}', // 3
      '{"instruction":"x","input":7,"output":"y"}', // 4
      '{"instruction":"x","output":["y"]}', // 5
      '{"instruction":" ","output":"y"}', // 6
      '{"instruction":"x","output":""}', // 7
      '{"prompt":"p","completion":"  "}', // 8
      '{"instruction":null,"output":"y"}', // 9
    ];
    expect(parseDataset('alpaca.jsonl', lines.join('\n')).examples).toHaveLength(1);
    expect(refused('alpaca.jsonl', lines.join('\n'))).toEqual([
      { line: 2, message: '"instruction" without "output"' },
      { line: 3, message: '"output" without "instruction"' },
      { line: 4, message: '"input" must be a string, got a number' },
      { line: 5, message: '"output" must be a string, got an array' },
      { line: 6, message: '"instruction" is empty' },
      { line: 7, message: '"output" is empty: there is nothing to train on' },
      { line: 8, message: '"completion" is empty: there is nothing to train on' },
      { line: 9, message: '"instruction" must be a string, got null' },
    ]);
  });

  it('reads instruction, input and output columns of a TSV as Alpaca records, naming bad lines', () => {
    const out = parseDataset('alpaca.tsv', 'instruction\tinput\toutput\nTranslate.\tbonjour\thello\nName a colour.\t\tBlue.\n');
    expect(out.kind).toBe('alpaca');
    expect(out.examples.map(exampleText)).toEqual([`${WITH_INPUT}hello`, `${NO_INPUT}Blue.`]);
    expect(parseDataset('a.csv', 'instruction,output\nName a colour.,Blue.\n').examples.map(exampleText)).toEqual([`${NO_INPUT}Blue.`]);
    expect(refused('a.csv', 'instruction,output\nx,y\n ,y\nx,\n')).toEqual([
      { line: 3, message: 'instruction is empty' },
      { line: 4, message: 'output is empty: there is nothing to train on' },
    ]);
  });

  it('names the CSV line whose completion is empty', () => {
    expect(refused('d.csv', 'prompt,completion\nQ:,A\nQ2:,\n')).toEqual([{ line: 3, message: 'completion is empty: there is nothing to train on' }]);
  });
});

describe('.json', () => {
  it('reads a top-level array or a data/rows/train array', () => {
    expect(texts('d.json', '[{"text":"a"},{"prompt":"b","completion":"c"}]')).toEqual(['a', 'bc']);
    for (const key of ['data', 'rows', 'train']) {
      expect(texts('d.json', JSON.stringify({ meta: 1, [key]: [{ text: key }] }))).toEqual([key]);
    }
  });

  it('refuses bad records by record number, keeping the others', () => {
    const read = parseDataset('d.json', '[{"text":"a"}, 5, {"text":""}, {"text":"b"}]');
    expect(read.examples.map(exampleText)).toEqual(['a', 'b']);
    expect(read.rejected).toEqual([
      { line: 2, message: 'expected a JSON object, got a number', raw: '5' },
      { line: 3, message: '"text" is empty', raw: '{"text":""}' },
    ]);
    const err = datasetRejection(() => parseDataset('d.json', '[5, {"text":""}]'));
    expect(err.message).toBe('d.json record 1: expected a JSON object, got a number (and 1 more problem)');
  });

  it('turns a JSON syntax error into a line number', () => {
    const err = datasetRejection(() => parseDataset('d.json', '[\r\n  {"text": "a"},\r\n  {"text": "b",}\r\n]'));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0].line).toBe(3);
    expect(err.message).toMatch(/^d\.json line 3: not valid JSON \(/);
  });

  it('rejects other shapes and an empty array', () => {
    expect(datasetRejection(() => parseDataset('d.json', '{"text":"a"}')).message).toBe(
      'd.json: expected an array of objects, or an object with a "data", "rows" or "train" array; got an object',
    );
    expect(datasetRejection(() => parseDataset('d.json', '[]')).message).toBe('d.json: no examples found');
  });
});

describe('.csv / .tsv', () => {
  it('reads a text column, with quoted commas, quotes and newlines', () => {
    const text = 'id,text\n1,plain\n2,"has, comma"\n3,"say ""hi"""\n4,"two\nlines"\n';
    expect(texts('d.csv', text)).toEqual(['plain', 'has, comma', 'say "hi"', 'two\nlines']);
  });

  it('reads prompt + completion columns, header case-insensitive', () => {
    expect(texts('d.csv', 'Prompt,Completion\nQ:, A\n')).toEqual(['Q: A']);
  });

  it('reads TSV', () => {
    expect(texts('d.tsv', 'text\tlabel\nhello, world\t1\r\nbye\t0\r\n')).toEqual(['hello, world', 'bye']);
  });

  it('requires a header with a text column', () => {
    const err = datasetRejection(() => parseDataset('d.csv', 'content,label\nx,1\n'));
    expect(err.issues).toEqual([
      { line: 1, message: 'the header row needs a "text" column (or "prompt" and "completion", or "instruction" and "output"); found "content", "label"' },
    ]);
    expect(datasetRejection(() => parseDataset('d.csv', 'text\n')).message).toBe('d.csv: no examples found');
  });

  it('names the line of each bad row, counting quoted newlines, blank lines, CRLF and a BOM', () => {
    const text = '\uFEFFtext,label\r\n"multi\r\nline",1\r\n\r\nbad row with, extra, commas,1\r\n  ,0\r\nshort\r\nok,1\r\n';
    const read = parseDataset('d.csv', text);
    expect(read.examples.map(exampleText)).toEqual(['multi\nline', 'ok']);
    expect(read.rejected).toEqual([
      { line: 5, message: 'expected 2 fields, found 4; quote fields that contain commas', raw: 'bad row with, extra, commas,1' },
      { line: 6, message: 'text is empty', raw: '  ,0' },
      { line: 7, message: 'expected 2 fields, found 1', raw: 'short' },
    ]);
  });

  it('reports an unterminated quote at its line', () => {
    const read = parseDataset('d.csv', 'text\nfine\n"never closed\nmore\n');
    expect(read.examples.map(exampleText)).toEqual(['fine']);
    expect(read.rejected).toEqual([{ line: 3, message: 'CSV: quoted field unterminated', raw: '"never closed\nmore' }]);
  });
});

describe('decodeUtf8', () => {
  const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

  it('decodes valid UTF-8 and drops a BOM', () => {
    const text = 'héllo 😀\n';
    expect(decodeUtf8(new TextEncoder().encode(text), 'a.txt')).toBe(text);
    expect(decodeUtf8(bytes(0xef, 0xbb, 0xbf, 0x61), 'a.txt')).toBe('a');
  });

  it('names the file, line and byte offset of the first invalid byte', () => {
    // "ab\nc" then a Latin-1 é (0xe9) followed by ASCII: offset 4, line 2.
    const err = datasetRejection(() => decodeUtf8(bytes(0x61, 0x62, 0x0a, 0x63, 0xe9, 0x74, 0x65), 'latin1.txt'));
    expect(err.message).toBe('latin1.txt line 2: not valid UTF-8 at byte offset 4 (0xe9); save the file as UTF-8');
    expect(err.issues).toEqual([{ line: 2, message: 'not valid UTF-8 at byte offset 4 (0xe9); save the file as UTF-8' }]);
  });

  it('finds overlong forms, surrogates, stray continuations and truncation', () => {
    const offsetOf = (b: Uint8Array): string => datasetRejection(() => decodeUtf8(b, 'x.txt')).message;
    expect(offsetOf(bytes(0x41, 0xc0, 0xaf))).toMatch(/byte offset 1 \(0xc0\)/); // overlong '/'
    expect(offsetOf(bytes(0x41, 0x42, 0xed, 0xa0, 0x80))).toMatch(/byte offset 2 \(0xed\)/); // UTF-16 surrogate
    expect(offsetOf(bytes(0xc3, 0xa9, 0x80))).toMatch(/byte offset 2 \(0x80\)/); // lone continuation
    expect(offsetOf(bytes(0x41, 0xf0, 0x9f, 0x98))).toMatch(/byte offset 1 \(0xf0\)/); // cut-off emoji
    expect(offsetOf(bytes(0xf4, 0x90, 0x80, 0x80))).toMatch(/byte offset 0 \(0xf4\)/); // above U+10FFFF
  });
});
