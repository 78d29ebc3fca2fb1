// Distillation trains the student's embeddings, whose gradient (tf.gather's) needs the
// UnsortedSegmentSum kernel that src/backend/wasm-kernels.ts supplies for wasm: a distillation
// step runs there and matches the cpu backend.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { randomGpt2 } from '../models/gpt2-init';
import type { TokenBatch } from '../train/trainer';
import { distill, type DistillProgressPoint } from './distiller';
import { DISTILBERT_RECIPE } from './losses';
import { initStudent } from './student';

async function on<T>(backend: 'cpu' | 'wasm', f: () => Promise<T>): Promise<T> {
  expect(await tf.setBackend(backend)).toBe(true);
  await tf.ready();
  return f();
}

describe('distillation on wasm', () => {
  it('lets a distillation step, which trains the embeddings, run on wasm with the cpu backend’s results', async () => {
    const bytes = Array.from(new TextEncoder().encode('a small text to distil on, twice. a small text to distil on.'));
    const batch: TokenBatch = { ids: Int32Array.from(bytes.slice(0, 32)), labels: Int32Array.from(bytes.slice(0, 32)), batch: 2, length: 16 };
    const run = async () => {
      const teacher = randomGpt2('t', { n_layer: 2, n_embd: 16, n_head: 2, n_positions: 16, initializer_range: 0.2 }, 9);
      const student = initStudent(teacher, 1);
      const points: DistillProgressPoint[] = [];
      const r = await distill(teacher, student, DISTILBERT_RECIPE, { totalSteps: 2, learningRate: 1e-2, warmupSteps: 0, weightDecay: 0, maxGradNorm: 1, evalEvery: 0 }, {
        nextBatch: () => ({ batch, epoch: 0 }),
        evalBatches: [],
        onProgress: (p) => points.push(...p),
        onEval: () => {},
        shouldStop: () => false,
      });
      expect(r).toEqual({ reason: 'finished', step: 2 });
      const wte = Array.from(await student.weights.get('transformer.wte.weight')!.data());
      student.dispose();
      teacher.dispose();
      return { losses: points.map((p) => p.loss), wte };
    };
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    for (let i = 0; i < 2; i++) expect(wasm.losses[i]).toBeCloseTo(cpu.losses[i], 4);
    let maxDiff = 0;
    for (let i = 0; i < cpu.wte.length; i++) maxDiff = Math.max(maxDiff, Math.abs(wasm.wte[i] - cpu.wte[i]));
    expect(maxDiff).toBeLessThan(1e-4);
  });
});
