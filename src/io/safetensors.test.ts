import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  readSafetensors,
  readSafetensorsHeader,
  SafetensorsError,
  writeSafetensors,
  type F32TensorToWrite,
} from './safetensors';

/** The files src/io/fixtures/make_fixture.py wrote with Python's safetensors. */
function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))));
}

/** A file with the given header text (or object) and data, bypassing our writer, so malformed
 *  headers can be built. `declaredLength` overrides the 8-byte length prefix. */
function rawFile(header: string | object, data: ArrayLike<number> = [], declaredLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(Array.from(data), 8 + json.length);
  return out;
}

function f32FromBits(bits: number[]): Float32Array {
  return new Float32Array(new Uint32Array(bits).buffer);
}

function bitsOf(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

/** Values as strings so -0 and NaN compare exactly and failures read well. */
function exact(values: ArrayLike<number>): string[] {
  return Array.from(values, (v) => (Object.is(v, -0) ? '-0' : String(v)));
}

function headerText(file: Uint8Array): string {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(file.subarray(8, 8 + n));
}

/** The tensors of fixtures/float32.safetensors, deliberately in yet another insertion order. */
const FLOAT32_FIXTURE_TENSORS: F32TensorToWrite[] = [
  { name: 'mid.scalar', shape: [], data: new Float32Array([-7.125]) },
  { name: 'w\u{1F600}', shape: [1], data: new Float32Array([1.5]) },
  // -0, +inf, the smallest denormal, a NaN with payload 1
  { name: 'Alpha.bias', shape: [4], data: f32FromBits([0x80000000, 0x7f800000, 0x00000001, 0x7fc00001]) },
  { name: 'zeta.weight', shape: [2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5].map((x) => x / 3)) },
  { name: 'mid "q"\n\u00e9', shape: [0, 3], data: new Float32Array(0) },
  { name: 'w\uffff', shape: [2], data: new Float32Array([-2, 0.25]) },
];

describe('writeSafetensors → readSafetensors', () => {
  it('round-trips scalars, empty tensors and several shapes with their metadata', () => {
    const tensors: F32TensorToWrite[] = [
      { name: 'scalar', shape: [], data: new Float32Array([3.5]) },
      { name: 'empty', shape: [0], data: new Float32Array(0) },
      { name: 'empty3d', shape: [3, 0, 2], data: new Float32Array(0) },
      { name: 'vector', shape: [5], data: new Float32Array([1, -2, 3.25, 1e-30, -1e30]) },
      { name: 'cube', shape: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)) },
      { name: 'bits', shape: [3], data: f32FromBits([0xffc12345, 0x80000000, 0xff800000]) },
    ];
    const metadata = { format: 'pt', note: 'é "quoted"\n' };
    const { tensors: back, metadata: metaBack } = readSafetensors(writeSafetensors(tensors, metadata), 'rt.safetensors');

    expect(metaBack).toEqual(metadata);
    expect([...back.keys()].sort()).toEqual(tensors.map((t) => t.name).sort());
    for (const t of tensors) {
      const got = back.get(t.name);
      expect(got?.dtype).toBe('F32');
      expect(got?.shape).toEqual(t.shape);
      expect(got?.data).toBeInstanceOf(Float32Array);
      expect(bitsOf(got?.data as Float32Array)).toEqual(bitsOf(t.data)); // NaN payloads included
    }
  });

  it('keeps a metadata key named __proto__ as data', () => {
    const metadata: Record<string, string> = Object.fromEntries([['__proto__', 'x'], ['format', 'pt']]);
    const back = readSafetensors(writeSafetensors([], metadata)).metadata;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.entries(back)).toEqual([['__proto__', 'x'], ['format', 'pt']]);
  });

  it('writes no __metadata__ key when none is given and reads that back as {}', () => {
    const file = writeSafetensors([{ name: 'w', shape: [1], data: new Float32Array([1]) }]);
    expect(headerText(file)).toBe('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}  '); // 2 spaces: 8 + 56 bytes
    expect(readSafetensors(file).metadata).toEqual({});
  });

  it('pads the header with spaces so the data starts on an 8-byte boundary', () => {
    for (let length = 1; length <= 16; length++) {
      const file = writeSafetensors([{ name: 'n'.repeat(length), shape: [2], data: new Float32Array([1, 2]) }]);
      const text = headerText(file);
      expect((8 + text.length) % 8).toBe(0);
      expect(text.trimEnd()).toMatch(/}$/);
      expect(text.length - text.trimEnd().length).toBeLessThan(8);
      expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true);
      expect(readSafetensors(file).tensors.get('n'.repeat(length))?.data).toEqual(new Float32Array([1, 2]));
    }
  });

  it('reads from a Uint8Array that starts at an odd offset of its buffer', () => {
    const file = writeSafetensors([{ name: 'w', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }]);
    const padded = new Uint8Array(file.length + 3);
    padded.set(file, 3);
    const { tensors } = readSafetensors(padded.subarray(3));
    expect(tensors.get('w')?.data).toEqual(new Float32Array([1, 2, 3, 4]));
    // A fresh copy, not a view into the caller's bytes.
    expect(tensors.get('w')?.data.buffer).not.toBe(padded.buffer);
  });

  it('writes tensors sorted by name, by UTF-8 bytes, in the header and the data', () => {
    const file = writeSafetensors([
      { name: 'b', shape: [1], data: new Float32Array([2]) },
      { name: 'w\u{1F600}', shape: [1], data: new Float32Array([4]) },
      { name: 'a', shape: [1], data: new Float32Array([1]) },
      { name: 'w\uffff', shape: [1], data: new Float32Array([3]) },
    ]);
    // UTF-16 order would put U+1F600 (a surrogate pair, 0xD83D…) before U+FFFF; Rust does not.
    expect([...readSafetensorsHeader(file).tensors.keys()]).toEqual(['a', 'b', 'w\uffff', 'w\u{1F600}']);
    const data = new Float32Array(file.slice(file.length - 16).buffer);
    expect(Array.from(data)).toEqual([1, 2, 3, 4]);
  });
});

describe('byte-for-byte agreement with Python safetensors', () => {
  it('writes exactly the bytes of save_file for float32 tensors with {"format": "pt"}', () => {
    expect(writeSafetensors(FLOAT32_FIXTURE_TENSORS, { format: 'pt' })).toEqual(fixture('float32.safetensors'));
  });

  it('writes "__metadata__":{} for empty metadata, as Python does', () => {
    const file = writeSafetensors([{ name: 'x', shape: [1], data: new Float32Array([1]) }], {});
    expect(file).toEqual(fixture('empty_metadata.safetensors'));
  });

  it('writes valid JSON for no tensors with empty metadata, where Python 0.8.0 does not', () => {
    // safetensors 0.8.0 writes `{},"__metadata__":{}}` here, which its own loader rejects as
    // "trailing characters"; we write what it would write for any other case.
    const file = writeSafetensors([], {});
    expect(headerText(file)).toBe('{"__metadata__":{}}     ');
    expect(readSafetensors(file)).toEqual({ tensors: new Map(), metadata: {} });
  });

  it('writes an empty file exactly as Python does', () => {
    expect(writeSafetensors([])).toEqual(fixture('no_tensors.safetensors'));
    expect(readSafetensors(fixture('no_tensors.safetensors'))).toEqual({ tensors: new Map(), metadata: {} });
  });

  it('reads the Python float32 fixture back exactly, in header order', () => {
    const { tensors, metadata } = readSafetensors(fixture('float32.safetensors'), 'float32.safetensors');
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['Alpha.bias', 'mid "q"\n\u00e9', 'mid.scalar', 'w\uffff', 'w\u{1F600}', 'zeta.weight']);
    for (const t of FLOAT32_FIXTURE_TENSORS) {
      const got = tensors.get(t.name);
      expect(got?.dtype).toBe('F32');
      expect(got?.shape).toEqual(t.shape);
      expect(bitsOf(got?.data as Float32Array)).toEqual(bitsOf(t.data));
    }
  });

  it('reading then writing a Python file reproduces it', () => {
    const original = fixture('float32.safetensors');
    const { tensors, metadata } = readSafetensors(original);
    const again = writeSafetensors(
      [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data as Float32Array })),
      metadata,
    );
    expect(again).toEqual(original);
  });

  it('writes sorted metadata keys, so equal metadata always gives equal bytes', () => {
    const a = writeSafetensors([], { zeta: '1', alpha: '2' });
    const b = writeSafetensors([], { alpha: '2', zeta: '1' });
    expect(a).toEqual(b);
    expect(headerText(a).trimEnd()).toBe('{"__metadata__":{"alpha":"2","zeta":"1"}}');
  });
});

describe('decoding every supported dtype exactly (Python-made fixture)', () => {
  const { tensors, metadata } = readSafetensors(fixture('mixed_dtypes.safetensors'), 'mixed_dtypes.safetensors');
  const get = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`fixture lacks ${name}`);
    return t;
  };

  it('decodes F16 including subnormals, ±0, ±inf and NaN', () => {
    const t = get('half');
    expect(t.dtype).toBe('F16');
    expect(t.shape).toEqual([2, 6]);
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(exact(t.data)).toEqual(
      exact([0, -0, 1, -2, 65504, 2 ** -14, 2 ** -24, 1023 * 2 ** -24, Infinity, -Infinity, NaN, 0.333251953125]),
    );
  });

  it('decodes BF16 including subnormals, ±0, the largest finite value, ±inf and NaN', () => {
    const t = get('brain');
    expect(t.dtype).toBe('BF16');
    expect(exact(t.data)).toEqual(
      exact([0, -0, 1, -1.5, 2 ** -133, 127 * 2 ** -133, 2 ** -126, 255 * 2 ** 120, Infinity, -Infinity, NaN, 0.333984375]),
    );
  });

  it('decodes F64 to the nearest float32 (overflowing to inf)', () => {
    const t = get('double');
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(exact(t.data)).toEqual(exact([Math.fround(1 / 3), -0, Infinity, 2 ** -149]));
  });

  it('decodes the float8 formats', () => {
    expect(get('e4m3').dtype).toBe('F8_E4M3');
    expect(exact(get('e4m3').data)).toEqual(exact([448, 2 ** -9, -0, NaN, -1.75]));
    expect(get('e5m2').dtype).toBe('F8_E5M2');
    expect(exact(get('e5m2').data)).toEqual(exact([57344, 2 ** -16, Infinity, -0, -1.5]));
  });

  it('decodes integers into Int32Array, I64 and unsigned ones included when they fit', () => {
    const ints: [string, string, number[], number[]][] = [
      ['long', 'I64', [5], [0, -1, 2 ** 31 - 1, -(2 ** 31), 42]],
      ['int', 'I32', [1, 2], [-(2 ** 31), 2 ** 31 - 1]],
      ['short', 'I16', [3], [-32768, 32767, -1]],
      ['byte', 'I8', [3], [-128, 127, 0]],
      ['ubyte', 'U8', [3], [0, 255, 7]],
      ['ushort', 'U16', [2], [0, 65535]],
      ['uint', 'U32', [1], [2 ** 31 - 1]],
      ['ulong', 'U64', [2], [2 ** 31 - 1, 0]],
    ];
    for (const [name, dtype, shape, values] of ints) {
      const t = get(name);
      expect({ name, dtype: t.dtype, shape: t.shape }).toEqual({ name, dtype, shape });
      expect(t.data).toBeInstanceOf(Int32Array);
      expect(Array.from(t.data)).toEqual(values);
    }
  });

  it('decodes BOOL into Uint8Array, scalars included', () => {
    expect(get('flag').data).toEqual(new Uint8Array([1, 0, 1]));
    expect(get('scalar_flag')).toEqual({ dtype: 'BOOL', shape: [], data: new Uint8Array([1]) });
    expect(metadata).toEqual({ format: 'pt' });
  });

  it('lists the header without decoding, with offsets into the file', () => {
    const file = fixture('mixed_dtypes.safetensors');
    const header = readSafetensorsHeader(file, 'mixed_dtypes.safetensors');
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(header.tensors.size).toBe(15);
    // Python orders the data by dtype (widest first), so header order is not name order.
    expect([...header.tensors.keys()].slice(0, 3)).toEqual(['ulong', 'long', 'double']);
    const half = header.tensors.get('half');
    expect(half).toMatchObject({ dtype: 'F16', shape: [2, 6], byteLength: 24 });
    const bytes = file.subarray(half!.byteOffset, half!.byteOffset + half!.byteLength);
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint16(0, true)).toBe(0); // +0
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint16(2, true)).toBe(0x8000); // -0
    expect(half!.byteOffset).toBe(header.dataStart + half!.dataOffsets[0]);
    expect(header.dataStart % 8).toBe(0);
  });
});

describe('decoding edge cases', () => {
  it('reads a float32 tensor at an unaligned offset (after a U8 tensor)', () => {
    const le = new DataView(new ArrayBuffer(4));
    le.setFloat32(0, -1.25, true);
    const file = rawFile(
      {
        a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] },
        b: { dtype: 'F32', shape: [1], data_offsets: [1, 5] },
      },
      [9, ...new Uint8Array(le.buffer)],
    );
    const { tensors } = readSafetensors(file);
    expect(Array.from(tensors.get('a')!.data)).toEqual([9]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([-1.25]);
  });

  it('accepts a header with extra whitespace and unknown tensor fields, as the reference reader does', () => {
    const file = rawFile('  { "a" : { "dtype":"U8", "shape":[2], "data_offsets":[0,2], "note":[1,{"x":null}] } }  ', [1, 2]);
    expect(Array.from(readSafetensors(file).tensors.get('a')!.data)).toEqual([1, 2]);
  });

  it('accepts several empty tensors sharing one offset', () => {
    const file = rawFile(
      {
        e1: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
        a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
        e2: { dtype: 'F16', shape: [2, 0], data_offsets: [4, 4] },
      },
      [0, 0, 0x80, 0x3f],
    );
    const { tensors } = readSafetensors(file);
    expect([...tensors.keys()]).toEqual(['e1', 'a', 'e2']); // header order
    expect(Array.from(tensors.get('a')!.data)).toEqual([1]);
    expect(tensors.get('e2')!.data).toEqual(new Float32Array(0));
  });

  it('rejects I64 and unsigned values outside the 32-bit integer range, naming the tensor', () => {
    const i64 = new Uint8Array(16);
    new DataView(i64.buffer).setBigInt64(8, 2n ** 31n, true);
    const file = rawFile({ ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, i64);
    expect(() => readSafetensors(file, 'ids.safetensors')).toThrow(SafetensorsError);
    expect(() => readSafetensors(file, 'ids.safetensors')).toThrow(
      /^ids\.safetensors: tensor "ids" \(I64\) element 1 is 2147483648, outside the 32-bit integer range/,
    );
    // Listing does not decode, so it still works.
    expect(readSafetensorsHeader(file).tensors.get('ids')?.shape).toEqual([2]);

    const negative = new Uint8Array(8);
    new DataView(negative.buffer).setBigInt64(0, -(2n ** 31n) - 1n, true);
    expect(() => readSafetensors(rawFile({ n: { dtype: 'I64', shape: [], data_offsets: [0, 8] } }, negative))).toThrow(
      /tensor "n" \(I64\) element 0 is -2147483649/,
    );
    expect(() => readSafetensors(rawFile({ u: { dtype: 'U32', shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0x80]))).toThrow(
      /tensor "u" \(U32\) element 0 is 2147483648/,
    );
    expect(() =>
      readSafetensors(rawFile({ u: { dtype: 'U64', shape: [1], data_offsets: [0, 8] } }, [255, 255, 255, 255, 255, 255, 255, 255])),
    ).toThrow(/tensor "u" \(U64\) element 0 is 18446744073709551615/);
  });

  it('rejects BOOL bytes other than 0 and 1', () => {
    const file = rawFile({ mask: { dtype: 'BOOL', shape: [3], data_offsets: [0, 3] } }, [1, 0, 2]);
    expect(() => readSafetensors(file, 'mask.safetensors')).toThrow(/^mask\.safetensors: tensor "mask" \(BOOL\) element 2 is 2, not 0 or 1/);
  });
});

describe('rejecting malformed files', () => {
  const F32_1 = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };
  const cases: [string, Uint8Array, RegExp][] = [
    ['a file shorter than 8 bytes', new Uint8Array(5), /file is 5 bytes, too short to hold the 8-byte header length/],
    ['a header length over 100 MB', rawFile('{}', [], 100_000_001n), /header length 100000001 exceeds the limit of 100000000 bytes/],
    ['a header length near 2^64', rawFile('{}', [], 2n ** 64n - 1n), /header length 18446744073709551615 exceeds the limit/],
    ['a header length past the end of the file', rawFile('{}', [], 50n), /header length 50 runs past the end of the file \(2 bytes follow the length\)/],
    ['a header that is not UTF-8', rawFile('{"\xff"}').map((b, i) => (i === 10 ? 0xff : b)), /header is not valid UTF-8/],
    ['a header that is not JSON', rawFile('{"a": '), /header is not valid JSON \(/],
    ['a header starting with a byte-order mark', rawFile('\ufeff{}'), /header is not valid JSON/],
    ['a header that is a JSON array', rawFile('[1,2]'), /header must be a JSON object, got an array/],
    ['a header that is a JSON string', rawFile('"x"'), /header must be a JSON object, got the string "x"/],
    ['a tensor entry that is not an object', rawFile('{"a": 5}'), /tensor "a" must be an object with dtype, shape and data_offsets, got the number 5/],
    ['a tensor without dtype', rawFile({ a: { shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /tensor "a" is missing "dtype"/],
    ['a tensor without data_offsets', rawFile({ a: { dtype: 'F32', shape: [1] } }, [0, 0, 0, 0]), /tensor "a" is missing "data_offsets"/],
    ['a dtype that is not a string', rawFile({ a: { ...F32_1, dtype: 1 } }, [0, 0, 0, 0]), /tensor "a" dtype must be a string, got the number 1/],
    ['a shape that is not an array', rawFile({ a: { ...F32_1, shape: '1' } }, [0, 0, 0, 0]), /tensor "a" shape must be an array, got the string "1"/],
    ['data_offsets with one number', rawFile({ a: { ...F32_1, data_offsets: [0] } }, [0, 0, 0, 0]), /tensor "a" data_offsets must be \[begin, end\], got an array/],
    ['a negative dimension', rawFile({ a: { ...F32_1, shape: [1, -2] } }, [0, 0, 0, 0]), /tensor "a" shape\[1\] must be a non-negative integer, got the number -2/],
    ['a fractional dimension', rawFile({ a: { ...F32_1, shape: [1.5] } }, [0, 0, 0, 0]), /tensor "a" shape\[0\] must be a non-negative integer, got the number 1\.5/],
    [
      'an integer written as 1.0',
      rawFile('{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', [0, 0, 0, 0]),
      /tensor "a" shape\[0\] must be a non-negative integer, got the number 1\.0/,
    ],
    ['a dimension given as a string', rawFile({ a: { ...F32_1, shape: ['1'] } }, [0, 0, 0, 0]), /shape\[0\] must be a non-negative integer, got the string "1"/],
    ['a negative offset', rawFile({ a: { ...F32_1, data_offsets: [-4, 0] } }, [0, 0, 0, 0]), /tensor "a" data_offsets\[0\] must be a non-negative integer, got the number -4/],
    [
      'an offset beyond 2^53',
      rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,18014398509481984]}}', [0, 0, 0, 0]),
      /tensor "a" data_offsets\[1\] is too large: 18014398509481984/,
    ],
    ['offsets that end before they begin', rawFile({ a: { ...F32_1, data_offsets: [8, 4] } }, new Uint8Array(8)), /tensor "a" data_offsets \[8, 4\] end before they begin/],
    ['an unknown dtype', rawFile({ a: { ...F32_1, dtype: 'F12' } }, [0, 0, 0, 0]), /tensor "a" has unknown dtype "F12"/],
    ['a dtype of the spec this reader does not decode', rawFile({ a: { ...F32_1, dtype: 'F4' } }, [0, 0, 0, 0]), /tensor "a" has dtype F4, which this reader does not support/],
    ['__metadata__ that is not a map', rawFile('{"__metadata__":["pt"]}'), /__metadata__ must be an object of string values, got an array/],
    ['__metadata__ with a non-string value', rawFile('{"__metadata__":{"format":"pt","n":1}}'), /__metadata__ value for "n" must be a string, got the number 1/],
    [
      'a duplicate tensor name (JSON.parse would keep the last)',
      rawFile(`{"a":${JSON.stringify(F32_1)},"b":${JSON.stringify({ ...F32_1, data_offsets: [4, 8] })},"a":${JSON.stringify(F32_1)}}`, new Uint8Array(8)),
      /duplicate tensor name "a" in header/,
    ],
    ['a duplicate __metadata__ key', rawFile('{"__metadata__":{"k":"1","k":"2"}}'), /duplicate __metadata__ key "k"/],
    ['two __metadata__ entries', rawFile('{"__metadata__":{},"__metadata__":{}}'), /duplicate __metadata__ in header/],
    [
      'a duplicate field inside a tensor entry',
      rawFile('{"a":{"dtype":"I32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0]),
      /tensor "a" has duplicate field "dtype"/,
    ],
    ['a byte length that does not match the shape', rawFile({ a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 12] } }, new Uint8Array(12)), /tensor "a" has 12 bytes but shape \[2,3\] × F32 needs 24/],
    [
      'a shape too large to count',
      rawFile({ a: { dtype: 'F32', shape: [2 ** 26, 2 ** 26, 2 ** 26], data_offsets: [0, 4] } }, [0, 0, 0, 0]),
      /tensor "a" shape \[67108864,67108864,67108864\] is too large/,
    ],
    [
      'overlapping byte ranges',
      rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12)),
      /tensors "a" \[0, 8\] and "b" \[4, 12\] overlap/,
    ],
    [
      'two tensors on the same bytes',
      rawFile({ a: F32_1, b: F32_1 }, new Uint8Array(4)),
      /tensors "a" \[0, 4\] and "b" \[0, 4\] overlap/,
    ],
    [
      'a gap between tensors',
      rawFile({ b: { ...F32_1, data_offsets: [8, 12] }, a: F32_1 }, new Uint8Array(12)),
      /gap of 4 bytes between tensor "a" \(ends at 4\) and tensor "b" \[8, 12\]/,
    ],
    ['a gap before the first tensor', rawFile({ a: { ...F32_1, data_offsets: [4, 8] } }, new Uint8Array(8)), /gap of 4 bytes at the start of the data buffer, before tensor "a" \[4, 8\]/],
    ['bytes after the last tensor', rawFile({ a: F32_1 }, new Uint8Array(8)), /the data buffer is 8 bytes but the tensors end at 4 \(4 bytes unaccounted for\)/],
    ['data but no tensors', rawFile('{}', [1, 2, 3]), /the data buffer is 3 bytes but the tensors end at 0/],
    ['offsets past the end of the file', rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4)), /tensor "a" data_offsets \[0, 8\] run past the end of the file \(the data buffer is 4 bytes\)/],
  ];

  it.each(cases)('rejects %s', (_what, bytes, problem) => {
    for (const read of [readSafetensors, readSafetensorsHeader]) {
      let error: unknown;
      try {
        read(bytes, 'bad.safetensors');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SafetensorsError);
      const message = (error as SafetensorsError).message;
      expect(message.startsWith('bad.safetensors: ')).toBe(true);
      expect(message).toMatch(problem);
      expect((error as SafetensorsError).fileName).toBe('bad.safetensors');
    }
  });

  it('names the file as in the documented example', () => {
    const file = rawFile({ x: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 12] } }, new Uint8Array(12));
    expect(() => readSafetensors(file, 'model.safetensors')).toThrow(
      'model.safetensors: tensor "x" has 12 bytes but shape [2,3] × F32 needs 24',
    );
    expect(() => readSafetensors(new Uint8Array(3))).toThrow(/^file\.safetensors: file is 3 bytes/);
  });
});

describe('writeSafetensors input validation', () => {
  const one = (name: string, shape: number[], length: number): F32TensorToWrite => ({
    name,
    shape,
    data: new Float32Array(length),
  });
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['a shape that does not match the data', () => writeSafetensors([one('w', [2, 3], 5)]), /^file\.safetensors: tensor "w" has 5 values but shape \[2,3\] needs 6$/],
    ['duplicate names', () => writeSafetensors([one('w', [1], 1), one('v', [1], 1), one('w', [1], 1)]), /duplicate tensor name "w"/],
    ['a negative dimension', () => writeSafetensors([one('w', [-1], 0)]), /tensor "w" shape\[0\] must be a non-negative integer, got -1/],
    ['a fractional dimension', () => writeSafetensors([one('w', [0.5, 2], 1)]), /tensor "w" shape\[0\] must be a non-negative integer, got 0\.5/],
    ['the reserved name __metadata__', () => writeSafetensors([one('__metadata__', [1], 1)]), /"__metadata__" is reserved/],
    ['a name with a lone surrogate', () => writeSafetensors([one('bad\ud800', [1], 1)]), /tensor "bad\\ud800" contains a lone UTF-16 surrogate/],
    ['data that is not a Float32Array', () => writeSafetensors([{ name: 'w', shape: [1], data: [1] as unknown as Float32Array }]), /tensor "w" data must be a Float32Array/],
    ['a non-string metadata value', () => writeSafetensors([], { n: 1 as unknown as string }), /metadata value for "n" must be a string, got number/],
  ];

  it.each(cases)('rejects %s', (_what, write, problem) => {
    expect(write).toThrow(SafetensorsError);
    expect(write).toThrow(problem);
  });

  it('labels errors with the given file name', () => {
    expect(() => writeSafetensors([one('w', [2], 1)], undefined, 'adapter_model.safetensors')).toThrow(
      /^adapter_model\.safetensors: tensor "w" has 1 values but shape \[2\] needs 2/,
    );
  });
});
