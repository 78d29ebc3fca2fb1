// The method's hyperparameter form, derived from its FieldSpec[]: form values as typed,
// and the conversion back into the config object `plan` and `train` carry.
import type { FieldSpec } from '../src/peft/types';

export type MethodFormValue = string | string[];
export type MethodForm = Record<string, MethodFormValue>;
export type MethodFormErrors = Record<string, string>;

/** The form value a field starts from, given the method's default for it. */
export function formValueFromDefault(field: FieldSpec, def: unknown): MethodFormValue {
  switch (field.kind) {
    case 'number':
      return typeof def === 'number' && Number.isFinite(def) ? String(def) : '';
    case 'select': {
      const s = def === undefined || def === null ? undefined : String(def);
      if (s !== undefined && field.options.some((o) => o.value === s)) return s;
      return field.options[0]?.value ?? '';
    }
    case 'multiselect': {
      const list = Array.isArray(def) ? def.map(String) : typeof def === 'string' ? [def] : [];
      return field.options.map((o) => o.value).filter((v) => list.includes(v));
    }
    case 'text':
      if (def === undefined || def === null) return '';
      return Array.isArray(def) ? def.map(String).join(', ') : String(def);
  }
}

export function formFromDefaults(fields: FieldSpec[], defaults: Record<string, unknown>): MethodForm {
  const form: MethodForm = {};
  for (const f of fields) form[f.key] = formValueFromDefault(f, defaults[f.key]);
  return form;
}

/** Whether `value` is a form value this field can show (used to keep edits across reloads). */
function fits(field: FieldSpec, value: MethodFormValue | undefined): value is MethodFormValue {
  if (value === undefined) return false;
  switch (field.kind) {
    case 'multiselect':
      return Array.isArray(value) && value.every((v) => field.options.some((o) => o.value === v));
    case 'select':
      return typeof value === 'string' && field.options.some((o) => o.value === value);
    default:
      return typeof value === 'string';
  }
}

/** Defaults, with the person's earlier edits kept wherever they still fit the fields. */
export function mergeForm(fields: FieldSpec[], defaults: Record<string, unknown>, previous: MethodForm | undefined): MethodForm {
  const form = formFromDefaults(fields, defaults);
  if (!previous) return form;
  for (const f of fields) {
    const prev = previous[f.key];
    if (fits(f, prev)) form[f.key] = prev;
  }
  return form;
}

/** Checks one number field's text against its spec. */
export function numberFieldError(field: Extract<FieldSpec, { kind: 'number' }>, text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return `${field.label} is required.`;
  const n = Number(trimmed);
  if (!Number.isFinite(n)) return `${field.label} must be a number.`;
  if (field.integer && !Number.isInteger(n)) return `${field.label} must be a whole number.`;
  if (field.min !== undefined && n < field.min) return `${field.label} must be at least ${field.min}.`;
  if (field.max !== undefined && n > field.max) return `${field.label} must be at most ${field.max}.`;
  return undefined;
}

function convertLike(def: unknown, value: string): unknown {
  if (typeof def === 'boolean') return value === 'true';
  if (typeof def === 'number') {
    const n = Number(value);
    return Number.isFinite(n) ? n : value;
  }
  return value;
}

export interface MethodConfigResult {
  config: Record<string, unknown>;
  errors: MethodFormErrors;
  valid: boolean;
}

/**
 * The config sent with `plan` and `train`: the method's defaults (including keys the form does
 * not show) overridden by the form's values, converted back to the defaults' types.
 */
export function buildMethodConfig(fields: FieldSpec[], defaults: Record<string, unknown>, form: MethodForm): MethodConfigResult {
  const config: Record<string, unknown> = { ...defaults };
  const errors: MethodFormErrors = {};
  for (const f of fields) {
    const raw = form[f.key] ?? formValueFromDefault(f, defaults[f.key]);
    const def = defaults[f.key];
    switch (f.kind) {
      case 'number': {
        const text = Array.isArray(raw) ? '' : raw;
        const err = numberFieldError(f, text);
        if (err) errors[f.key] = err;
        else config[f.key] = Number(text.trim());
        break;
      }
      case 'select':
        config[f.key] = convertLike(def, Array.isArray(raw) ? (raw[0] ?? '') : raw);
        break;
      case 'multiselect':
        config[f.key] = Array.isArray(raw) ? [...raw] : raw === '' ? [] : [raw];
        break;
      case 'text': {
        const text = Array.isArray(raw) ? raw.join(', ') : raw;
        if (text === '' && (def === undefined || def === null)) config[f.key] = def;
        else if (Array.isArray(def))
          config[f.key] = text
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '');
        else config[f.key] = text;
        break;
      }
    }
  }
  return { config, errors, valid: Object.keys(errors).length === 0 };
}
