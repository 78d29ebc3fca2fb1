// A whole session as a person has it, timed in headless Chromium: open the page, load the
// built-in model, click a sample dataset, start LoRA training, see the first step, let the
// run finish, download the adapter. Prints the time from opening the page to the first step
// the page shows, and every main-thread task over 50 ms (Long Tasks API) with what the page's
// status said when it ran, so a long task can be traced to the part of the session that
// caused it. Used by `npm run bench -- --session`.
import { chromium, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, fill } from '../e2e/driver';

export interface SessionTiming {
  backend: string;
  /** From navigation start to the page showing "Step 1 of …". */
  firstStepMs: number;
  /** From navigation start to the backend and model being ready (Start training enabled after a sample). */
  readyMs: number;
  longestTaskMs: number;
  longTasks: { startMs: number; durationMs: number; during: string }[];
  /** Longest gap between animation frames while the session ran. */
  longestFrameGapMs: number;
  steps: number;
}

/** The Long Tasks observer goes in before any of the page's scripts run, to see their start-up too. */
async function observeTasks(page: Page) {
  // tsx names inner functions through a `__name` helper that the page does not have.
  await page.addInitScript({ content: 'window.__name = (f) => f;' });
  await page.addInitScript(() => {
    const w = window as unknown as { tasks: { start: number; duration: number }[] };
    w.tasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.tasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
}

/** Once the document exists: frame gaps, and every change of a live region (the session's phases, as a screen reader hears them). */
async function observePage(page: Page) {
  await page.evaluate(() => {
    const w = window as unknown as { sessionLog: { t: number; status: string }[]; frameGap: number };
    w.sessionLog = [];
    w.frameGap = 0;
    let last = performance.now();
    const frame = (t: number) => {
      w.frameGap = Math.max(w.frameGap, t - last);
      last = t;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    const seen = new Map<Element, string>();
    const scan = () => {
      for (const el of document.querySelectorAll('[role="status"], [aria-live]')) {
        const text = (el.textContent ?? '').trim().slice(0, 80);
        if (text && seen.get(el) !== text) {
          seen.set(el, text);
          w.sessionLog.push({ t: performance.now(), status: text });
        }
      }
    };
    scan();
    new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

export async function timeSession(url: string, backend: string, steps: number): Promise<SessionTiming> {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ acceptDownloads: true });
    await observeTasks(page);
    await page.goto(`${url}?backend=${backend}`);
    await observePage(page);
    await page.locator('code', { hasText: 'trainable params' }).waitFor({ timeout: 600_000 });
    await page.getByRole('group', { name: 'Or try a sample:' }).getByRole('button', { name: /^English prose/ }).click();
    await fill(page, 'Steps', String(steps));
    const start = page.getByRole('button', { name: 'Start training' });
    // Polled a few times a second, not at every frame: the page's own tasks are what is measured.
    await page.waitForFunction(() => !(document.querySelector('button.primary') as HTMLButtonElement | null)?.disabled, null, { timeout: 600_000, polling: 250 });
    const readyMs = await page.evaluate(() => performance.now());
    await start.click();
    await page.getByText(/^Step 1 of/).waitFor({ timeout: 600_000 });
    const firstStepMs = await page.evaluate(() => performance.now());
    const exportButton = page.getByRole('button', { name: 'Export adapter' });
    await page.waitForFunction(() => !(Array.from(document.querySelectorAll('button')).find((b) => b.textContent === 'Export adapter') as HTMLButtonElement | undefined)?.disabled, null, { timeout: 1_800_000, polling: 250 });
    const download = page.waitForEvent('download');
    await exportButton.click();
    await download;
    await page.waitForTimeout(1000);
    const seen = await page.evaluate(() => {
      const w = window as unknown as { sessionLog: { t: number; status: string }[]; tasks: { start: number; duration: number }[]; frameGap: number };
      return { log: w.sessionLog, tasks: w.tasks, frameGap: w.frameGap };
    });
    const during = (t: number) => seen.log.filter((e) => e.t <= t).at(-1)?.status ?? '(page loading)';
    const longTasks = seen.tasks.map((x) => ({ startMs: Math.round(x.start), durationMs: Math.round(x.duration), during: during(x.start) }));
    return {
      backend,
      firstStepMs: Math.round(firstStepMs),
      readyMs: Math.round(readyMs),
      longestTaskMs: Math.max(0, ...longTasks.map((x) => x.durationMs)),
      longTasks,
      longestFrameGapMs: Math.round(seen.frameGap),
      steps,
    };
  } finally {
    await browser.close();
  }
}

export function printSession(s: SessionTiming): void {
  console.log(`\n== a whole session on ${s.backend}: built-in model, English prose sample, LoRA, ${s.steps} steps, export`);
  console.log(`ready to train ${(s.readyMs / 1000).toFixed(1)} s after opening the page; first step shown at ${(s.firstStepMs / 1000).toFixed(1)} s`);
  console.log(`longest main-thread task ${s.longestTaskMs} ms (${s.longTasks.length} over 50 ms); longest gap between frames ${s.longestFrameGapMs} ms`);
  for (const t of s.longTasks) console.log(`  ${String(t.durationMs).padStart(5)} ms at ${(t.startMs / 1000).toFixed(1)} s, while: ${t.during}`);
}
