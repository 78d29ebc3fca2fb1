// Parquet datasets read through the worker's reading path: each row group's rows go to the
// readers JSON Lines records go to, so a Parquet file reads exactly as the same rows written as
// JSON Lines — kept and refused alike — except that rows are numbered "row N" and ClassLabel ids
// keep the names and order the file's `datasets` metadata gives them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { byteLevelTokenizerFiles } from '../tokenize/byte-level';
import { loadTokenizer } from '../tokenize/tokenizer';
import { prepareDataset } from './dataset';
import { DatasetError } from './parse';
import { readParquet } from './parquet';
import { readParquetDataset } from './parquet-read';
import { readDatasetText, rejectedFile, rejectionSummary } from './read';

const bytes = (name: string) => readFileSync(new URL(`fixtures/parquet/${name}`, import.meta.url));
const fixture = (name: string) => new Blob([bytes(name)]);
const files = byteLevelTokenizerFiles();
const tok = loadTokenizer(files.tokenizer, files.tokenizerConfig);

/** The same rows as a JSON Lines file, read by the text path. */
async function asJsonl(name: string) {
  const { rows } = await readParquet(fixture(name), name);
  return readDatasetText(name.replace('.parquet', '.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
}

describe('readParquetDataset: language-model data', () => {
  it('reads texts as the same rows in JSON Lines do, refusing the empty one as "row 4"', async () => {
    const read = await readParquetDataset(fixture('text.parquet'), 'text.parquet');
    const jsonl = await asJsonl('text.parquet');
    expect(read.format).toBe('parquet');
    expect(read.examples!.kind).toBe('text');
    expect(read.examples!.examples).toEqual(jsonl.examples!.examples);
    expect(read.examples!.examples).toHaveLength(4);
    expect(rejectionSummary(read)).toEqual({ count: 1, rows: [{ line: 4, message: '"text" is empty' }], unit: 'row' });
    const prepared = prepareDataset('text.parquet', read, tok, { sequenceLength: 32, evalFraction: 0, seed: 1 });
    expect(prepared.summary.format).toBe('parquet');
    expect(prepared.summary.examples).toBe(4);
  });

  it('reads Alpaca rows row group by row group, reporting rows read of the file’s rows', async () => {
    const progress: [number, number][] = [];
    const read = await readParquetDataset(fixture('alpaca-zstd.parquet'), 'alpaca-zstd.parquet', undefined, (done, total) => progress.push([done, total]));
    expect(progress).toEqual([
      [0, 3],
      [2, 3],
      [3, 3],
    ]);
    const jsonl = await asJsonl('alpaca-zstd.parquet');
    expect(read.examples!.kind).toBe('alpaca');
    expect(read.examples!.examples).toEqual(jsonl.examples!.examples);
    expect(read.examples!.examples).toHaveLength(2);
    // A null is refused as JSON Lines refuses "input": null.
    expect(read.rejected.rows.map(({ line, message }) => ({ line, message }))).toEqual([{ line: 3, message: '"input" must be a string, got null' }]);
    expect(jsonl.rejected.rows.map(({ line, message }) => ({ line, message }))).toEqual([{ line: 3, message: '"input" must be a string, got null' }]);
  });

  it('reads chats with their assistant replies trained on, and refuses the chats that do not read by row', async () => {
    const good = await readParquetDataset(fixture('chat.parquet'), 'chat.parquet');
    expect(good.examples!.kind).toBe('chat');
    expect(good.examples!.examples).toEqual((await asJsonl('chat.parquet')).examples!.examples);
    expect(good.rejected.rows).toEqual([]);

    const read = await readParquetDataset(fixture('chat-bad.parquet'), 'chat-bad.parquet');
    const jsonl = await asJsonl('chat-bad.parquet');
    expect(read.examples!.examples).toEqual(jsonl.examples!.examples);
    expect(read.examples!.examples).toEqual(good.examples!.examples);
    expect(read.rejected.rows.map((r) => r.line)).toEqual([2, 4]);
    expect(read.rejected.rows.map((r) => r.message)).toEqual(jsonl.rejected.rows.map((r) => r.message));
    const prepared = prepareDataset('chat-bad.parquet', read, tok, { sequenceLength: 128, evalFraction: 0, seed: 1 });
    expect(prepared.summary.kind).toBe('chat');
    expect(prepared.summary.examples).toBe(2);
    expect(rejectionSummary(read).rows.map((r) => r.line)).toEqual([2, 4]);
  });

  it('saves refused rows as a JSON Lines file of the rows', async () => {
    const read = await readParquetDataset(fixture('chat-bad.parquet'), 'chat-bad.parquet');
    const { fileName, bytes: out } = rejectedFile('chat-bad.parquet', read);
    expect(fileName).toBe('chat-bad.rejected.jsonl');
    const lines = new TextDecoder().decode(out).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([{ messages: [{ role: 'user', content: 'Anyone there?' }] }, { messages: [] }]);
  });
});

describe('readParquetDataset: labelled data', () => {
  it('a ClassLabel column gives the label names in the file’s id order, not sorted', async () => {
    const read = await readParquetDataset(fixture('sentiment.parquet'), 'sentiment.parquet');
    const d = read.labelled!;
    expect(d.format).toBe('parquet');
    expect(d.labelNames).toEqual(['positive', 'negative']);
    expect(d.texts).toEqual(['A delight from start to finish.', 'Dull and far too long.', 'I loved every minute.', 'Not worth the ticket.']);
    expect(d.classes).toEqual([0, 1, 0, 1]);
    expect(rejectionSummary(read)).toEqual({
      count: 2,
      rows: [
        { line: 3, message: '"text" is empty' },
        { line: 6, message: '"label": label -1 is not one of the 2 ClassLabel ids' },
      ],
      unit: 'row',
    });
    const prepared = prepareDataset('sentiment.parquet', read, tok, { sequenceLength: 32, evalFraction: 0, seed: 1 });
    expect(prepared.summary.classification!.labels).toEqual(['positive', 'negative']);
    expect(prepared.summary.classification!.counts).toEqual([2, 2]);
    expect(prepared.labelled!.names).toEqual(['positive', 'negative']);
  });

  it('sentence pairs with a ClassLabel keep the Hub’s ids', async () => {
    const d = (await readParquetDataset(fixture('pairs.parquet'), 'pairs.parquet')).labelled!;
    expect(d.columns).toEqual({ text: 'sentence1', pair: 'sentence2', label: 'label' });
    expect(d.labelNames).toEqual(['not_equivalent', 'equivalent']);
    expect(d.classes).toEqual([1, 0, 1, 0]);
    expect(d.allColumns).toEqual(['sentence1', 'sentence2', 'label', 'idx']);
  });

  it('chosen columns work as for CSV, and a plain integer label column reads as in JSON Lines', async () => {
    const chosen = { text: 'sentence2', label: 'idx' };
    const d = (await readParquetDataset(fixture('pairs.parquet'), 'pairs.parquet', chosen)).labelled!;
    const { rows } = await readParquet(fixture('pairs.parquet'), 'pairs.parquet');
    const jsonl = readDatasetText('pairs.jsonl', rows.map((r) => JSON.stringify(r)).join('\n'), chosen).labelled!;
    expect(d.columns).toEqual({ text: 'sentence2', pair: undefined, label: 'idx' });
    expect(d.labelNames).toEqual(['0', '1', '2', '3']);
    expect(d.labelNames).toEqual(jsonl.labelNames);
    expect(d.texts).toEqual(jsonl.texts);
    expect(d.classes).toEqual(jsonl.classes);
  });
});

describe('readParquetDataset: the reading chosen', () => {
  it('reads a labelled file as plain text when asked, and refuses labelled reading without a label column', async () => {
    const read = await readParquetDataset(fixture('sentiment.parquet'), 'sentiment.parquet', undefined, undefined, { as: 'text' });
    expect(read.labelled).toBeUndefined();
    expect(read.examples!.kind).toBe('text');
    expect(read.examples!.examples).toHaveLength(5);
    expect(read.rejected.rows.map((r) => r.line)).toEqual([3]);
    await expect(readParquetDataset(fixture('text.parquet'), 'text.parquet', undefined, undefined, { as: 'labelled' })).rejects.toThrow(
      'text.parquet: reading labelled examples needs a "label" (or "labels") column; found "text"',
    );
  });
});

describe('readParquetDataset: files that are not Parquet', () => {
  it('refuses a file with the wrong magic, and one cut short, naming it', async () => {
    await expect(readParquetDataset(new Blob(['{"text": "hello"}\n']), 'data.parquet')).rejects.toThrow(DatasetError);
    await expect(readParquetDataset(new Blob(['{"text": "hello"}\n']), 'data.parquet')).rejects.toThrow(/^data\.parquet: not a readable Parquet file/);
    const b = bytes('sentiment.parquet');
    await expect(readParquetDataset(new Blob([b.subarray(0, b.length - 50)]), 'cut.parquet')).rejects.toThrow(/^cut\.parquet: not a readable Parquet file/);
  });

  it('is never decoded as text', () => {
    expect(() => readDatasetText('text.parquet', 'text\nhello')).toThrow(/Parquet file/);
  });
});
