import { describe, expect, it } from 'vitest';
import type { FieldSpec } from '../src/peft/types';
import { buildMethodConfig, formFromDefaults, mergeForm } from './method-form';

const fields: FieldSpec[] = [
  { key: 'r', label: 'Rank (r)', kind: 'number', min: 1, max: 256, integer: true },
  { key: 'lora_dropout', label: 'Dropout', kind: 'number', min: 0, max: 1 },
  { key: 'bias', label: 'Bias', kind: 'select', options: [{ value: 'none', label: 'none' }, { value: 'all', label: 'all' }] },
  { key: 'fan_in', label: 'Fan in', kind: 'select', options: [{ value: 'true', label: 'yes' }, { value: 'false', label: 'no' }] },
  {
    key: 'target_modules',
    label: 'Target modules',
    kind: 'multiselect',
    options: [
      { value: 'c_attn', label: 'c_attn' },
      { value: 'c_proj', label: 'c_proj' },
      { value: 'c_fc', label: 'c_fc' },
    ],
  },
  { key: 'init_text', label: 'Init text', kind: 'text' },
];
const defaults = { r: 8, lora_dropout: 0.05, bias: 'none', fan_in: true, target_modules: ['c_attn'], init_text: null, task_type: 'CAUSAL_LM' };

describe('method form', () => {
  it('starts from the defaults', () => {
    expect(formFromDefaults(fields, defaults)).toEqual({
      r: '8',
      lora_dropout: '0.05',
      bias: 'none',
      fan_in: 'true',
      target_modules: ['c_attn'],
      init_text: '',
    });
  });

  it('builds a config of the defaults’ types, keeping keys the form does not show', () => {
    const form = { ...formFromDefaults(fields, defaults), r: '16', fan_in: 'false', target_modules: ['c_attn', 'c_fc'] };
    const { config, valid } = buildMethodConfig(fields, defaults, form);
    expect(valid).toBe(true);
    expect(config).toEqual({
      r: 16,
      lora_dropout: 0.05,
      bias: 'none',
      fan_in: false,
      target_modules: ['c_attn', 'c_fc'],
      init_text: null,
      task_type: 'CAUSAL_LM',
    });
  });

  it('reports invalid numbers', () => {
    const form = { ...formFromDefaults(fields, defaults), r: '0', lora_dropout: '' };
    const { errors, valid } = buildMethodConfig(fields, defaults, form);
    expect(valid).toBe(false);
    expect(errors.r).toMatch(/at least 1/);
    expect(errors.lora_dropout).toMatch(/required/);
  });

  it('keeps edits that still fit when the fields come again', () => {
    const prev = { ...formFromDefaults(fields, defaults), r: '32', bias: 'gone', target_modules: ['c_proj'] };
    const merged = mergeForm(fields, defaults, prev);
    expect(merged.r).toBe('32');
    expect(merged.bias).toBe('none');
    expect(merged.target_modules).toEqual(['c_proj']);
  });
});
