// Every method in the registry through the page, as a person uses it: on WebGPU with the
// built-in model, tiny settings, a two-step run, export, then the download's file names,
// tensor names and shapes checked against the method's plan, and the zip imported back.
// The tests iterate the registry, so a method that lands later is covered without edits.
// Also "Compare methods" with LoRA and one other method on the wasm backend.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { trainableParamsLine } from '../app/format';
import { peftTypeOf } from '../src/export/peft-files';
import { readSafetensors } from '../src/io/safetensors';
import { unzipFiles } from '../src/io/zip';
import { modelInfo } from '../src/models/load';
import type { ModelInfo } from '../src/models/types';
import { coerceConfig, METHODS } from '../src/peft/registry';
import type { PeftMethod, Plan } from '../src/peft/types';
import { dropFile, expectBackend, fill, forbidExternalRequests, sampleJsonl } from './driver';

const MODEL_ID = 'tiny-gpt2';
const info: ModelInfo = modelInfo(MODEL_ID, JSON.parse(readFileSync(new URL(`../public/models/${MODEL_ID}/config.json`, import.meta.url), 'utf8')));

/**
 * Tiny settings by config key, small enough for a few steps on SwiftShader's WebGPU; a method
 * without the key keeps its default for it.
 */
const TINY_SETTINGS: Record<string, string> = {
  num_virtual_tokens: '4',
  encoder_hidden_size: '16',
  bottleneck_size: '4',
};

/** LoRA has its own browser test (studio.spec.ts); distillation is not an adapter method. */
const COVERED = METHODS.filter((m) => m.id !== 'lora' && !/distil/i.test(m.id) && !m.unsupported?.(info));

function tinyOverrides(method: PeftMethod<any>): Record<string, string> {
  const keys = new Set(method.fields(info).map((f) => f.key));
  return Object.fromEntries(Object.entries(TINY_SETTINGS).filter(([k]) => keys.has(k)));
}

forbidExternalRequests(test);

/** Opens the page on a backend with the built-in model chosen explicitly (another default may come). */
async function openWithTinyModel(page: Page, backend: 'webgpu' | 'wasm') {
  await page.goto(`/?backend=${backend}`);
  await expectBackend(page, backend === 'webgpu' ? 'WebGPU' : 'WebAssembly');
  const baseModel = page.getByRole('combobox', { name: 'Base model' });
  await expect(baseModel).toBeEnabled();
  await baseModel.selectOption(MODEL_ID);
  const modelPanel = page.locator('section', { has: baseModel });
  await expect(modelPanel).toContainText(info.totalParams.toLocaleString('en-US'), { timeout: 120_000 });
  await expect(page.locator('code', { hasText: 'trainable params' })).toBeVisible();
}

/** The training settings every run here uses: 2 steps of batch 2 × 32 tokens, evaluated at step 2. */
async function tinyRun(page: Page, datasetName: string) {
  await fill(page, 'Sequence length', '32');
  await dropFile(page, datasetName, sampleJsonl(24));
  await expect(page.locator('section', { has: page.getByText('First examples') })).toContainText(datasetName);
  await fill(page, 'Steps', '2');
  await fill(page, 'Batch size', '2');
  await fill(page, 'Eval every', '2');
  await fill(page, 'Warmup steps', '0');
  await fill(page, 'Learning rate', '0.001');
}

/** Reads the "Trainable tensors" table of the Parameter budget panel. */
async function pagePlanTensors(page: Page): Promise<{ name: string; shape: number[] }[]> {
  const details = page.locator('details.tensors');
  await details.locator('summary').click();
  const rows = details.locator('tbody tr');
  const out: { name: string; shape: number[] }[] = [];
  for (const row of await rows.all()) {
    const [name, shape] = await row.locator('td').allTextContents();
    out.push({ name, shape: JSON.parse(shape) as number[] });
  }
  return out;
}

type Shapes = Record<string, number[]>;

/**
 * What the export must hold, from the method's plan and the ecosystem's layouts
 * (../shared/reference/peft-formats.md): PEFT's prompt-learning types save the final virtual
 * tokens or prefixes as one `prompt_embeddings` tensor (the reparameterisation MLP or prompt
 * encoder is a training device and is not saved); LoRA saves its planned tensors under
 * `base_model.model.`; the studio's own layouts (BitFit, AdapterHub) save the planned tensors
 * under their planned names.
 */
function expectedExport(files: Record<string, Uint8Array>, plan: Plan, settings: Record<string, string>): { names: string[]; weights: string; tensors: Shapes } {
  const peftType = peftTypeOf(files);
  const c = info.config;
  if (peftType === undefined) {
    // The studio's own layouts: one JSON config and one safetensors file of the planned tensors.
    const names = Object.keys(files).sort();
    const weights = names.filter((n) => n.endsWith('.safetensors'));
    expect(weights, `one safetensors file among ${names.join(', ')}`).toHaveLength(1);
    expect(names.filter((n) => n.endsWith('.json')), `one JSON config among ${names.join(', ')}`).toHaveLength(1);
    expect(names).toHaveLength(2);
    return { names, weights: weights[0], tensors: Object.fromEntries(plan.tensors.map((t) => [t.name, t.shape])) };
  }
  const names = ['adapter_config.json', 'adapter_model.safetensors'];
  const config = JSON.parse(new TextDecoder().decode(files['adapter_config.json'])) as Record<string, unknown>;
  expect(config).toMatchObject({ task_type: 'CAUSAL_LM' });
  const n = Number(settings.num_virtual_tokens);
  switch (peftType) {
    case 'LORA':
      return { names, weights: names[1], tensors: Object.fromEntries(plan.tensors.map((t) => [`base_model.model.${t.name}`, t.shape])) };
    case 'PROMPT_TUNING':
    case 'P_TUNING':
      expect(config).toMatchObject({ num_virtual_tokens: n, token_dim: c.hiddenSize, num_transformer_submodules: 1 });
      // The plan's first tensor is the [n, d] embedding either way (P-tuning's encoder input).
      expect(plan.tensors[0].shape).toEqual([n, c.hiddenSize]);
      return { names, weights: names[1], tensors: { prompt_embeddings: [n, c.hiddenSize] } };
    case 'PREFIX_TUNING':
      expect(config).toMatchObject({ num_virtual_tokens: n, token_dim: c.hiddenSize, num_layers: c.numLayers, num_attention_heads: c.numHeads });
      expect(plan.tensors[0].shape[0]).toBe(n);
      return { names, weights: names[1], tensors: { prompt_embeddings: [n, c.numLayers * 2 * c.hiddenSize] } };
    default:
      throw new Error(`no expectation for PEFT type ${peftType}`);
  }
}

function tensorsOf(bytes: Uint8Array, fileName: string): { shapes: Shapes; data: Record<string, number[]> } {
  const { tensors } = readSafetensors(bytes, fileName);
  const shapes: Shapes = {};
  const data: Record<string, number[]> = {};
  for (const [name, t] of tensors) {
    shapes[name] = t.shape;
    data[name] = Array.from(t.data as Float32Array);
  }
  return { shapes, data };
}

async function download(page: Page, button: string): Promise<{ name: string; bytes: Uint8Array }> {
  const pending = page.waitForEvent('download');
  await page.getByRole('button', { name: button, exact: true }).click();
  const d = await pending;
  return { name: d.suggestedFilename(), bytes: new Uint8Array(readFileSync((await d.path())!)) };
}

test('the registry has methods beyond LoRA for the browser tests to cover', () => {
  // Guards against this file silently testing nothing.
  expect(COVERED.length).toBeGreaterThan(0);
});

for (const method of COVERED) {
  test(`${method.label} on WebGPU: train, export in its layout, import back`, async ({ page }) => {
    await openWithTinyModel(page, 'webgpu');

    // The method, from the select; its one-line summary and paper link are shown.
    await page.getByRole('combobox', { name: 'Method', exact: true }).selectOption(method.id);
    await expect(page.locator('#method-summary')).toContainText(method.summary);
    await expect(page.locator('#method-summary').getByRole('link')).toHaveAttribute('href', method.paper.url);

    // Tiny settings through the generated form, then the page's plan against the method's own.
    const settings = tinyOverrides(method);
    const form = page.getByRole('group', { name: 'Hyperparameters' });
    for (const field of method.fields(info)) {
      if (settings[field.key] !== undefined) await form.getByLabel(field.label, { exact: true }).fill(settings[field.key]);
    }
    const plan = method.plan(info, coerceConfig(method, info, settings));
    await expect(page.locator('code', { hasText: 'trainable params' })).toHaveText(trainableParamsLine(plan.trainable, plan.total));
    expect(await pagePlanTensors(page)).toEqual(plan.tensors);
    // Its row in the all-methods chart's table says the same.
    const allMethods = page.getByRole('figure', { name: 'Trainable parameters by method' });
    const row = allMethods.getByRole('row').filter({ has: page.getByRole('rowheader', { name: method.label, exact: true }) });
    await expect(row.getByRole('cell').first()).toHaveText(plan.trainable.toLocaleString('en-US'));

    await tinyRun(page, 'stories.jsonl');
    await page.getByRole('button', { name: 'Start training' }).click();
    await expect(page.getByRole('status')).toHaveText(/^Training finished at step 2\/2 · loss \d+\.\d\d$/, { timeout: 240_000 });
    await expectBackend(page, 'WebGPU');
    await expect(page.locator('.loss-chart figcaption')).toContainText(/held-out loss \d+\.\d+ at step 2/);

    // Export: the file names, tensor names and shapes the plan and the format imply.
    const exported = await download(page, 'Export adapter');
    expect(exported.name).toBe(`${MODEL_ID}-${method.id}.zip`);
    const files = unzipFiles(exported.bytes, exported.name);
    const expected = expectedExport(files, plan, settings);
    expect(Object.keys(files).sort()).toEqual(expected.names);
    const saved = tensorsOf(files[expected.weights], expected.weights);
    expect(saved.shapes).toEqual(expected.tensors);
    for (const [name, values] of Object.entries(saved.data)) expect(values.every(Number.isFinite), `${name} is finite`).toBe(true);

    // Of these methods only BitFit folds into the base weights (the others add modules or
    // tokens): it alone offers a full checkpoint, with the trained biases in it.
    const merge = page.getByRole('button', { name: 'Export merged model' });
    if (method.id !== 'bitfit') await expect(merge).toHaveCount(0);
    else {
      const merged = await download(page, 'Export merged model');
      expect(merged.name).toBe(`${MODEL_ID}-bitfit-merged.zip`);
      const folder = unzipFiles(merged.bytes, merged.name);
      expect(Object.keys(folder).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
      for (const name of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) {
        expect(Buffer.from(folder[name]).equals(readFileSync(new URL(`../public/models/${MODEL_ID}/${name}`, import.meta.url))), `${name} is the base's`).toBe(true);
      }
      const weights = tensorsOf(folder['model.safetensors'], 'model.safetensors');
      expect(weights.shapes).toEqual(Object.fromEntries(info.params.map((p) => [p.name, p.shape])));
      for (const [name, values] of Object.entries(saved.data)) expect(weights.data[name], `${name} merged`).toEqual(values);
    }

    // Import the download back: announced, named as the current adapter, and exporting it
    // again gives the same tensors.
    await page.getByLabel('Import adapter').setInputFiles({ name: exported.name, mimeType: 'application/zip', buffer: Buffer.from(exported.bytes) });
    const count = Object.values(saved.shapes).reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
    // The announcement, then anything the method says about the import (P-tuning: a fixed prompt now).
    const announced = `Imported ${exported.name}: ${method.label} adapter · ${count.toLocaleString('en-US')} parameters`;
    const status = page.getByRole('status');
    if (method.id === 'p-tuning') {
      await expect(status).toContainText(announced + '. ');
      await expect(status).toContainText('restored as a fixed prompt');
    } else {
      await expect(status).toHaveText(announced);
    }
    await expect(page.getByRole('region', { name: 'Adapter', exact: true })).toContainText(`Current adapter: ${method.label}, imported from`);
    await expect(page.getByRole('alert')).toHaveCount(0);
    const again = await download(page, 'Export adapter');
    const againFiles = unzipFiles(again.bytes, again.name);
    expect(tensorsOf(againFiles[expected.weights], expected.weights)).toEqual(saved);
  });
}

test('Compare methods on wasm: LoRA and one other method, two rows with numbers and two curves', async ({ page }) => {
  // tfjs wasm has no UnsortedSegmentSum kernel; BitFit (or any other method) trains without it.
  const other = COVERED.find((m) => m.id === 'bitfit') ?? COVERED[0];
  const lora = METHODS.find((m) => m.id === 'lora')!;
  await openWithTinyModel(page, 'wasm');
  await tinyRun(page, 'notes.jsonl');

  const panel = page.getByRole('region', { name: 'Compare methods' });
  const button = panel.getByRole('button', { name: 'Compare methods' });
  await expect(button).toBeDisabled();
  await panel.getByRole('checkbox', { name: lora.label, exact: true }).check();
  await panel.getByRole('checkbox', { name: other.label, exact: true }).check();
  await expect(button).toBeEnabled();
  await button.click();

  await expect(page.getByRole('status')).toHaveText('Comparison finished: 2 methods', { timeout: 240_000 });
  const rows = panel.getByRole('table').locator('tbody tr');
  await expect(rows).toHaveCount(2);
  const cells = async (i: number) => [await rows.nth(i).locator('th').textContent(), ...(await rows.nth(i).locator('td').allTextContents())];
  for (const [i, m] of [lora, other].entries()) {
    const [name, trainable, share, loss, rate, size, wall] = await cells(i);
    const plan = m.plan(info, m.defaults(info));
    expect(name).toBe(m.label);
    expect(trainable).toBe(plan.trainable.toLocaleString('en-US'));
    expect(share).toBe(`${((100 * plan.trainable) / plan.total).toFixed(4)}%`);
    expect(loss).toMatch(/^\d+\.\d{4}$/);
    expect(rate).toMatch(/^[\d,.]+ tok\/s$/);
    expect(size).toMatch(/^\d+(\.\d)? (B|KiB|MiB)$/);
    expect(wall).toMatch(/^\d+\.\d s$|min/);
  }
  // Both held-out curves are drawn in one chart.
  const chart = panel.getByRole('figure', { name: 'Held-out loss by method' });
  await expect(chart.locator('.recharts-line')).toHaveCount(2);
  await expect(chart.locator('.chart-legend li')).toHaveCount(2);
  // The last run's adapter is the page's now: it exports under its method's name.
  const exported = await download(page, 'Export adapter');
  expect(exported.name).toBe(`${MODEL_ID}-${other.id}.zip`);
});
