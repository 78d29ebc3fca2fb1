// The studio as a person uses it, in headless Chromium: open the page, see the backend, pick
// the model and LoRA, drop a dataset, train on WebGPU, watch it live, export, check the file.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors';
import { unzipFiles } from '../src/io/zip';
import { formatInt } from '../app/format';
import { prepareDataset } from '../src/data/dataset';
import { loadTokenizer } from '../src/tokenize/tokenizer';
import { dropFile, expectBackend, fill, forbidExternalRequests, SAMPLE_SENTENCES, sampleJsonl } from './driver';

const sentences = SAMPLE_SENTENCES;
const jsonl = sampleJsonl(24);

forbidExternalRequests(test);

test('LoRA on WebGPU: drop a dataset, train live, export a PEFT adapter', async ({ page }) => {
  await page.goto('/?backend=webgpu');

  // 2. The backend is shown before anything else happens.
  await expectBackend(page, 'WebGPU');
  const backend = page.getByRole('region', { name: 'Compute backend' });

  // 3. The built-in model is selected and described.
  // By role: the Generate panel's "Base model" output shares the name.
  // The pretrained English model is the default; the tiny one keeps this WebGPU run short.
  await expect(page.getByRole('combobox', { name: 'Base model' })).toHaveValue('studio-gpt2-en');
  await page.getByRole('combobox', { name: 'Base model' }).selectOption('tiny-gpt2');
  await expect(page.getByRole('combobox', { name: 'Base model' })).toHaveValue('tiny-gpt2');
  const model = page.locator('section', { has: page.getByRole('combobox', { name: 'Base model' }) });
  await expect(model).toContainText('859,008');
  await expect(model).toContainText('Context length');

  // 4. LoRA with PEFT's defaults; exact counts before anything trains.
  await expect(page.getByLabel('Method', { exact: true })).toHaveValue('lora');
  await expect(page.getByLabel('Rank r')).toHaveValue('8');
  await expect(page.getByLabel('Alpha')).toHaveValue('8');
  // 4 layers × r·(128 + 384) = 16,384 trainable of 859,008 + 16,384.
  await expect(page.locator('code', { hasText: 'trainable params' })).toHaveText('trainable params: 16,384 || all params: 875,392 || trainable%: 1.8716');
  await page.getByLabel('Rank r').fill('4');
  await expect(page.locator('code', { hasText: 'trainable params' })).toHaveText('trainable params: 8,192 || all params: 867,200 || trainable%: 0.9446');
  // The parameter chart's axes: its bars named, the counts on whole decades up to the largest.
  const paramChart = page.getByRole('figure', { name: 'Trainable and frozen parameters chart' });
  await expect(paramChart.locator('.recharts-yAxis-tick-labels text')).toHaveText(['Trainable', 'Frozen']);
  await expect(paramChart.locator('.recharts-xAxis-tick-labels text')).toHaveText(['1', '10', '100', '1K', '10K', '100K', '1M']);

  // 5. Drop the dataset; the preview and counts appear.
  await fill(page, 'Sequence length', '32');
  await dropFile(page, 'stories.jsonl', jsonl);
  const dataset = page.locator('section', { has: page.getByText('First examples') });
  await expect(dataset).toContainText('stories.jsonl');
  await expect(dataset).toContainText('0. The cat sat on the mat');
  await expect(dataset).toContainText('24');

  // 6. A tiny run: SwiftShader's WebGPU is slow, so a few short steps.
  await fill(page, 'Steps', '4');
  await fill(page, 'Batch size', '2');
  await fill(page, 'Learning rate', '0.001');
  await fill(page, 'Warmup steps', '1');
  await fill(page, 'Eval every', '2');
  await page.getByRole('button', { name: 'Start training' }).click();
  const status = page.getByRole('status');
  await expect(status).toHaveText(/^Step [1-4]\/4 · loss \d+\.\d\d$/, { timeout: 240_000 });
  await expect(page.getByRole('progressbar', { name: 'Training progress' })).toBeVisible();
  await expect(page.locator('.loss-chart .recharts-line').first()).toBeVisible();
  await expect(page.getByRole('button', { name: 'Export adapter' })).toBeEnabled({ timeout: 240_000 });
  await expect(page.getByRole('progressbar', { name: 'Training progress' })).toHaveAttribute('aria-valuenow', '4');
  await expect(page.locator('.loss-chart figcaption')).toContainText(/Training loss \d+\.\d+ at step 4; held-out loss \d+\.\d+ at step 4/);
  // The chart drew a training-loss line through the four steps.
  const path = await page.locator('.loss-chart .recharts-line path').first().getAttribute('d');
  expect(path?.split(/[LC]/).length).toBeGreaterThanOrEqual(4);
  // Its axes: whole steps ending at the run's last, and losses to two decimals.
  const stepTicks = page.locator('.loss-chart .recharts-xAxis-tick-labels text');
  await expect(stepTicks.last()).toHaveText('4');
  for (const t of await stepTicks.allTextContents()) expect(t).toMatch(/^\d$/);
  const lossTicks = await page.locator('.loss-chart .recharts-yAxis-tick-labels text').allTextContents();
  expect(lossTicks.length).toBeGreaterThanOrEqual(2);
  for (const t of lossTicks) expect(t).toMatch(/^\d+\.\d\d$/);
  // The legend names the two lines drawn.
  await expect(page.locator('.loss-chart .chart-legend li')).toHaveText(['Training loss', 'Held-out loss']);
  await expect(backend).toContainText('WebGPU');

  // 7. Export and check the download as PEFT would read it.
  const downloadPromise = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export adapter' }).click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toBe('tiny-gpt2-lora.zip');
  const files = unzipFiles(new Uint8Array(readFileSync((await download.path())!)), 'tiny-gpt2-lora.zip');
  expect(Object.keys(files).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  const config = JSON.parse(new TextDecoder().decode(files['adapter_config.json']));
  expect(config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, fan_in_fan_out: true, target_modules: ['c_attn'] });
  const { tensors } = readSafetensors(files['adapter_model.safetensors'], 'adapter_model.safetensors');
  expect(tensors.size).toBe(8);
  for (let i = 0; i < 4; i++) {
    expect(tensors.get(`base_model.model.transformer.h.${i}.attn.c_attn.lora_A.weight`)?.shape).toEqual([4, 128]);
    const B = tensors.get(`base_model.model.transformer.h.${i}.attn.c_attn.lora_B.weight`);
    expect(B?.shape).toEqual([384, 4]);
    // Trained: B left zero.
    expect(Math.max(...Array.from(B!.data as Float32Array, Math.abs))).toBeGreaterThan(0);
  }
  await expect(page.getByText('Saved tiny-gpt2-lora.zip')).toBeVisible();

  // 8. LoRA folds into the weights: a complete checkpoint whose c_attn weights moved and nothing else did.
  const mergedPromise = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export merged model' }).click();
  const mergedDownload = await mergedPromise;
  expect(mergedDownload.suggestedFilename()).toBe('tiny-gpt2-lora-merged.zip');
  const merged = unzipFiles(new Uint8Array(readFileSync((await mergedDownload.path())!)), 'tiny-gpt2-lora-merged.zip');
  expect(Object.keys(merged).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
  const base = readSafetensors(new Uint8Array(readFileSync(new URL('../public/models/tiny-gpt2/model.safetensors', import.meta.url))), 'model.safetensors').tensors;
  const folded = readSafetensors(merged['model.safetensors'], 'model.safetensors').tensors;
  const same = (name: string) => Buffer.from((folded.get(name)!.data as Float32Array).buffer).equals(Buffer.from((base.get(name)!.data as Float32Array).buffer));
  expect(same('transformer.h.0.attn.c_attn.weight')).toBe(false);
  expect(same('transformer.h.0.mlp.c_fc.weight')).toBe(true);
  expect(same('transformer.wte.weight')).toBe(true);
});

test('a .jsonl none of whose lines read is refused with their line numbers, keeping the loaded dataset', async ({ page }) => {
  await page.goto('/?backend=cpu');
  await expectBackend(page, 'CPU');
  await expect(page.locator('code', { hasText: 'trainable params' })).toBeVisible();
  await page.getByLabel('Dataset').setInputFiles({ name: 'good.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(jsonl) });
  await expect(page.getByText('First examples')).toBeVisible();
  const bad = `\n{"text": "broken\n{"title": "no text"}\n`;
  await dropFile(page, 'broken.jsonl', bad);
  const alert = page.getByRole('alert').filter({ hasText: 'broken.jsonl' });
  await expect(alert).toContainText('broken.jsonl line 2: not valid JSON');
  await expect(alert.getByRole('listitem')).toHaveText([/^Line 2: not valid JSON/, /^Line 3: missing "text"/]);
  await expect(alert).toContainText('Still using good.jsonl');
  // The earlier dataset is still there and training can start.
  await expect(page.locator('section', { has: page.getByText('First examples') })).toContainText('good.jsonl');
  await expect(page.getByRole('button', { name: 'Start training' })).toBeEnabled();
});

test('an Alpaca file is read as instructions: the page counts the prompt tokens not trained on, and trains on them when asked', async ({ page }) => {
  await page.goto('/?backend=cpu');
  await expectBackend(page, 'CPU');
  await expect(page.locator('code', { hasText: 'trainable params' })).toBeVisible();
  const rows = SAMPLE_SENTENCES.slice(0, 6).map((s, i) => ({ instruction: 'Continue the story.', input: i % 2 ? s : '', output: s }));
  const alpaca = rows.map((r) => JSON.stringify(r)).join('\n');
  // The count the page must show: the same file prepared in Node with the default model's tokenizer.
  const folder = new URL('../public/models/studio-gpt2-en/', import.meta.url);
  const tok = loadTokenizer(JSON.parse(readFileSync(new URL('tokenizer.json', folder), 'utf-8')), JSON.parse(readFileSync(new URL('tokenizer_config.json', folder), 'utf-8')));
  const expected = prepareDataset('alpaca.jsonl', alpaca, tok, { sequenceLength: 128, evalFraction: 0.1, seed: 42 }).summary.untrainedTokens!;
  expect(expected).toBeGreaterThan(0);
  await dropFile(page, 'alpaca.jsonl', alpaca);
  await expect(page.getByTestId('dataset-kind')).toHaveText('Alpaca instruction');
  await expect(page.getByTestId('untrained-tokens')).toHaveText(`${formatInt(expected)} prompt tokens not trained on (completion-only loss)`);
  await page.getByLabel('Train on the prompt too (whole text), not only the completion').check();
  await expect(page.getByTestId('untrained-tokens')).toHaveText('Prompt and completion both trained on (whole text)');
  await expect(page.getByRole('button', { name: 'Start training' })).toBeEnabled();
});

test('the wasm fallback trains too, and the keyboard reaches every control', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await expectBackend(page, 'WebAssembly');
  await expect(page.locator('code', { hasText: 'trainable params' })).toBeVisible();
  await page.getByLabel('Dataset').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(sentences.join('\n\n')) });
  await expect(page.getByText('First examples')).toBeVisible();
  await fill(page, 'Steps', '2');
  await fill(page, 'Batch size', '2');
  await fill(page, 'Sequence length', '32');
  // Start from the keyboard: focus the button and press Enter.
  await expect(page.getByRole('button', { name: 'Start training' })).toBeEnabled();
  await page.getByRole('button', { name: 'Start training' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status')).toHaveText(/finished|Step 2\/2/, { timeout: 120_000 });
  await expect(page.getByRole('button', { name: 'Export adapter' })).toBeEnabled({ timeout: 120_000 });

  // Every interactive element has an accessible name.
  const unnamed = await page.evaluate(() => {
    const els = Array.from(document.querySelectorAll('button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])'));
    return els
      .filter((el) => {
        const id = el.getAttribute('id');
        const label = id ? document.querySelector(`label[for="${id}"]`) : null;
        const named = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || label || el.closest('label') || (el.textContent ?? '').trim();
        return !named;
      })
      .map((el) => el.outerHTML.slice(0, 120));
  });
  expect(unnamed).toEqual([]);
});
