// Parquet datasets dropped on the page: read in the worker by row group like any other file —
// the summary names the format, refused rows are listed by row and saved as JSON Lines, a
// ClassLabel column's labels keep the file's order — and a file that is not Parquet is refused
// by name while the loaded dataset stays.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { dropFiles, expectBackend, forbidExternalRequests } from './driver';

forbidExternalRequests(test);

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../src/data/fixtures/parquet/${name}`, import.meta.url)));
const parquet = (name: string, bytes = fixture(name)) => ({ name, mimeType: 'application/vnd.apache.parquet', bytes });

test('a Parquet text file: its summary, its refused row by row number, saved as JSON Lines', async ({ page }) => {
  await page.goto('/?backend=cpu');
  await expectBackend(page, 'CPU');
  await expect(page.locator('code', { hasText: 'trainable params' })).toBeVisible();
  await dropFiles(page.locator('.dataset-drop'), [parquet('text.parquet')]);

  const dataset = page.locator('section', { has: page.getByText('First examples') });
  await expect(dataset.locator('.badge').first()).toHaveText('parquet');
  const rejected = page.getByRole('group', { name: '1 row rejected' });
  await expect(page.getByTestId('dataset-kept')).toHaveText('Kept 4 rows, rejected 1: the rejected rows are left out of training.');
  const rows = rejected.getByRole('table').getByRole('row');
  await expect(rows.nth(0).getByRole('columnheader')).toHaveText(['Row', 'Reason']);
  await expect(rows.nth(1).getByRole('cell')).toHaveText(['4', '"text" is empty']);
  await expect(page.getByRole('status')).toContainText('Dataset loaded: text.parquet · kept 4 rows, rejected 1');

  const downloaded = page.waitForEvent('download');
  await rejected.getByRole('button', { name: 'Download rejected rows' }).click();
  const download = await downloaded;
  expect(download.suggestedFilename()).toBe('text.rejected.jsonl');
  expect(readFileSync((await download.path())!, 'utf-8')).toBe('{"text":""}\n');
});

test('a labelled Parquet file keeps its ClassLabel order; a file that is not Parquet is refused and the dataset stays', async ({ page }) => {
  await page.goto('/?backend=cpu');
  await expectBackend(page, 'CPU');
  await page.getByRole('combobox', { name: 'Base model' }).selectOption('tiny-gpt2');
  await expect(page.locator('code', { hasText: 'trainable params' })).toBeVisible();
  await dropFiles(page.locator('.dataset-drop'), [parquet('sentiment.parquet')]);

  const dataset = page.locator('section', { has: page.getByText('First examples') });
  await expect(dataset.locator('.badge').first()).toHaveText('parquet');
  await expect(dataset).toContainText('Text from text, label from label');
  // "positive" is id 0 and "negative" id 1 in the file: not sorted.
  const labels = page.getByRole('list', { name: 'Labels' }).getByRole('listitem');
  await expect(labels).toHaveText([/^positive \(2 examples, \d+ held out\)$/, /^negative \(2 examples, \d+ held out\)$/]);
  const rows = page.getByRole('group', { name: '2 rows rejected' }).getByRole('table').getByRole('row');
  await expect(rows.nth(1).getByRole('cell')).toHaveText(['3', '"text" is empty']);
  await expect(rows.nth(2).getByRole('cell')).toHaveText(['6', '"label": label -1 is not one of the 2 ClassLabel ids']);

  await dropFiles(page.locator('.dataset-drop'), [parquet('notes.parquet', new TextEncoder().encode('{"text": "not parquet"}\n'))]);
  const alert = page.getByRole('alert').filter({ hasText: 'notes.parquet was not loaded' });
  await expect(alert).toContainText('notes.parquet: not a readable Parquet file');
  await expect(alert).toContainText('Still using sentiment.parquet.');
  await expect(labels).toHaveCount(2);
});
