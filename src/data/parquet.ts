// Parquet files as the Hugging Face Hub ships datasets (`refs/convert/parquet`, or a dataset's
// own data/*.parquet), read with hyparquet: a file becomes rows of plain values — strings,
// numbers, booleans, null, arrays and objects — the same values a JSON record holds, so every
// reader of JSON records (text, instruction, chat and labelled data) reads Parquet rows too.
//
// The file is read by byte range and decoded one row group at a time, so a large file never
// lies in memory whole, decoded or not. Every codec pyarrow writes is accepted: snappy (its
// default and the Hub's) through hyparquet itself, gzip, brotli, zstd and lz4 through
// hyparquet-compressors.
import { parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { DatasetError } from './parse';

/** A Blob (a dropped File) as hyparquet's AsyncBuffer: each read takes only the bytes asked for. */
export function blobBuffer(blob: Blob): AsyncBuffer {
  return { byteLength: blob.size, slice: (start, end) => blob.slice(start, end).arrayBuffer() };
}

/** What a Parquet file holds, from its footer alone. */
export interface ParquetLayout {
  /** The top-level columns, in schema order. */
  columns: string[];
  rows: number;
  /** Rows per row group, in file order. */
  rowGroups: number[];
  /**
   * Label names of the columns the `datasets` library saved as a ClassLabel (the file's
   * "huggingface" metadata), by column: the column holds ids into its names, in the Hub's order.
   */
  classLabels: Record<string, string[]>;
}

/** A decoded stretch of rows: `start` is the 0-based index of the first row in the file. */
export interface ParquetBatch {
  start: number;
  rows: Record<string, unknown>[];
}

/** Opens a Parquet file: reads and checks its footer. Throws DatasetError naming the file. */
export async function openParquet(file: Blob, fileName: string): Promise<{ layout: ParquetLayout; read: () => AsyncGenerator<ParquetBatch> }> {
  const buffer = blobBuffer(file);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (e) {
    throw new DatasetError(fileName, `${fileName}: not a readable Parquet file (${reason(e)})`);
  }
  const columns = parquetSchema(metadata).children.map((c) => c.element.name);
  const rowGroups = metadata.row_groups.map((g) => Number(g.num_rows));
  const layout: ParquetLayout = { columns, rows: Number(metadata.num_rows), rowGroups, classLabels: classLabels(metadata) };

  async function* read(): AsyncGenerator<ParquetBatch> {
    let start = 0;
    for (const [index, count] of rowGroups.entries()) {
      let rows: Record<string, unknown>[];
      try {
        rows = await parquetReadObjects({ file: buffer, metadata, compressors, rowStart: start, rowEnd: start + count });
      } catch (e) {
        throw new DatasetError(fileName, `${fileName}: row group ${index + 1} of ${rowGroups.length} (rows ${start + 1}–${start + count}) cannot be decoded (${reason(e)})`);
      }
      yield { start, rows: rows.map(plainRecord) };
      start += count;
    }
  }
  return { layout, read };
}

/** Every row of a Parquet file (small files, tests): the batches of `openParquet` joined. */
export async function readParquet(file: Blob, fileName: string): Promise<{ layout: ParquetLayout; rows: Record<string, unknown>[] }> {
  const { layout, read } = await openParquet(file, fileName);
  const rows: Record<string, unknown>[] = [];
  for await (const batch of read()) rows.push(...batch.rows);
  return { layout, rows };
}

/**
 * The ClassLabel columns recorded by `datasets` in the key-value metadata "huggingface":
 * {"info": {"features": {column: {"_type": "ClassLabel", "names": [...]}}}}. Metadata that is
 * absent or not in this shape names no labels; it never makes the file unreadable.
 */
function classLabels(metadata: FileMetaData): Record<string, string[]> {
  const entry = metadata.key_value_metadata?.find((kv) => kv.key === 'huggingface')?.value;
  if (!entry) return {};
  let features: unknown;
  try {
    features = (JSON.parse(entry) as { info?: { features?: unknown } }).info?.features;
  } catch {
    return {};
  }
  if (typeof features !== 'object' || features === null) return {};
  const out: Record<string, string[]> = {};
  for (const [column, feature] of Object.entries(features)) {
    const f = feature as { _type?: unknown; names?: unknown };
    if (f?._type === 'ClassLabel' && Array.isArray(f.names) && f.names.every((n) => typeof n === 'string')) out[column] = f.names as string[];
  }
  return out;
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function plainRecord(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = plainValue(v);
  return out;
}

/**
 * A decoded Parquet value as the value a JSON record would hold. INT64 columns decode to bigint
 * (a class label, a count): a safe integer becomes a number, a larger one its decimal string.
 * Dates become ISO strings; binary columns stay as bytes, which no text reader accepts (the
 * readers then name the field and its type).
 */
export function plainValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(plainValue);
  if (v instanceof Uint8Array || v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = plainValue(x);
  return out;
}
