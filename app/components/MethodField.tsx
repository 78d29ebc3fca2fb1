// One control of the method's hyperparameter form, generated from its FieldSpec.
import { useId } from 'react';
import type { FieldSpec } from '../../src/peft/types';
import { numberFieldError } from '../method-form';
import { useActions, useStudio } from '../store';

export default function MethodField({ field }: { field: FieldSpec }) {
  const id = useId();
  const value = useStudio((s) => s.methodForm[field.key]);
  const { setMethodField } = useActions();
  const helpId = field.help ? `${id}-help` : undefined;
  const help = field.help ? (
    <p id={helpId} className="help">
      {field.help}
    </p>
  ) : null;

  switch (field.kind) {
    case 'number': {
      const text = typeof value === 'string' ? value : '';
      const error = numberFieldError(field, text);
      const errorId = error ? `${id}-error` : undefined;
      return (
        <div className="field">
          <label htmlFor={id}>{field.label}</label>
          <input
            id={id}
            type="number"
            inputMode={field.integer ? 'numeric' : 'decimal'}
            min={field.min}
            max={field.max}
            step={field.step ?? (field.integer ? 1 : 'any')}
            value={text}
            aria-invalid={error ? true : undefined}
            aria-describedby={[errorId, helpId].filter(Boolean).join(' ') || undefined}
            onChange={(e) => setMethodField(field.key, e.target.value)}
          />
          {error && (
            <p id={errorId} className="field-error">
              {error}
            </p>
          )}
          {help}
        </div>
      );
    }
    case 'select':
      return (
        <div className="field">
          <label htmlFor={id}>{field.label}</label>
          <select
            id={id}
            value={typeof value === 'string' ? value : ''}
            aria-describedby={helpId}
            onChange={(e) => setMethodField(field.key, e.target.value)}
          >
            {field.options.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
          {help}
        </div>
      );
    case 'multiselect': {
      const chosen = Array.isArray(value) ? value : [];
      const toggle = (v: string, on: boolean) => {
        const set = new Set(chosen);
        if (on) set.add(v);
        else set.delete(v);
        // Keep the options' order.
        setMethodField(
          field.key,
          field.options.map((o) => o.value).filter((x) => set.has(x)),
        );
      };
      return (
        <fieldset className="field field-wide checkbox-group" aria-describedby={helpId}>
          <legend>{field.label}</legend>
          <div className="checkboxes">
            {field.options.map((o) => (
              <label key={o.value} className="checkbox">
                <input type="checkbox" checked={chosen.includes(o.value)} onChange={(e) => toggle(o.value, e.target.checked)} />
                <span>{o.label}</span>
              </label>
            ))}
          </div>
          {help}
        </fieldset>
      );
    }
    case 'text':
      return (
        <div className="field field-wide">
          <label htmlFor={id}>{field.label}</label>
          <input
            id={id}
            type="text"
            value={typeof value === 'string' ? value : ''}
            aria-describedby={helpId}
            onChange={(e) => setMethodField(field.key, e.target.value)}
          />
          {help}
        </div>
      );
  }
}
