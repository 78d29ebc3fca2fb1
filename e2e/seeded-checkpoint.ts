// Model weights for the browser tests to bring from disk: every parameter an architecture names
// (its ModelInfo.params), filled with small seeded values and written as safetensors in float32,
// float16 or bfloat16, in one model.safetensors or sharded as transformers' save_pretrained
// shards (model-0000i-of-0000n.safetensors plus model.safetensors.index.json). The same seed
// gives the same bytes.

/** A parameter as an architecture lists it. */
export interface ParamSpec {
  name: string;
  shape: number[];
}

/** The floating-point dtypes a Hugging Face checkpoint is saved in. */
export type FloatDType = 'F32' | 'F16' | 'BF16';

const BYTES: Record<FloatDType, number> = { F32: 4, F16: 2, BF16: 2 };

/**
 * Seeded values for `params`, in order: norm weights 1 (as models initialise them, so the
 * activations keep their scale), everything else uniform in ±0.1.
 */
export function seededValues(params: ParamSpec[], seed = 1): Map<string, Float32Array> {
  let state = seed;
  const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const out = new Map<string, Float32Array>();
  for (const p of params) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    out.set(p.name, new Float32Array(n).map(() => (/norm\.weight$/i.test(p.name) ? 1 : 0.1 * next())));
  }
  return out;
}

/** model.safetensors holding `params` (seeded values, see seededValues) in `dtype`. */
export function seededSafetensors(params: ParamSpec[], dtype: FloatDType, seed = 1): Uint8Array {
  const values = seededValues(params, seed);
  return safetensorsBytes(
    params.map((p) => ({ ...p, data: values.get(p.name)! })),
    dtype,
  );
}

/**
 * A sharded checkpoint of `params` in `dtype`: the parameters in order, cut into `shards`
 * contiguous groups of near-equal count, each written to its shard, and the index that names
 * every tensor's shard. The values are the ones seededSafetensors writes for the same seed.
 */
export function seededShardedCheckpoint(params: ParamSpec[], dtype: FloatDType, shards: number, seed = 1): Record<string, Uint8Array> {
  const values = seededValues(params, seed);
  const files: Record<string, Uint8Array> = {};
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  const per = Math.ceil(params.length / shards);
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const group = params.slice(s * per, (s + 1) * per);
    for (const p of group) {
      weightMap[p.name] = file;
      totalSize += values.get(p.name)!.length * BYTES[dtype];
    }
    files[file] = safetensorsBytes(
      group.map((p) => ({ ...p, data: values.get(p.name)! })),
      dtype,
    );
  }
  const index = { metadata: { total_size: totalSize }, weight_map: weightMap };
  files['model.safetensors.index.json'] = new TextEncoder().encode(JSON.stringify(index, null, 2));
  return files;
}

/** Safetensors bytes of float32 values converted to `dtype`, with PyTorch's `{"format": "pt"}` metadata. */
export function safetensorsBytes(tensors: (ParamSpec & { data: Float32Array })[], dtype: FloatDType): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    const bytes = encode(t.data, dtype);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // The data starts on an 8-byte boundary, as the safetensors writer pads it.
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let at = 8 + json.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Little-endian bytes of `data` in `dtype`. */
function encode(data: Float32Array, dtype: FloatDType): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const toBits = dtype === 'F16' ? float16Bits : bfloat16Bits;
  const out = new Uint8Array(2 * data.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setUint16(2 * i, toBits(data[i]), true);
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * IEEE binary16 bits of the float32 nearest `x`, rounded to nearest, ties to even (what
 * PyTorch's `.half()` does): subnormal halves below 2^-14, ±inf past 65504, NaN kept a NaN.
 */
export function float16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exponent = (b >>> 23) & 0xff;
  const mantissa = b & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  // The exponent rebiased from float32's 127 to binary16's 15.
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // A subnormal half counts units of 2^-24: the 24-bit significand shifted right by 14 - e.
    // Below half the smallest subnormal everything rounds to zero.
    if (e < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - e;
    return sign | roundShift(significand, shift);
  }
  // A carry out of the mantissa rounds up into the exponent (and past 65504 into infinity).
  return sign | (((e << 10) | (mantissa >>> 13)) + roundingCarry(mantissa, 13));
}

/**
 * bfloat16 bits of the float32 nearest `x`: the top 16 bits, rounded to nearest, ties to even
 * (PyTorch's `.bfloat16()`), NaN kept a quiet NaN.
 */
export function bfloat16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if (Number.isNaN(x)) return ((b >>> 16) & 0x8000) | 0x7fc0;
  return (b >>> 16) + roundingCarry(b, 16);
}

/** `v >>> shift`, rounded to nearest with ties to even. */
function roundShift(v: number, shift: number): number {
  return (v >>> shift) + roundingCarry(v, shift);
}

/** 1 when dropping the low `shift` bits of `v` must round up (above the halfway point, or at it with an odd result). */
function roundingCarry(v: number, shift: number): number {
  const dropped = v & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return dropped > half || (dropped === half && ((v >>> shift) & 1) === 1) ? 1 : 0;
}
