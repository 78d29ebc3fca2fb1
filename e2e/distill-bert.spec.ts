// Distillation (DistilBERT) of a BERT teacher in headless Chromium on WebGPU: a tiny random
// 4-layer BertForMaskedLM folder, zipped, is dropped on "Load model from disk"; it distils into a
// 2-layer student on the masked-LM terms for 2 steps; the page shows the student's held-out
// masked-token loss beside the teacher's and the measured speed-up; the student downloads as a
// BertForMaskedLM checkpoint of 2 layers under BERT's tensor names.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors';
import { unzipFiles, zipFiles } from '../src/io/zip';
import { bertConfigJson, initBertWeights } from '../src/models/bert-init';
import { wordPieceTokenizerFiles } from '../src/tokenize/word-piece';
import { dropFile, dropFiles, expectBackend, fill, forbidExternalRequests } from './driver';

forbidExternalRequests(test);
test.setTimeout(600_000);

const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'to', 'a', 'big', 'red', 'house', 'and', 'saw', '.', '##s'];
const SENTENCES = ['the cat sat on the mat.', 'a big red dog ran to the house.', 'the dogs saw a cat.', 'a cat and a dog sat on a big mat.', 'the red house and the big mat.'];
const NAME = 'tiny-bert';

/** A tiny random BertForMaskedLM folder with its WordPiece tokenizer, zipped inside one folder as a person zips it. */
function tinyBertZip(): Uint8Array {
  const tok = wordPieceTokenizerFiles(WORDS);
  const config = bertConfigJson({ hidden_size: 32, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 64, vocab_size: tok.vocab.length, initializer_range: 0.3 });
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  return zipFiles({
    [`${NAME}/config.json`]: enc(config),
    [`${NAME}/model.safetensors`]: writeSafetensors(initBertWeights(config, 1), { format: 'pt' }),
    [`${NAME}/tokenizer.json`]: enc(tok.tokenizer),
    [`${NAME}/tokenizer_config.json`]: enc(tok.tokenizerConfig),
  });
}

const baseModel = (page: Page) => page.getByRole('combobox', { name: 'Base model' });
const method = (page: Page) => page.getByRole('combobox', { name: 'Method', exact: true });

test('on WebGPU, a dropped BERT folder distils into a 2-layer student on the masked-LM terms; the losses, the speed-up and a BertForMaskedLM download', async ({ page }) => {
  await page.goto('/?backend=webgpu');
  // The backend's self-check runs first, on a software WebGPU slowly.
  await expectBackend(page, 'WebGPU');
  await expect(page.getByLabel('Load model from disk')).toBeEnabled({ timeout: 120_000 });
  await dropFiles(page.locator('.model-drop'), [{ name: `${NAME}.zip`, mimeType: 'application/zip', bytes: tinyBertZip() }]);
  await expect(baseModel(page)).toHaveValue(`disk:${NAME}`, { timeout: 120_000 });
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
    await expect(chart.locator('.recharts-legend-item-text', { hasText: new RegExp(`^${name}$`) })).toHaveCount(1);
  }
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
