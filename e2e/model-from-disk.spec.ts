// A base model the person brings from disk, in headless Chromium on the wasm backend: a zip
// of a Hugging Face folder (and the folder itself) loads as the base model, trains and
// exports; and a merged checkpoint the studio exported loads back as a base model, as an
// exported student does. Nothing is sent anywhere.
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../src/io/safetensors';
import { unzipFiles, zipFiles } from '../src/io/zip';
import { dropFile, expectBackend, fill, forbidExternalRequests, sampleJsonl } from './driver';

forbidExternalRequests(test);

const TINY = 'tiny-gpt2';
const TINY_FILES = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
const TINY_PARAMS = '859,008';
const tinyFile = (name: string) => readFileSync(new URL(`../public/models/${TINY}/${name}`, import.meta.url));

// The page may load only its own files and never send any: every test fails on a request to
// another origin or one that carries data (anything but GET).
let outgoing: string[] = [];
test.beforeEach(async ({ page, baseURL }) => {
  outgoing = [];
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(baseURL!) && !url.startsWith('blob:') && !url.startsWith('data:')) outgoing.push(url);
    else if (req.method() !== 'GET') outgoing.push(`${req.method()} ${url}`);
  });
});
test.afterEach(() => {
  expect(outgoing).toEqual([]);
});

async function open(page: Page) {
  await page.goto('/?backend=wasm');
  await expectBackend(page, 'WebAssembly');
  // The default built-in model has loaded: "Load model from disk" is available.
  await expect(page.getByLabel('Load model from disk')).toBeEnabled({ timeout: 120_000 });
}

const baseModel = (page: Page) => page.getByRole('combobox', { name: 'Base model' });
const modelPanel = (page: Page) => page.locator('section', { has: baseModel(page) });

/** Loads `name`.zip through "Load model from disk" and waits for the page to report it. */
async function loadZip(page: Page, name: string, bytes: Uint8Array) {
  await page.getByLabel('Load model from disk').setInputFiles({ name: `${name}.zip`, mimeType: 'application/zip', buffer: Buffer.from(bytes) });
  // The select changes only once the worker reports the model loaded. (The status line may
  // already say the loaded dataset was re-read with the new model's tokenizer.)
  await expect(baseModel(page)).toHaveValue(`disk:${name}`, { timeout: 120_000 });
  await expect(baseModel(page).locator('option:checked')).toHaveText(`${name} (from disk)`);
  // The built-in models are still offered.
  await expect(baseModel(page).locator(`option[value="${TINY}"]`)).toHaveCount(1);
  await expect(modelPanel(page)).toContainText(TINY_PARAMS);
  await expect(page.getByRole('alert')).toHaveCount(0);
}

async function tinyRun(page: Page, steps: number) {
  await fill(page, 'Sequence length', '32');
  await dropFile(page, 'notes.jsonl', sampleJsonl(24));
  await expect(page.locator('section', { has: page.getByText('First examples') })).toContainText('notes.jsonl');
  await fill(page, 'Steps', String(steps));
  await fill(page, 'Batch size', '2');
  await fill(page, 'Eval every', String(steps));
  await fill(page, 'Warmup steps', '0');
  await fill(page, 'Learning rate', '0.001');
}

async function download(page: Page, button: string): Promise<{ name: string; bytes: Uint8Array }> {
  const pending = page.waitForEvent('download');
  await page.getByRole('button', { name: button, exact: true }).click();
  const d = await pending;
  return { name: d.suggestedFilename(), bytes: new Uint8Array(readFileSync((await d.path())!)) };
}

test('a zipped Hugging Face folder loads as the base model, trains LoRA and exports', async ({ page }) => {
  await open(page);
  // Zipped as a person zips a folder: the files inside one enclosing folder.
  const zip = zipFiles(Object.fromEntries(TINY_FILES.map((f) => [`my-tiny-gpt2/${f}`, new Uint8Array(tinyFile(f))])));
  await loadZip(page, 'my-tiny-gpt2', zip);
  await expect(page.getByRole('status')).toHaveText(`Model loaded: my-tiny-gpt2 (from disk) · ${TINY_PARAMS} parameters`);
  await expect(modelPanel(page)).toContainText('Loaded from my-tiny-gpt2.zip on this computer');

  await expect(page.getByLabel('Method', { exact: true })).toHaveValue('lora');
  await tinyRun(page, 2);
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toHaveText(/^Training finished at step 2\/2 · loss \d+\.\d\d$/, { timeout: 240_000 });

  const exported = await download(page, 'Export adapter');
  expect(exported.name).toBe('my-tiny-gpt2-lora.zip');
  const files = unzipFiles(exported.bytes, exported.name);
  expect(Object.keys(files).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  const { tensors } = readSafetensors(files['adapter_model.safetensors'], 'adapter_model.safetensors');
  // LoRA's defaults on c_attn of 4 layers: A [8, 128] and B [384, 8] each.
  expect(tensors.get('base_model.model.transformer.h.3.attn.c_attn.lora_B.weight')?.shape).toEqual([384, 8]);
  expect(tensors.size).toBe(8);
});

test('a folder chosen with "Choose a model folder" loads under its name; its subfolders are not read', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'studio-model-'));
  try {
    const folder = join(dir, 'folder-gpt2');
    mkdirSync(join(folder, 'onnx'), { recursive: true });
    for (const f of TINY_FILES) writeFileSync(join(folder, f), tinyFile(f));
    // Would break the load if it were taken for the folder's own config.json.
    writeFileSync(join(folder, 'onnx', 'config.json'), 'not json');
    await open(page);
    await page.getByLabel('Choose a model folder').setInputFiles(folder);
    await expect(page.getByRole('status')).toHaveText(`Model loaded: folder-gpt2 (from disk) · ${TINY_PARAMS} parameters`, { timeout: 120_000 });
    await expect(baseModel(page)).toHaveValue('disk:folder-gpt2');
    await expect(modelPanel(page)).toContainText('Loaded from the folder folder-gpt2 on this computer');
    await expect(page.getByRole('alert')).toHaveCount(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a merged checkpoint exported by the studio loads back as a base model', async ({ page }) => {
  await open(page);
  await baseModel(page).selectOption(TINY);
  await expect(page.getByRole('status')).toHaveText(`Model loaded: Tiny GPT-2 (built in) · ${TINY_PARAMS} parameters`, { timeout: 120_000 });
  await page.getByRole('combobox', { name: 'Method', exact: true }).selectOption('bitfit');
  await tinyRun(page, 1);
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toHaveText(/^Training finished at step 1\/1 · loss \d+\.\d\d$/, { timeout: 240_000 });
  const merged = await download(page, 'Export merged model');
  expect(merged.name).toBe(`${TINY}-bitfit-merged.zip`);

  await loadZip(page, `${TINY}-bitfit-merged`, merged.bytes);
  // A different model from the built-in one: the trained biases are in it, and the adapter
  // trained on the built-in model is gone with it.
  await expect(page.getByRole('button', { name: 'Export adapter' })).toBeDisabled();
  // It is a base model like any other: another method trains on it.
  await page.getByRole('combobox', { name: 'Method', exact: true }).selectOption('lora');
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toHaveText(/^Training finished at step 1\/1 · loss \d+\.\d\d$/, { timeout: 240_000 });
  expect((await download(page, 'Export adapter')).name).toBe(`${TINY}-bitfit-merged-lora.zip`);
});
