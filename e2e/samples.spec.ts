// The language-modelling samples are one click away: each loads from the page's own static files
// exactly as a dropped file would, and the page says what it understood — the kind of data, the
// number of examples and, for instructions, the prompt tokens the loss leaves out (the same count
// the engine gives the shipped file in Node with the same tokenizer).
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { formatInt } from '../app/format';
import { prepareDataset } from '../src/data/dataset';
import { loadTokenizer } from '../src/tokenize/tokenizer';
import { expectBackend, forbidExternalRequests } from './driver';

forbidExternalRequests(test);

const datasets = new URL('../public/datasets/', import.meta.url);
const folder = new URL('../public/models/studio-gpt2-en/', import.meta.url);
const tokenizer = () => loadTokenizer(JSON.parse(readFileSync(new URL('tokenizer.json', folder), 'utf-8')), JSON.parse(readFileSync(new URL('tokenizer_config.json', folder), 'utf-8')));

test('the English prose, instruction and chat samples load with one click each, read as what they are', async ({ page }) => {
  await page.goto('/?backend=cpu');
  await expectBackend(page, 'CPU');
  await expect(page.getByRole('combobox', { name: 'Base model' })).toHaveValue('studio-gpt2-en');
  await expect(page.locator('code', { hasText: 'trainable params' })).toBeVisible();
  const samples = page.getByRole('group', { name: 'Or try a sample:' });
  const dataset = page.locator('section', { has: page.getByText('First examples') });

  await samples.getByRole('button', { name: 'English prose (15 long documents)' }).click();
  await expect(dataset).toContainText('held-out-english.jsonl');
  await expect(page.getByTestId('dataset-kind')).toHaveText('plain text');
  await expect(dataset.getByRole('definition').first()).toHaveText(/^15 \(\d+ train \/ \d+ held out\)$/);
  await expect(dataset).toContainText('CHAPTER 126. The Life-Buoy.');

  const instructions = readFileSync(new URL('instructions.jsonl', datasets), 'utf-8');
  const expected = prepareDataset('instructions.jsonl', instructions, tokenizer(), { sequenceLength: 128, evalFraction: 0.1, seed: 42 }).summary.untrainedTokens!;
  expect(expected).toBeGreaterThan(1000);
  await samples.getByRole('button', { name: 'Instructions (48 Alpaca-style tasks)' }).click();
  await expect(dataset).toContainText('instructions.jsonl');
  await expect(page.getByTestId('dataset-kind')).toHaveText('Alpaca instruction');
  await expect(dataset.getByRole('definition').first()).toHaveText(/^48 \(\d+ train \/ \d+ held out\)$/);
  await expect(page.getByTestId('untrained-tokens')).toHaveText(`${formatInt(expected)} prompt tokens not trained on (completion-only loss)`);
  await expect(page.getByRole('button', { name: 'Start training' })).toBeEnabled();

  // The built-in model has no chat template: its chats render with the default ChatML template.
  const chats = readFileSync(new URL('chat.jsonl', datasets), 'utf-8');
  const chat = prepareDataset('chat.jsonl', chats, tokenizer(), { sequenceLength: 128, evalFraction: 0.1, seed: 42 }).summary;
  expect(chat.chatTemplate).toBe('default');
  expect(chat.untrainedTokens).toBeGreaterThan(1000);
  await samples.getByRole('button', { name: 'Chat (28 conversations)' }).click();
  await expect(dataset).toContainText('chat.jsonl');
  await expect(page.getByTestId('dataset-kind')).toHaveText('chat (messages)');
  await expect(dataset.getByRole('definition').first()).toHaveText(/^28 \(\d+ train \/ \d+ held out\)$/);
  await expect(page.getByTestId('chat-template')).toHaveText('Rendered with the default ChatML template, the model has none');
  await expect(page.getByTestId('untrained-tokens')).toHaveText(`${formatInt(chat.untrainedTokens!)} prompt tokens not trained on (assistant-only loss: system and user turns and the template's headers)`);
});
