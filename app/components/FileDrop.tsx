// A drop area that also holds a labelled file input (the dataset, an adapter to import).
// Clicking the area, or pressing Enter/Space while it has focus, opens the file picker.
import { useRef, useState, type DragEvent, type KeyboardEvent, type MouseEvent, type ReactNode } from 'react';

function hasFiles(e: DragEvent): boolean {
  return Array.from(e.dataTransfer?.types ?? []).includes('Files');
}

export interface FileDropProps {
  /** The file input's id. */
  id: string;
  /** The input's accessible name, shown as the area's title. */
  label: string;
  accept: string;
  hint: string;
  draggingHint: string;
  disabled: boolean;
  /** Shown as busy (reading, importing). */
  busy?: boolean;
  className?: string;
  onFile(file: File): void;
  children?: ReactNode;
}

export default function FileDrop({ id, label, accept, hint, draggingHint, disabled, busy, className, onFile, children }: FileDropProps) {
  const inputRef = useRef<HTMLInputElement>(null);
  // Highlight while a file is dragged over: purely visual, so it stays local to this component.
  const [dragging, setDragging] = useState(false);

  const take = (files: FileList | null | undefined) => {
    const file = files?.[0];
    if (file && !disabled) onFile(file);
  };

  const onDragOver = (e: DragEvent<HTMLDivElement>) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = disabled ? 'none' : 'copy';
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
    if (!disabled) inputRef.current?.click();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    e.preventDefault();
    if (!disabled) inputRef.current?.click();
  };

  const classes = ['dropzone', className, dragging && 'is-dragging', disabled && 'is-disabled', busy && 'is-busy'].filter(Boolean).join(' ');

  return (
    <div className={classes} onDragEnter={onDragOver} onDragOver={onDragOver} onDragLeave={onDragLeave} onDrop={onDrop} onClick={onClick} onKeyDown={onKeyDown}>
      <label htmlFor={id} className="dropzone-label">
        {label}
      </label>
      <input
        ref={inputRef}
        id={id}
        className="visually-hidden-input"
        type="file"
        accept={accept}
        disabled={disabled}
        aria-describedby={`${id}-hint`}
        onChange={(e) => {
          take(e.target.files);
          e.target.value = ''; // choosing the same file again still triggers a change
        }}
      />
      <p id={`${id}-hint`} className="dropzone-hint">
        {dragging ? draggingHint : hint}
      </p>
      {children}
    </div>
  );
}
