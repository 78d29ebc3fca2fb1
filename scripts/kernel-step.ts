// One LoRA training step of tiny-gpt2, timed and counted, with the fused kernels or the stock
// chain. Shared by `scripts/bench-kernels.mts` in Node and the page it opens in Chromium.
import * as tf from '@tensorflow/tfjs';
import { readSafetensors } from '../src/io/safetensors';
import { fusedKernelNames, registerFusedKernels, unregisterFusedKernels, type FusedBackend } from '../src/kernels/registry';
import { buildModel } from '../src/models/load';
import { lora } from '../src/peft/lora';
import { adapterSpec, TrainingStepper, type TokenBatch } from '../src/train/trainer';

export interface StepMeasure {
  backend: string;
  fused: boolean;
  /** Median and fastest of the timed steps: on a shared machine the fastest is the least disturbed. */
  msPerStep: number;
  msFastest: number;
  /** tfjs kernels one step runs (tf.profile). */
  kernels: number;
  /** How many of those were the fused kernels. */
  fusedKernels: number;
  /** GPUComputePassEncoder.dispatchWorkgroups calls in one step (WebGPU only). */
  dispatches?: number;
}

/** The page counts dispatches by wrapping dispatchWorkgroups; Node has none. */
const dispatchCount = () => (globalThis as { __dispatches?: number }).__dispatches;

export async function measureSteps(
  weights: Uint8Array,
  config: unknown,
  opts: { fused: boolean; batch: number; length: number; warmup: number; steps: number },
): Promise<StepMeasure> {
  const backend = tf.getBackend() as FusedBackend;
  if (opts.fused) registerFusedKernels(backend);
  else unregisterFusedKernels(backend);
  const { tensors } = readSafetensors(weights, 'model.safetensors');
  const model = buildModel('tiny-gpt2', config, tensors);
  const adapter = lora.create(model, lora.defaults(model.info), 1);
  const stepper = new TrainingStepper(adapterSpec(model, adapter, []), { totalSteps: 1000, learningRate: 1e-3, warmupSteps: 0, weightDecay: 0, maxGradNorm: 1 });
  const ids = new Int32Array(opts.batch * opts.length).map((_, i) => (i * 7919) % 256);
  const labels = Int32Array.from(ids);
  for (let i = 0; i < opts.length / 4; i++) labels[labels.length - 1 - i] = -100; // a padded tail, as real batches have
  const batch: TokenBatch = { ids, labels, batch: opts.batch, length: opts.length };
  const step = async (i: number) => {
    const r = stepper.step(batch, i);
    await r.loss.data();
    for (const t of [r.loss, r.norm, ...r.terms]) t.dispose();
  };
  try {
    for (let i = 0; i < opts.warmup; i++) await step(i);
    const before = dispatchCount();
    await step(opts.warmup);
    const after = dispatchCount();
    const times: number[] = [];
    for (let i = 0; i < opts.steps; i++) {
      const t0 = performance.now();
      await step(opts.warmup + 1 + i);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const msPerStep = times[Math.floor(times.length / 2)];
    const names = new Set(fusedKernelNames());
    let profiled: string[] = [];
    const info = await tf.profile(async () => {
      const r = stepper.step(batch, opts.warmup + opts.steps + 1);
      await r.loss.data();
      for (const t of [r.loss, r.norm, ...r.terms]) t.dispose();
    });
    profiled = info.kernels.map((k) => k.name);
    return {
      backend,
      fused: opts.fused,
      msPerStep,
      msFastest: times[0],
      kernels: profiled.length,
      fusedKernels: profiled.filter((n) => names.has(n)).length,
      dispatches: before === undefined || after === undefined ? undefined : after - before,
    };
  } finally {
    stepper.dispose();
    adapter.dispose();
    model.dispose();
  }
}
