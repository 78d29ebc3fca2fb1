// A drop area that also holds a labelled file input (the dataset, an adapter to import, a base
// model's folder or zip). Clicking the area, or pressing Enter/Space while it has focus, opens
// the file picker.
import { useRef, useState, type DragEvent, type KeyboardEvent, type MouseEvent, type ReactNode } from 'react';
import { droppedFiles, type ChosenFiles } from '../chosen-files';

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
  children?: ReactNode;
}

/** One file at a time, or (`multiple`) several files or a dropped folder's top-level files. */
export type FileDropTarget = { multiple?: false; onFile(file: File): void } | { multiple: true; onFiles(chosen: ChosenFiles): void };

export default function FileDrop(props: FileDropProps & FileDropTarget) {
  const { id, label, accept, hint, draggingHint, disabled, busy, className, children } = props;
  const inputRef = useRef<HTMLInputElement>(null);
  // Highlight while a file is dragged over: purely visual, so it stays local to this component.
  const [dragging, setDragging] = useState(false);

  const take = (files: FileList | null | undefined) => {
    if (disabled || !files || files.length === 0) return;
    if (props.multiple) props.onFiles({ files: Array.from(files) });
    else props.onFile(files[0]);
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
    if (!props.multiple) return take(e.dataTransfer.files);
    if (disabled) return;
    const onFiles = props.onFiles;
    // A folder that cannot be read arrives as no files, which the receiver reports.
    void droppedFiles(e.dataTransfer).then(onFiles, () => onFiles({ files: [] }));
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
        multiple={props.multiple}
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
