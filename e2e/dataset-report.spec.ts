// How a text of long paragraphs becomes rows, as the page reports it: windows packed into full
// rows by default, the examples' token lengths as a chart with a table, duplicates dropped, and
// the choice to cut long examples instead, which reads the file again.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { formatInt } from '../app/format';
import { prepareDataset } from '../src/data/dataset';
import { loadTokenizer } from '../src/tokenize/tokenizer';
import { dropFile, expectBackend, fill, forbidExternalRequests, SAMPLE_SENTENCES } from './driver';

forbidExternalRequests(test);

const SEQUENCE_LENGTH = 32;
// Paragraphs of one to six sentences, blank-line separated, and one repeated.
const paragraphs = Array.from({ length: 10 }, (_, i) => SAMPLE_SENTENCES.slice(0, 1 + (i % 6)).join(' ') + ` (${i})`);
const text = [...paragraphs, paragraphs[3]].join('\n\n');

test('long paragraphs become packed windows, the token lengths are charted, and cutting them instead is counted', async ({ page }) => {
  // What the page must show: the same file prepared in Node with the default model's tokenizer.
  const folder = new URL('../public/models/studio-gpt2-en/', import.meta.url);
  const tok = loadTokenizer(JSON.parse(readFileSync(new URL('tokenizer.json', folder), 'utf-8')), JSON.parse(readFileSync(new URL('tokenizer_config.json', folder), 'utf-8')));
  const opts = { sequenceLength: SEQUENCE_LENGTH, evalFraction: 0.1, seed: 42 };
  const windows = prepareDataset('long.txt', text, tok, opts).summary;
  const cut = prepareDataset('long.txt', text, tok, { ...opts, layout: { long: 'keep-start' } }).summary;
  expect(windows.lengths.exceeding).toBeGreaterThan(0);
  expect(cut.truncated).toBe(windows.lengths.exceeding);

  await page.goto('/?backend=cpu');
  await expectBackend(page, 'CPU');
  await expect(page.locator('code', { hasText: 'trainable params' })).toBeVisible();
  await fill(page, 'Sequence length', String(SEQUENCE_LENGTH));
  await dropFile(page, 'long.txt', text, 'text/plain');

  const report = page.getByTestId('layout-report');
  await expect(report).toHaveText(`${formatInt(windows.trainExamples + windows.evalExamples)} examples packed into ${formatInt(windows.trainRows + windows.evalRows)} rows of ${SEQUENCE_LENGTH} tokens, long ones continuing from row to row.`);
  await expect(page.getByTestId('dataset-duplicates')).toHaveText('1');
  await expect(page.getByTestId('dataset-exceeding')).toContainText(formatInt(windows.lengths.exceeding));
  await expect(page.getByTestId('dataset-truncated')).toHaveCount(0);
  await expect(page.getByLabel('Examples longer than the sequence length', { exact: true })).toHaveValue('windows');
  await expect(page.getByLabel('Examples shorter than a row', { exact: true })).toHaveValue('pack');
  await expect(page.getByLabel('Examples shorter than a row', { exact: true }).locator('option:checked')).toHaveText('Pack end to end into full rows (default for plain text)');

  // The histogram: its caption counts the examples longer than a row; its table lists every bin.
  await expect(page.getByRole('figure', { name: 'Token lengths chart' })).toBeVisible();
  await expect(page.getByTestId('length-caption')).toContainText(`${formatInt(windows.lengths.exceeding)} of 10 examples longer than the sequence length of ${SEQUENCE_LENGTH} tokens`);
  await page.getByText('Token lengths as a table').click();
  const rows = page.getByTestId('length-table').locator('tbody tr');
  await expect(rows).toHaveCount(windows.lengths.bins.length);
  for (const [k, bin] of windows.lengths.bins.entries()) await expect(rows.nth(k).locator('td').last()).toHaveText(formatInt(bin.count));

  // Cutting instead: the file is read again and the cuts counted.
  await page.getByLabel('Examples longer than the sequence length', { exact: true }).selectOption('keep-start');
  await expect(page.getByTestId('dataset-truncated')).toContainText(formatInt(cut.truncated));
  await expect(report).toContainText(`${formatInt(cut.truncated)} examples cut, keeping the start.`);
  await expect(page.getByTestId('dataset-rows')).toContainText(formatInt(cut.trainRows + cut.evalRows));

  // Padding: one row per example. Tab goes from one choice to the next.
  const short = page.getByLabel('Examples shorter than a row', { exact: true });
  await page.getByLabel('Examples longer than the sequence length', { exact: true }).focus();
  await page.keyboard.press('Tab');
  await expect(short).toBeFocused();
  await short.selectOption('pad');
  await expect(report).toContainText('One example per row, padded to 32 tokens: 10 rows.');
  await expect(page.getByRole('button', { name: 'Start training' })).toBeEnabled();
});

test('a file is read as the person chooses: a text file whole, records as chats, and back to what its content shows', async ({ page }) => {
  await page.goto('/?backend=cpu');
  await expectBackend(page, 'CPU');
  await expect(page.locator('code', { hasText: 'trainable params' })).toBeVisible();
  const examples = page.getByTestId('dataset-examples');
  const split = page.getByLabel('Plain text (.txt) examples');
  const readAs = page.getByLabel('Records (.jsonl, .json, .csv, .tsv, .parquet)');

  await dropFile(page, 'notes.txt', paragraphs.slice(0, 4).join('\n\n'), 'text/plain');
  await expect(page.getByTestId('dataset-kind')).toHaveText('plain text');
  await expect(examples).toHaveText(/^4 \(/);
  await split.selectOption('whole');
  await expect(examples).toHaveText(/^1 \(/);
  await split.selectOption('lines');
  await expect(examples).toHaveText(/^4 \(/);

  // Chats among other records: read as chats, the others are refused by line with what they hold.
  const records = [
    JSON.stringify({ messages: [{ role: 'user', content: 'Hello?' }, { role: 'assistant', content: 'Hello.' }] }),
    JSON.stringify({ text: 'A plain text.' }),
    JSON.stringify({ conversations: [{ from: 'human', value: 'Hi?' }, { from: 'gpt', value: 'Hi.' }] }),
  ].join('\n');
  await dropFile(page, 'records.jsonl', records);
  await expect(page.getByTestId('dataset-kind')).toHaveText('mixed (text and instruction records)');
  await readAs.focus();
  await readAs.selectOption('chat');
  const rejected = page.getByRole('group', { name: '1 row rejected' });
  await expect(rejected.getByRole('table')).toContainText('missing "messages" (or ShareGPT\'s "conversations"), reading records as chats; found "text"');
  await expect(page.getByTestId('dataset-kind')).toHaveText('chat (messages)');
  await expect(examples).toHaveText(/^2 \(/);

  // A choice the file cannot meet refuses it with the reason; the detected reading loads it again.
  await readAs.selectOption('labelled');
  await expect(page.getByRole('alert')).toContainText('records.jsonl: reading labelled examples needs a "label" (or "labels") column; found "messages"');
  await readAs.selectOption('');
  await expect(page.getByTestId('dataset-kind')).toHaveText('mixed (text and instruction records)');
  await expect(examples).toHaveText(/^3 \(/);
});
