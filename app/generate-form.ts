// The text-generation form: prompt and sampling settings as typed, validated into the numbers
// a `generate` request carries.

export type GenerateField = 'maxNewTokens' | 'temperature' | 'topK' | 'seed';

export interface GenerateInputs extends Record<GenerateField, string> {
  prompt: string;
}

export type GenerateErrors = Partial<Record<GenerateField, string>>;

export interface GenerateFieldSpec {
  key: GenerateField;
  /** Accessible name; tests and screen readers depend on these exact strings. */
  label: string;
  integer: boolean;
  min: number;
  max: number;
  step: number | 'any';
  help: string;
}

export const MAX_NEW_TOKENS_LIMIT = 1024;

export const GENERATE_FIELDS: readonly GenerateFieldSpec[] = [
  { key: 'maxNewTokens', label: 'Max new tokens', integer: true, min: 1, max: MAX_NEW_TOKENS_LIMIT, step: 1, help: 'Generation stops here or at the end-of-text token.' },
  { key: 'temperature', label: 'Temperature', integer: false, min: 0, max: 10, step: 'any', help: 'Lower is more predictable; 0 always takes the most likely token.' },
  { key: 'topK', label: 'Top-k', integer: true, min: 0, max: 1_000_000, step: 1, help: 'Sample among the k most likely tokens; 0 keeps them all.' },
  { key: 'seed', label: 'Seed', integer: true, min: 0, max: 2 ** 31 - 1, step: 1, help: 'Both outputs use it, so only the adapter differs.' },
];

export const GENERATE_DEFAULTS: GenerateInputs = {
  prompt: '',
  maxNewTokens: '120',
  temperature: '0.8',
  topK: '40',
  seed: '1',
};

export interface GenerateSettings {
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  seed: number;
}

/** Validates one field's text; returns the number or an error message. */
export function parseGenerateField(spec: GenerateFieldSpec, text: string): { value: number } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { error: `${spec.label} is required.` };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { error: `${spec.label} must be a number.` };
  if (spec.integer && !Number.isInteger(value)) return { error: `${spec.label} must be a whole number.` };
  if (value < spec.min) return { error: spec.integer && spec.min === 1 ? `${spec.label} must be a positive whole number.` : `${spec.label} must be at least ${spec.min}.` };
  if (value > spec.max) return { error: `${spec.label} must be at most ${spec.max}.` };
  return { value };
}

export function validateGenerateInputs(inputs: GenerateInputs): { settings?: GenerateSettings; errors: GenerateErrors } {
  const errors: GenerateErrors = {};
  const values: Partial<Record<GenerateField, number>> = {};
  for (const spec of GENERATE_FIELDS) {
    const r = parseGenerateField(spec, inputs[spec.key] ?? '');
    if ('error' in r) errors[spec.key] = r.error;
    else values[spec.key] = r.value;
  }
  if (Object.keys(errors).length > 0) return { errors };
  const v = values as Record<GenerateField, number>;
  return { errors, settings: { prompt: inputs.prompt, maxNewTokens: v.maxNewTokens, temperature: v.temperature, topK: v.topK, seed: v.seed } };
}
