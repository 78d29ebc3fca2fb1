// A Parquet dataset read as the worker reads any dropped file: its rows, decoded one row group
// at a time, are records like JSON Lines objects, so each goes to the same readers — a
// language-model example (text, prompt + completion, Alpaca, chat messages, ShareGPT
// conversations) or, when the columns show a label, a labelled one. Rows are numbered "row N"
// from 1; a refused row keeps its JSON, so the refused rows save as a JSON Lines file.
import { labelColumnOf, LabelledReader, type LabelledColumns } from './labelled';
import { openParquet } from './parquet';
import { DatasetError, ExampleReader, type ParseOptions } from './parse';
import type { DatasetRead } from './read';

/**
 * Reads a Parquet file (a Blob, as dropped) into examples or labelled rows. `onRows` hears the
 * rows read so far and the file's row count after each row group. Throws DatasetError naming
 * the file when it is not Parquet, cannot be decoded, or has nothing usable.
 */
export async function readParquetDataset(
  file: Blob,
  fileName: string,
  chosen?: Partial<LabelledColumns>,
  onRows?: (read: number, total: number) => void,
  options?: ParseOptions,
): Promise<DatasetRead> {
  const { layout, read } = await openParquet(file, fileName);
  if (layout.rows === 0) throw new DatasetError(fileName, `${fileName}: the file has no rows`);
  // Every row has the schema's columns, so the first row's names are the schema's. A reading
  // chosen as language-model data reads records as examples, label column or not.
  const labelColumn = labelColumnOf(layout.columns, chosen);
  if (options?.as === 'labelled' && (labelColumn === undefined || !layout.columns.includes(labelColumn))) {
    throw new DatasetError(fileName, `${fileName}: reading labelled examples needs a "label" (or "labels") column; found ${layout.columns.map((h) => JSON.stringify(h)).join(', ')}`);
  }
  const labelled = labelColumn !== undefined && (options?.as === undefined || options.as === 'labelled');
  const reader = labelled ? new LabelledReader(fileName, 'parquet', chosen, layout.classLabels) : new ExampleReader(fileName, 'parquet', options);
  onRows?.(0, layout.rows);
  for await (const batch of read()) {
    batch.rows.forEach((row, i) => reader.record(batch.start + i + 1, row, JSON.stringify(row)));
    onRows?.(batch.start + batch.rows.length, layout.rows);
  }
  const rejected = { rows: reader.rejected.rows };
  return reader instanceof LabelledReader ? { format: 'parquet', labelled: reader.finish(), rejected } : { format: 'parquet', examples: reader.finish(), rejected };
}
