// `npm run bench`: training speed of LoRA on the built-in model, printed as numbers.
//  1. The engine in Node on the tfjs cpu and wasm backends (ms/step, tokens/s, tensors).
//  2. The studio page in headless Chromium on WebGPU and wasm, driven like a person would,
//     reading the tokens/s the page itself shows.
// Configs: "e2e" is what the browser tests train (batch 2 × 32 tokens); "larger" is
// batch 8 × 128 tokens. Pass `--node-only` or `--browser-only` to run one half.
//
// `--families` instead times the reference-sized model of each family (GPT-2 small,
// SmolLM2-135M, Qwen2.5-0.5B, bert-base-uncased; scripts/reference-models.ts) with LoRA r=8 on
// the family's default targets, batch 1 × 64 tokens, in Node and in the page, and prints one
// table (`--only=gpt2,SmolLM2-135M` picks models by family or name; `--cpu` adds Node's cpu
// backend). BENCH_PORT moves the
// preview server's port.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { readSafetensors } from '../src/io/safetensors';
import { buildModel } from '../src/models/load';
import { lora } from '../src/peft/lora';
import { train, type TokenBatch } from '../src/train/trainer';
import { CHROMIUM_ARGS, dropFile, fill, sampleJsonl } from '../e2e/driver';
import { startPreview } from './preview-server';
import { benchFamilies } from './bench-families';

const CONFIGS = [
  { name: 'e2e', batch: 2, length: 32, steps: 6 },
  { name: 'larger', batch: 8, length: 128, steps: 6 },
];
const args = new Set(process.argv.slice(2));

function loadTiny() {
  const dir = new URL('../public/models/tiny-gpt2/', import.meta.url);
  const config = JSON.parse(readFileSync(new URL('config.json', dir), 'utf8'));
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(new URL('model.safetensors', dir))), 'model.safetensors');
  return buildModel('tiny-gpt2', config, tensors);
}

async function benchNode() {
  console.log('\n== engine in Node (LoRA r=8 on c_attn, tiny-gpt2: 4 layers, width 128)');
  console.log('backend  config   ms/step   tokens/s   tensors before→after');
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    await tf.ready();
    const model = loadTiny();
    for (const c of CONFIGS) {
      const ids = new Int32Array(c.batch * c.length).map((_, i) => (i * 7919) % 256);
      const batch: TokenBatch = { ids, labels: Int32Array.from(ids), batch: c.batch, length: c.length };
      const adapter = lora.create(model, lora.defaults(model.info), 1);
      const before = tf.memory().numTensors;
      const run = (steps: number) =>
        train(model, adapter, { totalSteps: steps, learningRate: 1e-3, warmupSteps: 0, weightDecay: 0, maxGradNorm: 1, evalEvery: 0 }, { nextBatch: () => ({ batch, epoch: 0 }), evalBatches: [], onProgress: () => {}, onEval: () => {}, shouldStop: () => false });
      await run(1); // warm-up: kernel setup, first allocations
      const t0 = performance.now();
      await run(c.steps);
      const ms = (performance.now() - t0) / c.steps;
      const after = tf.memory().numTensors;
      console.log(`${backend.padEnd(8)} ${c.name.padEnd(8)} ${ms.toFixed(0).padStart(7)}   ${((c.batch * c.length * 1000) / ms).toFixed(0).padStart(8)}   ${before}→${after}`);
      adapter.dispose();
    }
    model.dispose();
  }
}

async function benchBrowser() {
  const port = Number(process.env.BENCH_PORT ?? 4174);
  const server = await startPreview(port);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    console.log('\n== studio page in headless Chromium (LoRA r=8 on c_attn, tiny-gpt2), tokens/s as the page shows it');
    console.log('backend  config   tokens/s   wall s   adapter');
    for (const backend of ['webgpu', 'wasm']) {
      for (const c of CONFIGS) {
        const page = await browser.newPage();
        await page.goto(`http://localhost:${port}/?backend=${backend}`);
        await page.locator('code', { hasText: 'trainable params' }).waitFor();
        const adapterText = (await page.getByRole('region', { name: 'Compute backend' }).innerText()).split('\n').slice(1, 2).join(' ');
        await fill(page, 'Sequence length', String(c.length));
        await dropFile(page, 'bench.jsonl', sampleJsonl(64, 8));
        await page.getByText('First examples').waitFor({ timeout: 120_000 });
        await fill(page, 'Steps', String(c.steps));
        await fill(page, 'Batch size', String(c.batch));
        await fill(page, 'Eval every', String(c.steps));
        const start = page.getByRole('button', { name: 'Start training' });
        await page.waitForFunction(() => !(document.querySelector('button.primary') as HTMLButtonElement | null)?.disabled, null, { timeout: 120_000 });
        const t0 = Date.now();
        await start.click();
        await page.getByRole('button', { name: 'Export adapter' }).waitFor({ state: 'visible' });
        await page.waitForFunction(() => !(Array.from(document.querySelectorAll('button')).find((b) => b.textContent === 'Export adapter') as HTMLButtonElement).disabled, null, { timeout: 600_000 });
        const wall = (Date.now() - t0) / 1000;
        const tps = await page.locator('dt', { hasText: 'Tokens/s' }).locator('xpath=following-sibling::dd').innerText();
        console.log(`${backend.padEnd(8)} ${c.name.padEnd(8)} ${tps.padStart(8)}   ${wall.toFixed(1).padStart(6)}   ${adapterText}`);
        await page.close();
      }
    }
  } finally {
    await browser.close();
    server.stop();
  }
}

if (args.has('--families')) {
  await benchFamilies({ node: !args.has('--browser-only'), browser: !args.has('--node-only'), cpu: args.has('--cpu'), port: Number(process.env.BENCH_PORT ?? 4174), only: process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',') });
} else {
  if (!args.has('--browser-only')) await benchNode();
  if (!args.has('--node-only')) await benchBrowser();
}
