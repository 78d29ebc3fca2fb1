// `npm run check:learning`: does training on WebGPU learn what training on WebAssembly learns?
// Drives the page as a person does — the built-in English model, a short story it never saw
// (tests/fixtures/lighthouse-keeper.txt, a tenth held out), 60 steps of batch 2 × 64 at
// learning rate 0.002, no warmup — once per backend and method, and reads the held-out loss
// before and after from the page's "Held-out evaluations" table. The drops must agree within
// 10%: a backend with wrong gradients still lowers the loss, but by less (or more).
// `--methods lora,houlsby` picks the methods (default: both); `--steps N` the length.
import { chromium, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { CHROMIUM_ARGS, dropFile, fill } from '../e2e/driver';
import { startPreview } from './preview-server';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const METHODS = arg('methods', 'lora,houlsby').split(',');
const STEPS = Number(arg('steps', '60'));
const BACKENDS = ['webgpu', 'wasm'] as const;
const STORY = readFileSync(new URL('../tests/fixtures/lighthouse-keeper.txt', import.meta.url), 'utf8');

async function heldOut(page: Page): Promise<Map<number, number>> {
  const rows = await page.locator('.loss-table tbody tr').all();
  const out = new Map<number, number>();
  for (const row of rows) {
    const [step, , evalLoss] = await row.locator('td').allTextContents();
    out.set(Number(step.replace(/,/g, '')), Number(evalLoss));
  }
  return out;
}

async function run(page: Page, base: string, backend: string, method: string) {
  await page.goto(`${base}?backend=${backend}`);
  await page.locator('code', { hasText: 'trainable params' }).waitFor({ timeout: 300_000 });
  const described = (await page.getByRole('region', { name: 'Compute backend' }).innerText()).split('\n')[1];
  await page.getByRole('combobox', { name: 'Method', exact: true }).selectOption(method);
  await fill(page, 'Sequence length', '64');
  await dropFile(page, 'lighthouse-keeper.txt', STORY, 'text/plain');
  await page.getByText('First examples').waitFor({ timeout: 120_000 });
  await fill(page, 'Steps', String(STEPS));
  await fill(page, 'Batch size', '2');
  await fill(page, 'Learning rate', '0.002');
  await fill(page, 'Warmup steps', '0');
  await fill(page, 'Eval every', String(STEPS));
  await page.waitForFunction(() => !(document.querySelector('button.primary') as HTMLButtonElement | null)?.disabled, null, { timeout: 120_000 });
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.getByRole('status').filter({ hasText: /^Training (finished|failed|stopped)/ }).waitFor({ timeout: 3_600_000 });
  const status = await page.getByRole('status').innerText();
  if (!status.startsWith('Training finished')) throw new Error(`${method} on ${backend}: ${status}`);
  await page.locator('.loss-table summary').click();
  const evals = await heldOut(page);
  return { described, before: evals.get(0)!, after: evals.get(STEPS)!, seconds: (Date.now() - t0) / 1000 };
}

const server = await startPreview(4175);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
let ok = true;
try {
  console.log(`studio-gpt2-en, lighthouse-keeper.txt, ${STEPS} steps of batch 2 × 64, lr 0.002, no warmup; held-out loss in nats/token`);
  console.log('method     backend  before   after    drop     wall s   backend as the page names it');
  for (const method of METHODS) {
    const drops: Record<string, number> = {};
    for (const backend of BACKENDS) {
      const page = await browser.newPage();
      const r = await run(page, server.url, backend, method);
      drops[backend] = r.before - r.after;
      console.log(
        `${method.padEnd(10)} ${backend.padEnd(8)} ${r.before.toFixed(4)}   ${r.after.toFixed(4)}   ${drops[backend].toFixed(4)}   ${r.seconds.toFixed(0).padStart(6)}   ${r.described}`,
      );
      await page.close();
    }
    const ratio = drops.webgpu / drops.wasm;
    const same = Math.abs(ratio - 1) <= 0.1;
    ok &&= same;
    console.log(`${method}: WebGPU's drop is ${(100 * ratio).toFixed(1)}% of WebAssembly's — ${same ? 'the same within 10%' : 'NOT the same within 10%'}`);
  }
} finally {
  await browser.close();
  server.stop();
}
process.exit(ok ? 0 : 1);
