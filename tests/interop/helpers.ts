// Shared plumbing for the interop suite: run a Python script of this folder with the real
// Hugging Face stack (INTEROP_PYTHON, set by scripts/interop.sh), exchange JSON through a temp
// folder, and load the built-in model exactly as the studio does.
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '../../src/io/safetensors';
import { buildModel, WEIGHTS_FILE } from '../../src/models/load';
import type { Hooks, LoadedModel } from '../../src/models/types';
import { loadTokenizer, type TextTokenizer } from '../../src/tokenize/tokenizer';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '../..');
export const MODEL_ID = 'tiny-gpt2';
export const MODEL_DIR = join(REPO, 'public/models', MODEL_ID);

/** Logits (and weights) from two float32 implementations must agree this closely. */
export const TOLERANCE = 1e-4;

/** The Python interpreter of the interop venv; a clear error when the suite is run the wrong way. */
export function interopPython(): string {
  const python = process.env.INTEROP_PYTHON;
  if (!python) {
    throw new Error(
      'INTEROP_PYTHON is not set. Run the interop suite with `bash scripts/interop.sh` (it creates .venv-interop/ with torch, transformers, peft and safetensors and sets INTEROP_PYTHON), or set it to a Python that has them.',
    );
  }
  try {
    accessSync(python, constants.X_OK);
  } catch {
    throw new Error(`INTEROP_PYTHON=${python} is not an executable file; run \`bash scripts/interop.sh\` to create the venv`);
  }
  return python;
}

/**
 * Runs tests/interop/<script> with `args`; throws with the script's output when it exits
 * non-zero. The Hugging Face stack is kept offline and quiet, and torch single-threaded-ish
 * so runs are reproducible on the 2-core CI machine.
 */
export function runPython(script: string, args: string[], timeoutMs = 300_000): { stdout: string; stderr: string } {
  const python = interopPython();
  const res = spawnSync(python, [join(HERE, script), ...args], {
    cwd: REPO,
    encoding: 'utf-8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      HF_HUB_OFFLINE: '1',
      TRANSFORMERS_OFFLINE: '1',
      HF_DATASETS_OFFLINE: '1',
      HF_HUB_DISABLE_TELEMETRY: '1',
      HF_HUB_DISABLE_PROGRESS_BARS: '1',
      TOKENIZERS_PARALLELISM: 'false',
      PYTHONDONTWRITEBYTECODE: '1',
      PYTHONUNBUFFERED: '1',
      PYTHONHASHSEED: '0',
    },
  });
  if (res.error) throw new Error(`${script}: could not run ${python}: ${res.error.message}`);
  if (res.status !== 0) {
    throw new Error(`${script} ${args.join(' ')} exited with ${res.status ?? res.signal}\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`);
  }
  return { stdout: res.stdout, stderr: res.stderr };
}

/** A fresh folder under the OS temp dir; removed by `cleanup` unless INTEROP_KEEP is set. */
export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `peft-studio-interop-${tag}-`));
}

export function cleanup(dir: string | undefined): void {
  if (!dir) return;
  if (process.env.INTEROP_KEEP) {
    console.log(`INTEROP_KEEP: left ${dir}`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value));
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf-8')) as T;
}

/** Writes path → bytes into `dir` (creating it). */
export function writeFolder(dir: string, files: Record<string, Uint8Array>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) {
    if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new Error(`writeFolder: refusing the path ${JSON.stringify(name)}`);
    writeFileSync(join(dir, name), bytes);
  }
}

/** Every plain file of `dir` as name → bytes: what a person drops on the page. */
export function readFolder(dir: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isFile()) out[name] = new Uint8Array(readFileSync(p));
  }
  return out;
}

export interface Studio {
  model: LoadedModel;
  tokenizer: TextTokenizer;
}

/** The built-in model and tokenizer, read from public/ as the worker session reads them. */
export function loadStudioModel(): Studio {
  const read = (f: string) => readFileSync(join(MODEL_DIR, f));
  const config = JSON.parse(read('config.json').toString('utf-8'));
  const { tensors } = readSafetensors(new Uint8Array(read(WEIGHTS_FILE)), `${MODEL_ID}/${WEIGHTS_FILE}`);
  const model = buildModel(MODEL_ID, config, tensors);
  const tokenizer = loadTokenizer(
    JSON.parse(read('tokenizer.json').toString('utf-8')),
    JSON.parse(read('tokenizer_config.json').toString('utf-8')),
    `${MODEL_ID}/tokenizer.json`,
  );
  return { model, tokenizer };
}

export const FIXED_ROWS = 2;
export const FIXED_LENGTH = 24;

/**
 * The fixed input every comparison uses: 2 rows × 24 ids from the studio's tokenizer. The second
 * row has multi-byte characters and ends on <|endoftext|>, so the special token's embedding
 * row is exercised too.
 */
export function fixedIds(tok: TextTokenizer): number[][] {
  const rows = [
    tok.encode('The quick brown fox jumps over the lazy dog.').slice(0, FIXED_LENGTH),
    [...tok.encode('Ünïcödé 🎉 café ok!'), tok.eosId].slice(-FIXED_LENGTH),
  ];
  for (const r of rows) if (r.length !== FIXED_LENGTH) throw new Error(`fixedIds: a row has ${r.length} ids, expected ${FIXED_LENGTH}`);
  if (!rows[1].includes(tok.eosId)) throw new Error('fixedIds: the second row lost its <|endoftext|>');
  return rows;
}

/** The engine's logits for `ids` under `hooks`, flattened row-major [rows, length, vocab]. */
export async function studioLogits(model: LoadedModel, ids: number[][], hooks: Hooks = {}): Promise<Float32Array> {
  const out = tf.tidy(() => model.forward(tf.tensor2d(ids, [ids.length, ids[0].length], 'int32'), hooks).logits);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

/** max |a − b| over two equally long arrays; throws on a length mismatch, NaN counts as ∞. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths differ (${a.length} vs ${b.length})`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Flattens nested number arrays (Python's `tensor.tolist()`) into one array. */
export function flat(x: unknown): number[] {
  const out: number[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'number') out.push(v);
    else throw new Error(`flat: unexpected ${JSON.stringify(v)}`);
  };
  walk(x);
  return out;
}
