// The lean backward pass computes tf.variableGrads' gradients bit for bit, for every kind of
// run, while holding fewer bytes at its peak, and leaves no tensor behind.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomGpt2 } from '../models/gpt2-init';
import { textBatches } from '../peft/testing';
import { leanVariableGrads } from './lean-grads';
import { RUN_KINDS } from '../train/registry';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('leanVariableGrads', () => {
  it.each(RUN_KINDS.map((k) => k.id))('%s: the same gradients as tf.variableGrads, bit for bit, at a lower peak', async (id) => {
    const kind = RUN_KINDS.find((k) => k.id === id)!;
    const model = randomGpt2('tiny', { n_layer: 2, n_embd: 32, n_head: 2, n_positions: 64 }, 1);
    const config = kind.defaults(model.info);
    if ('student_layers' in config) (config as { student_layers: number }).student_layers = 1;
    const trained = kind.create(model, config, 3, { baseFiles: {} });
    const spec = trained.spec([]);
    const batch = textBatches(2, 16);
    const loss = () => spec.stepLoss(batch, 0)().total;
    const run = async (grads: typeof leanVariableGrads) => {
      let out: { value: number; grads: Record<string, Float32Array> } | undefined;
      const profile = await tf.profile(async () => {
        const r = grads(loss, spec.variables);
        out = { value: (await r.value.data())[0], grads: Object.fromEntries(await Promise.all(Object.entries(r.grads).map(async ([k, g]) => [k, (await g.data()) as Float32Array]))) };
        tf.dispose([r.value, ...Object.values(r.grads)]);
      });
      return { ...out!, peak: profile.peakBytes };
    };
    const before = tf.memory().numTensors;
    const stock = await run((f, v) => tf.variableGrads(f, v) as ReturnType<typeof leanVariableGrads>);
    const lean = await run(leanVariableGrads);
    expect(tf.memory().numTensors).toBe(before);
    expect(lean.value).toBe(stock.value);
    expect(Object.keys(lean.grads).sort()).toEqual(Object.keys(stock.grads).sort());
    for (const [name, g] of Object.entries(stock.grads)) expect(Buffer.from(lean.grads[name].buffer).equals(Buffer.from(g.buffer)), name).toBe(true);
    expect(lean.peak).toBeLessThan(stock.peak);
    console.log(`${id}: peak ${stock.peak} -> ${lean.peak} bytes (${((100 * lean.peak) / stock.peak).toFixed(0)}%)`);
    trained.dispose();
    model.dispose();
  });
});
