// A small random Llama-style decoder from a config.json's fields, for tests: every parameter the
// config lists, RMSNorm weights near 1 (1 + N(0, 0.1)) so the norms are not the identity,
// everything else N(0, 0.05). Seeded, so the same seed gives the same bytes.
import { mulberry32, normals } from '../data/random';
import { buildModel, modelInfo } from './load';
import type { LoadedModel } from './types';

export function randomLlama(name: string, config: Record<string, unknown>, seed: number): LoadedModel {
  const rand = mulberry32(seed);
  const tensors = new Map(
    modelInfo(name, config).params.map(({ name: param, shape }) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = param.includes('norm') ? normals(n, 0.1, rand).map((x) => 1 + x) : normals(n, 0.05, rand);
      return [param, { dtype: 'F32' as const, shape, data }];
    }),
  );
  return buildModel(name, config, tensors);
}
