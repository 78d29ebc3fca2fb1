// Makes docs/screenshot.png for the README: the studio after a short LoRA run.
// `npx tsx scripts/screenshot.mts [backend]` (default wasm: a curve in seconds here).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, dropFile, fill, sampleJsonl } from '../e2e/driver';

const backend = process.argv[2] ?? 'wasm';
const port = 4175;
await new Promise<void>((resolve, reject) => {
  const build = spawn('npx', ['vite', 'build', '--logLevel', 'error'], { stdio: 'inherit' });
  build.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build exited ${code}`))));
});
const server = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort'], { stdio: 'ignore', detached: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  for (let i = 0; ; i++) {
    try {
      await page.goto(`http://localhost:${port}/?backend=${backend}`);
      break;
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await page.locator('code', { hasText: 'trainable params' }).waitFor();
  await fill(page, 'Sequence length', '64');
  await dropFile(page, 'stories.jsonl', sampleJsonl(80, 2));
  await page.getByText('First examples').waitFor();
  await fill(page, 'Steps', '60');
  await fill(page, 'Batch size', '4');
  await fill(page, 'Learning rate', '0.003');
  await fill(page, 'Eval every', '10');
  await page.waitForFunction(() => !(document.querySelector('button.primary') as HTMLButtonElement | null)?.disabled);
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.waitForFunction(() => !(Array.from(document.querySelectorAll('button')).find((b) => b.textContent === 'Export adapter') as HTMLButtonElement).disabled, null, { timeout: 600_000 });
  mkdirSync('docs', { recursive: true });
  await page.screenshot({ path: 'docs/screenshot.png', fullPage: true });
  console.log('wrote docs/screenshot.png');
} finally {
  await browser.close();
  if (server.pid) process.kill(-server.pid);
}
