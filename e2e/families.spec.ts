// A Qwen2-style model (grouped-query attention, q/k/v biases, weights in bfloat16) brought
// from disk and LoRA-trained on WebGPU in headless Chromium: the folder is zipped as a person
// zips it, "Load model from disk" loads it, LoRA offers PEFT's default targets for the family
// (q_proj, v_proj), two steps train, and the exported adapter names Qwen2's modules the way
// PEFT does. (tests/interop/families.test.ts loads such exports into PEFT itself.)
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors';
import { unzipFiles, zipFiles } from '../src/io/zip';
import { llama } from '../src/models/llama';
import { dropFile, fill, forbidExternalRequests, sampleJsonl } from './driver';

forbidExternalRequests(test);

const NAME = 'tiny-qwen2';
const CONFIG = {
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

/**
 * model.safetensors in bfloat16, as `save_pretrained` writes a bf16 model: every parameter the
 * architecture names, small seeded values (bf16 keeps a float32's top 16 bits).
 */
function bf16Weights(): Uint8Array {
  const info = llama.info(NAME, llama.parseConfig(CONFIG, 'config.json'));
  let seed = 1;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const p of info.params) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n).map(() => (p.name.endsWith('norm.weight') ? 1 : 0.1 * next()));
    const bf16 = new Uint16Array(n);
    const bits = new Uint32Array(values.buffer);
    for (let i = 0; i < n; i++) bf16[i] = bits[i] >>> 16;
    header[p.name] = { dtype: 'BF16', shape: p.shape, data_offsets: [offset, offset + 2 * n] };
    chunks.push(new Uint8Array(bf16.buffer));
    offset += 2 * n;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let at = 8 + json.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const tinyTokenizer = (name: string) => new Uint8Array(readFileSync(new URL(`../public/models/tiny-gpt2/${name}`, import.meta.url)));

async function download(page: Page, button: string): Promise<{ name: string; bytes: Uint8Array }> {
  const pending = page.waitForEvent('download');
  await page.getByRole('button', { name: button, exact: true }).click();
  const d = await pending;
  return { name: d.suggestedFilename(), bytes: new Uint8Array(readFileSync((await d.path())!)) };
}

test('on WebGPU, a bfloat16 Qwen2 folder from disk LoRA-trains on q_proj and v_proj and exports in PEFT’s names', async ({ page }) => {
  await page.goto('/?backend=webgpu');
  await expect(page.getByRole('region', { name: 'Compute backend' })).toContainText('WebGPU');
  await expect(page.getByLabel('Load model from disk')).toBeEnabled({ timeout: 120_000 });

  const zip = zipFiles({
    [`${NAME}/config.json`]: new TextEncoder().encode(JSON.stringify(CONFIG, null, 2)),
    [`${NAME}/model.safetensors`]: bf16Weights(),
    [`${NAME}/tokenizer.json`]: tinyTokenizer('tokenizer.json'),
    [`${NAME}/tokenizer_config.json`]: tinyTokenizer('tokenizer_config.json'),
  });
  await page.getByLabel('Load model from disk').setInputFiles({ name: `${NAME}.zip`, mimeType: 'application/zip', buffer: Buffer.from(zip) });
  const baseModel = page.getByRole('combobox', { name: 'Base model' });
  await expect(baseModel).toHaveValue(`disk:${NAME}`, { timeout: 120_000 });
  const params = llama.info(NAME, llama.parseConfig(CONFIG, 'config.json')).totalParams;
  await expect(page.getByRole('status')).toHaveText(`Model loaded: ${NAME} (from disk) · ${params.toLocaleString('en-US')} parameters`);
  await expect(page.getByRole('alert')).toHaveCount(0);

  // LoRA is chosen and targets the family's q/v projections by default.
  await expect(page.getByLabel('Method', { exact: true })).toHaveValue('lora');
  const targets = page.getByRole('group', { name: /Target modules/ });
  await expect(targets.getByRole('checkbox', { name: 'q_proj' })).toBeChecked();
  await expect(targets.getByRole('checkbox', { name: 'v_proj' })).toBeChecked();
  await expect(targets.getByRole('checkbox', { name: 'k_proj' })).not.toBeChecked();
  // Distillation says why it does not apply to this family.
  await expect(page.locator('#methods-unavailable')).toContainText('Distillation (DistilBERT)');

  await fill(page, 'Sequence length', '32');
  await dropFile(page, 'notes.jsonl', sampleJsonl(24));
  await expect(page.locator('section', { has: page.getByText('First examples') })).toContainText('notes.jsonl');
  await fill(page, 'Steps', '2');
  await fill(page, 'Batch size', '2');
  await fill(page, 'Eval every', '2');
  await fill(page, 'Warmup steps', '0');
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('status')).toHaveText(/^Training finished at step 2\/2 · loss \d+\.\d\d$/, { timeout: 240_000 });
  await expect(page.getByRole('alert')).toHaveCount(0);

  const exported = await download(page, 'Export adapter');
  expect(exported.name).toBe(`${NAME}-lora.zip`);
  const files = unzipFiles(exported.bytes, exported.name);
  const config = JSON.parse(new TextDecoder().decode(files['adapter_config.json']));
  expect(config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', fan_in_fan_out: false, target_modules: ['q_proj', 'v_proj'], base_model_name_or_path: NAME });
  const { tensors } = readSafetensors(files['adapter_model.safetensors'], 'adapter_model.safetensors');
  // r 8 on q_proj (32 → 32) and v_proj (32 → 2 key/value heads × 8 = 16) of both layers.
  expect(tensors.size).toBe(8);
  expect(tensors.get('base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight')?.shape).toEqual([8, 32]);
  expect(tensors.get('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight')?.shape).toEqual([16, 8]);
});
