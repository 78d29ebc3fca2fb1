// `npx tsx scripts/bench-kernels.mts`: what the fused LayerNorm and cross-entropy kernels
// change in one LoRA training step of tiny-gpt2 (batch 8 × 128 tokens unless --batch/--length):
// ms/step and tfjs kernels per step on wasm in Node, and additionally GPU compute dispatches per
// step on WebGPU in headless Chromium (SwiftShader here), each with the stock chain and fused.
// `--node-only` / `--browser-only` run one half; BENCH_PORT moves the dev server (default 4183).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { CHROMIUM_ARGS } from '../e2e/driver';
import { registerWasmKernels } from '../src/backend/wasm-kernels';
import { measureSteps, type StepMeasure } from './kernel-step';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const opts = { batch: flag('batch', 8), length: flag('length', 128), warmup: 2, steps: flag('steps', 4) };
const root = new URL('../', import.meta.url);

function show(m: StepMeasure) {
  const d = m.dispatches === undefined ? '' : `   ${String(m.dispatches).padStart(10)}`;
  console.log(`${m.backend.padEnd(7)} ${(m.fused ? 'fused' : 'stock').padEnd(6)} ${m.msPerStep.toFixed(0).padStart(8)} ${m.msFastest.toFixed(0).padStart(8)}   ${String(m.kernels).padStart(7)} (${m.fusedKernels} fused)${d}`);
}

async function node() {
  console.log(`\n== wasm in Node, LoRA on tiny-gpt2, batch ${opts.batch} × ${opts.length}`);
  console.log('backend mode    median  fastest (ms/step)   kernels/step');
  registerWasmKernels();
  await tf.setBackend('wasm');
  await tf.ready();
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
    await page.goto(`http://localhost:${port}/scripts/bench-kernels.html`);
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
