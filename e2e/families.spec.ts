// Models of other families than GPT-2 brought from disk and LoRA-trained on WebGPU in headless
// Chromium, each the way a person brings it: a bfloat16 Qwen2 folder zipped. "Load model from
// disk" loads it, LoRA offers PEFT's default targets for the family, two steps train, and the
// exported adapter names the family's modules the way PEFT does.
// (tests/interop/families.test.ts loads such exports into PEFT itself.)
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors';
import { unzipFiles, zipFiles } from '../src/io/zip';
import { llama } from '../src/models/llama';
import { dropFile, fill, forbidExternalRequests, sampleJsonl } from './driver';
import { seededSafetensors } from './seeded-checkpoint';

forbidExternalRequests(test);

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v, null, 2));
const tinyTokenizer = (name: string) => new Uint8Array(readFileSync(new URL(`../public/models/tiny-gpt2/${name}`, import.meta.url)));
/** The byte-level BPE tokenizer of the built-in tiny GPT-2 (257 tokens), which the decoders here use. */
const byteLevelTokenizer = () => ({ 'tokenizer.json': tinyTokenizer('tokenizer.json'), 'tokenizer_config.json': tinyTokenizer('tokenizer_config.json') });

const baseModel = (page: Page) => page.getByRole('combobox', { name: 'Base model' });
const loadModel = (page: Page) => page.getByLabel('Load model from disk');

async function open(page: Page, backend: 'webgpu' | 'wasm') {
  await page.goto(`/?backend=${backend}`);
  // The backend passes its training self-check first, which takes a while on a software GPU.
  await expect(page.getByRole('region', { name: 'Compute backend' })).toContainText(backend === 'webgpu' ? 'WebGPU' : 'WebAssembly', { timeout: 180_000 });
  await expect(loadModel(page)).toBeEnabled({ timeout: 120_000 });
}

/** Waits for `name` to be the loaded base model, with its exact parameter count in the status line. */
async function expectLoaded(page: Page, name: string, totalParams: number) {
  await expect(baseModel(page)).toHaveValue(`disk:${name}`, { timeout: 120_000 });
  await expect(page.getByRole('status')).toHaveText(`Model loaded: ${name} (from disk) · ${totalParams.toLocaleString('en-US')} parameters`);
  await expect(page.getByRole('alert')).toHaveCount(0);
}

/** LoRA is the chosen method, with `checked` ticked and `unchecked` not. */
async function expectLoraTargets(page: Page, checked: string[], unchecked: string[]) {
  await expect(page.getByLabel('Method', { exact: true })).toHaveValue('lora');
  const targets = page.getByRole('group', { name: /Target modules/ });
  for (const m of checked) await expect(targets.getByRole('checkbox', { name: m, exact: true })).toBeChecked();
  for (const m of unchecked) await expect(targets.getByRole('checkbox', { name: m, exact: true })).not.toBeChecked();
}

/** Two steps at batch 2 on the dataset (already dropped), to the end, with no alert on the way. */
async function trainTwoSteps(page: Page) {
  await fill(page, 'Steps', '2');
  await fill(page, 'Batch size', '2');
  await fill(page, 'Eval every', '2');
  await fill(page, 'Warmup steps', '0');
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toHaveText(/^Training finished at step 2\/2 · loss \d+\.\d\d$/, { timeout: 240_000 });
  await expect(page.getByRole('alert')).toHaveCount(0);
}

/** Exports the adapter: its zip's name, adapter_config.json, and every tensor's shape by name. */
async function exportAdapter(page: Page) {
  const pending = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export adapter', exact: true }).click();
  const d = await pending;
  const name = d.suggestedFilename();
  const files = unzipFiles(new Uint8Array(readFileSync((await d.path())!)), name);
  expect(Object.keys(files).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  const config = JSON.parse(new TextDecoder().decode(files['adapter_config.json']));
  const { tensors } = readSafetensors(files['adapter_model.safetensors'], 'adapter_model.safetensors');
  const shapes = Object.fromEntries([...tensors].map(([n, t]) => [n, t.shape]));
  return { name, config, shapes };
}

/** PEFT's names of the LoRA tensors on `modules` of layers 0 and 1 (`model.layers.N.<module>`…), at rank 8. */
function loraShapes(block: (layer: number) => string, modules: Record<string, { in: number; out: number }>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const layer of [0, 1])
    for (const [module, size] of Object.entries(modules)) {
      out[`base_model.model.${block(layer)}.${module}.lora_A.weight`] = [8, size.in];
      out[`base_model.model.${block(layer)}.${module}.lora_B.weight`] = [size.out, 8];
    }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Qwen2: grouped-query attention, q/k/v biases, weights in bfloat16, tied head; a zip.

const QWEN2 = 'tiny-qwen2';
const QWEN2_CONFIG = {
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  intermediate_size: 64,
  max_position_embeddings: 128,
  vocab_size: 5000,
  rms_norm_eps: 1e-6,
  rope_theta: 1_000_000,
  hidden_act: 'silu',
  tie_word_embeddings: true,
  use_sliding_window: false,
};

test('on WebGPU, a bfloat16 Qwen2 folder from disk LoRA-trains on q_proj and v_proj and exports in PEFT’s names', async ({ page }) => {
  await open(page, 'webgpu');
  const info = llama.info(QWEN2, llama.parseConfig(QWEN2_CONFIG, 'config.json'));
  const folder: Record<string, Uint8Array> = { 'config.json': json(QWEN2_CONFIG), 'model.safetensors': seededSafetensors(info.params, 'BF16'), ...byteLevelTokenizer() };
  // Zipped as a person zips a folder: the files inside one enclosing folder.
  const zip = zipFiles(Object.fromEntries(Object.entries(folder).map(([f, b]) => [`${QWEN2}/${f}`, b])));
  await loadModel(page).setInputFiles({ name: `${QWEN2}.zip`, mimeType: 'application/zip', buffer: Buffer.from(zip) });
  await expectLoaded(page, QWEN2, info.totalParams);

  await expectLoraTargets(page, ['q_proj', 'v_proj'], ['k_proj']);
  // Distillation says why it does not apply to this family.
  await expect(page.locator('#methods-unavailable')).toContainText('Distillation (DistilBERT)');

  await fill(page, 'Sequence length', '32');
  await dropFile(page, 'notes.jsonl', sampleJsonl(24));
  await expect(page.locator('section', { has: page.getByText('First examples') })).toContainText('notes.jsonl');
  await trainTwoSteps(page);

  const exported = await exportAdapter(page);
  expect(exported.name).toBe(`${QWEN2}-lora.zip`);
  expect(exported.config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', fan_in_fan_out: false, target_modules: ['q_proj', 'v_proj'], base_model_name_or_path: QWEN2 });
  // r 8 on q_proj (32 → 32) and v_proj (32 → 2 key/value heads × 8 = 16) of both layers.
  expect(exported.shapes).toEqual(loraShapes((i) => `model.layers.${i}.self_attn`, { q_proj: { in: 32, out: 32 }, v_proj: { in: 32, out: 16 } }));
});

