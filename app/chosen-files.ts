// Files a person chooses or drops, several at once or as a folder (a base model from disk).
// A folder picker (and a dropped folder) gives every file below the folder; a model folder's
// files are the top-level ones. Only those are kept, with the folder's name, so the worker
// never has to tell a nested onnx/config.json from the folder's own by its path: Chromium keeps
// a File's webkitRelativePath through postMessage, but the structured-clone rules for File do
// not promise it.

export interface ChosenFiles {
  files: File[];
  /** The chosen folder's name, when the files came from one. */
  folder?: string;
}

/** The top-level files of a folder picked with `webkitdirectory` (paths "folder/file"), with its name. */
export function folderSelection(files: readonly File[]): ChosenFiles {
  const paths = files.map((f) => f.webkitRelativePath || f.name);
  const slash = paths[0]?.indexOf('/') ?? -1;
  const folder = slash > 0 ? paths[0].slice(0, slash) : undefined;
  if (folder === undefined || !paths.every((p) => p.startsWith(`${folder}/`))) return { files: [...files] };
  const top = files.filter((_, i) => !paths[i].slice(folder.length + 1).includes('/'));
  return { files: top, folder };
}

/**
 * What a drop holds: a single dropped folder's top-level files and its name, else the dropped
 * files (folders among several dropped items are left out). Entries are taken synchronously:
 * the DataTransfer is emptied once the drop handler returns.
 */
export function droppedFiles(dt: DataTransfer): Promise<ChosenFiles> {
  const items = Array.from(dt.items ?? [])
    .filter((item) => item.kind === 'file')
    .map((item) => ({ entry: item.webkitGetAsEntry?.() ?? null, file: item.getAsFile() }));
  // Without items (older browsers) every dropped thing is taken as a file.
  if (items.length === 0) return Promise.resolve({ files: Array.from(dt.files) });
  const only = items.length === 1 ? items[0].entry : null;
  if (only?.isDirectory) {
    const dir = only as FileSystemDirectoryEntry;
    return topLevelFiles(dir).then((files) => ({ files, folder: dir.name }));
  }
  return Promise.resolve({ files: items.filter((i) => i.file !== null && (i.entry?.isFile ?? true)).map((i) => i.file!) });
}

/** The files directly inside `dir` (readEntries answers in batches until an empty one). */
async function topLevelFiles(dir: FileSystemDirectoryEntry): Promise<File[]> {
  const reader = dir.createReader();
  const entries: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    entries.push(...batch);
  }
  const fileEntries = entries.filter((e): e is FileSystemFileEntry => e.isFile);
  return Promise.all(fileEntries.map((e) => new Promise<File>((resolve, reject) => e.file(resolve, reject))));
}
