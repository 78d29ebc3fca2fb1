// Parquet as the Hugging Face ecosystem writes it: files saved by `datasets` (the Hub's writer)
// and by pyarrow with every codec it offers read in the studio as exactly the rows pyarrow reads
// back — strings, int64 class ids, nulls, floats, list<struct> conversations, and an int64
// beyond float64's range as its decimal string — with ClassLabel names from the metadata.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParquet } from '../../src/data/parquet';
import { cleanup, runPython, tempDir } from './helpers';

interface Expected {
  versions: Record<string, string>;
  files: Record<string, Record<string, unknown>[]>;
}

describe('Parquet files written by datasets and pyarrow', () => {
  let dir: string;
  let expected: Expected;
  beforeAll(() => {
    dir = tempDir('parquet');
    runPython('parquet_write.py', [dir]);
    expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf-8')) as Expected;
    console.log(`parquet written by ${JSON.stringify(expected.versions)}`);
  });
  afterAll(() => cleanup(dir));

  it('every file the writers produced reads as pyarrow reads it back', async () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.parquet')).sort();
    expect(files).toEqual(Object.keys(expected.files).sort());
    expect(files).toEqual(expect.arrayContaining(['text-gzip.parquet', 'text-brotli.parquet', 'text-lz4.parquet', 'text-none.parquet', 'alpaca-zstd.parquet']));
    for (const f of files) {
      const { layout, rows } = await readParquet(new Blob([readFileSync(join(dir, f))]), f);
      expect(rows, f).toEqual(expected.files[f]);
      expect(layout.rows, f).toBe(expected.files[f].length);
      expect(layout.columns, f).toEqual(Object.keys(expected.files[f][0]));
    }
  });

  it('the ClassLabel names datasets saved are found, in its order', async () => {
    const { layout } = await readParquet(new Blob([readFileSync(join(dir, 'pairs.parquet'))]), 'pairs.parquet');
    expect(layout.classLabels).toEqual({ label: ['not_equivalent', 'equivalent'] });
    const sentiment = await readParquet(new Blob([readFileSync(join(dir, 'sentiment.parquet'))]), 'sentiment.parquet');
    expect(sentiment.layout.classLabels).toEqual({ label: ['positive', 'negative'] });
  });
});
