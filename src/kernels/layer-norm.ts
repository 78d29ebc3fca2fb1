// LayerNorm over the last axis as fused kernels: y = (x − μ) / √(σ² + eps) · γ + β with the
// biased variance σ² = mean((x − μ)²), as torch computes it. The stock chain is tf.moments and
// five elementwise ops forward, and its autodiff many more backward.
//
// Forward is one kernel. The backward pass keeps only x and γ from the forward pass and
// recomputes each row's μ and σ = √(σ² + eps) (one small kernel, [R, 2]); then with
// x̂ = (x − μ)/σ and g = dy·γ,
//   dx = (g − mean(g) − x̂ · mean(g · x̂)) / σ                (one kernel, a workgroup per row)
//   dγ = Σ_rows dy · x̂                                      (one kernel, a thread per column)
//   dβ = Σ_rows dy                                          (tfjs' own sum)
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap } from '@tensorflow/tfjs';
import { cpuKernel, MAX_WORKGROUPS, wasmKernel, webgpuKernel, wgslBlockSum, type GpuKernel, type HostArray, type HostKernel } from './backends';

export const LAYER_NORM = 'StudioLayerNorm';
export const LAYER_NORM_STATS = 'StudioLayerNormStats';
export const LAYER_NORM_GRAD_X = 'StudioLayerNormGradX';
export const LAYER_NORM_GRAD_GAMMA = 'StudioLayerNormGradGamma';
const INPUTS = {
  [LAYER_NORM]: ['x', 'gamma', 'beta'],
  [LAYER_NORM_STATS]: ['x'],
  [LAYER_NORM_GRAD_X]: ['dy', 'x', 'gamma', 'stats'],
  [LAYER_NORM_GRAD_GAMMA]: ['dy', 'x', 'stats'],
};

/** Row r's mean and σ = √(biased variance + eps), two passes in double precision. */
function rowStats(x: HostArray, base: number, C: number, eps: number): { mean: number; std: number } {
  let s = 0;
  for (let c = 0; c < C; c++) s += x[base + c];
  const mean = s / C;
  let q = 0;
  for (let c = 0; c < C; c++) q += (x[base + c] - mean) ** 2;
  return { mean, std: Math.sqrt(q / C + eps) };
}

const eps = (attrs: NamedAttrMap) => (attrs as { eps: number }).eps;

const host: Record<string, HostKernel> = {
  [LAYER_NORM]: {
    outputShape: ([x]) => x.shape,
    compute: ([x, gamma, beta], [[R, C]], out, attrs) => {
      for (let r = 0; r < R; r++) {
        const base = r * C;
        const { mean, std } = rowStats(x, base, C, eps(attrs));
        for (let c = 0; c < C; c++) out[base + c] = ((x[base + c] - mean) / std) * gamma[c] + beta[c];
      }
    },
  },
  [LAYER_NORM_STATS]: {
    outputShape: ([x]) => [x.shape[0], 2],
    compute: ([x], [[R, C]], out, attrs) => {
      for (let r = 0; r < R; r++) {
        const { mean, std } = rowStats(x, r * C, C, eps(attrs));
        out[2 * r] = mean;
        out[2 * r + 1] = std;
      }
    },
  },
  [LAYER_NORM_GRAD_X]: {
    outputShape: ([, x]) => x.shape,
    compute: ([dy, x, gamma, stats], [, [R, C]], out) => {
      for (let r = 0; r < R; r++) {
        const base = r * C;
        const mean = stats[2 * r];
        const std = stats[2 * r + 1];
        let sg = 0;
        let sgx = 0;
        for (let c = 0; c < C; c++) {
          const g = dy[base + c] * gamma[c];
          sg += g;
          sgx += g * ((x[base + c] - mean) / std);
        }
        sg /= C;
        sgx /= C;
        for (let c = 0; c < C; c++) out[base + c] = (dy[base + c] * gamma[c] - sg - ((x[base + c] - mean) / std) * sgx) / std;
      }
    },
  },
  [LAYER_NORM_GRAD_GAMMA]: {
    outputShape: ([, x]) => [x.shape[1]],
    compute: ([dy, x, stats], [, [R, C]], out) => {
      const acc = new Float64Array(C);
      for (let r = 0; r < R; r++) {
        const base = r * C;
        const mean = stats[2 * r];
        const std = stats[2 * r + 1];
        for (let c = 0; c < C; c++) acc[c] += dy[base + c] * ((x[base + c] - mean) / std);
      }
      out.set(acc);
    },
  },
};

const WORKGROUP = 64;

/** WGSL: the row's mean and σ, from two block sums over the row in chunks of the workgroup's size. */
const wgslRowStats = `
      let tid = i32(localId.x);
      let C = uniforms.xShape[1];
      let base = row * C;
      var s = 0.0;
      for (var c = tid; c < C; c += ${WORKGROUP}) { s = s + x[base + c]; }
      part[tid] = s;
      ${wgslBlockSum(WORKGROUP)}
      let mean = part[0] / f32(C);
      workgroupBarrier();
      var q = 0.0;
      for (var c = tid; c < C; c += ${WORKGROUP}) { let d = x[base + c] - mean; q = q + d * d; }
      part[tid] = q;
      ${wgslBlockSum(WORKGROUP)}
      let sigma = sqrt(part[0] / f32(C) + uniforms.eps);
      workgroupBarrier();`;

/** A program with one workgroup per row of x [R, C]. */
function perRow(kind: string, rows: number, outputShape: number[], body: string, uniforms?: string) {
  return {
    variableNames: INPUTS[kind as keyof typeof INPUTS],
    outputShape,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [rows, 1, 1] as [number, number, number],
    workgroupSize: [WORKGROUP, 1, 1] as [number, number, number],
    shaderKey: kind,
    uniforms,
    getUserCode: () => `
    var<workgroup> part : array<f32, ${WORKGROUP}>;
    fn main(index : i32) {
      let row = index / ${WORKGROUP};
      ${body}
    }`,
  };
}

const epsUniform = (attrs: NamedAttrMap) => [{ type: 'float32', data: [eps(attrs)] }];

const gpu: Record<string, GpuKernel> = {
  [LAYER_NORM]: {
    program: ([x], attrs) => ({
      program: perRow(
        LAYER_NORM,
        x.shape[0],
        x.shape,
        `${wgslRowStats}
      for (var c = tid; c < C; c += ${WORKGROUP}) {
        result[base + c] = (x[base + c] - mean) / sigma * gamma[c] + beta[c];
      }`,
        'eps : f32,',
      ),
      uniforms: epsUniform(attrs),
    }),
  },
  [LAYER_NORM_STATS]: {
    program: ([x], attrs) => ({
      program: perRow(
        LAYER_NORM_STATS,
        x.shape[0],
        [x.shape[0], 2],
        `${wgslRowStats}
      if (tid == 0) { result[2 * row] = mean; result[2 * row + 1] = sigma; }`,
        'eps : f32,',
      ),
      uniforms: epsUniform(attrs),
    }),
  },
  [LAYER_NORM_GRAD_X]: {
    program: ([, x]) => ({
      program: perRow(
        LAYER_NORM_GRAD_X,
        x.shape[0],
        x.shape,
        `let tid = i32(localId.x);
      let C = uniforms.xShape[1];
      let base = row * C;
      let mean = stats[2 * row];
      let sigma = stats[2 * row + 1];
      var s = 0.0;
      for (var c = tid; c < C; c += ${WORKGROUP}) { s = s + dy[base + c] * gamma[c]; }
      part[tid] = s;
      ${wgslBlockSum(WORKGROUP)}
      let meanG = part[0] / f32(C);
      workgroupBarrier();
      var q = 0.0;
      for (var c = tid; c < C; c += ${WORKGROUP}) { q = q + dy[base + c] * gamma[c] * ((x[base + c] - mean) / sigma); }
      part[tid] = q;
      ${wgslBlockSum(WORKGROUP)}
      let meanGX = part[0] / f32(C);
      for (var c = tid; c < C; c += ${WORKGROUP}) {
        let xhat = (x[base + c] - mean) / sigma;
        result[base + c] = (dy[base + c] * gamma[c] - meanG - xhat * meanGX) / sigma;
      }`,
      ),
    }),
  },
  [LAYER_NORM_GRAD_GAMMA]: {
    // A thread per column walks every row: C threads, each reading one column of dy and x.
    program: ([, x]) => {
      const C = x.shape[1];
      return {
        program: {
          variableNames: INPUTS[LAYER_NORM_GRAD_GAMMA],
          outputShape: [C],
          dispatchLayout: { x: [0] },
          dispatch: [Math.ceil(C / WORKGROUP), 1, 1] as [number, number, number],
          workgroupSize: [WORKGROUP, 1, 1] as [number, number, number],
          shaderKey: LAYER_NORM_GRAD_GAMMA,
          getUserCode: () => `
    fn main(c : i32) {
      let C = uniforms.xShape[1];
      if (c >= C) { return; }
      let R = uniforms.xShape[0];
      var acc = 0.0;
      for (var r = 0; r < R; r++) {
        acc = acc + dy[r * C + c] * ((x[r * C + c] - stats[2 * r]) / stats[2 * r + 1]);
      }
      result[c] = acc;
    }`,
        },
      };
    },
  },
};

const names = [LAYER_NORM, LAYER_NORM_STATS, LAYER_NORM_GRAD_X, LAYER_NORM_GRAD_GAMMA];
export const layerNormKernels = {
  cpu: names.map((n) => cpuKernel(n, INPUTS[n as keyof typeof INPUTS], host[n])),
  wasm: names.map((n) => wasmKernel(n, INPUTS[n as keyof typeof INPUTS], host[n])),
  webgpu: names.map((n) => webgpuKernel(n, INPUTS[n as keyof typeof INPUTS], gpu[n])),
};

/** Whether the fused LayerNorm can run on the active backend for `rows` rows. */
export function canFuseLayerNorm(rows: number): boolean {
  const backend = tf.getBackend();
  return rows <= MAX_WORKGROUPS && names.every((n) => !!tf.getKernel(n, backend));
}

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: NamedAttrMap = {}) =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs) as tf.Tensor;

/** LayerNorm of `x` [..., C] with γ, β [C], with its gradient, through the fused kernels (see canFuseLayerNorm). */
export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const C = x.shape[x.rank - 1];
  const R = x.size / C;
  const ln = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const x2 = tf.reshape(xs, [R, C]);
    save([x2, g]);
    const y = run(LAYER_NORM, { x: x2, gamma: g, beta: b }, { eps: epsilon });
    return {
      value: tf.reshape(y, xs.shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg] = saved;
        const dy2 = tf.reshape(dy, [R, C]);
        const stats = run(LAYER_NORM_STATS, { x: sx }, { eps: epsilon });
        const dx = run(LAYER_NORM_GRAD_X, { dy: dy2, x: sx, gamma: sg, stats });
        const dgamma = run(LAYER_NORM_GRAD_GAMMA, { dy: dy2, x: sx, stats });
        return [tf.reshape(dx, xs.shape), dgamma, tf.sum(dy2, 0)];
      },
    };
  });
  return ln(x, gamma, beta);
}
