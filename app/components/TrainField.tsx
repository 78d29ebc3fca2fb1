// One training-settings number input with its label, help and inline error.
import type { TrainFieldSpec } from '../train-form';

export interface TrainFieldProps {
  spec: TrainFieldSpec;
  value: string;
  error?: string;
  max?: number;
  onChange(text: string): void;
}

export default function TrainField({ spec, value, error, max, onChange }: TrainFieldProps) {
  const id = `train-${spec.key}`;
  const describedBy = [error ? `${id}-error` : '', spec.help ? `${id}-help` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{spec.label}</label>
      <input
        id={id}
        type="number"
        inputMode={spec.integer ? 'numeric' : 'decimal'}
        min={spec.minInclusive ? spec.min : undefined}
        max={max}
        step={spec.step}
        value={value}
        required
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
      {spec.help && (
        <p id={`${id}-help`} className="help">
          {spec.help}
        </p>
      )}
    </div>
  );
}
