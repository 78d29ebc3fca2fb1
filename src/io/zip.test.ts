import { afterEach, describe, expect, it, vi } from 'vitest';
import { zipSync } from 'fflate';
import { unzipFiles, zipFiles } from './zip';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Pseudo-random bytes, so deflate has real work to do and nothing compresses to zero. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('zipFiles / unzipFiles', () => {
  it('round-trips files, folders and binary data', () => {
    const files = {
      'adapter_config.json': text('{\n  "peft_type": "LORA"\n}'),
      'adapter_model.safetensors': noise(10_000, 1),
      'nested/deeper/notes.txt': text('é ✓'),
      'empty.bin': new Uint8Array(0),
    };
    const back = unzipFiles(zipFiles(files), 'export.zip');
    expect(Object.keys(back).sort()).toEqual(Object.keys(files).sort());
    for (const [path, data] of Object.entries(files)) expect(back[path]).toEqual(data);
  });

  it('produces identical bytes for identical input, whatever the clock says', () => {
    const files = { 'a.txt': text('hello'), 'b/c.bin': noise(500, 2) };
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2024-03-05T10:20:30Z'));
    const first = zipFiles(files);
    vi.setSystemTime(new Date('2031-11-12T23:59:58Z'));
    const second = zipFiles(files);
    expect(second).toEqual(first);

    // The first local file header holds the DOS time and date at bytes 10–13: 00:00:00 on
    // 1980-01-01 (date = (year − 1980) << 9 | month << 5 | day).
    const view = new DataView(first.buffer, first.byteOffset, first.byteLength);
    expect(view.getUint32(0, true)).toBe(0x04034b50);
    expect(view.getUint16(10, true)).toBe(0);
    expect(view.getUint16(12, true)).toBe((1 << 5) | 1);
  });

  it('strips a single top-level folder and ignores __MACOSX and folder entries', () => {
    const archive = zipSync({
      'my-adapter/': new Uint8Array(0),
      'my-adapter/adapter_config.json': text('{}'),
      'my-adapter/weights/adapter_model.safetensors': text('w'),
      '__MACOSX/my-adapter/._adapter_config.json': text('resource fork'),
    });
    const files = unzipFiles(archive, 'my-adapter.zip');
    expect(Object.keys(files).sort()).toEqual(['adapter_config.json', 'weights/adapter_model.safetensors']);
    expect(new TextDecoder().decode(files['adapter_config.json'])).toBe('{}');
  });

  it('keeps paths when the files do not share one top-level folder', () => {
    const twoFolders = unzipFiles(zipFiles({ 'a/x.txt': text('x'), 'b/y.txt': text('y') }), 'two.zip');
    expect(Object.keys(twoFolders).sort()).toEqual(['a/x.txt', 'b/y.txt']);

    const folderAndFile = unzipFiles(zipFiles({ 'a/x.txt': text('x'), 'README.md': text('r') }), 'mixed.zip');
    expect(Object.keys(folderAndFile).sort()).toEqual(['README.md', 'a/x.txt']);

    // Same first letters but different folders: "ab/" is not a prefix of "abc/".
    const lookalikes = unzipFiles(zipFiles({ 'ab/x': text('1'), 'abc/y': text('2') }), 'look.zip');
    expect(Object.keys(lookalikes).sort()).toEqual(['ab/x', 'abc/y']);
  });

  it('returns nothing for an empty archive', () => {
    expect(unzipFiles(zipFiles({}), 'empty.zip')).toEqual({});
  });

  it('throws an error naming the file when the bytes are not a zip', () => {
    expect(() => unzipFiles(text('this is plainly a text file, not an archive at all'), 'upload.zip')).toThrow(
      /^upload\.zip: not a valid zip archive/,
    );
    expect(() => unzipFiles(new Uint8Array(0), 'nothing.zip')).toThrow(/^nothing\.zip: not a valid zip archive \(only 0 bytes\)/);

    // A real archive with its compressed data damaged.
    const good = zipFiles({ 'big.bin': new Uint8Array(50_000).fill(7) });
    const broken = good.slice();
    for (let i = 40; i < 60; i++) broken[i] = 0xff;
    expect(() => unzipFiles(broken, 'broken.zip')).toThrow(/^broken\.zip: not a valid zip archive/);

    // Cut short: the central directory at the end is missing.
    expect(() => unzipFiles(good.subarray(0, good.length - 30), 'cut.zip')).toThrow(/^cut\.zip: not a valid zip archive/);
  });
});
