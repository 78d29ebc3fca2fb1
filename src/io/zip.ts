// Zip archives for exports (adapter folders) and uploads, over fflate.
import { unzipSync, zipSync, type Zippable } from 'fflate';

/** Every entry's timestamp. fflate encodes the DOS date from the local-time getters, so the
 *  date is built in local time too: the same fields, hence the same bytes, in every time zone.
 *  1980-01-01 is the DOS epoch, the usual choice for reproducible archives. */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);

/** Folder macOS's Finder adds to archives for resource forks; never content. */
const MACOS_METADATA_FOLDER = '__MACOSX';

/** Zips `files` (path → bytes, '/' separating folders) with deflate. Deterministic: entries
 *  in the object's key order and a fixed timestamp, so equal input gives equal bytes. */
export function zipFiles(files: Record<string, Uint8Array>): Uint8Array {
  const entries: Zippable = {};
  for (const [path, data] of Object.entries(files)) {
    if (path === '') throw new Error('zipFiles: an entry has an empty path');
    entries[path] = data;
  }
  return zipSync(entries, { mtime: FIXED_MTIME });
}

/** Unzips an uploaded archive into path → bytes. Leaves out folder entries and `__MACOSX/`,
 *  and when every file sits inside one top-level folder (someone zipped the folder rather
 *  than its contents) drops that folder from the paths. Throws an Error that starts with
 *  `fileName` when the bytes are not a readable zip. */
export function unzipFiles(bytes: Uint8Array, fileName: string): Record<string, Uint8Array> {
  // The end-of-central-directory record alone is 22 bytes; fflate would scan backwards through
  // 64 KiB of nothing before giving up on anything shorter.
  if (bytes.length < 22) {
    throw new Error(`${fileName}: not a valid zip archive (only ${bytes.length} bytes)`);
  }
  let raw: Record<string, Uint8Array>;
  try {
    raw = unzipSync(bytes, {
      filter: (file) => !file.name.endsWith('/') && file.name.split('/')[0] !== MACOS_METADATA_FOLDER,
    });
  } catch (e) {
    throw new Error(`${fileName}: not a valid zip archive (${e instanceof Error ? e.message : String(e)})`);
  }

  const paths = Object.keys(raw);
  const prefix = commonTopFolder(paths);
  // fromEntries keeps a path like "__proto__" as plain data.
  return Object.fromEntries(paths.map((p) => [prefix ? p.slice(prefix.length) : p, raw[p]]));
}

/** "folder/" when every path lies under that one folder, else undefined. */
function commonTopFolder(paths: string[]): string | undefined {
  if (paths.length === 0) return undefined;
  const slash = paths[0].indexOf('/');
  if (slash <= 0) return undefined;
  const prefix = paths[0].slice(0, slash + 1);
  return paths.every((p) => p.startsWith(prefix)) ? prefix : undefined;
}
