// Full fine-tuning in headless Chromium on WebGPU: chosen in the Method select on the built-in
// tiny model, its budget counts every parameter as trainable and shows the training memory it
// costs against LoRA's; two steps train every weight; "Export fine-tuned model" downloads a
// complete checkpoint with every tensor under its GPT-2 name, trained; the fine-tuned model
// generates beside the base model.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { trainableParamsLine } from '../app/format';
import { readSafetensors } from '../src/io/safetensors';
import { unzipFiles } from '../src/io/zip';
import { modelInfo } from '../src/models/load';
import { coerceConfig, METHODS } from '../src/peft/registry';
import { trainingMemory } from '../src/train/memory';
import { dropFile, expectBackend, fill, forbidExternalRequests, sampleJsonl } from './driver';

forbidExternalRequests(test);

const TINY = 'tiny-gpt2';
const FOLDER = new URL(`../public/models/${TINY}/`, import.meta.url);
const info = modelInfo(TINY, JSON.parse(readFileSync(new URL('config.json', FOLDER), 'utf-8')));
// tiny-gpt2: 4 layers of 12·128² + 13·128 parameters, wte, wpe and ln_f; the head is wte.
const PARAMS = 859_008;
const fmt = (n: number) => n.toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

const baseModel = (page: Page) => page.getByRole('combobox', { name: 'Base model' });
const method = (page: Page) => page.getByRole('combobox', { name: 'Method', exact: true });

test('on WebGPU, fully fine-tunes tiny-gpt2 for 2 steps, shows what it costs, exports a full checkpoint and generates with it', async ({ page }) => {
  // SwiftShader's self-check, two steps of every weight and generation: longer than the default.
  test.setTimeout(900_000);
  expect(info.totalParams).toBe(PARAMS);
  await page.goto('/?backend=webgpu');
  await expectBackend(page, 'WebGPU');
  await baseModel(page).selectOption(TINY);
  await expect(page.getByRole('status')).toHaveText(`Model loaded: Tiny GPT-2 (built in) · ${fmt(PARAMS)} parameters`, { timeout: 120_000 });

  await method(page).selectOption({ label: 'Full fine-tuning' });
  await expect(page.locator('#method-summary')).toContainText('Trains every weight');
  await expect(page.locator('#method-summary a')).toHaveAttribute('href', 'https://arxiv.org/abs/1810.04805');

  // The budget: every parameter trainable, and the memory that costs against LoRA at its defaults.
  const budget = page.locator('section', { has: page.getByRole('heading', { name: /Parameter budget/ }) });
  await expect(budget.locator('code', { hasText: 'trainable params' })).toHaveText(trainableParamsLine(PARAMS, PARAMS));
  await expect(budget).toContainText(`Trainable parameters${fmt(PARAMS)}`);
  const mine = trainingMemory(PARAMS, PARAMS);
  await expect(page.locator('#training-memory')).toHaveText(
    `Training memory: ${mb(mine.totalBytes)} (float32: weights ${mb(mine.weightBytes)} + gradients ${mb(mine.gradientBytes)} + AdamW moments ${mb(mine.momentBytes)}; activations not counted)`,
  );
  const lora = METHODS.find((m) => m.id === 'lora')!;
  const loraPlan = lora.plan(info, coerceConfig(lora, info, {}));
  const theirs = trainingMemory(loraPlan.trainable, loraPlan.total);
  await expect(page.locator('#training-memory-versus')).toHaveText(`LoRA at its settings here: ${mb(theirs.totalBytes)}, ${(theirs.totalBytes / mine.totalBytes).toFixed(2)}× this method's`);
  // It is one of the methods the all-methods table counts.
  const allMethods = page.getByRole('figure', { name: 'Trainable parameters by method' });
  const row = allMethods.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'Full fine-tuning', exact: true }) });
  await expect(row.getByRole('cell').first()).toHaveText(fmt(PARAMS));

  await fill(page, 'Sequence length', '32');
  await dropFile(page, 'notes.jsonl', sampleJsonl(24));
  await expect(page.locator('section', { has: page.getByText('First examples') })).toContainText('notes.jsonl');
  await fill(page, 'Steps', '2');
  await fill(page, 'Batch size', '2');
  await fill(page, 'Eval every', '2');
  await fill(page, 'Warmup steps', '0');
  await fill(page, 'Learning rate', '0.001');
  const exportButton = page.getByRole('button', { name: 'Export fine-tuned model', exact: true });
  await expect(exportButton).toBeDisabled();
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toHaveText(/^Training finished at step 2\/2 · loss \d+\.\d\d$/, { timeout: 240_000 });
  await expectBackend(page, 'WebGPU');
  await expect(page.getByRole('alert')).toHaveCount(0);

  // The download: a complete checkpoint, every tensor under GPT2LMHeadModel's name, all trained.
  const pending = page.waitForEvent('download');
  await exportButton.click();
  const d = await pending;
  const name = d.suggestedFilename();
  expect(name).toBe(`${TINY}-full-finetune.zip`);
  await expect(page.getByRole('status')).toHaveText(`Fine-tuned model exported as ${name}`);
  const files = unzipFiles(new Uint8Array(readFileSync((await d.path())!)), name);
  expect(Object.keys(files).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
  expect(Buffer.from(files['config.json']).equals(readFileSync(new URL('config.json', FOLDER)))).toBe(true);
  const { tensors, metadata } = readSafetensors(files['model.safetensors'], 'model.safetensors');
  expect(metadata).toEqual({ format: 'pt' });
  expect([...tensors].map(([n, t]) => [n, t.shape]).sort()).toEqual(info.params.map((p) => [p.name, p.shape]).sort());
  const base = readSafetensors(new Uint8Array(readFileSync(new URL('model.safetensors', FOLDER))), 'model.safetensors').tensors;
  const untrained = [...tensors].filter(([n, t]) => {
    const b = base.get(n)!.data;
    return t.data.every((x, i) => x === b[i]);
  });
  expect(untrained.map(([n]) => n)).toEqual([]);

  // The fine-tuned model generates beside the base model, same seed.
  const panel = page.getByRole('region', { name: 'Generate' });
  const tuned = panel.getByRole('region', { name: 'Fine-tuned model', exact: true });
  await panel.getByLabel('Prompt').fill('The cat sat on');
  await panel.getByLabel('Max new tokens').fill('6');
  await panel.getByRole('button', { name: 'Generate', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Generation finished', { timeout: 120_000 });
  expect(((await tuned.textContent()) ?? '').length).toBeGreaterThan(0);
  await expect(tuned).not.toHaveText('Press Generate to compare.');
  await expect(page.getByRole('alert')).toHaveCount(0);
});
