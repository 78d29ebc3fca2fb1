// What the page says while a run trains slowly and while it stops, in headless Chromium on
// the wasm backend: the held-out batches measured before the first step are counted; the step
// count moves at every step before any loss has been read back; Stop says what it waits for;
// Skip final evaluation, pressed from the keyboard, ends the run without the held-out
// evaluation, and Export is available at once.
import { expect, test } from '@playwright/test';
import { dropFile, expectBackend, fill, forbidExternalRequests, sampleJsonl } from './driver';

forbidExternalRequests(test);

/** What the run progress shows: its step and the Loss figure. */
interface Seen {
  step: number;
  loss: string;
}

test('the step count moves before the losses are read back; Stop says what it waits for, and Skip final evaluation ends the run', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await expectBackend(page, 'WebAssembly');
  await page.getByRole('combobox', { name: 'Base model' }).selectOption('tiny-gpt2');
  await expect(page.locator('code', { hasText: 'trainable params' })).toBeVisible();

  // Steps of 8 × 128 tokens, and a held-out set of 300 examples (many batches) so the final
  // evaluation lasts long enough to skip.
  await fill(page, 'Sequence length', '128');
  await dropFile(page, 'stories.jsonl', sampleJsonl(3000, 4));
  await expect(page.locator('section', { has: page.getByText('First examples') })).toContainText('stories.jsonl');
  await fill(page, 'Steps', '1000');
  await fill(page, 'Batch size', '8');
  await fill(page, 'Eval every', '1000');

  // Every change of the progress bar's step, with the Loss figure shown at that moment.
  await page.evaluate(() => {
    const seen: Seen[] = [];
    (window as unknown as { seen: Seen[] }).seen = seen;
    const read = () => {
      const bar = document.querySelector('[role="progressbar"][aria-label="Training progress"]');
      if (!bar) return;
      const step = Number(bar.getAttribute('aria-valuenow'));
      const lossTerm = Array.from(document.querySelectorAll('.run-progress dt')).find((dt) => dt.textContent === 'Loss');
      const loss = lossTerm?.nextElementSibling?.textContent ?? '';
      if (seen.at(-1)?.step !== step || seen.at(-1)?.loss !== loss) seen.push({ step, loss });
    };
    new MutationObserver(read).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });

  await page.getByRole('button', { name: 'Start training' }).click();
  const status = page.getByRole('status');
  // Before the first step the held-out set is measured; the page says so, batch by batch.
  await expect(status).toHaveText(/^Measuring the held-out loss before training \(\d+ batches\)…$/);
  await expect(page.locator('.run-progress .run-state strong')).toHaveText(/^Measuring the held-out loss before training: batch \d+ of \d+$/);
  const progress = page.getByRole('progressbar', { name: 'Training progress' });
  // Losses are read back four steps at a time; the step count moved at steps 1, 2 and 3 before that.
  const seen = () => page.evaluate(() => (window as unknown as { seen: Seen[] }).seen);
  await expect.poll(async () => (await seen()).some((s) => s.loss !== '—' && s.loss !== ''), { timeout: 240_000 }).toBe(true);
  const beforeLosses = (await seen()).filter((s) => s.loss === '—').map((s) => s.step);
  expect(beforeLosses).toEqual(expect.arrayContaining([1, 2, 3]));
  await expect(status).toHaveText(/^Step \d+\/1000 · loss \d+\.\d\d$/);
  await expect(page.locator('.run-progress .progress-text')).toContainText(/^Step \d+ of 1,000 · [\d,.]+ tok\/s · ETA/);

  // Stop from the keyboard: the status says what the run still finishes, then evaluates.
  await page.getByRole('button', { name: 'Stop' }).focus();
  await page.keyboard.press('Enter');
  await expect(status).toHaveText(/^Stopping: (finishing step \d+|final evaluation on the held-out set)…$/);
  await expect(page.locator('.run-progress .run-state strong')).toHaveText(/^Stopping: (finishing step \d+|final evaluation on the held-out set( \(batch \d+ of \d+\))?)…$/);
  await expect(status).toHaveText('Stopping: final evaluation on the held-out set…', { timeout: 60_000 });
  await expect(page.getByRole('button', { name: 'Export adapter' })).toBeDisabled();

  // Skip it from the keyboard: the run ends at once, with the held-out loss measured before the first step.
  const skip = page.getByRole('button', { name: 'Skip final evaluation' });
  await skip.focus();
  await page.keyboard.press('Enter');
  await expect(status).toHaveText(/^Training stopped at step \d+\/1000 · loss \d+\.\d\d · final evaluation skipped$/, { timeout: 60_000 });
  await expect(page.getByRole('button', { name: 'Export adapter' })).toBeEnabled();
  await expect(skip).toHaveCount(0);
  const stoppedAt = Number(/step (\d+)\//.exec((await status.textContent())!)![1]);
  expect(stoppedAt).toBeGreaterThanOrEqual(4);
  await expect(progress).toHaveAttribute('aria-valuenow', String(stoppedAt));
  const heldOut = page.locator('.run-progress dt', { hasText: 'Held-out loss' }).locator('xpath=following-sibling::dd[1]');
  await expect(heldOut).toHaveText(/^\d+\.\d+ \(step 0\)$/);
});
