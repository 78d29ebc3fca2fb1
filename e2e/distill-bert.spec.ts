// Distillation (DistilBERT) of the built-in BERT in headless Chromium on WebGPU: studio-bert-en
// (4 layers) is chosen under "Base model" and distils into a 2-layer student on the masked-LM
// terms for 2 steps; the page shows the student's held-out masked-token loss beside the
// teacher's and the measured speed-up; the student downloads as a BertForMaskedLM checkpoint of
// 2 layers under BERT's tensor names.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors';
import { unzipFiles } from '../src/io/zip';
import { dropFile, expectBackend, fill, forbidExternalRequests } from './driver';

forbidExternalRequests(test);
test.setTimeout(600_000);

const SENTENCES = ['the whale rose from the sea.', 'the captain spoke to the men on deck.', 'a ship sailed into the harbour at night.', 'the people of the union ask for peace.', 'the sea was calm and the sky was grey.'];
const NAME = 'studio-bert-en';

const baseModel = (page: Page) => page.getByRole('combobox', { name: 'Base model' });
const method = (page: Page) => page.getByRole('combobox', { name: 'Method', exact: true });

test('on WebGPU, the built-in BERT distils into a 2-layer student on the masked-LM terms; the losses, the speed-up and a BertForMaskedLM download', async ({ page }) => {
  await page.goto('/?backend=webgpu');
  // The backend's self-check runs first, on a software WebGPU slowly.
  await expectBackend(page, 'WebGPU');
  await baseModel(page).selectOption(NAME);
  await expect(page.getByRole('status')).toHaveText(/^Model loaded: .* · 2,830,400 parameters$/, { timeout: 120_000 });
  await expect(page.getByRole('alert')).toHaveCount(0);

  await method(page).selectOption('distill');
  // DistilBERT's recipe, with the LM term named for a masked LM.
  await expect(page.getByLabel('Temperature T', { exact: true })).toHaveValue('2');
  await expect(page.getByLabel('α_ce (soft targets)', { exact: true })).toHaveValue('5');
  await expect(page.getByLabel('α_mlm (MLM loss)', { exact: true })).toHaveValue('2');
  await expect(page.getByLabel('α_clm (CLM loss)', { exact: true })).toHaveCount(0);
  await expect(page.getByLabel('α_cos (hidden cosine)', { exact: true })).toHaveValue('1');
  await expect(page.getByLabel('Soft targets over', { exact: true })).toHaveValue('false');
  await fill(page, 'Student layers', '2');
  const sizes = page.locator('section', { has: page.getByRole('heading', { name: /Student size/ }) });
  await expect(sizes).toContainText('teacher layers 0, 3 (');

  await fill(page, 'Sequence length', '16');
  await dropFile(page, 'sentences.jsonl', Array.from({ length: 30 }, (_, i) => JSON.stringify({ text: SENTENCES[i % SENTENCES.length] })).join('\n'));
  await expect(page.locator('section', { has: page.getByText('First examples') })).toContainText('sentences.jsonl');
  await fill(page, 'Steps', '2');
  await fill(page, 'Batch size', '2');
  await fill(page, 'Eval every', '2');
  await fill(page, 'Warmup steps', '0');
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.locator('.run-controls .speedup')).toHaveText(/^Student forward: \d+\.\d\d× (faster|slower) than the teacher \(measured here\) \(\d+\.\d ms vs \d+\.\d ms per forward pass\)$/, { timeout: 300_000 });
  await expect(page.getByRole('alert')).toHaveCount(0);

  // The masked-LM term has its own curve; the student's held-out loss sits beside the teacher's.
  const chart = page.getByRole('figure', { name: 'Loss chart' });
  for (const name of ['Total loss', 'Held-out loss', 'Soft-target loss', 'MLM loss', 'Cosine loss']) {
    await expect(chart.locator('.chart-legend li', { hasText: new RegExp(`^${name}$`) })).toHaveCount(1);
  }
  // The drawing has as many lines as the legend names.
  await expect(chart.locator('.recharts-line')).toHaveCount(5);
  await expect(chart).toContainText(/held-out loss \d+\.\d\d at step 2; teacher held-out loss \d+\.\d\d/);
  console.log(`${await chart.locator('figcaption').textContent()} ${await page.locator('.run-controls .speedup').textContent()}`);

  const pending = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export student', exact: true }).click();
  const d = await pending;
  const name = d.suggestedFilename();
  expect(name).toBe(`${NAME}-distilled-2L.zip`);
  const files = unzipFiles(new Uint8Array(readFileSync((await d.path())!)), name);
  expect(Object.keys(files).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
  const config = JSON.parse(new TextDecoder().decode(files['config.json']));
  expect(config).toMatchObject({ model_type: 'bert', num_hidden_layers: 2, architectures: ['BertForMaskedLM'] });
  const names = [...readSafetensors(files['model.safetensors'], 'model.safetensors').tensors.keys()].sort();
  const block = ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense', 'attention.output.LayerNorm', 'intermediate.dense', 'output.dense', 'output.LayerNorm'];
  const wb = (m: string) => [`${m}.weight`, `${m}.bias`];
  expect(names).toEqual(
    [
      ...['word_embeddings', 'position_embeddings', 'token_type_embeddings'].map((e) => `bert.embeddings.${e}.weight`),
      ...wb('bert.embeddings.LayerNorm'),
      ...[0, 1].flatMap((i) => block.flatMap((m) => wb(`bert.encoder.layer.${i}.${m}`))),
      'cls.predictions.bias',
      ...wb('cls.predictions.transform.dense'),
      ...wb('cls.predictions.transform.LayerNorm'),
    ].sort(),
  );
});
