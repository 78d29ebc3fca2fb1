// Text generation in the page: train a little, then continue a prompt with the base model and
// with the adapter side by side, streamed, announced, and reproducible from the seed.
import { expect, test, type Page } from '@playwright/test';
import { dropFile, expectBackend, fill, forbidExternalRequests, sampleJsonl } from './driver';

forbidExternalRequests(test);

/** Records every text the live region shows, so short-lived announcements can be checked. */
async function recordStatus(page: Page) {
  await page.evaluate(() => {
    const region = document.querySelector('[role="status"]')!;
    const log: string[] = [];
    (window as unknown as { statusLog: string[] }).statusLog = log;
    const note = () => {
      const text = region.textContent ?? '';
      if (log[log.length - 1] !== text) log.push(text);
    };
    note();
    new MutationObserver(note).observe(region, { childList: true, characterData: true, subtree: true });
  });
  return () => page.evaluate(() => [...(window as unknown as { statusLog: string[] }).statusLog]);
}

test('generates with and without the adapter, side by side, the same text for the same seed', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await expectBackend(page, 'WebAssembly');
  await expect(page.locator('code', { hasText: 'trainable params' })).toBeVisible();

  const panel = page.getByRole('region', { name: 'Generate' });
  const base = panel.getByRole('region', { name: 'Base model', exact: true });
  const tuned = panel.getByRole('region', { name: 'With adapter', exact: true });
  const generate = panel.getByRole('button', { name: 'Generate', exact: true });
  await expect(tuned).toHaveText('Train or import an adapter to compare');
  await expect(panel.getByLabel('Max new tokens')).toHaveValue('120');
  await expect(panel.getByLabel('Temperature')).toHaveValue('0.8');
  await expect(panel.getByLabel('Top-k')).toHaveValue('40');

  // A tiny run on the wasm backend.
  await fill(page, 'Sequence length', '32');
  await dropFile(page, 'stories.jsonl', sampleJsonl(24));
  await expect(page.getByText('First examples')).toBeVisible();
  await fill(page, 'Steps', '2');
  await fill(page, 'Batch size', '2');
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(generate).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Export adapter' })).toBeEnabled({ timeout: 120_000 });
  await expect(generate).toBeEnabled();
  await expect(tuned).toHaveText('Press Generate to compare.');

  await panel.getByLabel('Prompt').fill('The cat sat on');
  await panel.getByLabel('Max new tokens').fill('20');
  await panel.getByLabel('Seed').fill('7');
  const statusLog = await recordStatus(page);
  await generate.click();
  const status = page.getByRole('status');
  await expect(status).toHaveText('Generation finished', { timeout: 120_000 });
  expect(await statusLog()).toEqual(expect.arrayContaining(['Generating…', 'Generation finished']));
  await expect(generate).toBeEnabled();
  const baseText = (await base.textContent()) ?? '';
  const tunedText = (await tuned.textContent()) ?? '';
  expect(baseText.length).toBeGreaterThan(0);
  expect(tunedText.length).toBeGreaterThan(0);
  expect(baseText).not.toBe('Press Generate to continue the prompt.');
  expect(tunedText).not.toBe('Press Generate to compare.');
  await expect(base).not.toHaveAttribute('aria-busy');
  await expect(tuned).not.toHaveAttribute('aria-busy');

  // Again with the same seed: the same base text, announced again.
  await generate.click();
  await expect.poll(async () => (await statusLog()).filter((t) => t === 'Generation finished').length, { timeout: 120_000 }).toBe(2);
  expect(await base.textContent()).toBe(baseText);
  expect(await tuned.textContent()).toBe(tunedText);
  // Still the page's only live region.
  await expect(page.getByRole('status')).toHaveCount(1);
});
