// The hook surface every architecture offers the PEFT methods (Hooks in ./types.ts), checked the
// same way for each family's tests: `linear` is called once per linear module per forward, in
// forward order, with the module's input x [N, in] and its frozen output y = x·Wᵀ + b [N, out]
// (x·W + b for a weight stored [in, out]), and what it returns is what the model uses; hooks
// that return their input leave the logits bit-identical, and every parameter is read through
// `param`; a forward inside tf.tidy leaves no tensor behind.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hooks, LoadedModel } from './types';

export interface HookSurfaceCase {
  /** A model with a bias on `checked` whose forward reads every parameter; built before the checks, disposed after them. */
  build(): LoadedModel;
  /** Equally long rows of ids the model takes. */
  ids: number[][];
  /** The linear modules the model has, all blocks and heads together. */
  linearCount: number;
  /** A linear module whose y the checks recompute from x, its weight and its bias. */
  checked: string;
  /** A linear module whose output the checks scale, which must move the logits. */
  moved: string;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Registers the hook-surface checks for one architecture's model. */
export function describeHookSurface(c: HookSurfaceCase): void {
  describe('the hook surface every method relies on', () => {
    let model: LoadedModel;
    beforeAll(() => (model = c.build()));
    afterAll(() => model.dispose());
    const idsTensor = () => tf.tensor2d(c.ids, [c.ids.length, c.ids[0].length], 'int32');

    async function logitsOf(hooks?: Hooks): Promise<Float32Array> {
      const out = tf.tidy(() => model.forward(idsTensor(), hooks).logits);
      const data = (await out.data()) as Float32Array;
      out.dispose();
      return data;
    }

    it('calls `linear` once per linear module per forward, in forward order, with x [N, in] and y [N, out]', () => {
      const calls: { path: string; x: number[]; y: number[] }[] = [];
      tf.tidy(() => {
        model.forward(idsTensor(), {
          linear: (path, x, y) => {
            calls.push({ path, x: x.shape, y: y.shape });
            return y;
          },
        });
      });
      const N = c.ids.length * c.ids[0].length;
      expect(calls).toEqual(model.info.linears.map((l) => ({ path: l.path, x: [N, l.inFeatures], y: [N, l.outFeatures] })));
      expect(calls).toHaveLength(c.linearCount);
    });

    it('passes y = x·W + b, in the weight’s own layout, to `linear` and uses what it returns', async () => {
      const base = await logitsOf();
      const fanInFanOut = model.info.linears.find((l) => l.path === c.checked)!.fanInFanOut;
      let checked = false;
      const moved = await logitsOf({
        linear: (p, x, y) => {
          // Scaled, not shifted: a LayerNorm right after the module would take a shift away.
          if (p !== c.checked) return p === c.moved ? tf.mul(y, 1.5) : y;
          const w = model.weights.get(`${p}.weight`)!;
          const b = model.weights.get(`${p}.bias`)!;
          expect(maxDiff(tf.add(tf.matMul(x, w, false, !fanInFanOut), b).dataSync(), y.dataSync())).toBe(0);
          checked = true;
          return y;
        },
      });
      expect(checked).toBe(true);
      expect(maxDiff(base, moved)).toBeGreaterThan(1e-3);
    });

    it('hooks that return their input leave the logits bit-identical; every parameter is read through `param`', async () => {
      const base = await logitsOf();
      const params: string[] = [];
      const sublayers: string[] = [];
      const same = await logitsOf({
        param: (name, t) => (params.push(name), t),
        linear: (_, __, y) => y,
        afterSublayer: (layer, kind, h) => (sublayers.push(`${layer}.${kind}`), h),
        inputEmbeds: (e) => e,
        kvPrefix: () => undefined,
      });
      expect(same).toEqual(base);
      expect(sublayers).toEqual(Array.from({ length: model.info.config.numLayers }, (_, i) => [`${i}.attn`, `${i}.mlp`]).flat());
      // Every parameter is read through `param`, and nothing else is.
      expect(new Set(params)).toEqual(new Set(model.info.params.map((p) => p.name)));
    });

    it('a forward inside tf.tidy leaves no tensor behind', () => {
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        model.forward(idsTensor(), {}, { outputHidden: true });
      });
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
