// Shared plumbing for the interop suite: run a Python script of this folder with the real
// Hugging Face stack (INTEROP_PYTHON, set by scripts/interop.sh), exchange JSON through a temp
// folder, load the built-in model exactly as the studio does, and the steps and checks several
// methods' tests take the same way (training, the zip a download goes through, the merged
// checkpoint, PEFT's counts and warnings).
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { makeBatch, tokenizeExamples } from '../../src/data/dataset';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from '../../src/export/peft-files';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { unzipFiles, zipFiles } from '../../src/io/zip';
import { buildModel, WEIGHTS_FILE } from '../../src/models/load';
import type { Hooks, LoadedModel } from '../../src/models/types';
import type { Adapter } from '../../src/peft/types';
import { loadTokenizer, type TextTokenizer } from '../../src/tokenize/tokenizer';
import { train, type TrainResult } from '../../src/train/trainer';

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

/**
 * Writes `spec` to <work>/<name>-spec.json, runs tests/interop/<script> on it and returns what
 * the script wrote to <work>/<name>-out.json: every check script takes SPEC.json OUT.json.
 */
export function runPythonSpec<T>(script: string, work: string, name: string, spec: unknown): T {
  const specPath = join(work, `${name}-spec.json`);
  const outPath = join(work, `${name}-out.json`);
  writeJson(specPath, spec);
  runPython(script, [specPath, outPath]);
  return readJson<T>(outPath);
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

/** Everything a test of the built-in model starts from. */
export interface StudioRun {
  studio: Studio;
  /** fixedIds of the studio's tokenizer. */
  ids: number[][];
  /** The plain model's logits for `ids`, what an adapter must move. */
  baseLogits: Float32Array;
  /** A fresh temp folder for the files exchanged with Python; give it to `cleanup`. */
  work: string;
}

/**
 * The cpu backend, the built-in model and tokenizer, the fixed input and the plain model's
 * logits for it, and a temp folder tagged `tag`: the start of every test of the built-in model.
 */
export async function openStudio(tag: string): Promise<StudioRun> {
  await tf.setBackend('cpu');
  const studio = loadStudioModel();
  const ids = fixedIds(studio.tokenizer);
  const baseLogits = await studioLogits(studio.model, ids);
  return { studio, ids, baseLogits, work: tempDir(tag) };
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
    [...tok.encode('Ünïcödé 🎉 café ok!'), tok.eosId!].slice(-FIXED_LENGTH),
  ];
  for (const r of rows) if (r.length !== FIXED_LENGTH) throw new Error(`fixedIds: a row has ${r.length} ids, expected ${FIXED_LENGTH}`);
  if (!rows[1].includes(tok.eosId!)) throw new Error('fixedIds: the second row lost its <|endoftext|>');
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

/** An adapter must move the logits by more than this, or a no-op could pass the comparison. */
export const MIN_EFFECT = 1e-3;

/**
 * transformers derives a loss type from the class name; "GPT2LMHeadModel" contains no known one,
 * so the first forward with labels says so (any GPT-2, whatever its config).
 */
export const LOSS_TYPE_WARNING = /^transformers\.modeling_utils WARNING: `loss_type=None` was set in the config but it is unrecognized/;

/**
 * base_model_name_or_path is the studio's model id ("tiny-gpt2"), not a Hub id or a folder, so
 * PEFT's save_pretrained cannot open its config to check for resized embeddings and says so.
 * Only re-saving warns; loading does not.
 */
export const RESAVE_BASE_MODEL_WARNING = /^UserWarning: Could not find a config file in tiny-gpt2 - will assume that the vocabulary was not modified\.$/;

/** Expects exactly `steps` losses, every one finite. */
export function expectFiniteLosses(losses: number[], steps: number, label?: string): void {
  expect(losses, label).toHaveLength(steps);
  for (const l of losses) expect(Number.isFinite(l), label).toBe(true);
}

export interface TrainOptions {
  steps: number;
  learningRate: number;
  /** How often the trainer reads the loss back (steps); 2 unless given. */
  readbackEvery?: number;
}

/**
 * `steps` AdamW steps of the studio's own trainer on `texts`, batch 2 × 32 tokens taken in turn,
 * no warmup, decay or evaluation. Expects the run to finish all its steps; returns the result
 * and every loss the trainer reported.
 */
export async function trainOnText(studio: Studio, adapter: Adapter, texts: string[], opts: TrainOptions): Promise<{ result: TrainResult; losses: number[] }> {
  const seqs = tokenizeExamples(texts, studio.tokenizer, 32).ids;
  const losses: number[] = [];
  let step = 0;
  const result = await train(
    studio.model,
    adapter,
    { totalSteps: opts.steps, learningRate: opts.learningRate, warmupSteps: 0, weightDecay: 0, maxGradNorm: 1, evalEvery: 0, readbackEvery: opts.readbackEvery ?? 2 },
    {
      nextBatch: () => {
        const i = (2 * step++) % seqs.length;
        return { batch: makeBatch(seqs.slice(i, i + 2), 32, studio.tokenizer.padId), epoch: 0 };
      },
      evalBatches: [],
      onProgress: (points) => losses.push(...points.map((p) => p.loss)),
      onEval: () => {},
      shouldStop: () => false,
    },
  );
  expect(result).toEqual({ reason: 'finished', step: opts.steps });
  return { result, losses };
}

/** Gives every variable of the adapter random normal values (seeds `seedBase` + index), so it clearly acts. */
export function randomizeVariables(adapter: Adapter, std: number, seedBase: number): void {
  adapter.variables.forEach((v, k) => tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, std, 'float32', seedBase + k))));
}

export interface ZippedExport {
  /** The files as the zip a person downloads gives them back. */
  files: Record<string, Uint8Array>;
  /** <work>/<name>: the folder Python loads. */
  dir: string;
  /** <work>/<name>-resaved: where Python re-saves what it loaded. */
  resaveDir: string;
}

/**
 * Exports a PEFT-format adapter (adapter_config.json + adapter_model.safetensors), zips it to disk,
 * reads the zip back and unzips it as a download does, and writes the folder Python loads.
 * Expects the export's base name when `baseName` is given, exactly the two PEFT files, and
 * every file unchanged by the zip.
 */
export async function exportThroughZip(work: string, name: string, adapter: Adapter, baseName?: string): Promise<ZippedExport> {
  const exported = await adapter.exportFiles();
  if (baseName !== undefined) expect(exported.baseName).toBe(baseName);
  expect(Object.keys(exported.files).sort()).toEqual([ADAPTER_CONFIG, ADAPTER_WEIGHTS]);
  const zipPath = join(work, `${name}-${exported.baseName}.zip`);
  writeFileSync(zipPath, zipFiles(exported.files));
  const files = unzipFiles(new Uint8Array(readFileSync(zipPath)), `${exported.baseName}.zip`);
  expect(Object.keys(files).sort()).toEqual(Object.keys(exported.files).sort());
  for (const [k, v] of Object.entries(exported.files)) expect(Buffer.from(files[k]).equals(Buffer.from(v)), `${k} survives the zip`).toBe(true);
  const dir = join(work, name);
  writeFolder(dir, files);
  expect(Object.keys(readFolder(dir)).sort()).toEqual([ADAPTER_CONFIG, ADAPTER_WEIGHTS]);
  return { files, dir, resaveDir: join(work, `${name}-resaved`) };
}

/** What the session copies next to the merged weights (every file of the base folder but its weights). */
export const MERGED_BASE_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];

/**
 * The merged checkpoint as the session's exportMerged builds and zips it — the base folder's
 * MERGED_BASE_FILES next to model.safetensors written from the adapter's mergedWeights — unzipped
 * into `dir`.
 */
export async function writeMergedCheckpoint(dir: string, adapter: Adapter): Promise<void> {
  if (!adapter.mergedWeights) throw new Error('writeMergedCheckpoint: the adapter cannot merge into the base weights');
  const mergedZip = zipFiles({
    ...Object.fromEntries(MERGED_BASE_FILES.map((f) => [f, new Uint8Array(readFileSync(join(MODEL_DIR, f)))])),
    [WEIGHTS_FILE]: writeSafetensors(await adapter.mergedWeights(), { format: 'pt' }, WEIGHTS_FILE),
  });
  writeFolder(dir, unzipFiles(mergedZip, 'merged.zip'));
}

/** print_trainable_parameters' line, from the studio's plan. */
export function planLine(trainable: number, total: number): string {
  return `trainable params: ${trainable.toLocaleString('en-US')} || all params: ${total.toLocaleString('en-US')} || trainable%: ${((100 * trainable) / total).toFixed(4)}`;
}

/** What PEFT reports for a model it built: get_nb_trainable_parameters, print_trainable_parameters and the trainable tensors. */
export interface PeftCounts {
  trainable: number;
  all: number;
  printed: string;
  tensors: [string, number[]][];
}

/**
 * Expects PEFT's counts to be the studio's plan: the trainable and total numbers, the printed
 * line, and the same tensors (name and shape), the plan's names mapped by `inMemory` to the names
 * PEFT gives the parameters in memory. The tensors must come in the plan's order unless
 * `order` is 'any'.
 */
export function expectPlanCounts(
  py: PeftCounts,
  plan: { trainable: number; total: number; tensors: { name: string; shape: number[] }[] },
  inMemory: (name: string) => string,
  label?: string,
  order: 'same' | 'any' = 'same',
): void {
  expect(py.trainable, label).toBe(plan.trainable);
  expect(py.all, label).toBe(plan.total);
  expect(py.printed, label).toBe(planLine(plan.trainable, plan.total));
  if (order === 'any') {
    expect(py.tensors.map(([n, s]) => `${n} ${s}`).sort(), label).toEqual(plan.tensors.map((t) => `${inMemory(t.name)} ${t.shape}`).sort());
  } else {
    expect(py.tensors, label).toEqual(plan.tensors.map((t) => [inMemory(t.name), t.shape]));
  }
}

/**
 * get_peft_model (not PeftModel.from_pretrained) on an exported config notes that the config
 * names the base model 'tiny-gpt2' while it was loaded from a folder path.
 */
export const BASE_MODEL_RENAMED_WARNING = /^UserWarning: The PEFT config's `base_model_name_or_path` was renamed from 'tiny-gpt2' to '.*tiny-gpt2'/;

/** A prompt-learning plan tensor's name as PEFT names the parameter in memory (adapter name `default`). */
export function promptEncoderInMemory(name: string): string {
  return name.replace(/^prompt_encoder\./, 'prompt_encoder.default.');
}

/** What a PEFT script reports about an adapter it trained and saved with save_pretrained. */
export interface PeftSaveReport {
  files: string[];
  losses: number[];
  warnings: string[];
}

/** PEFT trained `steps` steps with finite losses and saved the folder save_pretrained writes, warning of nothing but the loss type. */
export function expectCleanPeftSave(r: PeftSaveReport, steps: number): void {
  expect(r.files).toEqual(expect.arrayContaining([ADAPTER_CONFIG, ADAPTER_WEIGHTS]));
  expectFiniteLosses(r.losses, steps);
  expect(r.warnings.filter((w) => !LOSS_TYPE_WARNING.test(w))).toEqual([]);
}

/**
 * The files of the PEFT folder `dir()` and the adapter loaded from them once, kept in `cache`
 * under the folder's path for the test file to dispose. `dir` is read only when a test runs, after
 * beforeAll has made the folder.
 */
export function importedAdapter(dir: () => string, cache: Map<string, Adapter>, load: (files: Record<string, Uint8Array>) => Adapter) {
  const folder = () => readFolder(dir());
  const adapter = () => {
    const key = dir();
    if (!cache.has(key)) cache.set(key, load(folder()));
    return cache.get(key)!;
  };
  return { folder, adapter };
}

/** Expects the adapter to export adapter_model.safetensors byte for byte as the folder holds it. */
export async function expectSameWeightsFile(adapter: Adapter, folder: Record<string, Uint8Array>): Promise<void> {
  const { files } = await adapter.exportFiles();
  expect(Buffer.from(files[ADAPTER_WEIGHTS]).equals(Buffer.from(folder[ADAPTER_WEIGHTS]))).toBe(true);
}

/**
 * Expects a Python model's logits to be the studio's within TOLERANCE, with the adapter
 * (`py.logits` vs `ours`) and without it (`py.base_logits` vs `baseLogits`), and logs the
 * differences and how far the adapter moves the studio's logits; returns that distance.
 */
export function expectStudioLogits(label: string, py: { logits: unknown; base_logits: unknown }, ours: Float32Array, baseLogits: Float32Array, side = 'PEFT'): number {
  const base = maxAbsDiff(flat(py.base_logits), baseLogits);
  const adapted = maxAbsDiff(flat(py.logits), ours);
  const effect = maxAbsDiff(ours, baseLogits);
  console.log(`${label}: max |${side} − studio| base ${base.toExponential(2)}, adapted ${adapted.toExponential(2)}; adapter effect ${effect.toExponential(2)}`);
  expect(base).toBeLessThan(TOLERANCE);
  expect(adapted).toBeLessThan(TOLERANCE);
  return effect;
}

/**
 * expectStudioLogits for an adapter PEFT made, plus: the adapter moves the logits by more than
 * MIN_EFFECT on both sides, so a no-op import cannot pass.
 */
export function expectImportedLogits(label: string, py: { logits: unknown; base_logits: unknown }, ours: Float32Array, baseLogits: Float32Array): void {
  expect(expectStudioLogits(label, py, ours, baseLogits)).toBeGreaterThan(MIN_EFFECT);
  expect(maxAbsDiff(flat(py.logits), flat(py.base_logits))).toBeGreaterThan(MIN_EFFECT);
}

/** The rows PEFT trains on in the scripts that make adapters: each text's ids, cut to 32. */
export function peftTrainIds(studio: Studio, texts: string[]): number[][] {
  return texts.map((t) => studio.tokenizer.encode(t).slice(0, 32));
}

/** What PeftModel.from_pretrained reports about a prompt-learning export and its file. */
export interface PromptFileReport {
  load_warnings: string[];
  metadata: Record<string, string> | null;
  file_keys: string[];
  peft_state_keys: string[];
}

/** PEFT loaded a prompt-learning export without a warning; the file is {"format": "pt"} with the one tensor prompt_embeddings, the one PEFT saves. */
export function expectPromptFileLoaded(r: PromptFileReport): void {
  expect(r.load_warnings).toEqual([]);
  expect(r.metadata).toEqual({ format: 'pt' });
  expect(r.file_keys).toEqual(['prompt_embeddings']);
  expect(r.peft_state_keys).toEqual(['prompt_embeddings']);
}

/**
 * Texts or sentence pairs as the studio batches them for a classifier: encoded (a pair with its
 * token types), right-padded to the longest row, every row's class 0 (only the logits are compared).
 */
export function classifierRows(tok: TextTokenizer, rows: [string, string?][]) {
  const enc = rows.map(([a, b]) => (b === undefined ? { ids: tok.encode(a), typeIds: tok.encode(a).map(() => 0) } : tok.encodePair(a, b)));
  const length = Math.max(...enc.map((e) => e.ids.length));
  const batch = makeBatch(
    enc.map((e) => e.ids),
    length,
    tok.padId,
    { classes: enc.map(() => 0), tokenTypes: enc.map((e) => e.typeIds) },
  );
  return { enc, length, batch };
}
