// Reading dropped datasets in the browser: a file with a few bad lines keeps its good rows, lists
// the bad ones by line and saves them as they were; a 100 MB file is read in the worker as a
// stream, with a progress bar, while the page's main thread stays free.
import { expect, test } from '@playwright/test';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatInt } from '../app/format';
import { splitHeldOut } from '../src/data/dataset';
import { dropFile, expectBackend, forbidExternalRequests, SAMPLE_SENTENCES, sampleJsonl } from './driver';

forbidExternalRequests(test);

test('a JSONL file with two bad lines keeps the others, lists the two by line and saves them as they were', async ({ page }) => {
  await page.goto('/?backend=cpu');
  await expectBackend(page, 'CPU');
  await expect(page.locator('code', { hasText: 'trainable params' })).toBeVisible();
  const good = sampleJsonl(12).split('\n');
  const bad = ['{"text": "an unclosed string}', '{"title": "no text here"}'];
  // Lines 4 and 10 are the bad ones.
  const lines = [...good.slice(0, 3), bad[0], ...good.slice(3, 8), bad[1], ...good.slice(8)];
  await dropFile(page, 'partly.jsonl', `${lines.join('\n')}\n`);

  const rejected = page.getByRole('group', { name: '2 rows rejected' });
  await expect(rejected).toBeVisible();
  await expect(page.getByTestId('dataset-kept')).toHaveText('Kept 12 rows, rejected 2: the rejected rows are left out of training.');
  const rows = rejected.getByRole('table').getByRole('row');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(1).getByRole('cell')).toHaveText(['4', /^not valid JSON/]);
  await expect(rows.nth(2).getByRole('cell')).toHaveText(['10', 'missing "text" (or "prompt" + "completion", or "instruction" + "output", or "messages" / "conversations"); found "title"']);
  await expect(page.getByRole('status')).toContainText('Dataset loaded: partly.jsonl · kept 12 rows, rejected 2');

  const downloaded = page.waitForEvent('download');
  await rejected.getByRole('button', { name: 'Download rejected rows' }).click();
  const download = await downloaded;
  expect(download.suggestedFilename()).toBe('partly.rejected.jsonl');
  expect(readFileSync((await download.path())!, 'utf-8')).toBe(`${bad[0]}\n${bad[1]}\n`);
  await expect(page.getByRole('status')).toHaveText('Saved the rejected rows as partly.rejected.jsonl');
  await expect(page.getByRole('button', { name: 'Start training' })).toBeEnabled();
});

/** Bytes of the large file, and how long its lines are (about 1 kB each). */
const LARGE_BYTES = 100 * 1024 * 1024;

test('a 100 MB JSONL file is read in the worker with a progress bar while the page stays responsive', async ({ page }) => {
  test.setTimeout(600_000);
  // The page's longest main-thread task and longest gap between animation frames, and the
  // progress bar's values as they change, recorded from before the page's own scripts run.
  await page.addInitScript(() => {
    const w = window as unknown as { longestTask: number; longTasks: number; longestFrameGap: number; progressSeen: { label: string; value: number; max: number; t: number }[] };
    w.longestTask = 0;
    w.longTasks = 0;
    w.longestFrameGap = 0;
    w.progressSeen = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        w.longestTask = Math.max(w.longestTask, e.duration);
        w.longTasks++;
      }
    }).observe({ type: 'longtask', buffered: true });
    let lastFrame = 0;
    const frame = (t: number) => {
      if (lastFrame > 0) w.longestFrameGap = Math.max(w.longestFrameGap, t - lastFrame);
      lastFrame = t;
      const bar = document.getElementById('dataset-progress') as HTMLProgressElement | null;
      const label = bar ? (document.querySelector('label[for="dataset-progress"]')?.textContent ?? '') : '';
      const last = w.progressSeen.at(-1);
      if (bar && (!last || last.value !== bar.value || last.label !== label)) w.progressSeen.push({ label, value: bar.value, max: bar.max, t });
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
  await page.goto('/?backend=cpu');
  await expectBackend(page, 'CPU');
  await page.getByRole('combobox', { name: 'Base model' }).selectOption('tiny-gpt2');
  await expect(page.locator('code', { hasText: 'trainable params' })).toContainText('all params: 875,392');

  // Written line by line to a temporary file, never held whole here; the browser reads it from disk.
  const dir = mkdtempSync(join(tmpdir(), 'reading-'));
  const path = join(dir, 'large.jsonl');
  const out = createWriteStream(path);
  let lines = 0;
  let bytes = 0;
  const badLines = [2];
  while (bytes < LARGE_BYTES) {
    lines++;
    const line = badLines.includes(lines) ? '{"text": not json}' : JSON.stringify({ text: `${lines}. ${Array.from({ length: 20 }, (_, k) => SAMPLE_SENTENCES[(lines + k) % SAMPLE_SENTENCES.length]).join(' ')}` });
    bytes += Buffer.byteLength(line) + 1;
    if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
  expect(statSync(path).size).toBe(bytes);
  const kept = lines - badLines.length;
  try {
    await page.evaluate(() => {
      const w = window as unknown as { longestTask: number; longTasks: number; longestFrameGap: number };
      w.longestTask = 0;
      w.longTasks = 0;
      w.longestFrameGap = 0;
    });
    const t0 = Date.now();
    await page.getByLabel('Dataset').setInputFiles(path);
    const dataset = page.locator('section', { has: page.getByText('First examples') });
    await expect(page.getByTestId('dataset-kept')).toHaveText(`Kept ${formatInt(kept)} rows, rejected 1: the rejected rows are left out of training.`, { timeout: 540_000 });
    const loadMs = Date.now() - t0;
    const split = splitHeldOut(kept, 0.1, 42);
    const [trainExamples, evalExamples] = [split.train.length, split.eval.length];
    await expect(dataset).toContainText(`${formatInt(kept)} (${formatInt(trainExamples)} train / ${formatInt(evalExamples)} held out)`);
    await expect(dataset.getByRole('table').getByRole('row').nth(1).getByRole('cell')).toHaveText(['2', /^not valid JSON/]);

    const seen = await page.evaluate(() => {
      const w = window as unknown as { longestTask: number; longTasks: number; longestFrameGap: number; progressSeen: { label: string; value: number; max: number; t: number }[] };
      return { longestTask: w.longestTask, longTasks: w.longTasks, longestFrameGap: w.longestFrameGap, progressSeen: w.progressSeen };
    });
    const reading = seen.progressSeen.filter((p) => p.label.startsWith('Reading large.jsonl'));
    const tokenizing = seen.progressSeen.filter((p) => p.label.startsWith('Tokenizing large.jsonl'));
    // The bar advanced through both phases, each step further than the last.
    expect(reading.length).toBeGreaterThanOrEqual(3);
    expect(tokenizing.length).toBeGreaterThanOrEqual(3);
    for (const phase of [reading, tokenizing]) for (let i = 1; i < phase.length; i++) expect(phase[i].value).toBeGreaterThanOrEqual(phase[i - 1].value);
    expect(reading[0].max).toBe(bytes);
    expect(tokenizing[0].max).toBe(kept);
    const readingMs = tokenizing[0].t - reading[0].t;
    const tokenizingMs = tokenizing.at(-1)!.t - tokenizing[0].t;
    console.log(
      `100 MB JSONL (${formatInt(bytes)} bytes, ${formatInt(lines)} lines): loaded in ${(loadMs / 1000).toFixed(1)} s (reading ${(readingMs / 1000).toFixed(1)} s, tokenizing ${(tokenizingMs / 1000).toFixed(1)} s as the bar showed them); ` +
        `longest main-thread task ${seen.longestTask.toFixed(0)} ms (${seen.longTasks} tasks over 50 ms), longest gap between frames ${seen.longestFrameGap.toFixed(0)} ms; ` +
        `progress bar seen at ${reading.length} reading and ${tokenizing.length} tokenizing values`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
