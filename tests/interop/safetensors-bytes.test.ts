// (d) The safetensors writer, byte for byte: the same float32 tensors written by Python's
// safetensors.torch.save_file and by writeSafetensors are identical files. Also: the reference
// writer re-saving the studio's own files (an exported adapter, the built-in model), and
// transformers' save_pretrained of the built-in model, reproduce them exactly.
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/data/random';
import { ADAPTER_WEIGHTS } from '../../src/export/peft-files';
import { readSafetensors, writeSafetensors, type F32TensorToWrite } from '../../src/io/safetensors';
import { WEIGHTS_FILE } from '../../src/models/load';
import { lora } from '../../src/peft/lora';
import { cleanup, loadStudioModel, MODEL_DIR, runPython, tempDir, writeJson } from './helpers';

interface FileCase {
  file: string;
  metadata: Record<string, string> | null;
  tensors: F32TensorToWrite[];
}

const rand = mulberry32(2024);
function values(n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}
function t(name: string, shape: number[], scale = 1): F32TensorToWrite {
  return { name, shape, data: values(shape.reduce((a, b) => a * b, 1), scale) };
}
function bits(words: number[]): Float32Array {
  return new Float32Array(Uint32Array.from(words).buffer);
}

const PT = { format: 'pt' };
const CASES: FileCase[] = [
  {
    // An adapter-shaped file, tensors given out of order (both writers sort by name).
    file: 'lora-like.safetensors',
    metadata: PT,
    tensors: [
      t('base_model.model.transformer.h.1.attn.c_attn.lora_B.weight', [384, 8], 0.1),
      t('base_model.model.transformer.h.0.mlp.c_fc.lora_A.weight', [8, 128]),
      t('base_model.model.transformer.h.10.attn.c_attn.lora_A.weight', [8, 128]),
      t('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight', [8, 128]),
      t('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight', [384, 8], 0.1),
      t('base_model.model.transformer.h.2.attn.c_attn.lora_A.weight', [8, 128]),
    ],
  },
  {
    file: 'special-values.safetensors',
    metadata: PT,
    tensors: [
      {
        name: 'specials',
        shape: [2, 6],
        // NaN (quiet, negative, with a payload), ±Inf, ±0, smallest/largest subnormal, ±max, min normal.
        data: bits([0x7fc00000, 0xffc00000, 0x7fa00001, 0x7f800000, 0xff800000, 0x80000000, 0x00000000, 0x00000001, 0x007fffff, 0x7f7fffff, 0xff7fffff, 0x00800000]),
      },
    ],
  },
  {
    file: 'shapes.safetensors',
    metadata: PT,
    tensors: [t('scalar', []), t('empty', [0]), t('empty2d', [0, 3]), t('ones', [1, 1, 1, 1]), t('cube', [3, 5, 2]), t('vector', [7])],
  },
  {
    // Names that need JSON escaping, non-ASCII, and a pair whose UTF-16 and UTF-8 orders differ.
    file: 'names.safetensors',
    metadata: PT,
    tensors: [
      'a"quote',
      'back\\slash',
      'tab\tand\nnewline\r',
      'ctrl\u0001\u001f',
      'del\u007f',
      'naïve.日本語',
      '🎉.emoji',
      '\uff21.fullwidth',
      '😀.astral',
      'sep\u2028\u2029',
      'slash/in/name',
      'Z',
      'a',
      '',
    ].map((name, i) => t(name, [i % 3 + 1, 2])),
  },
  { file: 'no-metadata.safetensors', metadata: null, tensors: [t('w', [4, 4]), t('b', [4])] },
  { file: 'empty-metadata.safetensors', metadata: {}, tensors: [t('w', [3])] },
  { file: 'no-tensors.safetensors', metadata: PT, tensors: [] },
  // Every header padding from 0 to 7 spaces: names of 1..8 characters.
  ...Array.from({ length: 8 }, (_, i) => ({ file: `padding-${i + 1}.safetensors`, metadata: PT, tensors: [t('x'.repeat(i + 1), [2])] })),
];

let work: string;
let adapterBytes: Uint8Array;

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = tempDir('safetensors');
  // A studio export with non-zero B, for the reference writer to re-save.
  const { model } = loadStudioModel();
  const adapter = lora.create(model, { r: 8, lora_alpha: 16, lora_dropout: 0, target_modules: ['c_attn', 'c_fc'], use_rslora: false }, 5);
  adapter.variables.forEach((v, i) => i % 2 === 1 && tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', i))));
  adapterBytes = (await adapter.exportFiles()).files[ADAPTER_WEIGHTS];
  adapter.dispose();
  model.dispose();
  const adapterPath = join(work, 'studio-adapter.safetensors');
  writeFileSync(adapterPath, adapterBytes);

  const spec = join(work, 'spec.json');
  writeJson(spec, {
    files: CASES.map((c) => ({
      file: c.file,
      metadata: c.metadata,
      tensors: c.tensors.map((x) => ({ name: x.name, shape: x.shape, f32le_base64: Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength).toString('base64') })),
    })),
    resave: [
      { file: 'resaved-adapter.safetensors', source: adapterPath },
      { file: 'resaved-model.safetensors', source: join(MODEL_DIR, WEIGHTS_FILE) },
    ],
    save_pretrained: [{ dir: 'save-pretrained', model_dir: MODEL_DIR }],
  });
  runPython('safetensors_write.py', [spec, work]);
});

afterAll(() => cleanup(work));

/** Equal bytes, or a failure that says where the files first differ. */
function expectSameBytes(ours: Uint8Array, theirs: Uint8Array, what: string): void {
  const n = Math.min(ours.length, theirs.length);
  let i = 0;
  while (i < n && ours[i] === theirs[i]) i++;
  const at = i === n && ours.length === theirs.length ? -1 : i;
  const show = (b: Uint8Array) => JSON.stringify(Buffer.from(b.subarray(Math.max(0, at - 16), at + 48)).toString('latin1'));
  expect(at === -1 ? 'identical' : `${what}: first difference at byte ${at} of ${ours.length} (ours) / ${theirs.length} (python)\n ours:   ${show(ours)}\n python: ${show(theirs)}`).toBe('identical');
}

describe('writeSafetensors equals safetensors.torch.save_file byte for byte', () => {
  it.each(CASES.map((c) => [c.file, c] as const))('%s', (file, c) => {
    const ours = writeSafetensors(c.tensors, c.metadata ?? undefined, file);
    const theirs = new Uint8Array(readFileSync(join(work, file)));
    expectSameBytes(ours, theirs, file);
    // And the file reads back to the same tensors (names, shapes, bits).
    const back = readSafetensors(theirs, file);
    expect([...back.tensors.keys()].sort()).toEqual(c.tensors.map((x) => x.name).sort());
    for (const x of c.tensors) {
      const got = back.tensors.get(x.name)!;
      expect(got.shape).toEqual(x.shape);
      expect(Buffer.from((got.data as Float32Array).buffer).equals(Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength))).toBe(true);
    }
  });

  it('padding: the cases cover every header padding of 0..7 spaces', () => {
    const pads = new Set<number>();
    for (const c of CASES) {
      const b = writeSafetensors(c.tensors, c.metadata ?? undefined);
      const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
      const json = new TextDecoder().decode(b.subarray(8, 8 + n));
      pads.add(json.length - json.trimEnd().length);
    }
    expect([...pads].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe("the reference writer reproduces the studio's own files", () => {
  it('load_file → save_file(metadata={"format": "pt"}) of an exported adapter gives the same bytes', () => {
    expectSameBytes(adapterBytes, new Uint8Array(readFileSync(join(work, 'resaved-adapter.safetensors'))), 'adapter');
  });

  it('load_file → save_file of public/models/tiny-gpt2/model.safetensors gives the same bytes', () => {
    expectSameBytes(new Uint8Array(readFileSync(join(MODEL_DIR, WEIGHTS_FILE))), new Uint8Array(readFileSync(join(work, 'resaved-model.safetensors'))), 'model');
  });

  it("transformers' GPT2LMHeadModel.save_pretrained writes the shipped model.safetensors byte for byte", () => {
    expectSameBytes(new Uint8Array(readFileSync(join(MODEL_DIR, WEIGHTS_FILE))), new Uint8Array(readFileSync(join(work, 'save-pretrained', WEIGHTS_FILE))), 'save_pretrained');
  });
});
