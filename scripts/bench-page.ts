// The browser half of `npm run bench`: the studio page (built, served by `vite preview`) in
// headless Chromium, driven as a person drives it — the base model chosen in "Base model" or
// loaded with "Choose a model folder", a dataset dropped on the page, the method chosen in
// "Method", the training fields filled, Start training pressed — so every step runs in the
// page's own training worker, on the backend `?backend=` asks for.
//
// What the page does not show is read inside that worker, without changing it: a probe
// (WORKER_PROBE) evaluated in the worker's global scope wraps
//  - the tfjs engine's runKernel (tfjs keeps its engine on the global object as `_tfengine`):
//    kernels run;
//  - its trackTensor and removeDataId: the bytes of the distinct data buffers alive (from
//    tf.memory().numBytes when the probe goes in), whose running maximum is the step's peak. tf.memory().numBytes counts a tensor's bytes once per
//    tensor, so every clone of one buffer (tfjs clones each tensor an op saves for the backward
//    pass; the clone shares the data) again: it overstates what is held;
//  - its startTape, when no tape is active: the start of each step (its gradients are being
//    recorded), where the counters are snapshotted;
//  - GPUComputePassEncoder.prototype.dispatchWorkgroups and GPUDevice.prototype.createBuffer:
//    compute dispatches and the bytes of the GPU buffers created;
//  - the worker's postMessage: each `stepDone` (sent when the backend has finished the step;
//    its elapsedMs is the worker's clock) and the run's end.
// A step's time is the gap between consecutive stepDone messages (so the batched loss
// read-back, once every four steps, is inside the step it follows). The counters per step are
// those between the starts (gradients calls) of the first timed step and of the last step,
// divided by the steps between: whole steps in the order the worker records them, the read-back
// outside; the peak is the largest of those steps'.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page, type Worker } from '@playwright/test';
import { CHROMIUM_ARGS, dropFile, fill, sampleJsonl } from '../e2e/driver';
import { writeRandomGpt2Folder } from './bench-models';
import type { BenchConfig, Measurement, Skipped } from './bench-results';

/** A config the page trains: the built-in tiny-gpt2, or a random GPT-2 loaded from a folder. */
export interface PageConfig extends BenchConfig {
  /** The built-in model's id, or the config.json a model folder is written with. */
  model: { builtIn: string } | { configJson: Record<string, unknown> };
}

export interface PagePlan {
  port: number;
  backends: ('webgpu' | 'wasm')[];
  configs: PageConfig[];
  methods: string[];
  /** Timed steps after the one warm-up step. */
  steps: number;
  /** Run every method on a software WebGPU adapter's larger configs too. */
  all: boolean;
  /** Called with each row as it is measured or skipped. */
  onRow(row: Measurement | Skipped): void;
  /** Called with the browser's version and each backend's adapter as they become known. */
  onMachine(machine: PageMachine): void;
}

export interface PageMachine {
  chromium: string;
  adapters: Partial<Record<'webgpu' | 'wasm', string>>;
}

/** On a software WebGPU adapter, a larger config runs only these (a step takes minutes there). */
export const SOFTWARE_LARGER_METHODS = ['lora', 'full-finetune'];
/** A config that recomputes activations runs only these, unless every method is asked for (`all`). */
export const RECOMPUTE_METHODS = ['lora', 'full-finetune'];
/** …with this many timed steps. */
const SOFTWARE_LARGER_STEPS = 1;

const WORKER_PROBE = `(() => {
  if (self.__bench) return true;
  const engine = self._tfengine;
  if (!engine) return false;
  const c = { kernels: 0, dispatches: 0, bufferBytes: 0, peak: 0, starts: [], done: [], ended: null, errors: [] };
  // tensorInfo is a WeakMap (not enumerable): what is held when the probe goes in is taken from
  // tf.memory(), exact while no two live tensors share a buffer, as before any step.
  const info = engine.state.tensorInfo;
  let held = engine.state.numBytes;
  const snap = () => ({ kernels: c.kernels, dispatches: c.dispatches, bufferBytes: c.bufferBytes, peak: c.peak });
  const runKernel = engine.runKernel;
  engine.runKernel = function (...a) { c.kernels++; return runKernel.apply(this, a); };
  const trackTensor = engine.trackTensor;
  engine.trackTensor = function (t, b) {
    const had = info.has(t.dataId);
    const r = trackTensor.call(this, t, b);
    if (!had && info.has(t.dataId)) { held += info.get(t.dataId).bytes; if (held > c.peak) c.peak = held; }
    return r;
  };
  const removeDataId = engine.removeDataId;
  engine.removeDataId = function (d, b) {
    const was = info.get(d);
    const r = removeDataId.call(this, d, b);
    if (was && !info.has(d)) held -= was.bytes;
    return r;
  };
  // A training step starts recording a fresh tape (a block rerun in the backward pass records
  // one while the step's own is still active).
  const startTape = engine.startTape;
  engine.startTape = function (...a) { if (engine.state.activeTape == null) { c.starts.push(snap()); c.peak = held; } return startTape.apply(this, a); };
  if (typeof GPUComputePassEncoder !== 'undefined') {
    const dispatch = GPUComputePassEncoder.prototype.dispatchWorkgroups;
    GPUComputePassEncoder.prototype.dispatchWorkgroups = function (...a) { c.dispatches++; return dispatch.apply(this, a); };
    const createBuffer = GPUDevice.prototype.createBuffer;
    GPUDevice.prototype.createBuffer = function (d) { c.bufferBytes += d.size; return createBuffer.call(this, d); };
  }
  const post = self.postMessage.bind(self);
  self.postMessage = (msg, transfer) => {
    if (msg && msg.type === 'stepDone') c.done.push({ step: msg.point.step, elapsedMs: msg.point.elapsedMs, at: snap() });
    if (msg && msg.type === 'trainingEnded') c.ended = { reason: msg.reason, message: msg.message, step: msg.step };
    if (msg && msg.type === 'error') c.errors.push(msg.context + ': ' + msg.message);
    return post(msg, transfer);
  };
  // Only once every wrapper is in: a probe that failed half-way is tried again, not taken as in.
  self.__bench = c;
  return true;
})()`;

interface Snapshot {
  kernels: number;
  dispatches: number;
  bufferBytes: number;
  peak: number;
}
interface ProbeState {
  starts: Snapshot[];
  done: { step: number; elapsedMs: number; at: Snapshot }[];
  ended: { reason: string; message?: string; step: number } | null;
  errors: string[];
}

function progress(line: string) {
  console.error(`   [${new Date().toISOString().slice(11, 19)}] ${line}`);
}

async function studioWorker(page: Page): Promise<Worker> {
  for (let waited = 0; waited < 60_000; waited += 250) {
    for (const w of page.workers()) if (await w.evaluate(WORKER_PROBE).catch(() => false)) return w;
    await page.waitForTimeout(250);
  }
  throw new Error('no worker of the page holds a tfjs engine');
}

async function openPage(browser: Browser, port: number, backend: string, cfg: PageConfig, dir: string): Promise<{ page: Page; worker: Worker; adapter: string; software: boolean }> {
  const page = await browser.newPage();
  await page.goto(`http://localhost:${port}/?backend=${backend}`);
  const region = page.getByRole('region', { name: 'Compute backend' });
  const name = page.locator('.backend-name');
  await name.waitFor({ timeout: 600_000 });
  const adapter = (await name.innerText()).trim();
  const software = (await name.getAttribute('class'))?.includes('is-software') ?? false;
  if (!(await name.getAttribute('class'))?.includes(`backend-${backend}`)) throw new Error(`the page fell back from ${backend}: ${(await region.innerText()).replace(/\s+/g, ' ')}`);
  // "Load model from disk" is enabled once the self-check has passed and the default model has loaded.
  const loadFromDisk = page.getByLabel('Load model from disk');
  for (let waited = 0; !(await loadFromDisk.isEnabled()); waited += 500) {
    if (waited > 600_000) throw new Error('"Load model from disk" stayed disabled');
    await page.waitForTimeout(500);
  }
  const status = page.getByRole('status');
  if ('builtIn' in cfg.model) {
    await page.getByRole('combobox', { name: 'Base model' }).selectOption(cfg.model.builtIn);
    await status.filter({ hasText: /^Model loaded: Tiny GPT-2/ }).waitFor({ timeout: 600_000 });
  } else {
    const folder = writeRandomGpt2Folder(dir, cfg.model.configJson);
    await page.getByLabel('Choose a model folder').setInputFiles(folder);
    await status.filter({ hasText: /^Model loaded: gpt2-/ }).waitFor({ timeout: 600_000 });
  }
  const worker = await studioWorker(page);
  await fill(page, 'Sequence length', String(cfg.sequence));
  // Lines of ~400 bytes (tokens, over bytes) cut into 128-token windows; a tenth held out.
  await dropFile(page, 'bench.jsonl', sampleJsonl(24, 8));
  await page.getByText('First examples').waitFor({ timeout: 300_000 });
  return { page, worker, adapter, software };
}

async function trainOnce(page: Page, worker: Worker, backend: 'webgpu' | 'wasm', cfg: PageConfig, method: string, steps: number): Promise<Measurement> {
  const total = steps + 1;
  await page.getByRole('combobox', { name: 'Method', exact: true }).selectOption(method);
  await fill(page, 'Steps', String(total));
  await fill(page, 'Batch size', String(cfg.batch));
  await fill(page, 'Eval every', String(total));
  await fill(page, 'Warmup steps', '0');
  await fill(page, 'Learning rate', '0.0001');
  await page.getByLabel('Recompute activations in the backward pass').setChecked(cfg.recompute === true);
  const trainable = await trainableOf(page);
  const start = page.getByRole('button', { name: 'Start training' });
  await page.waitForFunction(() => !(document.querySelector('button.primary') as HTMLButtonElement | null)?.disabled, null, { timeout: 120_000 });
  await worker.evaluate('(() => { const c = self.__bench; c.starts = []; c.done = []; c.ended = null; c.errors = []; })()');
  await start.click();
  let state: ProbeState;
  for (;;) {
    state = (await worker.evaluate('self.__bench')) as ProbeState;
    if (state.ended || state.errors.length > 0) break;
    await page.waitForTimeout(1000);
  }
  if (state.errors.length > 0 || state.ended!.reason !== 'finished') throw new Error(`training ${state.ended?.reason ?? 'failed'}: ${state.ended?.message ?? state.errors.join('; ')}`);
  const done = state.done.sort((a, b) => a.step - b.step);
  if (done.length !== total || state.starts.length !== total) throw new Error(`saw ${done.length} stepDone and ${state.starts.length} steps begun for ${total} steps`);
  const stepMs = done.slice(1).map((d, i) => d.elapsedMs - done[i].elapsedMs);
  // The counters between the starts of the first and the last timed step: whole steps, each
  // with everything recorded before its gradients (a distilling teacher's forward pass) and
  // without the batched loss read-back. With one timed step, up to its stepDone instead.
  const first = state.starts[1];
  const windowSteps = total >= 3 ? total - 2 : 1;
  const last = total >= 3 ? state.starts[total - 1] : done[total - 1].at;
  // Each step's peak is recorded at the start of the next step (or at the last stepDone).
  const peaks = total >= 3 ? state.starts.slice(2).map((s) => s.peak) : [last.peak];
  return {
    backend,
    method,
    config: pick(cfg),
    stepMs,
    warmupSteps: 1,
    trainable,
    peakBytes: Math.max(...peaks),
    dispatchesPerStep: backend === 'webgpu' ? (last.dispatches - first.dispatches) / windowSteps : undefined,
    bufferBytesPerStep: backend === 'webgpu' ? (last.bufferBytes - first.bufferBytes) / windowSteps : undefined,
    kernelsPerStep: (last.kernels - first.kernels) / windowSteps,
  };
}

/** Trainable parameters as the page's budget (or, for distillation, the student's size) shows them, once it is up to date. */
async function trainableOf(page: Page): Promise<number> {
  const name = page.locator('dt', { hasText: /^(Trainable parameters|Student parameters)$/ });
  await name.waitFor({ timeout: 120_000 });
  await page.locator('section.panel[aria-busy="true"]').waitFor({ state: 'detached', timeout: 120_000 });
  const text = await name.locator('xpath=following-sibling::dd').innerText();
  const n = Number(text.replace(/,/g, ''));
  if (!Number.isInteger(n)) throw new Error(`the page's trainable parameter count is not a number: ${text}`);
  return n;
}

function pick(c: PageConfig): BenchConfig {
  return { name: c.name, layers: c.layers, width: c.width, heads: c.heads, vocab: c.vocab, batch: c.batch, sequence: c.sequence, recompute: c.recompute };
}

/** Runs the plan; returns the machine's browser and adapters. */
export async function benchPage(plan: PagePlan, startPreview: (port: number) => Promise<{ stop(): void }>): Promise<PageMachine> {
  const dir = mkdtempSync(join(tmpdir(), 'peft-studio-bench-'));
  const server = await startPreview(plan.port);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const machine: PageMachine = { chromium: browser.version(), adapters: {} };
  plan.onMachine(machine);
  try {
    for (const backend of plan.backends) {
      for (const cfg of plan.configs) {
        progress(`${backend} ${cfg.name}: opening the page`);
        let opened: Awaited<ReturnType<typeof openPage>>;
        try {
          opened = await openPage(browser, plan.port, backend, cfg, dir);
        } catch (e) {
          const why = (e as Error).message.split('\n')[0];
          for (const method of plan.methods) plan.onRow({ backend, method, config: pick(cfg), skipped: why });
          continue;
        }
        const { page, worker, adapter, software } = opened;
        machine.adapters[backend] = adapter;
        plan.onMachine(machine);
        if (software && cfg.recompute && !plan.all) {
          // The same compute as the config without recomputation plus one forward pass: on a
          // software adapter that is many minutes a row and says nothing the wasm rows do not.
          for (const method of plan.methods.filter((m) => RECOMPUTE_METHODS.includes(m))) {
            plan.onRow({ backend, method, config: pick(cfg), skipped: `software WebGPU adapter (${adapter}): recomputing adds a forward pass to steps of minutes; --all runs it` });
          }
          await page.close();
          continue;
        }
        const reduced = software && cfg.name !== 'reference' && !plan.all;
        if (reduced) progress(`${backend} ${cfg.name}: software adapter (${adapter}): only ${SOFTWARE_LARGER_METHODS.join(' and ')}, ${SOFTWARE_LARGER_STEPS} timed step (--all runs everything)`);
        for (const method of plan.methods.filter((m) => !cfg.recompute || plan.all || RECOMPUTE_METHODS.includes(m))) {
          if (reduced && !SOFTWARE_LARGER_METHODS.includes(method)) {
            plan.onRow({ backend, method, config: pick(cfg), skipped: `software WebGPU adapter (${adapter}): a step of this config takes minutes; --all runs it` });
            continue;
          }
          progress(`${backend} ${cfg.name} ${method}: training`);
          try {
            plan.onRow(await trainOnce(page, worker, backend, cfg, method, reduced ? Math.min(plan.steps, SOFTWARE_LARGER_STEPS) : plan.steps));
          } catch (e) {
            plan.onRow({ backend, method, config: pick(cfg), skipped: `failed: ${(e as Error).message.split('\n')[0]}` });
          }
        }
        await page.close();
      }
    }
  } finally {
    await browser.close();
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return machine;
}
