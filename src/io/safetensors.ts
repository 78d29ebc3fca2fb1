// Safetensors reading and writing.
//
// Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data buffer.
// The JSON maps tensor name → {dtype, shape, data_offsets: [begin, end]} (offsets relative to
// the data buffer) plus an optional "__metadata__" string→string map.
//
// The reader is stricter than Hugging Face's: it also rejects duplicate names (the Rust reader
// silently keeps the last one), numbers written as 1.0 or 1e3 where integers belong, and BOOL
// bytes other than 0/1. Everything a user loads goes through here, so a clear message that
// names the file and the field is worth more than leniency.
//
// The writer reproduces `safetensors.torch.save_file` / `safetensors.numpy.save_file` byte for
// byte for float32 tensors: see writeSafetensors.

/** The dtypes this module decodes. Others in the spec (F4, F6_*, F8_E8M0, C64) are rejected. */
export type DType =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U64'
  | 'U32'
  | 'U16'
  | 'U8'
  | 'BOOL';

/** A decoded tensor. Floats come back as Float32Array (F64 rounded to nearest float32),
 *  integers as Int32Array (64- and unsigned 32-bit values only when they fit), BOOL as
 *  Uint8Array of 0/1. Data is always a fresh copy, never a view into the file's bytes. */
export interface SafetensorsTensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

/** Where one tensor sits, as the header describes it (validated, not decoded). */
export interface SafetensorsTensorInfo {
  dtype: DType;
  shape: number[];
  /** data_offsets as written: relative to the start of the data buffer. */
  dataOffsets: [number, number];
  /** Absolute position of the tensor's first byte in the file. */
  byteOffset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  /** In header order. */
  tensors: Map<string, SafetensorsTensorInfo>;
  metadata: Record<string, string>;
  /** Absolute position of the data buffer in the file (8 + header length). */
  dataStart: number;
}

/** A float32 tensor to write. */
export interface F32TensorToWrite {
  name: string;
  shape: number[];
  data: Float32Array;
}

export class SafetensorsError extends Error {
  readonly fileName: string;
  /** The message without the file name. */
  readonly problem: string;

  constructor(fileName: string, problem: string) {
    super(`${fileName}: ${problem}`);
    this.name = 'SafetensorsError';
    this.fileName = fileName;
    this.problem = problem;
  }
}

/** The same limit as the reference reader (MAX_HEADER_SIZE in the Rust crate). */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

interface DTypeInfo {
  /** Bytes per element. */
  size: number;
}

const DTYPES: Record<DType, DTypeInfo> = {
  F64: { size: 8 },
  F32: { size: 4 },
  F16: { size: 2 },
  BF16: { size: 2 },
  F8_E5M2: { size: 1 },
  F8_E4M3: { size: 1 },
  I64: { size: 8 },
  I32: { size: 4 },
  I16: { size: 2 },
  I8: { size: 1 },
  U64: { size: 8 },
  U32: { size: 4 },
  U16: { size: 2 },
  U8: { size: 1 },
  BOOL: { size: 1 },
};

/** Dtypes the format defines but this reader does not decode; named so the message can say
 *  "not supported" rather than "unknown". */
const UNSUPPORTED_SPEC_DTYPES = new Set(['F4', 'F6_E2M3', 'F6_E3M2', 'F8_E8M0', 'C64']);

function isDType(s: string): s is DType {
  return Object.prototype.hasOwnProperty.call(DTYPES, s);
}

// ---------------------------------------------------------------------------------------------
// Header JSON
//
// JSON.parse keeps the last of duplicate keys and turns 1.0 into 1, hiding exactly the
// problems a strict reader must report. So JSON.parse only checks syntax (and supplies its
// message), and a small walker over the now known-valid text builds a tree that keeps every
// key and the raw text of every number.

type JsonNode =
  | { kind: 'object'; entries: [string, JsonNode][] }
  | { kind: 'array'; items: JsonNode[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; raw: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' };

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class JsonTreeBuilder {
  private pos = 0;

  constructor(private readonly text: string) {}

  build(): JsonNode {
    const node = this.value();
    this.skipSpace();
    if (this.pos !== this.text.length) throw new Error('trailing characters after JSON value');
    return node;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.pos++;
    }
  }

  private value(): JsonNode {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return { kind: 'string', value: this.string() };
    if (this.text.startsWith('true', this.pos)) {
      this.pos += 4;
      return { kind: 'boolean', value: true };
    }
    if (this.text.startsWith('false', this.pos)) {
      this.pos += 5;
      return { kind: 'boolean', value: false };
    }
    if (this.text.startsWith('null', this.pos)) {
      this.pos += 4;
      return { kind: 'null' };
    }
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (!m) throw new Error(`unexpected character at ${this.pos}`);
    this.pos += m[0].length;
    return { kind: 'number', raw: m[0] };
  }

  private object(): JsonNode {
    const entries: [string, JsonNode][] = [];
    this.pos++; // '{'
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return { kind: 'object', entries };
    }
    for (;;) {
      this.skipSpace();
      const key = this.string();
      this.skipSpace();
      this.pos++; // ':'
      entries.push([key, this.value()]);
      this.skipSpace();
      if (this.text[this.pos++] === '}') return { kind: 'object', entries };
      // otherwise it was ','
    }
  }

  private array(): JsonNode {
    const items: JsonNode[] = [];
    this.pos++; // '['
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return { kind: 'array', items };
    }
    for (;;) {
      items.push(this.value());
      this.skipSpace();
      if (this.text[this.pos++] === ']') return { kind: 'array', items };
    }
  }

  /** Reads a string literal; decoding the escapes is left to JSON.parse. */
  private string(): string {
    const start = this.pos;
    let i = start + 1;
    while (this.text[i] !== '"') i += this.text[i] === '\\' ? 2 : 1;
    this.pos = i + 1;
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }
}

function describe(node: JsonNode): string {
  switch (node.kind) {
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    case 'string':
      return `the string ${JSON.stringify(node.value)}`;
    case 'number':
      return `the number ${node.raw}`;
    case 'boolean':
      return String(node.value);
    case 'null':
      return 'null';
  }
}

/** Names of the first key that appears twice, if any. */
function firstDuplicate(entries: [string, JsonNode][]): string | undefined {
  const seen = new Set<string>();
  for (const [key] of entries) {
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Header validation

interface Fail {
  (problem: string): never;
}

/** A non-negative integer written as plain digits (serde rejects 1.0 and 1e3 for usize, and
 *  so do we), small enough to be exact in a double. */
function readCount(node: JsonNode, what: string, fail: Fail): number {
  if (node.kind !== 'number' || !/^(0|[1-9]\d*)$/.test(node.raw)) {
    fail(`${what} must be a non-negative integer, got ${describe(node)}`);
  }
  const n = Number(node.raw);
  if (!Number.isSafeInteger(n)) fail(`${what} is too large: ${node.raw}`);
  return n;
}

function readMetadata(node: JsonNode, fail: Fail): Record<string, string> {
  if (node.kind !== 'object') {
    fail(`${METADATA_KEY} must be an object of string values, got ${describe(node)}`);
  }
  const dup = firstDuplicate(node.entries);
  if (dup !== undefined) fail(`duplicate ${METADATA_KEY} key ${JSON.stringify(dup)}`);
  const pairs: [string, string][] = [];
  for (const [key, value] of node.entries) {
    if (value.kind !== 'string') {
      fail(`${METADATA_KEY} value for ${JSON.stringify(key)} must be a string, got ${describe(value)}`);
    }
    pairs.push([key, value.value]);
  }
  // fromEntries defines own properties, so a key like "__proto__" stays data, not a prototype.
  return Object.fromEntries(pairs);
}

interface ParsedEntry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

function readTensorEntry(name: string, node: JsonNode, dataLength: number, fail: Fail): ParsedEntry {
  const label = `tensor ${JSON.stringify(name)}`;
  if (node.kind !== 'object') {
    fail(`${label} must be an object with dtype, shape and data_offsets, got ${describe(node)}`);
  }
  const dup = firstDuplicate(node.entries);
  if (dup !== undefined) fail(`${label} has duplicate field ${JSON.stringify(dup)}`);
  // Unknown extra fields are ignored, as the reference reader ignores them.
  const field = (key: string): JsonNode => {
    const found = node.entries.find(([k]) => k === key);
    if (!found) fail(`${label} is missing "${key}"`);
    return found[1];
  };

  const dtypeNode = field('dtype');
  if (dtypeNode.kind !== 'string') fail(`${label} dtype must be a string, got ${describe(dtypeNode)}`);
  const dtypeName = dtypeNode.value;
  if (!isDType(dtypeName)) {
    fail(
      UNSUPPORTED_SPEC_DTYPES.has(dtypeName)
        ? `${label} has dtype ${dtypeName}, which this reader does not support`
        : `${label} has unknown dtype ${JSON.stringify(dtypeName)}`,
    );
  }
  const dtype: DType = dtypeName;

  const shapeNode = field('shape');
  if (shapeNode.kind !== 'array') fail(`${label} shape must be an array, got ${describe(shapeNode)}`);
  const shape = shapeNode.items.map((d, i) => readCount(d, `${label} shape[${i}]`, fail));

  const offsetsNode = field('data_offsets');
  if (offsetsNode.kind !== 'array' || offsetsNode.items.length !== 2) {
    fail(`${label} data_offsets must be [begin, end], got ${describe(offsetsNode)}`);
  }
  const begin = readCount(offsetsNode.items[0], `${label} data_offsets[0]`, fail);
  const end = readCount(offsetsNode.items[1], `${label} data_offsets[1]`, fail);
  if (end < begin) fail(`${label} data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength) {
    fail(
      `${label} data_offsets [${begin}, ${end}] run past the end of the file ` +
        `(the data buffer is ${dataLength} bytes)`,
    );
  }

  let elements = 1;
  for (const d of shape) elements *= d;
  const needed = elements * DTYPES[dtype].size;
  if (!Number.isSafeInteger(needed)) fail(`${label} shape [${shape.join(',')}] is too large`);
  if (end - begin !== needed) {
    fail(`${label} has ${end - begin} bytes but shape [${shape.join(',')}] × ${dtype} needs ${needed}`);
  }
  return { name, dtype, shape, begin, end };
}

/** Byte ranges must tile the data buffer exactly: sorted by offset, each tensor starts where
 *  the previous one ended (empty tensors may share an offset), and the last ends at the end. */
function checkTiling(entries: ParsedEntry[], dataLength: number, fail: Fail): void {
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: ParsedEntry | undefined;
  for (const e of byOffset) {
    const range = `${JSON.stringify(e.name)} [${e.begin}, ${e.end}]`;
    if (e.begin < cursor && previous) {
      fail(`tensors ${JSON.stringify(previous.name)} [${previous.begin}, ${previous.end}] and ${range} overlap`);
    }
    if (e.begin > cursor) {
      fail(
        previous
          ? `gap of ${e.begin - cursor} bytes between tensor ${JSON.stringify(previous.name)} ` +
              `(ends at ${cursor}) and tensor ${range}`
          : `gap of ${e.begin} bytes at the start of the data buffer, before tensor ${range}`,
      );
    }
    cursor = e.end;
    previous = e;
  }
  if (cursor !== dataLength) {
    fail(
      `the data buffer is ${dataLength} bytes but the tensors end at ${cursor} ` +
        `(${dataLength - cursor} bytes unaccounted for)`,
    );
  }
}

function parseHeader(bytes: Uint8Array, fileName: string): { header: SafetensorsHeader; entries: ParsedEntry[] } {
  const fail: Fail = (problem) => {
    throw new SafetensorsError(fileName, problem);
  };
  if (bytes.length < 8) {
    fail(`file is ${bytes.length} bytes, too short to hold the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length ${declared} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  }
  const headerLength = Number(declared);
  const dataStart = 8 + headerLength;
  if (dataStart > bytes.length) {
    fail(`header length ${headerLength} runs past the end of the file (${bytes.length - 8} bytes follow the length)`);
  }

  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text so that, as in the reference reader, it
    // makes the JSON invalid instead of being silently dropped.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    fail('header is not valid UTF-8');
  }
  try {
    JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  let root: JsonNode;
  try {
    root = new JsonTreeBuilder(text).build();
  } catch (e) {
    // Only reachable for pathological input, e.g. nesting deep enough to exhaust the stack.
    fail(`header could not be read (${e instanceof Error ? e.message : String(e)})`);
  }
  if (root.kind !== 'object') fail(`header must be a JSON object, got ${describe(root)}`);

  const dup = firstDuplicate(root.entries);
  if (dup !== undefined) {
    fail(dup === METADATA_KEY ? `duplicate ${METADATA_KEY} in header` : `duplicate tensor name ${JSON.stringify(dup)} in header`);
  }

  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: ParsedEntry[] = [];
  for (const [key, node] of root.entries) {
    if (key === METADATA_KEY) metadata = readMetadata(node, fail);
    else entries.push(readTensorEntry(key, node, dataLength, fail));
  }
  checkTiling(entries, dataLength, fail);

  const tensors = new Map<string, SafetensorsTensorInfo>();
  for (const e of entries) {
    tensors.set(e.name, {
      dtype: e.dtype,
      shape: e.shape,
      dataOffsets: [e.begin, e.end],
      byteOffset: dataStart + e.begin,
      byteLength: e.end - e.begin,
    });
  }
  return { header: { tensors, metadata, dataStart }, entries };
}

/** Validates a whole file (header and byte layout) and describes its tensors without
 *  decoding them: enough to list a file or pick tensors out of it. */
export function readSafetensorsHeader(bytes: Uint8Array, fileName = 'file.safetensors'): SafetensorsHeader {
  return parseHeader(bytes, fileName).header;
}

// ---------------------------------------------------------------------------------------------
// Decoding
//
// Reads go through a DataView with explicit little-endian reads, so the result is the same on
// any host and at any alignment (a tensor after a U8 tensor may start at an odd offset, and
// the caller's Uint8Array may itself start anywhere in its buffer). F32, the bulk of every
// model file, is instead copied as bytes into the output (which also aligns it) and swapped
// only on a big-endian host: several times faster than element-wise DataView reads.

/** Checked, not assumed, though every platform browsers run on today is little-endian. */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Reverses each 4-byte group in place: little-endian ⇄ big-endian 32-bit words. */
function swapWords(bytes: Uint8Array): void {
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const a = bytes[i];
    const b = bytes[i + 1];
    bytes[i] = bytes[i + 3];
    bytes[i + 1] = bytes[i + 2];
    bytes[i + 2] = b;
    bytes[i + 3] = a;
  }
}

/** Exact IEEE half → number, including subnormals, ±0, ±inf and NaN. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (0x400 + mantissa) * 2 ** (exponent - 25);
}

/** float8 e4m3fn (PyTorch's float8_e4m3fn): bias 7, no infinities, S.1111.111 is NaN. */
function e4m3ToNumber(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const exponent = (b >> 3) & 0xf;
  const mantissa = b & 0x7;
  if (exponent === 0) return sign * mantissa * 2 ** -9;
  if (exponent === 0xf && mantissa === 0x7) return NaN;
  return sign * (8 + mantissa) * 2 ** (exponent - 10);
}

function decode(data: Uint8Array, e: ParsedEntry, fileName: string): SafetensorsTensor['data'] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const size = DTYPES[e.dtype].size;
  const n = (e.end - e.begin) / size;
  const at = (i: number): number => e.begin + i * size;
  const tooWide = (i: number, what: string): never => {
    throw new SafetensorsError(
      fileName,
      `tensor ${JSON.stringify(e.name)} (${e.dtype}) element ${i} is ${what}, outside the 32-bit integer range`,
    );
  };

  switch (e.dtype) {
    case 'F32': {
      // Copying bytes (not numbers) also keeps NaN payloads.
      const out = new Float32Array(n);
      const outBytes = new Uint8Array(out.buffer);
      outBytes.set(data.subarray(e.begin, e.end));
      if (!HOST_IS_LITTLE_ENDIAN) swapWords(outBytes);
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32, so widening the bits is exact.
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(at(i), true) << 16;
      return out;
    }
    case 'F64': {
      const out = new Float32Array(n); // rounds to nearest float32; overflow becomes ±inf
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(at(i), true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToNumber(view.getUint16(at(i), true));
      return out;
    }
    case 'F8_E5M2': {
      // e5m2 is the top byte of an IEEE half.
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToNumber(view.getUint8(at(i)) << 8);
      return out;
    }
    case 'F8_E4M3': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = e4m3ToNumber(view.getUint8(at(i)));
      return out;
    }
    case 'I64':
    case 'U64': {
      // Two 32-bit halves instead of BigInt: fits when the high word is the sign extension
      // of the low word.
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = view.getUint32(at(i), true);
        const hi = e.dtype === 'I64' ? view.getInt32(at(i) + 4, true) : view.getUint32(at(i) + 4, true);
        const fits = (hi === 0 && lo <= 0x7fffffff) || (hi === -1 && lo >= 0x80000000);
        if (!fits) {
          tooWide(i, String(e.dtype === 'I64' ? view.getBigInt64(at(i), true) : view.getBigUint64(at(i), true)));
        }
        out[i] = lo | 0;
      }
      return out;
    }
    case 'I32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(at(i), true);
      return out;
    }
    case 'U32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getUint32(at(i), true);
        if (v > 0x7fffffff) tooWide(i, String(v));
        out[i] = v;
      }
      return out;
    }
    case 'I16': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(at(i), true);
      return out;
    }
    case 'U16': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getUint16(at(i), true);
      return out;
    }
    case 'I8': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt8(at(i));
      return out;
    }
    case 'U8': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getUint8(at(i));
      return out;
    }
    case 'BOOL': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getUint8(at(i));
        if (v > 1) {
          throw new SafetensorsError(fileName, `tensor ${JSON.stringify(e.name)} (BOOL) element ${i} is ${v}, not 0 or 1`);
        }
        out[i] = v;
      }
      return out;
    }
  }
}

/** Reads and fully validates a safetensors file; tensors keep header order. */
export function readSafetensors(
  bytes: Uint8Array,
  fileName = 'file.safetensors',
): { tensors: Map<string, SafetensorsTensor>; metadata: Record<string, string> } {
  const { header, entries } = parseHeader(bytes, fileName);
  const data = bytes.subarray(header.dataStart);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decode(data, e, fileName) });
  }
  return { tensors, metadata: header.metadata };
}

// ---------------------------------------------------------------------------------------------
// Writing

const encoder = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Orders UTF-8 byte strings as Rust orders `String`s (bytewise). This differs from JS's
 *  default UTF-16 order for names mixing U+E000–U+FFFF with characters above U+FFFF. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Writes float32 tensors as safetensors, byte-identical to Python's `save_file` (torch or
 * numpy flavour) for the same tensors and metadata:
 * - tensors sorted by name, by UTF-8 bytes (the reference sorts by dtype alignment first; with
 *   a single dtype only the name counts), in both the header and the data buffer;
 * - compact JSON (no spaces), `__metadata__` first when given — an empty object still writes
 *   `"__metadata__":{}`, leaving it out writes no key — then per tensor
 *   `{"dtype","shape","data_offsets"}` in that order;
 * - the header padded with spaces so the data starts on an 8-byte boundary.
 * Metadata keys are written in sorted order. Python's writer keeps metadata in a Rust HashMap,
 * so its order for two or more keys changes from run to run; with zero or one key (PEFT writes
 * only {"format": "pt"}) the bytes match exactly.
 * `fileName` only labels error messages.
 */
export function writeSafetensors(
  tensors: F32TensorToWrite[],
  metadata?: Record<string, string>,
  fileName = 'file.safetensors',
): Uint8Array {
  const fail: Fail = (problem) => {
    throw new SafetensorsError(fileName, problem);
  };
  const checkText = (s: string, what: string): void => {
    if (LONE_SURROGATE.test(s)) fail(`${what} contains a lone UTF-16 surrogate and cannot be written as UTF-8`);
  };

  const seen = new Set<string>();
  const prepared = tensors.map((t) => {
    const label = `tensor ${JSON.stringify(t.name)}`;
    if (typeof t.name !== 'string') fail(`tensor names must be strings, got ${typeof t.name}`);
    if (t.name === METADATA_KEY) fail(`"${METADATA_KEY}" is reserved and cannot be a tensor name`);
    checkText(t.name, label);
    if (seen.has(t.name)) fail(`duplicate tensor name ${JSON.stringify(t.name)}`);
    seen.add(t.name);
    if (!(t.data instanceof Float32Array)) fail(`${label} data must be a Float32Array`);
    let elements = 1;
    for (const [i, d] of t.shape.entries()) {
      if (!Number.isSafeInteger(d) || d < 0) fail(`${label} shape[${i}] must be a non-negative integer, got ${d}`);
      elements *= d;
    }
    if (elements !== t.data.length) {
      fail(`${label} has ${t.data.length} values but shape [${t.shape.join(',')}] needs ${elements}`);
    }
    return { ...t, nameBytes: encoder.encode(t.name) };
  });
  prepared.sort((a, b) => compareBytes(a.nameBytes, b.nameBytes));

  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort((a, b) => compareBytes(encoder.encode(a), encoder.encode(b)));
    const fields = keys.map((k) => {
      const v: unknown = metadata[k];
      if (typeof v !== 'string') fail(`metadata value for ${JSON.stringify(k)} must be a string, got ${typeof v}`);
      checkText(k, `metadata key ${JSON.stringify(k)}`);
      checkText(v, `metadata value for ${JSON.stringify(k)}`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"${METADATA_KEY}":{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const t of prepared) {
    const end = offset + t.data.length * 4;
    // JSON.stringify escapes exactly as serde_json does: \" \\ \b \f \n \r \t, other control
    // characters as lowercase \u00XX, everything else (DEL, U+2028, non-ASCII) raw.
    parts.push(`${JSON.stringify(t.name)}:{"dtype":"F32","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = encoder.encode(`{${parts.join(',')}}`);
  const padding = (8 - (json.length % 8)) % 8;
  const headerLength = json.length + padding;

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const t of prepared) {
    // Bytes, not numbers, so NaN payloads are written as given.
    const start = at;
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), start);
    at += t.data.byteLength;
    if (!HOST_IS_LITTLE_ENDIAN) swapWords(out.subarray(start, at));
  }
  return out;
}
