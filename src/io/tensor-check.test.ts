import { describe, expect, it } from 'vitest';
import type { SafetensorsTensor } from './safetensors';
import { checkTensors } from './tensor-check';

const f32 = (shape: number[]): SafetensorsTensor => ({ dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) });
const expected = [
  { name: 'a.weight', shape: [2, 3] },
  { name: 'b.bias', shape: [3] },
];

describe('checkTensors', () => {
  it('returns every expected tensor’s values when names, shapes and dtypes match exactly', () => {
    const out = checkTensors('x.safetensors', new Map([['a.weight', f32([2, 3])], ['b.bias', f32([3])]]), expected, 'm');
    expect([...out.keys()]).toEqual(['a.weight', 'b.bias']);
    expect(Array.from(out.get('b.bias')!)).toEqual([0.5, 0.5, 0.5]);
  });

  it('names the missing tensor as the file spells it', () => {
    expect(() => checkTensors('x.safetensors', new Map([['a.weight', f32([2, 3])]]), expected, 'm', { shown: (n) => `base.${n}` })).toThrow(
      'x.safetensors: tensor "base.b.bias" is missing',
    );
  });

  it('names a tensor of another shape, what needs which shape, and how that shape is made up', () => {
    expect(() => checkTensors('x.safetensors', new Map([['a.weight', f32([3, 2])], ['b.bias', f32([3])]]), expected, 'tiny with r 2', { shapeNote: ' (r × in)' })).toThrow(
      'x.safetensors: "a.weight" has shape [3,2], tiny with r 2 needs [2,3] (r × in)',
    );
  });

  it('refuses a tensor that is not float', () => {
    const ints: SafetensorsTensor = { dtype: 'I32', shape: [3], data: new Int32Array(3) };
    expect(() => checkTensors('x.safetensors', new Map([['a.weight', f32([2, 3])], ['b.bias', ints]]), expected, 'm')).toThrow('x.safetensors: "b.bias" is I32, expected a float tensor');
  });

  it('lists up to five unexpected tensors and counts the rest', () => {
    const extra = new Map([['a.weight', f32([2, 3])], ['b.bias', f32([3])], ...Array.from({ length: 7 }, (_, i) => [`z${i}`, f32([1])] as [string, SafetensorsTensor])]);
    expect(() => checkTensors('x.safetensors', extra, expected, 'm')).toThrow('x.safetensors: unexpected tensors for m: z0, z1, z2, z3, z4 and 2 more');
  });
});
