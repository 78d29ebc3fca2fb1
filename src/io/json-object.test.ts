import { describe, expect, it } from 'vitest';
import { jsonObject } from './json-object';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('jsonObject', () => {
  it('reads a JSON object', () => {
    expect(jsonObject(bytes('{"peft_type": "LORA", "r": 8}'))).toEqual({ peft_type: 'LORA', r: 8 });
  });

  it('treats a missing file, invalid UTF-8, invalid JSON and JSON that is not an object as absent', () => {
    expect(jsonObject(undefined)).toBeUndefined();
    expect(jsonObject(new Uint8Array([0x7b, 0xff, 0x7d]))).toBeUndefined();
    expect(jsonObject(bytes('<!doctype html><html></html>'))).toBeUndefined();
    expect(jsonObject(bytes('[1, 2]'))).toBeUndefined();
    expect(jsonObject(bytes('null'))).toBeUndefined();
    expect(jsonObject(bytes('"text"'))).toBeUndefined();
  });
});
