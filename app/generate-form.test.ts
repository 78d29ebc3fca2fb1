import { describe, expect, it } from 'vitest';
import { GENERATE_DEFAULTS, GENERATE_FIELDS, validateGenerateInputs } from './generate-form';

describe('generate form', () => {
  it('has the labels and defaults the page promises', () => {
    expect(GENERATE_FIELDS.map((f) => f.label)).toEqual(['Max new tokens', 'Temperature', 'Top-k', 'Seed']);
    expect(validateGenerateInputs({ ...GENERATE_DEFAULTS, prompt: 'Hi' })).toEqual({
      errors: {},
      settings: { prompt: 'Hi', maxNewTokens: 120, temperature: 0.8, topK: 40, seed: 1 },
    });
  });

  it('names each bad field', () => {
    const v = validateGenerateInputs({ prompt: '', maxNewTokens: '0', temperature: 'hot', topK: '2.5', seed: '' });
    expect(v.settings).toBeUndefined();
    expect(v.errors).toEqual({
      maxNewTokens: 'Max new tokens must be a positive whole number.',
      temperature: 'Temperature must be a number.',
      topK: 'Top-k must be a whole number.',
      seed: 'Seed is required.',
    });
    expect(validateGenerateInputs({ ...GENERATE_DEFAULTS, maxNewTokens: '5000', temperature: '-0.1' }).errors).toEqual({
      maxNewTokens: 'Max new tokens must be at most 1024.',
      temperature: 'Temperature must be at least 0.',
    });
  });

  it('allows greedy decoding and an unfiltered top-k', () => {
    expect(validateGenerateInputs({ ...GENERATE_DEFAULTS, temperature: '0', topK: '0' }).settings).toMatchObject({ temperature: 0, topK: 0 });
  });
});
