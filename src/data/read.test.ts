// Reading a file as a stream of bytes gives what reading its whole text gives, wherever the
// pieces split it: inside a line, inside a multi-byte UTF-8 character, inside a CSV quoted field,
// between \r and \n. And each format keeps its good rows and names its bad ones.
import { describe, expect, it } from 'vitest';
import { DatasetError, decodeUtf8, exampleText } from './parse';
import { readDatasetStream, readDatasetText, rejectedFile, type DatasetRead } from './read';
import { datasetRejection } from './testing';

const encode = (text: string) => new TextEncoder().encode(text);

/** A stream giving `bytes` cut at `cuts` (byte offsets). */
function streamOf(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length];
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i + 1 >= bounds.length) return controller.close();
      controller.enqueue(bytes.slice(bounds[i], bounds[i + 1]));
      i++;
    },
  });
}

/** What a read holds, in plain values. */
function contents(r: DatasetRead) {
  return {
    format: r.format,
    examples: r.examples && { kind: r.examples.kind, texts: r.examples.examples.map(exampleText), segments: r.examples.examples },
    labelled: r.labelled && { ...r.labelled, rejected: undefined },
    rejected: r.rejected,
  };
}

const FILES: Record<string, string> = {
  'mixed.jsonl': '\uFEFF{"text":"héllo 😀 wörld"}\r\n{"text": broken}\r\n\r\n{"prompt":"Q: ½?","completion":" ünë"}\n{"txt":"typo"}\n{"text":"last — 日本語"}',
  'quoted.csv': 'id,text\n1,"a field\nover two lines, with ""quotes"""\n2,bad,extra\n3,"日本語, 😀"\r\n\r\n4,\n5,"never closed\nmore',
  'alpaca.tsv': 'instruction\tinput\toutput\nTranslate.\tbonjour\thello\n\t\tx\nName a colour.\t\tBlue ☺.\n',
  'paragraphs.txt': '\n\nFirst paragraph\nline two é\n\n  \nSecond 😀\n\nThird\n',
  'lines.txt': 'one\r\ntwo ü\r\nthree',
  'records.json': '[{"text":"a ü"}, 5, {"text":""}, {"prompt":"p","completion":"c 😀"}]',
  'labels.csv': 'sentence,label\ngreat 😀,pos\n,neg\n"awful,\nreally",neg\nfine,\n',
  'labels.jsonl': 'oops\n{"sentence1":"a","sentence2":"b ü","label":1}\n{"sentence1":"c","sentence2":"","label":0}\n{"sentence1":"d","sentence2":"e","label":0}\n',
};

describe('reading a file as a stream', () => {
  for (const [name, text] of Object.entries(FILES)) {
    it(`${name}: every cut into two pieces, and cuts at every byte, read as the whole text does`, async () => {
      const whole = contents(readDatasetText(name, text));
      const bytes = encode(text);
      for (let cut = 0; cut <= bytes.length; cut++) {
        expect(contents(await readDatasetStream(name, streamOf(bytes, [cut])))).toEqual(whole);
      }
      const everyByte = Array.from({ length: bytes.length }, (_, i) => i);
      expect(contents(await readDatasetStream(name, streamOf(bytes, everyByte)))).toEqual(whole);
    });
  }

  it('keeps the good rows and names the bad ones in each format', () => {
    const jsonl = readDatasetText('mixed.jsonl', FILES['mixed.jsonl']);
    expect(jsonl.examples!.examples.map(exampleText)).toEqual(['héllo 😀 wörld', 'Q: ½? ünë', 'last — 日本語']);
    expect(jsonl.rejected.rows.map(({ line, raw }) => ({ line, raw }))).toEqual([
      { line: 2, raw: '{"text": broken}' },
      { line: 5, raw: '{"txt":"typo"}' },
    ]);
    // A quoted line break does not shift the lines after it; an unterminated quote swallows the rest.
    const csv = readDatasetText('quoted.csv', FILES['quoted.csv']);
    expect(csv.examples!.examples.map(exampleText)).toEqual(['a field\nover two lines, with "quotes"', '日本語, 😀']);
    expect(csv.rejected).toEqual({
      header: 'id,text',
      rows: [
        { line: 4, message: 'expected 2 fields, found 3; quote fields that contain commas', raw: '2,bad,extra' },
        { line: 7, message: 'text is empty', raw: '4,' },
        { line: 8, message: 'CSV: quoted field unterminated', raw: '5,"never closed\nmore' },
      ],
    });
    const labels = readDatasetText('labels.csv', FILES['labels.csv']);
    expect(labels.labelled).toMatchObject({ texts: ['great 😀', 'awful,\nreally'], labelNames: ['neg', 'pos'], classes: [1, 0] });
    expect(labels.rejected.rows.map((r) => [r.line, r.message])).toEqual([
      [3, '"sentence" is empty'],
      [6, '"label" must be a label (a string or an integer), got an empty value'],
    ]);
    const pairs = readDatasetText('labels.jsonl', FILES['labels.jsonl']);
    expect(pairs.labelled).toMatchObject({ columns: { text: 'sentence1', pair: 'sentence2', label: 'label' }, texts: ['a', 'd'] });
    expect(pairs.rejected.rows.map((r) => r.line)).toEqual([1, 3]);
    expect(readDatasetText('records.json', FILES['records.json']).rejected.rows.map((r) => [r.line, r.raw])).toEqual([
      [2, '5'],
      [3, '{"text":""}'],
    ]);
  });

  it('saves the refused rows in the file\'s format: lines as they were, a CSV header first, a JSON array of records', () => {
    const file = (name: string) => new TextDecoder().decode(rejectedFile(name, readDatasetText(name, FILES[name])).bytes);
    expect(rejectedFile('mixed.jsonl', readDatasetText('mixed.jsonl', FILES['mixed.jsonl'])).fileName).toBe('mixed.rejected.jsonl');
    expect(file('mixed.jsonl')).toBe('{"text": broken}\n{"txt":"typo"}\n');
    expect(file('quoted.csv')).toBe('id,text\n2,bad,extra\n4,\n5,"never closed\nmore\n');
    expect(file('labels.csv')).toBe('sentence,label\n,neg\nfine,\n');
    expect(JSON.parse(file('records.json'))).toEqual([5, { text: '' }]);
  });

  it('names the byte offset and line of bad UTF-8 as the whole-file decoder does, wherever the pieces split it', async () => {
    // The emoji on line 2 with its last byte replaced by ASCII, then more lines.
    const good = encode('{"text":"ab"}\n{"text":"c😀"}\n{"text":"d"}\n');
    const bytes = good.slice();
    bytes[good.indexOf(0xf0) + 3] = 0x41;
    let expected = '';
    try {
      decodeUtf8(bytes, 'bad.jsonl');
    } catch (e) {
      expected = (e as Error).message;
    }
    expect(expected).toMatch(/^bad\.jsonl line 2: not valid UTF-8 at byte offset 24 \(0xf0\)/);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const err = await readDatasetStream('bad.jsonl', streamOf(bytes, [cut])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatasetError);
      expect((err as Error).message).toBe(expected);
    }
    // A file cut inside its last character.
    const cutShort = encode('{"text":"😀"}').slice(0, 11);
    const err = await readDatasetStream('short.jsonl', streamOf(cutShort, [10])).catch((e: unknown) => e);
    expect((err as Error).message).toBe('short.jsonl line 1: not valid UTF-8 at byte offset 9 (0xf0); save the file as UTF-8');
  });

  it('refuses an empty file, and a file none of whose rows read', async () => {
    await expect(readDatasetStream('e.jsonl', streamOf(encode('\uFEFF \r\n'), [2]))).rejects.toThrow(/^e\.jsonl: the file is empty$/);
    await expect(readDatasetStream('b.csv', streamOf(encode('text,id\n,1\n ,2\n'), [9]))).rejects.toThrow(/^b\.csv line 2: text is empty \(and 1 more problem\)$/);
  });
});

describe('reading a file as the person chose', () => {
  const kinds = (r: DatasetRead) => r.examples!.examples.map((e) => [exampleText(e), e.map((s) => s.train)]);

  it('splits plain text at blank lines, at every line, or not at all', () => {
    const text = 'One\nstill one\n\nTwo\n\n\nThree';
    const split = (s?: 'paragraphs' | 'lines' | 'whole') => readDatasetText('t.txt', text, undefined, { split: s }).examples!.examples.map(exampleText);
    expect(split()).toEqual(['One\nstill one', 'Two', 'Three']);
    expect(split('paragraphs')).toEqual(['One\nstill one', 'Two', 'Three']);
    expect(split('lines')).toEqual(['One', 'still one', 'Two', 'Three']);
    expect(split('whole')).toEqual([text]);
    // Without blank lines the found reading is one per line; paragraphs make it one example.
    expect(readDatasetText('l.txt', 'a\nb\nc').examples!.examples).toHaveLength(3);
    expect(readDatasetText('l.txt', 'a\nb\nc', undefined, { split: 'paragraphs' }).examples!.examples.map(exampleText)).toEqual(['a\nb\nc']);
  });

  it('reads records only as the chosen kind, refusing the others by line with the fields found', () => {
    const jsonl = ['{"text":"plain"}', '{"prompt":"Q","completion":"A"}', '{"messages":[{"role":"user","content":"u"},{"role":"assistant","content":"a"}]}'].join('\n');
    const asChat = readDatasetText('d.jsonl', jsonl, undefined, { as: 'chat' });
    expect(asChat.examples!.kind).toBe('chat');
    expect(asChat.examples!.examples).toHaveLength(1);
    expect(asChat.rejected.rows.map(({ line, message }) => [line, message])).toEqual([
      [1, 'missing "messages" (or ShareGPT\'s "conversations"), reading records as chats; found "text"'],
      [2, 'missing "messages" (or ShareGPT\'s "conversations"), reading records as chats; found "prompt", "completion"'],
    ]);
    const asPairs = readDatasetText('d.jsonl', jsonl, undefined, { as: 'prompt-completion' });
    expect(kinds(asPairs)).toEqual([['QA', [false, true]]]);
    expect(asPairs.rejected.rows.map((r) => r.line)).toEqual([1, 3]);
  });

  it('a CSV with a label column is read as language-model text when plain text is chosen, and a labelled reading needs a label column', () => {
    const csv = 'text,label\ngood day,pos\nbad day,neg\n';
    expect(readDatasetText('l.csv', csv).labelled?.labelNames).toEqual(['neg', 'pos']);
    const lm = readDatasetText('l.csv', csv, undefined, { as: 'text' });
    expect(lm.labelled).toBeUndefined();
    expect(lm.examples!.examples.map(exampleText)).toEqual(['good day', 'bad day']);
    const err = datasetRejection(() => readDatasetText('t.csv', 'text\nno label here\n', undefined, { as: 'labelled' }));
    expect(err.message).toBe('t.csv: reading labelled examples needs a "label" (or "labels") column; found "text"');
  });

  it('refuses a reading the format cannot hold, naming the file', () => {
    const message = (name: string, text: string, as: 'chat' | 'labelled' | 'alpaca') => datasetRejection(() => readDatasetText(name, text, undefined, { as })).message;
    expect(message('n.txt', 'hello', 'chat')).toBe('n.txt: a .txt file holds plain text; it cannot be read as chats');
    expect(message('n.txt', 'hello', 'labelled')).toBe('n.txt: labelled examples are read from CSV, TSV or JSON Lines files; read this one as a language-model dataset');
    expect(message('c.csv', 'text\nx\n', 'chat')).toBe('c.csv line 1: chats are read from JSON Lines or JSON records ("messages" or "conversations"), not CSV columns');
    expect(message('c.csv', 'text,output\nx,y\n', 'alpaca')).toBe('c.csv line 1: the header row needs "instruction" and "output" columns to read rows as Alpaca instructions; found "text", "output"');
  });

  it('the stream reads as the whole text does under the same choice', async () => {
    const text = 'a\n\nb\nc';
    const whole = readDatasetText('t.txt', text, undefined, { split: 'lines' });
    const streamed = await readDatasetStream('t.txt', streamOf(encode(text), [1, 2, 4]), undefined, undefined, { split: 'lines' });
    expect(contents(streamed)).toEqual(contents(whole));
  });
});
