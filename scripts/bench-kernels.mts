// `npx tsx scripts/bench-kernels.mts`: what the fused LayerNorm and cross-entropy kernels
// change in one LoRA training step of tiny-gpt2 (batch 8 × 128 tokens unless --batch/--length):
// ms/step and tfjs kernels per step on wasm in Node, and additionally GPU compute dispatches per
// step on WebGPU in headless Chromium (SwiftShader here), each with the stock chain and fused;
// first each op alone on wasm, which a busy machine disturbs far less than whole steps.
// `--node-only` / `--browser-only` run one half; `--steps=`, `--warmup=` set the rounds; BENCH_PORT moves the dev server (default 4183).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { CHROMIUM_ARGS } from '../e2e/driver';
import { registerWasmKernels } from '../src/backend/wasm-kernels';
import { fusedCrossEntropy } from '../src/kernels/cross-entropy';
import { fusedGeluNew } from '../src/kernels/gelu-new';
import { fusedLayerNorm } from '../src/kernels/layer-norm';
import { registerFusedKernels } from '../src/kernels/registry';
import { stockGeluNew, stockLayerNorm } from '../src/models/layers';
import { stockCrossEntropy } from '../src/train/loss';
import { measureSteps, type StepMeasure } from './kernel-step';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const opts = { batch: flag('batch', 8), length: flag('length', 128), warmup: flag('warmup', 2), steps: flag('steps', 4) };
const root = new URL('../', import.meta.url);

function show(m: StepMeasure) {
  const d = m.dispatches === undefined ? '' : `   ${String(m.dispatches).padStart(10)}`;
  console.log(`${m.backend.padEnd(7)} ${(m.fused ? 'fused' : 'stock').padEnd(6)} ${m.msPerStep.toFixed(0).padStart(8)} ${m.msFastest.toFixed(0).padStart(8)}   ${String(m.kernels).padStart(7)} (${m.fusedKernels} fused)${d}`);
}

/** Fastest of `n` runs of `f` (forward and backward of one op), after three warm-up runs, in ms. */
async function fastest(f: () => tf.Tensor[], n = 15): Promise<number> {
  let best = Infinity;
  for (let k = 0; k < n + 3; k++) {
    const t0 = performance.now();
    const out = f();
    await out[0].data();
    tf.dispose(out);
    if (k >= 3) best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Each op alone at the step's shapes (rows = batch × length; width 128, vocabulary 257), forward and backward. */
async function ops() {
  registerFusedKernels('wasm');
  const rows = opts.batch * opts.length;
  const x = tf.randomNormal([rows, 128], 0, 1, 'float32', 1);
  const g = tf.ones([128]);
  const b = tf.zeros([128]);
  const z = tf.randomNormal([rows, 257], 0, 2, 'float32', 2) as tf.Tensor2D;
  const targets = new Int32Array(rows).map((_, i) => (i * 31) % 257);
  const weights = new Float32Array(rows).fill(1);
  console.log(`\n== wasm in Node, one op forward + backward, ${rows} rows (fastest of 15)`);
  console.log('op                      stock ms   fused ms');
  const ln = (f: typeof stockLayerNorm) => () => tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(f(a, c, d, 1e-5)))([x, g, b]);
  const ce = (f: typeof stockCrossEntropy) => () => {
    const r = tf.valueAndGrads((a: tf.Tensor) => f(a as tf.Tensor2D, targets, weights, rows))([z]);
    return [r.value, ...r.grads];
  };
  console.log(`LayerNorm [${rows}, 128]     ${(await fastest(ln(stockLayerNorm))).toFixed(2).padStart(7)}   ${(await fastest(ln(fusedLayerNorm))).toFixed(2).padStart(7)}`);
  console.log(`cross-entropy [${rows}, 257] ${(await fastest(ce(stockCrossEntropy))).toFixed(2).padStart(7)}   ${(await fastest(ce(fusedCrossEntropy))).toFixed(2).padStart(7)}`);
  const h = tf.randomNormal([rows, 512], 0, 2, 'float32', 3);
  const gelu = (f: typeof stockGeluNew) => () => tf.grads((a: tf.Tensor) => tf.sum(f(a)))([h]);
  console.log(`gelu_new [${rows}, 512]      ${(await fastest(gelu(stockGeluNew))).toFixed(2).padStart(7)}   ${(await fastest(gelu(fusedGeluNew))).toFixed(2).padStart(7)}`);
  tf.dispose([x, g, b, z, h]);
}

async function node() {
  registerWasmKernels();
  await tf.setBackend('wasm');
  await tf.ready();
  await ops();
  console.log(`\n== wasm in Node, LoRA on tiny-gpt2, batch ${opts.batch} × ${opts.length}`);
  console.log('backend mode    median  fastest (ms/step)   kernels/step');
  const weights = new Uint8Array(readFileSync(new URL('public/models/tiny-gpt2/model.safetensors', root)));
  const config = JSON.parse(readFileSync(new URL('public/models/tiny-gpt2/config.json', root), 'utf8'));
  for (const fused of [false, true, false, true]) show(await measureSteps(weights, config, { ...opts, fused }));
}

async function browser() {
  const port = Number(process.env.BENCH_PORT ?? 4183);
  const server = await createServer({ root: new URL('.', root).pathname, server: { port, strictPort: true }, logLevel: 'warn' });
  await server.listen();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => m.type() === 'error' && console.log(`page: ${m.text()}`));
    await page.goto(`http://localhost:${port}/scripts/bench-kernels.html`, { timeout: 300_000 });
    await page.waitForFunction(() => document.title === 'ready', undefined, { timeout: 300_000 });
    console.log(`\n== WebGPU in headless Chromium, LoRA on tiny-gpt2, batch ${opts.batch} × ${opts.length}`);
    console.log('backend mode    median  fastest (ms/step)   kernels/step   dispatches/step');
    // SwiftShader takes tens of seconds a step at 8 × 128: one round each.
    for (const fused of [false, true]) show(await page.evaluate((o) => (globalThis as unknown as { benchKernels: (o: unknown) => Promise<StepMeasure> }).benchKernels(o), { ...opts, fused }));
  } finally {
    await browser.close();
    await server.close();
  }
}

if (!args.includes('--browser-only')) await node();
if (!args.includes('--node-only')) await browser();
