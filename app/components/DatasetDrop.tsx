// A drop area for the dataset file that also holds the "Dataset" file input. Clicking the area,
// or pressing Enter/Space while it has focus, opens the file picker.
import { useRef, useState, type DragEvent, type KeyboardEvent, type MouseEvent } from 'react';
import { isRunActive, useActions, useStudio } from '../store';

export const DATASET_ACCEPT = '.txt,.jsonl,.json,.csv,.tsv';

function hasFiles(e: DragEvent): boolean {
  return Array.from(e.dataTransfer?.types ?? []).includes('Files');
}

export default function DatasetDrop() {
  const inputRef = useRef<HTMLInputElement>(null);
  // Highlight while a file is dragged over: purely visual, so it stays local to this component.
  const [dragging, setDragging] = useState(false);
  const running = useStudio((s) => isRunActive(s.run.status));
  const reading = useStudio((s) => s.datasetQueue.length > 0);
  const waiting = useStudio((s) => s.datasetWaiting?.name);
  const { chooseDatasetFile } = useActions();

  const take = (files: FileList | null | undefined) => {
    const file = files?.[0];
    if (file && !running) chooseDatasetFile(file);
  };

  const onDragOver = (e: DragEvent<HTMLDivElement>) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = running ? 'none' : 'copy';
    if (!dragging) setDragging(true);
  };
  const onDragLeave = (e: DragEvent<HTMLDivElement>) => {
    if (e.relatedTarget instanceof Node && e.currentTarget.contains(e.relatedTarget)) return;
    setDragging(false);
  };
  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setDragging(false);
    take(e.dataTransfer.files);
  };
  const onClick = (e: MouseEvent<HTMLDivElement>) => {
    // The <label> and the input open the picker themselves.
    if (e.target instanceof Element && e.target.closest('label, input')) return;
    if (!running) inputRef.current?.click();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    e.preventDefault();
    if (!running) inputRef.current?.click();
  };

  const className = ['dropzone', dragging && 'is-dragging', running && 'is-disabled', reading && 'is-busy'].filter(Boolean).join(' ');

  return (
    <div className={className} onDragEnter={onDragOver} onDragOver={onDragOver} onDragLeave={onDragLeave} onDrop={onDrop} onClick={onClick} onKeyDown={onKeyDown}>
      <label htmlFor="dataset-file" className="dropzone-label">
        Dataset
      </label>
      <input
        ref={inputRef}
        id="dataset-file"
        className="visually-hidden-input"
        type="file"
        accept={DATASET_ACCEPT}
        disabled={running}
        aria-describedby="dataset-hint"
        onChange={(e) => {
          take(e.target.files);
          e.target.value = ''; // choosing the same file again still triggers a change
        }}
      />
      <p id="dataset-hint" className="dropzone-hint">
        {dragging
          ? 'Drop the file to read it'
          : 'Drop a .txt, .jsonl, .json, .csv or .tsv file here, or click (or press Enter) to choose one.'}
      </p>
      {reading && <p className="muted small">Reading the dataset…</p>}
      {waiting && <p className="muted small">{waiting} will be read once the model has loaded.</p>}
    </div>
  );
}
