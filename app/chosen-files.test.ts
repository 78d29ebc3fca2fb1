import { describe, expect, it } from 'vitest';
import { droppedFiles, folderSelection } from './chosen-files';

/** A File as a folder picker gives it: with its path under the chosen folder. */
const picked = (path: string) => {
  const file = new File(['x'], path.split('/').at(-1)!);
  Object.defineProperty(file, 'webkitRelativePath', { value: path });
  return file;
};

describe('folderSelection', () => {
  it("keeps a picked folder's top-level files and names the folder", () => {
    const files = ['gpt2/config.json', 'gpt2/model.safetensors', 'gpt2/onnx/config.json', 'gpt2/.git/HEAD', 'gpt2/tokenizer.json'].map(picked);
    const chosen = folderSelection(files);
    expect(chosen.folder).toBe('gpt2');
    expect(chosen.files.map((f) => f.webkitRelativePath)).toEqual(['gpt2/config.json', 'gpt2/model.safetensors', 'gpt2/tokenizer.json']);
  });

  it('passes files without folder paths through unnamed', () => {
    const files = [new File(['{}'], 'config.json'), new File(['x'], 'model.safetensors')];
    expect(folderSelection(files)).toEqual({ files });
    expect(folderSelection([])).toEqual({ files: [] });
  });
});

/** The parts of the File and Directory Entries API a drop uses, over plain Files. */
function fileEntry(file: File) {
  return { isFile: true, isDirectory: false, name: file.name, file: (ok: (f: File) => void) => ok(file) };
}
function dirEntry(name: string, children: unknown[], batch = 2) {
  return {
    isFile: false,
    isDirectory: true,
    name,
    createReader() {
      let at = 0;
      // Answers in batches, as Chromium does (100 at a time), until an empty one.
      return {
        readEntries(ok: (e: unknown[]) => void) {
          ok(children.slice(at, at + batch));
          at += batch;
        },
      };
    },
  };
}
function drop(items: { entry: unknown; file: File | null }[]): DataTransfer {
  return {
    items: items.map((i) => ({ kind: 'file', webkitGetAsEntry: () => i.entry, getAsFile: () => i.file })),
    files: items.map((i) => i.file).filter((f) => f !== null),
  } as unknown as DataTransfer;
}

describe('droppedFiles', () => {
  it("reads a dropped folder's top-level files across batches, names the folder and skips its subfolders", async () => {
    const files = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'].map((n) => new File(['x'], n));
    const nested = dirEntry('onnx', [fileEntry(new File(['y'], 'config.json'))]);
    const folder = dirEntry('gpt2', [fileEntry(files[0]), fileEntry(files[1]), nested, ...files.slice(2).map(fileEntry)]);
    const chosen = await droppedFiles(drop([{ entry: folder, file: new File([], 'gpt2') }]));
    expect(chosen.folder).toBe('gpt2');
    expect(chosen.files).toEqual(files);
  });

  it('takes dropped files as they are, leaving out folders dropped with them', async () => {
    const a = new File(['{}'], 'config.json');
    const b = new File(['x'], 'model.safetensors');
    const chosen = await droppedFiles(drop([{ entry: fileEntry(a), file: a }, { entry: dirEntry('extra', []), file: new File([], 'extra') }, { entry: fileEntry(b), file: b }]));
    expect(chosen).toEqual({ files: [a, b] });
    const zip = new File([new Uint8Array([80, 75, 5, 6])], 'model.zip');
    expect(await droppedFiles(drop([{ entry: fileEntry(zip), file: zip }]))).toEqual({ files: [zip] });
  });
});
