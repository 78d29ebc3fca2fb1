// `npm run bench -- --families`: training speed of the reference-sized model of each family
// (scripts/reference-models.ts), LoRA r=8 on the family's default targets, batch 1 × 64 tokens.
//  1. The engine in Node on the tfjs wasm backend (and with `--cpu` the cpu backend, which on a
//     shared 2-core machine did not finish GPT-2 small's warm-up step, timed step and forward
//     passes within ten minutes): one warm-up step, then timed steps; forward-only speed the
//     same way.
//  2. The studio page in headless Chromium on wasm and WebGPU, driven as a person drives it:
//     the model folder is written to a temporary directory and handed to "Choose a model
//     folder"; a one-example dataset (so no held-out batch is evaluated inside the timed run)
//     trains one warm-up run of one step, then a timed run of one step. ms/step is the wall
//     time of that run, from pressing Start training to the page announcing the end; tokens/s
//     is also read as the page shows it. Forward-only speed is timed with Generate (one new
//     token from a 64-token prompt: one forward pass over the prompt; causal LMs only).
//     SwiftShader's WebGPU is so slow that a 0.5B model's step takes many minutes: where the
//     step would take more than STEP_LIMIT_MS, the timed forward is reported together with the
//     step extrapolated from it (labelled so), scaled by the step/forward ratio the same model
//     showed in the page on wasm; where a warm-up step alone took longer than that, it is
//     reported (labelled, kernel compilation included) instead of a timed step.
// The machine's 1-minute load average is printed on every row: other jobs share its cores.
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { architectureOf } from '../src/models/registry';
import type { LoadedModel } from '../src/models/types';
import { lora } from '../src/peft/lora';
import { maskedLm, CAUSAL_LM, type LmObjective } from '../src/train/objective';
import { train, type TokenBatch } from '../src/train/trainer';
import { CHROMIUM_ARGS, dropFile, fill } from '../e2e/driver';
import { startPreview } from './preview-server';
import { buildReference, REFERENCE_MODELS, referenceInfo, referenceName, standInText, writeReferenceFolder, type ReferenceModel } from './reference-models';

const BATCH = 1;
const LENGTH = 64;
const TOKENS = BATCH * LENGTH;
/** Timed steps (and forward passes) after the warm-up, per backend. */
const TIMED_STEPS: Record<string, number> = { wasm: 2, cpu: 1 };
/** Past this, a page step is extrapolated from the forward pass instead of run. */
const STEP_LIMIT_MS = 5 * 60_000;

interface Row {
  ref: ReferenceModel;
  backend: string;
  msPerStep?: number;
  forwardMs?: number;
  /** Tokens/s as the page shows it. */
  pageTokensPerSecond?: string;
  note?: string;
  load: number;
}

const rows: Row[] = [];
/** Step ms / forward ms per model in the page on wasm, for extrapolating a WebGPU step. */
const stepPerForward = new Map<string, number>();

function selected(only?: string[]): ReferenceModel[] {
  if (!only) return [...REFERENCE_MODELS];
  return REFERENCE_MODELS.filter((r) => only.includes(r.family) || only.includes(r.model) || only.includes(referenceName(r)));
}

/** What the model trains on: next-token prediction, or BERT's masked-token prediction. */
function objectiveOf(ref: ReferenceModel, model: LoadedModel): LmObjective {
  if (architectureOf(model.info).objective === 'causal-lm') return CAUSAL_LM;
  if (!ref.masking) throw new Error(`${ref.model}: a masked LM needs its mask token (ReferenceModel.masking)`);
  return maskedLm(ref.masking, 1);
}

/** A fixed batch of ordinary tokens (ids above every special one), no padding. */
function benchBatch(vocabSize: number): TokenBatch {
  const ids = new Int32Array(TOKENS).map((_, i) => 1000 + ((i * 7919) % (vocabSize - 1000)));
  return { ids, labels: Int32Array.from(ids), batch: BATCH, length: LENGTH };
}

async function timeNode(ref: ReferenceModel, backend: string): Promise<Row> {
  const model = buildReference(ref);
  try {
    const batch = benchBatch(model.info.config.vocabSize);
    const objective = objectiveOf(ref, model);
    const adapter = lora.create(model, lora.defaults(model.info), 1);
    const steps = TIMED_STEPS[backend];
    const run = async (n: number) => {
      const r = await train(
        model,
        adapter,
        { totalSteps: n, learningRate: 1e-4, warmupSteps: 0, weightDecay: 0, maxGradNorm: 1, evalEvery: 0 },
        { nextBatch: () => ({ batch, epoch: 0 }), evalBatches: [], onProgress: () => {}, onEval: () => {}, shouldStop: () => false },
        objective,
      );
      if (r.reason !== 'finished') throw new Error(`${ref.model} on ${backend}: training ${r.reason}: ${r.message}`);
    };
    await run(1); // warm-up: kernel setup, first allocations
    let t0 = performance.now();
    await run(steps);
    const msPerStep = (performance.now() - t0) / steps;
    adapter.dispose();

    const ids = tf.tensor2d(batch.ids, [BATCH, LENGTH], 'int32');
    const forward = async () => {
      const s = tf.tidy(() => tf.sum(model.forward(ids).logits));
      await s.data();
      s.dispose();
    };
    await forward();
    t0 = performance.now();
    for (let i = 0; i < steps; i++) await forward();
    const forwardMs = (performance.now() - t0) / steps;
    ids.dispose();
    return { ref, backend: `node ${backend}`, msPerStep, forwardMs, note: `${steps} timed`, load: loadavg()[0] };
  } finally {
    model.dispose();
  }
}

async function benchNodeFamilies(refs: ReferenceModel[], backends: string[]) {
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const ref of refs) {
      let row: Row;
      try {
        row = await timeNode(ref, backend);
      } catch (e) {
        row = { ref, backend: `node ${backend}`, note: `FAILED: ${(e as Error).message.split('\n')[0]}`, load: loadavg()[0] };
      }
      rows.push(row);
      printRow(row);
    }
  }
}

/**
 * Records every change of the page's live status line with the page's clock, so the end of a
 * run is seen however briefly it showed "running" (a tiny step on wasm takes milliseconds).
 */
async function watchStatus(page: Page) {
  await page.evaluate(() => {
    const w = window as unknown as { statusLog: { t: number; text: string }[] };
    w.statusLog = [];
    const el = document.querySelector('[role="status"]')!;
    new MutationObserver(() => w.statusLog.push({ t: performance.now(), text: el.textContent ?? '' })).observe(el, { childList: true, subtree: true, characterData: true });
  });
}

/** Progress of the page part, on stderr so the table stays clean. */
function progress(line: string) {
  console.error(`   [${new Date().toISOString().slice(11, 19)}] ${line}`);
}

/**
 * Does `act` (presses a button, chooses files); returns the ms until the status line first
 * reads `to` after that. A status line or alert that says something failed ends the wait.
 */
async function timeUntilStatus(page: Page, act: () => Promise<unknown>, to: RegExp, timeout: number): Promise<number> {
  type Log = { statusLog: { t: number; text: string }[] };
  const t0 = await page.evaluate(() => {
    (window as unknown as Log).statusLog.length = 0;
    return performance.now();
  });
  await act();
  const source = to.source;
  await page.waitForFunction(
    (source) => (window as unknown as Log).statusLog.some((e) => new RegExp(source).test(e.text) || /fail|error|could not|cannot/i.test(e.text)) || document.querySelector('[role="alert"]') !== null,
    source,
    { polling: 250, timeout },
  );
  const t1 = await page.evaluate((source) => (window as unknown as Log).statusLog.find((e) => new RegExp(source).test(e.text))?.t, source);
  if (t1 === undefined) {
    const said = await page.evaluate(() => [...(window as unknown as Log).statusLog.map((e) => e.text), document.querySelector('[role="alert"]')?.textContent ?? ''].join(' | '));
    throw new Error(`the page did not reach "${source}": ${said}`);
  }
  return t1 - t0;
}

async function pageForward(page: Page): Promise<number> {
  const panel = page.getByRole('region', { name: 'Generate' });
  // 62 words and the tokenizer's [CLS] … [SEP]: 64 tokens.
  await panel.getByLabel('Prompt').fill(standInText(LENGTH - 2));
  await fill(page, 'Max new tokens', '1');
  await fill(page, 'Temperature', '0');
  const generate = panel.getByRole('button', { name: 'Generate', exact: true });
  let ms = 0;
  for (let i = 0; i < 2; i++) {
    // The first pass compiles the kernels; the second is timed.
    ms = await timeUntilStatus(page, () => generate.click(), /^Generation finished$/, 30 * 60_000);
    progress(`forward pass ${i + 1}: ${(ms / 1000).toFixed(1)} s`);
  }
  return ms;
}

async function pageTrain(page: Page): Promise<{ ms: number; tps: string; warmupOnly: boolean }> {
  const start = page.getByRole('button', { name: 'Start training' });
  let ms = 0;
  for (let i = 0; i < 2; i++) {
    // The first run (one step) compiles the kernels; the second is timed.
    await page.waitForFunction(() => !(document.querySelector('button.primary') as HTMLButtonElement | null)?.disabled, null, { timeout: 120_000 });
    ms = await timeUntilStatus(page, () => start.click(), /^Training finished at step 1\/1/, 60 * 60_000);
    progress(`training run ${i + 1} (one step): ${(ms / 1000).toFixed(1)} s`);
    if (i === 0 && ms > STEP_LIMIT_MS) break;
  }
  const tps = await page.locator('dt', { hasText: 'Tokens/s' }).locator('xpath=following-sibling::dd').innerText();
  return { ms, tps, warmupOnly: ms > STEP_LIMIT_MS };
}

async function timePage(page: Page, port: number, ref: ReferenceModel, folder: string, backend: string): Promise<Row> {
  const name = referenceName(ref);
  progress(`${name} on ${backend}: opening the page`);
  await page.goto(`http://localhost:${port}/?backend=${backend}`);
  // Enabled once the backend's self-check has passed and the built-in model has loaded.
  const loadFromDisk = page.getByLabel('Load model from disk');
  for (let waited = 0; !(await loadFromDisk.isEnabled()); waited += 500) {
    if (waited > 300_000) throw new Error('"Load model from disk" stayed disabled');
    await page.waitForTimeout(500);
  }
  await watchStatus(page);
  const load = await timeUntilStatus(page, () => page.getByLabel('Choose a model folder').setInputFiles(folder), /^Model loaded: /, 30 * 60_000);
  progress(`${name} on ${backend}: loaded from disk in ${(load / 1000).toFixed(1)} s`);

  const causal = architectureOf(referenceInfo(ref)).objective === 'causal-lm';
  const forwardMs = causal ? await pageForward(page) : undefined;
  const ratio = stepPerForward.get(ref.model);
  if (forwardMs !== undefined && ratio !== undefined && forwardMs * ratio > STEP_LIMIT_MS) {
    return { ref, backend: `page ${backend}`, forwardMs, msPerStep: forwardMs * ratio, note: `step EXTRAPOLATED: forward × ${ratio.toFixed(2)} (its step/forward in the page on wasm); not run`, load: loadavg()[0] };
  }

  await fill(page, 'Sequence length', String(LENGTH));
  // One example longer than the sequence length: cut to 64 tokens, and nothing held out.
  await dropFile(page, 'bench.jsonl', JSON.stringify({ text: standInText(2 * LENGTH) }));
  await page.getByText('First examples').waitFor({ timeout: 120_000 });
  await fill(page, 'Steps', '1');
  await fill(page, 'Batch size', String(BATCH));
  await fill(page, 'Warmup steps', '0');
  await fill(page, 'Eval every', '1');
  const { ms, tps, warmupOnly } = await pageTrain(page);
  if (backend === 'wasm' && forwardMs !== undefined) stepPerForward.set(ref.model, ms / forwardMs);
  const note = warmupOnly ? 'WARM-UP step only (kernel compilation included); not repeated' : '1 timed';
  return { ref, backend: `page ${backend}`, msPerStep: ms, forwardMs, pageTokensPerSecond: tps, note, load: loadavg()[0] };
}

async function benchBrowserFamilies(refs: ReferenceModel[], port: number) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-families-'));
  const server = await startPreview(port);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    // Model by model, wasm first: its step/forward ratio is what a WebGPU step too slow to run
    // is extrapolated with.
    for (const ref of refs) {
      for (const backend of ['wasm', 'webgpu']) {
        const folder = writeReferenceFolder(ref, dir);
        const page = await browser.newPage();
        try {
          const row = await timePage(page, port, ref, folder, backend);
          rows.push(row);
          printRow(row);
        } catch (e) {
          const row = { ref, backend: `page ${backend}`, note: `FAILED: ${(e as Error).message.split('\n')[0]}`, load: loadavg()[0] };
          rows.push(row);
          printRow(row);
        } finally {
          await page.close();
          rmSync(folder, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await browser.close();
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const HEADER = 'family  model                 parameters  backend       ms/step   tokens/s  fwd tok/s  page tok/s  load  note';

function printRow(r: Row) {
  const tps = r.msPerStep ? ((TOKENS * 1000) / r.msPerStep).toFixed(2) : '—';
  const ftps = r.forwardMs ? ((TOKENS * 1000) / r.forwardMs).toFixed(2) : '—';
  console.log(
    [
      r.ref.family.padEnd(7),
      referenceName(r.ref).padEnd(21),
      referenceInfo(r.ref).totalParams.toLocaleString('en-US').padStart(11),
      r.backend.padEnd(12),
      (r.msPerStep ? r.msPerStep.toFixed(0) : '—').padStart(8),
      tps.padStart(9),
      ftps.padStart(9),
      (r.pageTokensPerSecond ?? '—').padStart(11),
      r.load.toFixed(2).padStart(5),
      r.note ?? '',
    ].join(' '),
  );
}

export async function benchFamilies(opts: { node: boolean; browser: boolean; cpu: boolean; port: number; only?: string[] }) {
  const refs = selected(opts.only);
  console.log(`\n== reference-sized models, LoRA r=8 on each family's default targets, batch ${BATCH} × ${LENGTH} tokens`);
  console.log(`   machine: ${(await import('node:os')).cpus().length} cores; load = 1-minute load average when the row finished`);
  console.log(HEADER);
  if (opts.node) await benchNodeFamilies(refs, opts.cpu ? ['wasm', 'cpu'] : ['wasm']);
  if (opts.browser) await benchBrowserFamilies(refs, opts.port);
  console.log('\n== summary');
  console.log(HEADER);
  for (const r of rows) printRow(r);
}
