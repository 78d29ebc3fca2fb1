// Backend parity through the page, on every backend it offers: for every method and for
// distillation, "Check against CPU" trains ten steps on this backend and on the CPU reference
// from the same starting weights on the same batches, and the table must report every
// quantity — the first step's loss, each gradient, the gradient norm, each updated weight, the
// ten losses and the final weights — within its tolerance. A backend whose gradients are wrong
// still lowers the loss; this test fails it by what it learned. The backend's start-up
// self-check is read from the page too, and on WebAssembly the threads it runs: the threaded
// build, one thread per logical core, is what these tests check against the CPU.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { modelInfo } from '../src/models/load';
import type { ModelInfo } from '../src/models/types';
import type { FieldSpec } from '../src/peft/types';
import { RUN_KINDS } from '../src/train/registry';
import { dropFile, expectBackend, fill, forbidExternalRequests, sampleJsonl } from './driver';

const MODEL_ID = 'tiny-gpt2';
const info: ModelInfo = modelInfo(MODEL_ID, JSON.parse(readFileSync(new URL(`../public/models/${MODEL_ID}/config.json`, import.meta.url), 'utf8')));
const TINY_SETTINGS: Record<string, string> = { num_virtual_tokens: '4', encoder_hidden_size: '16', bottleneck_size: '4' };
// Every entry of the Method select that applies to the model: the PEFT methods and distillation.
const CHECKED: { id: string; label: string; fields: FieldSpec[] }[] = RUN_KINDS.filter((k) => !k.unsupported(info)).map((k) => ({ id: k.id, label: k.label, fields: k.fields(info) }));
const LABEL = { webgpu: 'WebGPU', wasm: 'WebAssembly', cpu: 'CPU' } as const;
const QUANTITIES = ['loss (step 1)', 'gradients (step 1)', 'gradient norm (step 1)', 'AdamW update (step 1)', 'weight change (step 1)', 'losses (steps 1–10)', 'weight change (steps 1–10)'];

forbidExternalRequests(test);

async function open(page: Page, backend: keyof typeof LABEL) {
  await page.goto(`/?backend=${backend}`);
  await expectBackend(page, backend === 'cpu' ? 'CPU (JavaScript)' : LABEL[backend]);
  const check = page.getByRole('region', { name: 'Backend check' });
  // Every backend but the reference itself passed the self-check before the page could use it.
  if (backend === 'cpu') await expect(check).not.toContainText('Self-check passed');
  else await expect(check).toContainText(new RegExp(`Self-check passed on ${LABEL[backend]}: 3 training steps of a small GPT-2 with \\d+ trainable tensors`));
  if (backend === 'wasm') {
    // The page is cross-origin isolated, so the threaded SIMD build runs a thread per logical core.
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(cores, 'this test needs a machine with more than one logical core').toBeGreaterThan(1);
    await expect(page.getByRole('region', { name: 'Compute backend' })).toContainText(`WebAssembly · SIMD · ${Math.min(cores, 8)} threads`);
    await expect(page.getByRole('list', { name: 'Why other backends were not used' })).toHaveCount(0);
  }
  await page.getByRole('combobox', { name: 'Base model' }).selectOption(MODEL_ID);
  await expect(page.locator('section', { has: page.getByRole('combobox', { name: 'Base model' }) })).toContainText(info.totalParams.toLocaleString('en-US'), { timeout: 120_000 });
  await fill(page, 'Sequence length', '16');
  await fill(page, 'Batch size', '2');
  await fill(page, 'Learning rate', '0.002');
  await fill(page, 'Warmup steps', '0');
  await dropFile(page, 'stories.jsonl', sampleJsonl(24));
  await expect(page.locator('section', { has: page.getByText('First examples') })).toContainText('stories.jsonl');
}

/** Reads the parity table: quantity → [difference, tolerance, result]. */
async function readTable(page: Page): Promise<Record<string, { difference: number; tolerance: number; result: string; worst: string }>> {
  const out: Record<string, { difference: number; tolerance: number; result: string; worst: string }> = {};
  for (const row of await page.locator('.parity-table tbody tr').all()) {
    const name = (await row.locator('th').first().textContent())!.replace(/\s*\(\d+\)$/, '');
    const [difference, tolerance, result, worst] = await row.locator('td').allTextContents();
    out[name] = { difference: Number(difference), tolerance: Number(tolerance), result, worst };
  }
  return out;
}

for (const backend of ['webgpu', 'wasm', 'cpu'] as const) {
  test(`on ${LABEL[backend]}, every method and distillation learn what the CPU learns`, async ({ page }) => {
    test.setTimeout(1_200_000);
    await open(page, backend);
    const summary: string[] = [];
    for (const m of CHECKED) {
      await page.getByRole('combobox', { name: 'Method', exact: true }).selectOption(m.id);
      const form = page.getByRole('group', { name: 'Hyperparameters' });
      for (const field of m.fields) {
        if (TINY_SETTINGS[field.key] !== undefined) await form.getByLabel(field.label, { exact: true }).fill(TINY_SETTINGS[field.key]);
      }
      await page.getByRole('button', { name: 'Check against CPU' }).click();
      await expect(page.getByRole('status')).toHaveText(new RegExp(`^Check against CPU (passed|failed) for ${m.label.replace(/[()]/g, '\\$&')}`), { timeout: 600_000 });
      await expect(page.locator('.parity-table caption')).toContainText(`${m.label} on ${LABEL[backend]} against the CPU reference: 10 steps of batch 2 × 16`);
      const table = await readTable(page);
      expect(Object.keys(table)).toEqual(QUANTITIES);
      for (const [quantity, row] of Object.entries(table)) {
        expect(row.result, `${m.label}, ${quantity}: ${JSON.stringify(row)}`).toBe('Match');
        expect(row.difference).toBeLessThanOrEqual(row.tolerance);
        // The reference checked against itself is exactly reproducible.
        if (backend === 'cpu') expect(row.difference, `${m.label}, ${quantity}`).toBe(0);
      }
      await expect(page.locator('.check-passed')).toHaveText('Matches the CPU reference: every quantity is within its tolerance.');
      summary.push(`${m.label}: ${QUANTITIES.map((q) => `${q} ${table[q].difference}`).join(', ')}`);
    }
    // Recomputing each block's activations in the backward pass gives the same updates, on this
    // backend as on the CPU (where they are bit for bit those of keeping the activations).
    if (backend !== 'cpu') {
      await page.getByLabel('Recompute activations in the backward pass').check();
      for (const m of CHECKED.filter((k) => k.id === 'lora' || k.id === 'full-finetune')) {
        await page.getByRole('combobox', { name: 'Method', exact: true }).selectOption(m.id);
        await page.getByRole('button', { name: 'Check against CPU' }).click();
        await expect(page.getByRole('status')).toHaveText(new RegExp(`^Check against CPU (passed|failed) for ${m.label}`), { timeout: 600_000 });
        const table = await readTable(page);
        for (const [quantity, row] of Object.entries(table)) expect(row.result, `${m.label} recomputing, ${quantity}: ${JSON.stringify(row)}`).toBe('Match');
        summary.push(`${m.label}, recomputing: ${QUANTITIES.map((q) => `${q} ${table[q].difference}`).join(', ')}`);
      }
    }
    test.info().annotations.push({ type: 'parity', description: summary.join('\n') });
    console.log(`${LABEL[backend]}\n${summary.join('\n')}`);
  });
}
