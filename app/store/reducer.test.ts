// The reducer as a whole: it never changes the state it is given.
import { describe, expect, it } from 'vitest';
import { initialData, reduce } from './index';

describe('reducer', () => {
  it('is pure: the same input state is not mutated', () => {
    const s = initialData();
    const frozen = JSON.stringify(s);
    reduce(s, { type: 'backend', report: { name: 'webgpu', description: 'WebGPU · SwiftShader', software: true, fallbacks: [], forced: false } });
    reduce(s, { type: 'error', context: 'plan', message: 'x', request: 'plan' });
    expect(JSON.stringify(s)).toBe(frozen);
  });
});
