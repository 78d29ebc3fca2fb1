// The adapter the worker holds (trained here or imported) and the "Import adapter" drop area:
// a zipped adapter folder — an export of the studio, or one saved by HF PEFT or AdapterHub —
// replaces it, so Export and "With adapter" generation work with the imported one.
import { DISTILL_ID } from '../../src/worker/protocol';
import { formatInt } from '../format';
import { importBlocker, useActions, useStudio } from '../store';
import FileDrop from './FileDrop';

function CurrentAdapter() {
  const imported = useStudio((s) => s.importedAdapter);
  const ready = useStudio((s) => s.adapterReady);
  const runMethod = useStudio((s) => s.run.methodId);
  const methods = useStudio((s) => s.methods);
  const label = (id: string | null) => methods.find((m) => m.id === id)?.label ?? id ?? '';
  if (imported) {
    return (
      <>
        <p className="adapter-current">
          Current adapter: <strong>{label(imported.methodId)}</strong>, imported from <code>{imported.fileName}</code> · {formatInt(imported.trainable)} parameters
        </p>
        {imported.notice && <p className="muted small">{imported.notice}</p>}
      </>
    );
  }
  if (ready && runMethod === DISTILL_ID) {
    // The last run distilled a student; the adapter trained before it is still the worker's.
    return <p className="adapter-current">Current adapter: the one trained before distillation (the student is a separate model).</p>;
  }
  if (ready && runMethod) {
    return (
      <p className="adapter-current">
        Current adapter: <strong>{label(runMethod)}</strong>, trained here.
      </p>
    );
  }
  return <p className="adapter-current muted">No adapter yet: train one, or import one below.</p>;
}

export default function AdapterPanel() {
  const blocker = useStudio(importBlocker);
  const importing = useStudio((s) => s.importPending);
  const { importAdapterFile } = useActions();

  return (
    <section className="panel" aria-labelledby="adapter-heading">
      <h2 id="adapter-heading">Adapter</h2>
      <CurrentAdapter />
      <FileDrop
        id="import-adapter-file"
        label="Import adapter"
        accept=".zip,application/zip"
        className="import-drop"
        hint="Drop a zipped adapter folder here (an export of the studio, or a folder saved by Hugging Face PEFT or AdapterHub, zipped), or click to choose one."
        draggingHint="Drop the zip to import it"
        disabled={blocker !== null}
        busy={importing}
        onFile={importAdapterFile}
      >
        {blocker && <p className="muted small">{blocker}</p>}
      </FileDrop>
    </section>
  );
}
