// The "Base model" select, "Load model from disk" and the loaded model's shape.
// A model from disk is read in the worker from the person's own files: nothing is uploaded.
import { useRef } from 'react';
import { folderSelection } from '../chosen-files';
import { MODELS, modelOption } from '../models';
import { formatInt } from '../format';
import { diskModelBlocker, isBusy, useActions, useStudio } from '../store';
import FileDrop from './FileDrop';

/** A zip of the folder, or the folder's own files. */
export const MODEL_FILES_ACCEPT = '.zip,application/zip,.json,.safetensors';

function DiskModelLoader() {
  const blocker = useStudio(diskModelBlocker);
  const loading = useStudio((s) => s.diskPending !== null);
  const { loadModelFromDisk } = useActions();
  const folderInput = useRef<HTMLInputElement>(null);
  const disabled = blocker !== null;

  return (
    <FileDrop
      id="model-files"
      label="Load model from disk"
      accept={MODEL_FILES_ACCEPT}
      multiple
      className="model-drop"
      hint="Drop a Hugging Face model folder or a .zip of it here (config.json, model.safetensors or its shards, tokenizer.json, tokenizer_config.json), or click to choose the .zip or the folder's files. The files are read in this page; nothing is uploaded."
      draggingHint="Drop the folder or zip to load it"
      disabled={disabled}
      busy={loading}
      onFiles={({ files, folder }) => loadModelFromDisk(files, folder)}
    >
      <p>
        <button type="button" className="small-button" disabled={disabled} onClick={() => folderInput.current?.click()}>
          Choose a model folder
        </button>
      </p>
      <input
        ref={(el) => {
          folderInput.current = el;
          // Not in React's typings: picks a folder and gives every file under it.
          el?.setAttribute('webkitdirectory', '');
        }}
        id="model-folder"
        type="file"
        className="visually-hidden-input"
        aria-label="Choose a model folder"
        tabIndex={-1}
        disabled={disabled}
        onChange={(e) => {
          const chosen = folderSelection(Array.from(e.target.files ?? []));
          e.target.value = ''; // choosing the same folder again still triggers a change
          loadModelFromDisk(chosen.files, chosen.folder);
        }}
      />
      {blocker && !loading && <p className="muted small">{blocker}</p>}
    </FileDrop>
  );
}

export default function ModelPanel() {
  const modelId = useStudio((s) => s.modelId);
  const model = useStudio((s) => s.model);
  const diskModels = useStudio((s) => s.diskModels);
  const loading = useStudio((s) => s.modelLoading);
  const running = useStudio(isBusy);
  const { selectModel } = useActions();
  const disk = diskModels.find((d) => d.key === modelId);
  const note = disk
    ? `Loaded from ${disk.folder ? `the folder ${disk.folder}` : disk.files.length === 1 ? disk.files[0].name : `${disk.files.length} files`} on this computer; it stays in this page.`
    : modelOption(modelId)?.note;

  return (
    <section className="panel">
      <h2>Model</h2>
      <div className="field">
        <label htmlFor="base-model">Base model</label>
        <select
          id="base-model"
          value={modelId}
          disabled={running}
          aria-describedby={note ? 'base-model-note' : undefined}
          onChange={(e) => selectModel(e.target.value)}
        >
          {MODELS.map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
          {diskModels.map((d) => (
            <option key={d.key} value={d.key}>
              {d.name} (from disk)
            </option>
          ))}
        </select>
        {note && (
          <p id="base-model-note" className="help">
            {note}
          </p>
        )}
      </div>
      <DiskModelLoader />
      {loading && <p className="muted">Loading the model…</p>}
      {model && !loading && (
        <dl className="stats" aria-label="Loaded model">
          <div>
            <dt>Parameters</dt>
            <dd>{formatInt(model.totalParams)}</dd>
          </div>
          <div>
            <dt>Layers</dt>
            <dd>{formatInt(model.numLayers)}</dd>
          </div>
          <div>
            <dt>Width</dt>
            <dd>{formatInt(model.hiddenSize)}</dd>
          </div>
          <div>
            <dt>Heads</dt>
            <dd>{formatInt(model.numHeads)}</dd>
          </div>
          <div>
            <dt>Vocabulary</dt>
            <dd>{formatInt(model.vocabSize)}</dd>
          </div>
          <div>
            <dt>Context length</dt>
            <dd>{formatInt(model.maxPositions)}</dd>
          </div>
        </dl>
      )}
    </section>
  );
}
