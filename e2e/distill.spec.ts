// Distillation (DistilBERT) in headless Chromium on WebGPU: the built-in
// tiny model distils into a 2-layer student for a few steps; the page shows teacher and student
// sizes, each loss term and the measured speed-up; the student downloads as a full checkpoint
// and loads back through "Load model from disk" as a base model of the student's size.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors';
import { unzipFiles } from '../src/io/zip';
import { dropFile, expectBackend, fill, forbidExternalRequests, sampleJsonl } from './driver';

forbidExternalRequests(test);

const TINY = 'tiny-gpt2';
// tiny-gpt2: 4 layers of 12·128² + 13·128 parameters each; the student keeps 2 of them.
const TEACHER_PARAMS = 859_008;
const STUDENT_PARAMS = TEACHER_PARAMS - 2 * (12 * 128 * 128 + 13 * 128);
const fmt = (n: number) => n.toLocaleString('en-US');

const baseModel = (page: Page) => page.getByRole('combobox', { name: 'Base model' });
const method = (page: Page) => page.getByRole('combobox', { name: 'Method', exact: true });

test('on WebGPU, distils tiny-gpt2 into a 2-layer student, shows its size and speed-up, and the exported student loads back', async ({ page }) => {
  await page.goto('/?backend=webgpu');
  await expectBackend(page, 'WebGPU');
  await baseModel(page).selectOption(TINY);
  await expect(page.getByRole('status')).toHaveText(`Model loaded: Tiny GPT-2 (built in) · ${fmt(TEACHER_PARAMS)} parameters`, { timeout: 120_000 });

  // Offered after the PEFT methods, with its summary and the paper.
  await expect(method(page).locator('option').last()).toHaveText('Distillation (DistilBERT)');
  await method(page).selectOption('distill');
  await expect(page.locator('#method-summary')).toContainText('student');
  await expect(page.locator('#method-summary a')).toHaveAttribute('href', 'https://arxiv.org/abs/1910.01108');
  // DistilBERT's recipe is what the form starts from.
  await expect(page.getByLabel('Temperature T', { exact: true })).toHaveValue('2');
  await expect(page.getByLabel('α_ce (soft targets)', { exact: true })).toHaveValue('5');
  await expect(page.getByLabel('α_clm (CLM loss)', { exact: true })).toHaveValue('2');
  await expect(page.getByLabel('α_cos (hidden cosine)', { exact: true })).toHaveValue('1');
  await fill(page, 'Student layers', '1');
  const sizes = page.locator('section', { has: page.getByRole('heading', { name: /Student size/ }) });
  await expect(sizes).toContainText('teacher layers 0 (');
  await fill(page, 'Student layers', '2');
  await expect(sizes).toContainText(`Teacher parameters${fmt(TEACHER_PARAMS)}`);
  await expect(sizes).toContainText(`Student parameters${fmt(STUDENT_PARAMS)}`);
  await expect(sizes).toContainText(`Compression${(TEACHER_PARAMS / STUDENT_PARAMS).toFixed(2)}×`);
  await expect(sizes).toContainText('teacher layers 0, 3 (');
  await expect(page.getByRole('heading', { name: /Parameter budget/ })).toHaveCount(0);

  await fill(page, 'Sequence length', '32');
  await dropFile(page, 'notes.jsonl', sampleJsonl(24));
  await expect(page.locator('section', { has: page.getByText('First examples') })).toContainText('notes.jsonl');
  await fill(page, 'Steps', '2');
  await fill(page, 'Batch size', '2');
  await fill(page, 'Eval every', '2');
  await fill(page, 'Warmup steps', '0');
  await expect(page.getByRole('button', { name: 'Export student', exact: true })).toBeDisabled();
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.locator('.run-controls .speedup')).toHaveText(/^Student forward: \d+\.\d\d× (faster|slower) than the teacher \(measured here\) \(\d+\.\d ms vs \d+\.\d ms per forward pass\)$/, { timeout: 240_000 });
  await expect(page.getByRole('alert')).toHaveCount(0);

  // One curve per loss term beside the total and held-out loss, and the teacher's reference.
  const chart = page.getByRole('figure', { name: 'Loss chart' });
  for (const name of ['Total loss', 'Held-out loss', 'Soft-target loss', 'LM loss', 'Cosine loss']) {
    await expect(chart.locator('.chart-legend li', { hasText: new RegExp(`^${name}$`) })).toHaveCount(1);
  }
  // The drawing has as many lines as the legend names.
  await expect(chart.locator('.recharts-line')).toHaveCount(5);
  await expect(chart).toContainText('Teacher held-out loss');
  await expect(chart).toContainText(/teacher held-out loss \d+\.\d\d/);

  const pending = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export student', exact: true }).click();
  const d = await pending;
  const name = d.suggestedFilename();
  expect(name).toBe(`${TINY}-distilled-2L.zip`);
  const bytes = new Uint8Array(readFileSync((await d.path())!));
  const files = unzipFiles(bytes, name);
  expect(Object.keys(files)).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']));
  expect(JSON.parse(new TextDecoder().decode(files['config.json'])).n_layer).toBe(2);
  const { tensors } = readSafetensors(files['model.safetensors'], 'model.safetensors');
  expect([...tensors.values()].reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0)).toBe(STUDENT_PARAMS);

  // The student is a base model like any other.
  await page.getByLabel('Load model from disk').setInputFiles({ name, mimeType: 'application/zip', buffer: Buffer.from(bytes) });
  await expect(baseModel(page)).toHaveValue(`disk:${TINY}-distilled-2L`, { timeout: 120_000 });
  await expect(baseModel(page).locator('option:checked')).toHaveText(`${TINY}-distilled-2L (from disk)`);
  // (The status line then says the dataset was re-read with the student's tokenizer.)
  await expect(page.locator('section', { has: baseModel(page) })).toContainText(fmt(STUDENT_PARAMS));
  await expect(page.locator('section', { has: baseModel(page) })).not.toContainText(fmt(TEACHER_PARAMS));
  await expect(page.getByRole('alert')).toHaveCount(0);
});
