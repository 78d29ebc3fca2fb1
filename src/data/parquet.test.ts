// Parquet files written by the Hugging Face `datasets` library and by pyarrow (the fixtures,
// from tests/interop/parquet_write.py) read as the rows those libraries read back: strings,
// int64 class ids as numbers, nulls, list<struct> conversations as arrays of objects, one row
// group at a time; a file that is not Parquet, or is cut short, is refused by name.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DatasetError } from './parse';
import { openParquet, plainValue, readParquet } from './parquet';

const fixture = (name: string) => new Blob([readFileSync(new URL(`fixtures/parquet/${name}`, import.meta.url))]);

describe('readParquet', () => {
  it('reads a text dataset saved by datasets.Dataset.to_parquet', async () => {
    const { layout, rows } = await readParquet(fixture('text.parquet'), 'text.parquet');
    expect(layout).toEqual({ columns: ['text'], rows: 5, rowGroups: [5], classLabels: {} });
    expect(rows.map((r) => r.text)).toEqual([
      'Call me Ishmael.',
      'Some years ago—never mind how long precisely—having little or no money in my purse,',
      'Ünïcödé café, naïve 日本語 🎉',
      '',
      'It is a way I have of driving off the spleen, and regulating the circulation.',
    ]);
  });

  it('reads ClassLabel ids as numbers and the label names from the datasets metadata', async () => {
    const { layout, rows } = await readParquet(fixture('pairs.parquet'), 'pairs.parquet');
    expect(layout.columns).toEqual(['sentence1', 'sentence2', 'label', 'idx']);
    expect(layout.classLabels).toEqual({ label: ['not_equivalent', 'equivalent'] });
    expect(rows[0]).toEqual({ sentence1: 'The cat sat.', sentence2: 'A cat was sitting.', label: 1, idx: 0 });
    expect(rows.map((r) => r.label)).toEqual([1, 0, 1, 0]);
  });

  it('reads list<struct> conversations as arrays of role/content objects', async () => {
    const { rows } = await readParquet(fixture('chat.parquet'), 'chat.parquet');
    expect(rows[1]).toEqual({
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'What is 2+2?' },
        { role: 'assistant', content: '4' },
      ],
    });
  });

  it('decodes zstd row groups one at a time, with the index of each batch’s first row', async () => {
    const { layout, read } = await openParquet(fixture('alpaca-zstd.parquet'), 'alpaca-zstd.parquet');
    expect(layout.rowGroups).toEqual([2, 1]);
    const batches = [];
    for await (const b of read()) batches.push(b);
    expect(batches.map((b) => b.start)).toEqual([0, 2]);
    expect(batches[1].rows).toEqual([{ instruction: 'Name a colour.', input: null, output: 'blue' }]);
  });

  it('refuses a file that is not Parquet, and one cut short, naming it', async () => {
    await expect(readParquet(new Blob(['text\nhello\n']), 'data.parquet')).rejects.toThrow(DatasetError);
    await expect(readParquet(new Blob(['text\nhello\n']), 'data.parquet')).rejects.toThrow(/^data\.parquet: not a readable Parquet file \(/);
    const bytes = readFileSync(new URL('fixtures/parquet/text.parquet', import.meta.url));
    await expect(readParquet(new Blob([bytes.subarray(0, bytes.length - 100)]), 'cut.parquet')).rejects.toThrow(/^cut\.parquet: not a readable Parquet file/);
  });

  it('refuses a row group whose pages are corrupt, naming the rows', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('fixtures/parquet/alpaca-zstd.parquet', import.meta.url)));
    // The first row group's data starts after the 4-byte magic; overwrite its page bytes.
    bytes.fill(0xff, 8, 200);
    await expect(readParquet(new Blob([bytes]), 'bad.parquet')).rejects.toThrow(/^bad\.parquet: row group 1 of 2 \(rows 1–2\) cannot be decoded/);
  });
});

describe('plainValue', () => {
  it('turns int64 into numbers when exact and decimal strings when not, dates into ISO strings, recursively', () => {
    expect(plainValue(42n)).toBe(42);
    expect(plainValue(2n ** 60n + 1n)).toBe('1152921504606846977');
    expect(plainValue(new Date(Date.UTC(2020, 0, 2)))).toBe('2020-01-02T00:00:00.000Z');
    expect(plainValue([{ a: 1n, b: [2n] }, null])).toEqual([{ a: 1, b: [2] }, null]);
  });
});
