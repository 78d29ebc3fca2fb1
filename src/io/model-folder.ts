// A Hugging Face model folder as the studio reads it: from the page's own models (fetched by
// file name) or from files a person brings from disk (the folder's files, or a zip of it).
// Both become one ModelFileSource, so the session loads them along one path.
//
// Weights come as model.safetensors, or sharded as transformers' save_pretrained writes them
// above its shard size: model.safetensors.index.json, whose "weight_map" names the shard file
// of every tensor, plus those shards. transformers looks for model.safetensors first and the
// index second; so does the studio.
import { decodeUtf8 } from '../data/parse';
import { WEIGHTS_FILE } from '../models/load';
import { readSafetensors, type SafetensorsTensor } from './safetensors';
import { unzipFiles } from './zip';

/** transformers' SAFE_WEIGHTS_INDEX_NAME. */
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';

/** Files every model folder must hold besides its weights. */
export const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;

/** Fetches one file of a model folder by name, e.g. `config.json`; rejects with MissingModelFile when the folder has no such file. */
export type ModelFileSource = (modelId: string, file: string) => Promise<Uint8Array>;

/** The folder has no file of that name (as opposed to a file that could not be read). */
export class MissingModelFile extends Error {
  constructor(
    readonly folder: string,
    readonly file: string,
    detail?: string,
  ) {
    super(`${folder}/${file} is missing${detail ? ` (${detail})` : ''}`);
    this.name = 'MissingModelFile';
  }
}

export function httpModelSource(baseUrl: string): ModelFileSource {
  return async (id, file) => {
    const url = new URL(`${id}/${file}`, baseUrl).href;
    const res = await fetch(url);
    if (res.status === 404) throw new MissingModelFile(id, file, 'HTTP 404');
    if (!res.ok) throw new Error(`${id}/${file}: HTTP ${res.status} ${res.statusText}`.trim());
    // A single-page server answers a file it does not have with its HTML page, status 200; no
    // file of a model folder is HTML, so that answer means the file is not there.
    if (/^text\/html\b/i.test(res.headers.get('content-type') ?? '')) throw new MissingModelFile(id, file, 'the server answered with an HTML page');
    return new Uint8Array(await res.arrayBuffer());
  };
}

/** The parsed model.safetensors.index.json: tensor name → shard file, and the shards in first-listed order. */
export interface WeightIndex {
  weightMap: Map<string, string>;
  shards: string[];
}

/**
 * Parses a sharded checkpoint's index. Strict: "weight_map" must map every tensor to a plain
 * file name (a shard is a file beside the index, never a path elsewhere).
 */
export function parseWeightIndex(bytes: Uint8Array, label: string): WeightIndex {
  const where = `${label}/${WEIGHTS_INDEX_FILE}`;
  let raw: unknown;
  try {
    raw = JSON.parse(decodeUtf8(bytes, where));
  } catch (e) {
    throw new Error(e instanceof SyntaxError ? `${where}: not valid JSON (${e.message})` : (e as Error).message);
  }
  if (!isObject(raw)) throw new Error(`${where}: expected a JSON object`);
  const map = raw.weight_map;
  if (!isObject(map)) throw new Error(`${where}: "weight_map" must be an object of tensor name → shard file`);
  const weightMap = new Map<string, string>();
  const shards: string[] = [];
  for (const [tensor, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || shard === '') throw new Error(`${where}: "weight_map" gives ${JSON.stringify(tensor)} the shard ${JSON.stringify(shard)}, expected a file name`);
    if (/[/\\]/.test(shard) || shard === '.' || shard === '..') throw new Error(`${where}: shard ${JSON.stringify(shard)} of ${JSON.stringify(tensor)} is not a file name beside the index`);
    if (shard === WEIGHTS_INDEX_FILE) throw new Error(`${where}: "weight_map" names the index itself as the shard of ${JSON.stringify(tensor)}`);
    weightMap.set(tensor, shard);
    if (!shards.includes(shard)) shards.push(shard);
  }
  if (weightMap.size === 0) throw new Error(`${where}: "weight_map" lists no tensors`);
  return { weightMap, shards };
}

/**
 * Every shard of the index read and merged into one tensor map. Each tensor must sit in
 * exactly the shard the index names: a tensor found in two shards, in a shard the index does
 * not give it, or missing from its shard is refused by name, so a mixed-up set of shards
 * never loads as a silently different model. Shards are read one after another, so only one
 * shard's bytes are held at a time besides the tensors decoded so far.
 */
export async function readShardedWeights(indexBytes: Uint8Array, get: (file: string) => Promise<Uint8Array>, label: string): Promise<ModelWeights> {
  const { weightMap, shards } = parseWeightIndex(indexBytes, label);
  const index = `${label}/${WEIGHTS_INDEX_FILE}`;
  const tensors = new Map<string, SafetensorsTensor>();
  const shardOf = new Map<string, string>();
  for (const shard of shards) {
    const bytes = await get(shard);
    const { tensors: part } = readSafetensors(bytes, `${label}/${shard}`);
    for (const [name, t] of part) {
      const earlier = shardOf.get(name);
      if (earlier !== undefined) throw new Error(`${label}: tensor "${name}" is in two shards, ${earlier} and ${shard}`);
      const listed = weightMap.get(name);
      if (listed === undefined) throw new Error(`${label}/${shard}: holds tensor "${name}", which ${WEIGHTS_INDEX_FILE} does not list`);
      if (listed !== shard) throw new Error(`${label}/${shard}: holds tensor "${name}", which ${WEIGHTS_INDEX_FILE} puts in ${listed}`);
      shardOf.set(name, shard);
      tensors.set(name, t);
    }
  }
  for (const [name, shard] of weightMap) {
    if (!tensors.has(name)) throw new Error(`${index}: lists tensor "${name}" in ${shard}, which does not hold it`);
  }
  return { tensors, fileOf: (name) => shardOf.get(name) ?? WEIGHTS_INDEX_FILE };
}

/** A checkpoint's tensors by their file's names, and the file each came from (its shard, in a sharded set). */
export interface ModelWeights {
  tensors: Map<string, SafetensorsTensor>;
  /** The file holding tensor `name`, or where one that is absent would have to be. */
  fileOf(name: string): string;
}

/**
 * A folder's weights: model.safetensors when the folder has one, else the sharded checkpoint
 * its index describes (transformers' order of preference).
 */
export async function readModelWeights(get: (file: string) => Promise<Uint8Array>, label: string): Promise<ModelWeights> {
  let single: Uint8Array;
  try {
    single = await get(WEIGHTS_FILE);
  } catch (e) {
    if (!(e instanceof MissingModelFile)) throw e;
    let index: Uint8Array;
    try {
      index = await get(WEIGHTS_INDEX_FILE);
    } catch (e2) {
      if (e2 instanceof MissingModelFile) throw new Error(`${label}: has neither ${WEIGHTS_FILE} nor ${WEIGHTS_INDEX_FILE}`);
      throw e2;
    }
    return readShardedWeights(index, get, label);
  }
  return { tensors: readSafetensors(single, `${label}/${WEIGHTS_FILE}`).tensors, fileOf: () => WEIGHTS_FILE };
}

/** A folder a person brought: its name and a source over its files. */
export interface DiskModelFolder {
  id: string;
  source: ModelFileSource;
  /** The folder's top-level file names, sorted. */
  files: string[];
}

/** Used when neither a zip, a folder nor the page names the model. */
export const UNNAMED_MODEL = 'local-model';

/**
 * The files a person chose or dropped, as a model folder: either one .zip of the folder (one
 * enclosing folder in the archive is dropped, as when a folder is zipped whole) or the
 * folder's files themselves. Only top-level files count: subfolders (onnx/, .git/) are
 * ignored. The folder is checked before any weights are read: every missing file is named at
 * once, with what was found, and a sharded checkpoint's index must list only shards that are
 * there.
 *
 * The model's name: the zip's name without .zip, else the folder the files share (when the
 * browser gives relative paths), else `name`, else UNNAMED_MODEL.
 */
export async function diskModelFolder(chosen: File[], name?: string): Promise<DiskModelFolder> {
  if (chosen.length === 0) throw new Error(`${name ? `${name}: ` : ''}no files to read; choose a model folder, its files, or a .zip of it`);
  const zips = chosen.filter((f) => /\.zip$/i.test(f.name));
  let id: string;
  const readers = new Map<string, () => Promise<Uint8Array>>();
  if (zips.length > 0) {
    if (chosen.length > 1) throw new Error(`${zips[0].name}: choose either one .zip of the model folder or the folder's files, not both (${chosen.length} files were chosen)`);
    const zip = zips[0];
    const entries = unzipFiles(new Uint8Array(await zip.arrayBuffer()), zip.name);
    for (const [path, bytes] of Object.entries(entries)) if (!path.includes('/')) readers.set(path, async () => bytes);
    id = zip.name.replace(/\.zip$/i, '') || name || UNNAMED_MODEL;
  } else {
    const paths = chosen.map(relativePath);
    const top = commonFolder(paths);
    for (let i = 0; i < chosen.length; i++) {
      const path = top ? paths[i].slice(top.length + 1) : paths[i];
      if (path.includes('/')) continue;
      if (readers.has(path)) throw new Error(`two of the chosen files are named ${path}; choose the files of one model folder`);
      const file = chosen[i];
      readers.set(path, async () => new Uint8Array(await file.arrayBuffer()));
    }
    id = top || name || UNNAMED_MODEL;
  }
  const files = [...readers.keys()].sort();
  const get = async (file: string) => {
    const read = readers.get(file);
    if (!read) throw new MissingModelFile(id, file);
    return read();
  };

  const missing: string[] = REQUIRED_FILES.filter((f) => !readers.has(f));
  let index: WeightIndex | undefined;
  if (!readers.has(WEIGHTS_FILE)) {
    if (readers.has(WEIGHTS_INDEX_FILE)) index = parseWeightIndex(await get(WEIGHTS_INDEX_FILE), id);
    else missing.push(WEIGHTS_FILE);
  }
  if (missing.length) {
    const found = files.length ? files.join(', ') : 'no files';
    // PyTorch pickles can run code when loaded; the studio reads safetensors only.
    const pickles = files.filter((f) => /\.(bin|pt|pth|ckpt)$/i.test(f));
    const hint = pickles.length ? `; the studio reads safetensors weights only, not ${pickles.join(', ')}` : '';
    throw new Error(
      `${id}: not a complete Hugging Face model folder: missing ${missing.join(', ')} (found: ${found}). ` +
        `It needs config.json, ${WEIGHTS_FILE} (or ${WEIGHTS_INDEX_FILE} and the shards it lists), tokenizer.json and tokenizer_config.json${hint}`,
    );
  }
  if (index) {
    const absent = index.shards.filter((s) => !readers.has(s));
    if (absent.length) throw new Error(`${id}: ${WEIGHTS_INDEX_FILE} lists shards that are not among the files: ${absent.join(', ')} (found: ${files.join(', ')})`);
  }
  return { id, files, source: (_id, file) => get(file) };
}

/** The path the browser gives a file chosen from a folder ("folder/config.json"), else its name. */
function relativePath(file: File): string {
  const rel = (file as File & { webkitRelativePath?: unknown }).webkitRelativePath;
  return typeof rel === 'string' && rel !== '' ? rel : file.name;
}

/** The first path segment when every path lies under it, else ''. */
function commonFolder(paths: string[]): string {
  const slash = paths[0].indexOf('/');
  if (slash <= 0) return '';
  const top = paths[0].slice(0, slash);
  return paths.every((p) => p.startsWith(`${top}/`)) ? top : '';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
