// Text generation from a prompt: the base model and, beside it, the same model with the
// adapter (or the fully fine-tuned model), sampled with the same seed so that the difference is
// what training changed.
import { useMemo, type FormEvent, type KeyboardEvent } from 'react';
import { GENERATE_FIELDS, validateGenerateInputs, type GenerateFieldSpec } from '../generate-form';
import { generateBlocker, generationTrained, useActions, useStudio, type GenerationOutput } from '../store';

function SettingField({ spec, value, error, onChange }: { spec: GenerateFieldSpec; value: string; error?: string; onChange(text: string): void }) {
  const id = `generate-${spec.key}`;
  const describedBy = [error ? `${id}-error` : '', `${id}-help`].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{spec.label}</label>
      <input
        id={id}
        type="number"
        inputMode={spec.integer ? 'numeric' : 'decimal'}
        min={spec.min}
        max={spec.max}
        step={spec.step}
        value={value}
        required
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        onChange={(e) => onChange(e.target.value)}
      />
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
      <p id={`${id}-help`} className="help">
        {spec.help}
      </p>
    </div>
  );
}

function Output({ id, label, output, placeholder }: { id: string; label: string; output: GenerationOutput | null; placeholder: string }) {
  const pending = output !== null && !output.done;
  return (
    <div className="generate-output">
      <h3 id={`${id}-label`}>{label}</h3>
      {/* Focusable so a long text can be scrolled from the keyboard; the one live region announces progress. */}
      <pre id={id} className="generate-text" role="region" aria-labelledby={`${id}-label`} aria-busy={pending || undefined} tabIndex={0}>
        {output ? output.text : <span className="muted">{placeholder}</span>}
      </pre>
      {output?.error && <p className="field-error">{output.error}</p>}
      {output?.done && !output.error && output.text === '' && <p className="help">The model ended the text at once.</p>}
    </div>
  );
}

export default function GeneratePanel() {
  const inputs = useStudio((s) => s.generation.inputs);
  const base = useStudio((s) => s.generation.base);
  const adapter = useStudio((s) => s.generation.adapter);
  const trained = useStudio(generationTrained);
  const adapterReady = trained !== null;
  const trainedName = trained === 'model' ? 'the fine-tuned model' : 'the adapter';
  const blocker = useStudio(generateBlocker);
  const { setGenerateField, generate } = useActions();
  const { errors } = useMemo(() => validateGenerateInputs(inputs), [inputs]);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    generate();
  };
  const onPromptKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      generate();
    }
  };

  return (
    <section className="panel generate-panel" aria-labelledby="generate-heading">
      <h2 id="generate-heading">Generate</h2>
      <form onSubmit={onSubmit} noValidate>
        <div className="field">
          <label htmlFor="generate-prompt">Prompt</label>
          <textarea
            id="generate-prompt"
            rows={3}
            value={inputs.prompt}
            aria-describedby="generate-prompt-help"
            onChange={(e) => setGenerateField('prompt', e.target.value)}
            onKeyDown={onPromptKey}
          />
          <p id="generate-prompt-help" className="help">
            The outputs show only the new text. An empty prompt starts from the end-of-text token. Ctrl+Enter generates.
          </p>
        </div>
        <div className="form-grid generate-settings">
          {GENERATE_FIELDS.map((spec) => (
            <SettingField key={spec.key} spec={spec} value={inputs[spec.key]} error={errors[spec.key]} onChange={(text) => setGenerateField(spec.key, text)} />
          ))}
        </div>
        <div className="buttons generate-buttons">
          <button type="submit" className="primary" disabled={blocker !== null} aria-describedby="generate-blocker">
            Generate
          </button>
        </div>
        <p id="generate-blocker" className="help">
          {blocker ?? (adapterReady ? `Generates with the base model and with ${trainedName}, same seed.` : 'Generates with the base model.')}
        </p>
      </form>
      <div className="generate-outputs">
        <Output id="generate-base" label="Base model" output={base} placeholder="Press Generate to continue the prompt." />
        <Output
          id="generate-adapter"
          label={trained === 'model' ? 'Fine-tuned model' : 'With adapter'}
          output={adapter}
          placeholder={adapterReady ? 'Press Generate to compare.' : 'Train or import an adapter to compare'}
        />
      </div>
    </section>
  );
}
