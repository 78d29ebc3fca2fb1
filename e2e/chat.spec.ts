// Chat data in the page, in headless Chromium on WebGPU: a "messages" file is read as chats,
// rendered with the default ChatML template (the built-in model has none, and the page says so),
// the page counts exactly the tokens outside the assistant's replies that are not trained on,
// LoRA trains on it on WebGPU, and "train on the prompt too" trains every turn. A ShareGPT file
// is named as such.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { formatInt } from '../app/format';
import { modelChatTemplate } from '../src/data/chat-template';
import { prepareDataset } from '../src/data/dataset';
import { loadTokenizer } from '../src/tokenize/tokenizer';
import { dropFile, expectBackend, fill, forbidExternalRequests, SAMPLE_SENTENCES } from './driver';

forbidExternalRequests(test);

const SEQUENCE_LENGTH = 128;

const CHATS = SAMPLE_SENTENCES.map((s, i) => ({
  messages: [
    ...(i % 2 ? [{ role: 'system', content: 'Be brief.' }] : []),
    { role: 'user', content: `Line ${i}?` },
    { role: 'assistant', content: s },
  ],
}));
const JSONL = CHATS.map((c) => JSON.stringify(c)).join('\n');

test('a chat file on WebGPU: the default ChatML template, the exact count of tokens outside the replies, LoRA trains', async ({ page }) => {
  // The count the page must show: the same file prepared in Node with tiny-gpt2's tokenizer and
  // the template the session gives a model without one.
  const folder = new URL('../public/models/tiny-gpt2/', import.meta.url);
  const config = JSON.parse(readFileSync(new URL('tokenizer_config.json', folder), 'utf-8'));
  const tok = loadTokenizer(JSON.parse(readFileSync(new URL('tokenizer.json', folder), 'utf-8')), config);
  const prepared = prepareDataset('chat.jsonl', JSONL, tok, { sequenceLength: SEQUENCE_LENGTH, evalFraction: 0.1, seed: 42, chatTemplate: () => modelChatTemplate('tiny-gpt2', config) });
  const expected = prepared.summary.untrainedTokens!;
  expect(prepared.summary.chatTemplate).toBe('default');
  expect(expected).toBeGreaterThan(0);

  await page.goto('/?backend=webgpu');
  await expectBackend(page, 'WebGPU');
  await page.getByRole('combobox', { name: 'Base model' }).selectOption('tiny-gpt2');
  await expect(page.locator('code', { hasText: 'trainable params' })).toHaveText(/^trainable params: 16,384 \|\|/);
  await fill(page, 'Sequence length', String(SEQUENCE_LENGTH));
  await dropFile(page, 'chat.jsonl', JSONL);
  await expect(page.getByTestId('dataset-kind')).toHaveText('chat (messages)');
  await expect(page.getByTestId('chat-template')).toHaveText('Rendered with the default ChatML template, the model has none');
  await expect(page.getByTestId('untrained-tokens')).toHaveText(`${formatInt(expected)} prompt tokens not trained on (assistant-only loss: system and user turns and the template's headers)`);
  await expect(page.getByRole('list', { name: 'First examples' }).getByRole('listitem').first()).toHaveText(`<|im_start|>user\nLine 0?<|im_end|>\n<|im_start|>assistant\n${SAMPLE_SENTENCES[0]}<|im_end|>\n`);

  // A few steps of LoRA on WebGPU (SwiftShader here is slow).
  await fill(page, 'Steps', '2');
  await fill(page, 'Batch size', '2');
  await fill(page, 'Eval every', '2');
  await fill(page, 'Warmup steps', '0');
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toHaveText(/^Training finished at step 2\/2 · loss \d+\.\d\d$/, { timeout: 240_000 });
  await expect(page.getByRole('alert')).toHaveCount(0);
  // It ran on WebGPU: the backend the page started with is still the one in use, with no fallback.
  await expect(page.locator('.backend-name.backend-webgpu')).toBeVisible();
  await expect(page.getByRole('list', { name: 'Why other backends were not used' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Export adapter' })).toBeEnabled();

  // Every turn trained on: nothing left out.
  await page.getByLabel("Train on the prompt too (every turn), not only the assistant's replies").check();
  await expect(page.getByTestId('untrained-tokens')).toHaveText('Every turn trained on (whole conversation)');
});

test('a ShareGPT file is read as chat', async ({ page }) => {
  await page.goto('/?backend=cpu');
  await expectBackend(page, 'CPU');
  await expect(page.locator('code', { hasText: 'trainable params' })).toBeVisible();
  const sharegpt = JSON.stringify(SAMPLE_SENTENCES.slice(0, 4).map((s, i) => ({ conversations: [{ from: 'human', value: `Line ${i}?` }, { from: 'gpt', value: s }] })));
  await dropFile(page, 'sharegpt.json', sharegpt, 'application/json');
  await expect(page.getByTestId('dataset-kind')).toHaveText('chat (ShareGPT)');
  await expect(page.getByTestId('chat-template')).toHaveText('Rendered with the default ChatML template, the model has none');
  await expect(page.getByTestId('untrained-tokens')).toContainText('prompt tokens not trained on (assistant-only loss');
});
