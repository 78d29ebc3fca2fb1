// Models of every family brought from disk and LoRA-trained on WebGPU in headless Chromium, each
// the way a person brings it: a float16 GPT-2 folder zipped, a bfloat16 Qwen2 folder zipped, a float16 Llama
// folder sharded across two safetensors files chosen as the folder's files, a BERT masked LM
// with a WordPiece tokenizer dropped as a zip. "Load model from disk" loads each, LoRA offers
// PEFT's default targets for the family, two steps train, and the exported adapter names the
// family's modules the way PEFT does. (tests/interop/families.test.ts loads such exports into
// PEFT itself.) A Llama checkpoint with a tensor of the wrong shape is refused by name, and the
// model loaded before stays.
import { Tokenizer } from '@huggingface/tokenizers';
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../src/io/safetensors';
import { unzipFiles, zipFiles } from '../src/io/zip';
import { bert } from '../src/models/bert';
import { bertConfigJson } from '../src/models/bert-init';
import { gpt2 } from '../src/models/gpt2';
import { gpt2ConfigJson } from '../src/models/gpt2-init';
import { llama } from '../src/models/llama';
import { wordPieceTokenizerFiles } from '../src/tokenize/word-piece';
import { dropFile, dropFiles, expectBackend, fill, forbidExternalRequests, sampleJsonl } from './driver';
import { seededSafetensors, seededShardedCheckpoint } from './seeded-checkpoint';

forbidExternalRequests(test);

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v, null, 2));
const tinyTokenizer = (name: string) => new Uint8Array(readFileSync(new URL(`../public/models/tiny-gpt2/${name}`, import.meta.url)));
/** The byte-level BPE tokenizer of the built-in tiny GPT-2 (257 tokens), which the decoders here use. */
const byteLevelTokenizer = () => ({ 'tokenizer.json': tinyTokenizer('tokenizer.json'), 'tokenizer_config.json': tinyTokenizer('tokenizer_config.json') });

const baseModel = (page: Page) => page.getByRole('combobox', { name: 'Base model' });
const modelPanel = (page: Page) => page.locator('section', { has: baseModel(page) });
const loadModel = (page: Page) => page.getByLabel('Load model from disk');

async function open(page: Page, backend: 'webgpu' | 'wasm') {
  await page.goto(`/?backend=${backend}`);
  // The backend passes its training self-check first, which takes a while on a software GPU.
  await expectBackend(page, backend === 'webgpu' ? 'WebGPU' : 'WebAssembly');
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

/** Sequence length 32, then a small JSONL dataset dropped and shown as read. */
async function dropNotes(page: Page) {
  await fill(page, 'Sequence length', '32');
  await dropFile(page, 'notes.jsonl', sampleJsonl(24));
  await expect(page.locator('section', { has: page.getByText('First examples') })).toContainText('notes.jsonl');
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
// GPT-2: Conv1D weights stored [in, out], learned positions, tied head; a float16 folder zipped.

const GPT2 = 'small-gpt2';
const GPT2_CONFIG = gpt2ConfigJson({ n_layer: 2, n_embd: 32, n_head: 4, n_positions: 64, vocab_size: 257 });

test('on WebGPU, a float16 GPT-2 folder from disk LoRA-trains on c_attn and exports with fan_in_fan_out', async ({ page }) => {
  await open(page, 'webgpu');
  const info = gpt2.info(GPT2, gpt2.parseConfig(GPT2_CONFIG, 'config.json'));
  const folder: Record<string, Uint8Array> = { 'config.json': json(GPT2_CONFIG), 'model.safetensors': seededSafetensors(info.params, 'F16'), ...byteLevelTokenizer() };
  await loadModel(page).setInputFiles({ name: `${GPT2}.zip`, mimeType: 'application/zip', buffer: Buffer.from(zipFiles(folder)) });
  await expectLoaded(page, GPT2, info.totalParams);
  await expectLoraTargets(page, ['c_attn'], ['c_proj', 'c_fc']);

  await dropNotes(page);
  await trainTwoSteps(page);

  const exported = await exportAdapter(page);
  expect(exported.name).toBe(`${GPT2}-lora.zip`);
  expect(exported.config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', fan_in_fan_out: true, target_modules: ['c_attn'], base_model_name_or_path: GPT2 });
  // r 8 on c_attn (32 → 3 × 32) of both blocks.
  expect(exported.shapes).toEqual(loraShapes((i) => `transformer.h.${i}.attn`, { c_attn: { in: 32, out: 96 } }));
});

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

  await dropNotes(page);
  await trainTwoSteps(page);

  const exported = await exportAdapter(page);
  expect(exported.name).toBe(`${QWEN2}-lora.zip`);
  expect(exported.config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', fan_in_fan_out: false, target_modules: ['q_proj', 'v_proj'], base_model_name_or_path: QWEN2 });
  // r 8 on q_proj (32 → 32) and v_proj (32 → 2 key/value heads × 8 = 16) of both layers.
  expect(exported.shapes).toEqual(loraShapes((i) => `model.layers.${i}.self_attn`, { q_proj: { in: 32, out: 32 }, v_proj: { in: 32, out: 16 } }));
});

// ---------------------------------------------------------------------------------------------
// Llama: untied head (its own lm_head), weights in float16, sharded across two files; the
// folder's files chosen together.

const LLAMA_CONFIG = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  intermediate_size: 64,
  max_position_embeddings: 128,
  vocab_size: 320,
  rms_norm_eps: 1e-5,
  rope_theta: 10_000,
  hidden_act: 'silu',
  attention_bias: false,
  mlp_bias: false,
  tie_word_embeddings: false,
  bos_token_id: 256,
  eos_token_id: 256,
  dtype: 'float16',
};
const llamaInfo = (name: string) => llama.info(name, llama.parseConfig(LLAMA_CONFIG, 'config.json'));
/**
 * Embeddings 320·32; per layer q 32·32, k and v 16·32 each, o 32·32, gate, up and down 64·32
 * each, two norms of 32; the final norm; the untied head's own 320·32. transformers'
 * num_parameters() gives the same for this config.
 */
const LLAMA_PARAMS = 10_240 + 2 * (1_024 + 512 + 512 + 1_024 + 3 * 2_048 + 2 * 32) + 32 + 10_240;

/** The Llama folder's files: config, two float16 shards and their index, the tokenizer. */
function llamaFolder(): Record<string, Uint8Array> {
  return { 'config.json': json(LLAMA_CONFIG), ...seededShardedCheckpoint(llamaInfo('llama').params, 'F16', 2), ...byteLevelTokenizer() };
}

/** The files as a file picker gives them when a person selects every file of the folder: plain names, no folder. */
const asChosenFiles = (folder: Record<string, Uint8Array>) => Object.entries(folder).map(([name, bytes]) => ({ name, mimeType: name.endsWith('.json') ? 'application/json' : 'application/octet-stream', buffer: Buffer.from(bytes) }));

/** The name the studio gives a model whose files were chosen without their folder. */
const UNNAMED = 'local-model';

test('on WebGPU, a float16 Llama sharded across two files, chosen as the folder’s files, LoRA-trains and exports in PEFT’s names', async ({ page }) => {
  await open(page, 'webgpu');
  const folder = llamaFolder();
  expect(Object.keys(folder).sort()).toEqual([
    'config.json',
    'model-00001-of-00002.safetensors',
    'model-00002-of-00002.safetensors',
    'model.safetensors.index.json',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);
  await loadModel(page).setInputFiles(asChosenFiles(folder));
  await expectLoaded(page, UNNAMED, LLAMA_PARAMS);
  await expect(modelPanel(page)).toContainText('Loaded from 6 files on this computer');

  await expectLoraTargets(page, ['q_proj', 'v_proj'], ['k_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);

  await dropNotes(page);
  await trainTwoSteps(page);

  const exported = await exportAdapter(page);
  expect(exported.name).toBe(`${UNNAMED}-lora.zip`);
  expect(exported.config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', fan_in_fan_out: false, target_modules: ['q_proj', 'v_proj'], base_model_name_or_path: UNNAMED, r: 8 });
  // r 8 on q_proj (32 → 4 heads × 8 = 32) and v_proj (32 → 2 key/value heads × 8 = 16) of both layers.
  expect(exported.shapes).toEqual({
    'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight': [8, 32],
    'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight': [32, 8],
    'base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight': [8, 32],
    'base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight': [16, 8],
    'base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight': [8, 32],
    'base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight': [32, 8],
    'base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight': [8, 32],
    'base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight': [16, 8],
  });
});

test('a Llama checkpoint with a tensor of the wrong shape is refused, naming the file and the tensor; the model loaded before stays', async ({ page }) => {
  await open(page, 'wasm');
  await loadModel(page).setInputFiles(asChosenFiles(llamaFolder()));
  await expectLoaded(page, UNNAMED, LLAMA_PARAMS);
  await fill(page, 'Sequence length', '32');
  await dropFile(page, 'notes.jsonl', sampleJsonl(24));
  const dataset = page.locator('section', { has: page.getByText('First examples') });
  await expect(dataset).toContainText('notes.jsonl');
  const info = llamaInfo(UNNAMED);

  // A key projection as wide as the query one: a checkpoint made for multi-head attention
  // under a config that says 2 key/value heads.
  const wrong = 'model.layers.1.self_attn.k_proj.weight';
  const params = info.params.map((p) => (p.name === wrong ? { ...p, shape: [32, 32] } : p));
  expect(info.params.find((p) => p.name === wrong)?.shape).toEqual([16, 32]);
  const zip = zipFiles({
    'broken-llama/config.json': json(LLAMA_CONFIG),
    'broken-llama/model.safetensors': seededSafetensors(params, 'F16'),
    ...Object.fromEntries(Object.entries(byteLevelTokenizer()).map(([f, b]) => [`broken-llama/${f}`, b])),
  });
  await loadModel(page).setInputFiles({ name: 'broken-llama.zip', mimeType: 'application/zip', buffer: Buffer.from(zip) });

  const alert = page.getByRole('alert');
  await expect(alert).toContainText(`model.safetensors: "${wrong}" has shape [32,32], broken-llama (config.json) needs [16,32]`, { timeout: 120_000 });
  // The Llama loaded before is still the base model, with the dataset read for it, and the
  // broken one is not offered; the model still trains.
  await expect(baseModel(page)).toHaveValue(`disk:${UNNAMED}`);
  await expect(baseModel(page).locator('option[value="disk:broken-llama"]')).toHaveCount(0);
  await expect(modelPanel(page)).toContainText(LLAMA_PARAMS.toLocaleString('en-US'));
  await expect(dataset).toContainText('notes.jsonl');
  await trainTwoSteps(page);
});

// ---------------------------------------------------------------------------------------------
// BERT: a masked LM with a WordPiece tokenizer; a zip dropped on the page.

const BERT = 'tiny-bert';
const BERT_WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'to', 'a', 'big', 'red', 'house', 'and', 'saw', 'small', '.', ',', '##s'];
const BERT_SENTENCES = ['the cat sat on the mat.', 'a big red dog ran to the house.', 'the dogs saw a small cat, and the cat ran.', 'a cat and a dog sat on a big red mat.', 'the small house and the big mat.'];

test('on WebGPU, a BERT masked LM dropped as a zip tokenises with its WordPiece tokenizer, LoRA-trains on query and value and exports in PEFT’s names', async ({ page }) => {
  await open(page, 'webgpu');
  const tok = wordPieceTokenizerFiles(BERT_WORDS);
  const config = bertConfigJson({ hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 64, vocab_size: tok.vocab.length });
  const info = bert.info(BERT, bert.parseConfig(config, 'config.json'));
  const zip = zipFiles({
    [`${BERT}/config.json`]: json(config),
    [`${BERT}/model.safetensors`]: seededSafetensors(info.params, 'F32'),
    [`${BERT}/tokenizer.json`]: json(tok.tokenizer),
    [`${BERT}/tokenizer_config.json`]: json(tok.tokenizerConfig),
  });
  await dropFiles(page.locator('.model-drop'), [{ name: `${BERT}.zip`, mimeType: 'application/zip', bytes: zip }]);
  // Embeddings (23 words, 64 positions, 2 token types, LayerNorm) 2,912; per layer q, k, v and o
  // with biases 4 · 1,056, the FFN 2,112 + 2,080 and two LayerNorms 2 · 64; the MLM head's
  // transform 1,056 + 64 and its bias 23 (the decoder is tied to the word embeddings).
  // transformers' num_parameters() gives the same for this config.
  await expectLoaded(page, BERT, 2_912 + 2 * (4 * 1_056 + 2_112 + 2_080 + 2 * 64) + 1_056 + 64 + 23);
  await expect(modelPanel(page)).toContainText(`Loaded from ${BERT}.zip on this computer`);
  // A masked LM cannot generate, and the page says why.
  await expect(page.getByText(`${BERT} is a masked language model; text generation needs a causal LM.`)).toBeVisible();

  await expectLoraTargets(page, ['query', 'value'], ['key']);

  const SEQUENCE_LENGTH = 16;
  await fill(page, 'Sequence length', String(SEQUENCE_LENGTH));
  const lines = Array.from({ length: 24 }, (_, i) => BERT_SENTENCES[i % BERT_SENTENCES.length]);
  await dropFile(page, 'sentences.jsonl', lines.map((text) => JSON.stringify({ text })).join('\n'));
  const dataset = page.locator('section', { has: page.getByText('First examples') });
  await expect(dataset).toContainText('sentences.jsonl');
  // The token count is the WordPiece tokenizer's ([CLS] … [SEP], "dogs" as dog ##s, no end-of-text
  // appended); a byte-level tokenizer would count every character. Repeated sentences are read
  // once, and a sentence longer than a row continues in the next, so every token of each counts.
  const wordPiece = new Tokenizer(tok.tokenizer as never, tok.tokenizerConfig as never);
  const tokens = [...new Set(lines)].reduce((n, text) => n + wordPiece.encode(text, { add_special_tokens: true }).ids.length, 0);
  expect(wordPiece.encode(BERT_SENTENCES[2], { add_special_tokens: true }).tokens).toEqual(['[CLS]', 'the', 'dog', '##s', 'saw', 'a', 'small', 'cat', ',', 'and', 'the', 'cat', 'ran', '.', '[SEP]']);
  await expect(dataset.locator('dt:text-is("Tokens") + dd')).toHaveText(tokens.toLocaleString('en-US'));

  await trainTwoSteps(page);

  const exported = await exportAdapter(page);
  expect(exported.name).toBe(`${BERT}-lora.zip`);
  // PEFT has no masked-LM task type: the studio saves feature extraction, loaded onto AutoModelForMaskedLM.
  expect(exported.config).toMatchObject({ peft_type: 'LORA', task_type: 'FEATURE_EXTRACTION', fan_in_fan_out: false, target_modules: ['query', 'value'], base_model_name_or_path: BERT, r: 8 });
  // r 8 on query and value (32 → 32) of both layers.
  expect(exported.shapes).toEqual(loraShapes((i) => `bert.encoder.layer.${i}.attention.self`, { query: { in: 32, out: 32 }, value: { in: 32, out: 32 } }));
});
