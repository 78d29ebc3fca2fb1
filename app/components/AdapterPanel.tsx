// The adapter the worker holds (trained here or imported) and the "Import adapter" drop area:
// a zipped adapter folder — an export of the studio, or one saved by HF PEFT or AdapterHub —
// replaces it, so Export and "With adapter" generation work with the imported one.
import { formatInt } from '../format';
import { importBlocker, useActions, useStudio } from '../store';
import FileDrop from './FileDrop';

function CurrentAdapter() {
  const held = useStudio((s) => s.held.adapter);
  const methods = useStudio((s) => s.methods);
  const label = (id: string | null) => methods.find((m) => m.id === id)?.label ?? id ?? '';
  const imported = held?.imported;
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
  if (held) {
    return (
      <p className="adapter-current">
        Current adapter: <strong>{label(held.methodId)}</strong>, trained here.
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
