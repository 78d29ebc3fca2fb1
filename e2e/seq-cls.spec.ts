// Sequence classification in the page: drop a labelled CSV on the built-in tiny model, train
// LoRA with a classification head a few steps on WebGPU, read the held-out accuracy, macro-F1
// and the confusion matrix, and export a SEQ_CLS adapter with the head as PEFT saves it; full
// fine-tuning trains a classifier too and exports a *ForSequenceClassification checkpoint.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors';
import { unzipFiles } from '../src/io/zip';
import { dropFile, expectBackend, fill, forbidExternalRequests } from './driver';

forbidExternalRequests(test);

const CSV = ['sentence,label', ...Array.from({ length: 20 }, (_, i) => (i % 2 ? `what a lovely day ${i},positive` : `what an awful day ${i},negative`))].join('\n');

test('LoRA classifier on WebGPU: labelled CSV, accuracy and confusion matrix, SEQ_CLS export', async ({ page }) => {
  // SwiftShader's WebGPU: the self-check, then three steps and two evaluations.
  test.setTimeout(600_000);
  await page.goto('/?backend=webgpu');
  await expectBackend(page, 'WebGPU');
  await page.getByRole('combobox', { name: 'Base model' }).selectOption('tiny-gpt2');
  await expect(page.getByLabel('Method', { exact: true })).toHaveValue('lora');
  await page.getByLabel('Rank r').fill('4');

  await fill(page, 'Sequence length', '32');
  await dropFile(page, 'sentiment.csv', CSV, 'text/csv');
  const dataset = page.locator('section', { has: page.getByText('First examples') });
  await expect(dataset).toContainText('sentiment.csv');
  // The label set, the columns read, and each label's share of the held-out split (2 of 10 each).
  const labels = page.getByRole('list', { name: 'Labels' });
  await expect(labels.getByRole('listitem')).toHaveText(['negative (10 examples, 1 held out)', 'positive (10 examples, 1 held out)']);
  await expect(dataset).toContainText('Text from sentence, label from label');
  await expect(dataset).toContainText('negative: what an awful day 0');
  // 4 layers × r·(128 + 384) for LoRA, plus the bias-free score head (2 × 128).
  await expect(page.locator('code', { hasText: 'trainable params' })).toHaveText(/^trainable params: 8,448 \|\| all params: 867,456 /);

  await fill(page, 'Steps', '3');
  await fill(page, 'Batch size', '2');
  await fill(page, 'Learning rate', '0.01');
  await fill(page, 'Warmup steps', '0');
  await fill(page, 'Eval every', '3');
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('button', { name: 'Export adapter' })).toBeEnabled({ timeout: 300_000 });
  await expect(page.getByRole('progressbar', { name: 'Training progress' })).toHaveAttribute('aria-valuenow', '3');

  const results = page.getByRole('region', { name: 'Held-out classification' });
  await expect(results).toContainText(/Accuracy (0|50|100)\.0%/);
  await expect(results).toContainText(/Macro-F1 [01]\.\d{3}/);
  await expect(results).toContainText('(2 held-out examples, step 3)');
  const matrix = results.getByRole('table');
  await expect(matrix.getByRole('columnheader')).toHaveText(['Predicted negative', 'Predicted positive']);
  await expect(matrix.getByRole('rowheader')).toHaveText(['True negative', 'True positive']);
  const cells = (await matrix.getByRole('cell').allTextContents()).filter((t) => t !== '').map(Number);
  expect(cells.reduce((a, b) => a + b, 0)).toBe(2);

  const downloadPromise = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export adapter' }).click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toBe('tiny-gpt2-lora-classifier.zip');
  const files = unzipFiles(new Uint8Array(readFileSync((await download.path())!)), download.suggestedFilename());
  expect(Object.keys(files).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  const config = JSON.parse(new TextDecoder().decode(files['adapter_config.json']));
  expect(config).toMatchObject({ peft_type: 'LORA', task_type: 'SEQ_CLS', modules_to_save: ['classifier', 'score'], r: 4, target_modules: ['c_attn'] });
  const { tensors } = readSafetensors(files['adapter_model.safetensors'], 'adapter_model.safetensors');
  expect(tensors.size).toBe(9);
  expect(tensors.get('base_model.model.score.weight')?.shape).toEqual([2, 128]);
});

test('the spam-or-ham sample is one click away, and Compare methods tabulates LoRA, BitFit and full fine-tuning on the built-in BERT by held-out accuracy', async ({ page }) => {
  test.setTimeout(600_000);
  await page.goto('/?backend=wasm');
  await expectBackend(page, 'WebAssembly');
  await page.getByRole('combobox', { name: 'Base model' }).selectOption('studio-bert-en');
  await expect(page.getByRole('status')).toHaveText(/^Model loaded: .* · 2,830,400 parameters$/, { timeout: 120_000 });
  await fill(page, 'Sequence length', '64');

  const samples = page.getByRole('group', { name: 'Or try a sample:' });
  await samples.getByRole('button', { name: 'Spam or ham (1000 labelled e-mails)' }).click();
  const dataset = page.locator('section', { has: page.getByText('First examples') });
  await expect(dataset).toContainText('spam-ham.csv', { timeout: 120_000 });
  await expect(dataset).toContainText('Text from text, label from label');
  const labels = page.getByRole('list', { name: 'Labels' });
  await expect(labels.getByRole('listitem')).toHaveText([/^ham \(500 examples, \d+ held out\)$/, /^spam \(500 examples, \d+ held out\)$/]);

  await fill(page, 'Steps', '2');
  await fill(page, 'Batch size', '4');
  await fill(page, 'Warmup steps', '0');
  await fill(page, 'Eval every', '2');
  const panel = page.getByRole('region', { name: 'Compare methods' });
  const compared = ['LoRA', 'BitFit', 'Full fine-tuning'];
  for (const name of compared) await panel.getByRole('checkbox', { name, exact: true }).check();
  await panel.getByRole('button', { name: 'Compare methods' }).click();
  await expect(page.getByRole('status')).toHaveText('Comparison finished: 3 methods', { timeout: 480_000 });

  // The papers' table: each method's trainable share beside its held-out accuracy and macro-F1.
  const table = panel.getByRole('table');
  await expect(table.getByRole('columnheader')).toHaveText(['Method', 'Trainable parameters', 'Trainable share', 'Held-out accuracy', 'Macro-F1', 'Final held-out loss', 'Tokens/s', 'Export size', 'Wall time']);
  const rows = table.locator('tbody tr');
  await expect(rows).toHaveCount(3);
  const shares: number[] = [];
  for (const [i, name] of compared.entries()) {
    const cells = await rows.nth(i).locator('td').allTextContents();
    await expect(rows.nth(i).locator('th')).toHaveText(name);
    expect(cells[1]).toMatch(/^\d+\.\d{4}%$/);
    expect(cells[2]).toMatch(/^\d+\.\d%$/);
    expect(cells[3]).toMatch(/^[01]\.\d{3}$/);
    shares.push(Number(cells[1].slice(0, -1)));
  }
  // Full fine-tuning trains everything the classifier reads; BitFit trains far less than LoRA.
  expect(shares[2]).toBe(100);
  expect(shares[1]).toBeLessThan(shares[0]);
  // The last run's evaluation is the page's: accuracy and the confusion matrix by label.
  const results = page.getByRole('region', { name: 'Held-out classification' });
  await expect(results).toContainText(/Accuracy \d+\.\d%/);
  await expect(results.getByRole('table').getByRole('columnheader')).toHaveText(['Predicted ham', 'Predicted spam']);
});

/** The same sentences with a second label column, `mood`, of three values. */
const MOOD_CSV = ['sentence,label,mood', ...Array.from({ length: 21 }, (_, i) => `${i % 2 ? `what a lovely day ${i},positive` : `what an awful day ${i},negative`},${['calm', 'glad', 'sad'][i % 3]}`)].join('\n');

test('full fine-tuning trains a classifier on the label column the person chose: the body and the score head counted, accuracy in the page, a GPT2ForSequenceClassification checkpoint', async ({ page }) => {
  test.setTimeout(600_000);
  await page.goto('/?backend=wasm');
  await expectBackend(page, 'WebAssembly');
  await page.getByRole('combobox', { name: 'Base model' }).selectOption('tiny-gpt2');
  await page.getByRole('combobox', { name: 'Method', exact: true }).selectOption({ label: 'Full fine-tuning' });
  await fill(page, 'Sequence length', '32');
  await dropFile(page, 'moods.csv', MOOD_CSV, 'text/csv');
  const labels = page.getByRole('list', { name: 'Labels' }).getByRole('listitem');
  await expect(labels).toHaveCount(2);
  await expect(page.getByLabel('Text column')).toHaveValue('sentence');
  await expect(page.getByLabel('Second text (sentence pairs)')).toHaveValue('');
  await expect(page.getByLabel('Label column')).toHaveValue('label');
  // The person labels by mood instead: the file is read again with three labels.
  await page.getByLabel('Label column').selectOption('mood');
  await expect(labels).toHaveText([/^calm \(7 examples/, /^glad \(7 examples/, /^sad \(7 examples/]);
  await expect(page.locator('section', { has: page.getByText('First examples') })).toContainText('Text from sentence, label from mood');
  // Every parameter of tiny-gpt2 (its head is tied to wte) and the bias-free score head (3 × 128).
  await expect(page.locator('code', { hasText: 'trainable params' })).toHaveText(/^trainable params: 859,392 \|\| all params: 859,392 /);

  await fill(page, 'Steps', '2');
  await fill(page, 'Batch size', '2');
  await fill(page, 'Learning rate', '0.001');
  await fill(page, 'Warmup steps', '0');
  await fill(page, 'Eval every', '2');
  await page.getByRole('button', { name: 'Start training' }).click();
  const exportButton = page.getByRole('button', { name: 'Export fine-tuned model', exact: true });
  await expect(exportButton).toBeEnabled({ timeout: 300_000 });
  await expect(page.getByRole('alert')).toHaveCount(0);
  const results = page.getByRole('region', { name: 'Held-out classification' });
  // One held-out example per mood: accuracy is a multiple of a third.
  await expect(results).toContainText(/Accuracy (0\.0|33\.3|66\.7|100\.0)%/);
  await expect(results).toContainText('(3 held-out examples, step 2)');
  await expect(results.getByRole('table').getByRole('columnheader')).toHaveText(['Predicted calm', 'Predicted glad', 'Predicted sad']);

  const downloadPromise = page.waitForEvent('download');
  await exportButton.click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toBe('tiny-gpt2-full-finetune-classifier.zip');
  const files = unzipFiles(new Uint8Array(readFileSync((await download.path())!)), download.suggestedFilename());
  expect(JSON.parse(new TextDecoder().decode(files['config.json']))).toMatchObject({ architectures: ['GPT2ForSequenceClassification'], id2label: { 0: 'calm', 1: 'glad', 2: 'sad' } });
  const { tensors } = readSafetensors(files['model.safetensors'], 'model.safetensors');
  expect(tensors.get('score.weight')?.shape).toEqual([3, 128]);
  expect(tensors.has('lm_head.weight')).toBe(false);
});
