// Softmax cross-entropy over the vocabulary as one fused kernel each way.
//
// Forward, per row r of logits z [N, V] with target t_r and weight w_r (0 for an ignored
// position): loss_r = w_r · (logsumexp(z_r) − z_r[t_r]), the log-sum-exp taken stably as
// m + log Σ exp(z − m) with m the row's maximum. Backward: dz_r = (softmax(z_r) − onehot(t_r)) ·
// w_r · dy / count. The stock chain (logSoftmax, oneHot, mul, sum, …) is a dozen dispatches and
// keeps the [N, V] log-probabilities for the backward pass; here the backward pass keeps only
// the logits themselves (and the N targets and weights) and recomputes each row's maximum and
// sum from them, so no [N, V] probability matrix lives between the two passes.
//
// On WebGPU one workgroup owns a row and walks the vocabulary in chunks of its size, each
// thread keeping a running maximum and a sum rescaled whenever the maximum grows (the online
// softmax of Milakov & Gimelshein, 2018); the threads' pairs are then merged in a tree.
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap } from '@tensorflow/tfjs';
import { cpuKernel, MAX_WORKGROUPS, wasmKernel, webgpuKernel, type GpuKernel, type HostKernel } from './backends';

export const CROSS_ENTROPY = 'StudioSoftmaxCrossEntropy';
export const CROSS_ENTROPY_GRAD = 'StudioSoftmaxCrossEntropyGrad';
const FORWARD_INPUTS = ['logits', 'targets', 'weights'];
const BACKWARD_INPUTS = ['logits', 'targets', 'weights', 'dy'];

/** Row r's maximum. */
function rowMax(z: Float32Array, base: number, V: number): number {
  let max = -Infinity;
  for (let c = 0; c < V; c++) if (z[base + c] > max) max = z[base + c];
  return max;
}

const hostForward: HostKernel = {
  outputShape: ([logits]) => [logits.shape[0]],
  compute: ([logits, targets, weights], [[N, V]], out) => {
    const z = logits as Float32Array;
    for (let r = 0; r < N; r++) {
      const base = r * V;
      const max = rowMax(z, base, V);
      let sum = 0;
      for (let c = 0; c < V; c++) sum += Math.exp(z[base + c] - max);
      out[r] = weights[r] * (max + Math.log(sum) - z[base + targets[r]]);
    }
  },
};

const hostBackward: HostKernel = {
  outputShape: ([logits]) => logits.shape,
  compute: ([logits, targets, weights, dy], [[N, V]], out, attrs) => {
    const z = logits as Float32Array;
    const count = (attrs as { count: number }).count;
    for (let r = 0; r < N; r++) {
      const base = r * V;
      const g = (weights[r] * dy[0]) / count;
      // exp(z − max) is written once into the output row, summed, then scaled to softmax · g.
      const max = rowMax(z, base, V);
      let sum = 0;
      for (let c = 0; c < V; c++) {
        const e = Math.exp(z[base + c] - max);
        out[base + c] = e;
        sum += e;
      }
      const scale = g / sum;
      for (let c = 0; c < V; c++) out[base + c] *= scale;
      out[base + targets[r]] -= g;
    }
  },
};

const WORKGROUP = 256;

/** WGSL: each thread's online (max, sum) over its strided columns, merged across the workgroup into rowMax, rowSum. */
const wgslRowMaxSum = `
      let tid = i32(localId.x);
      let V = uniforms.logitsShape[1];
      let base = row * V;
      var m = -3.402823e+38f;
      var s = 0.0;
      for (var c = tid; c < V; c += ${WORKGROUP}) {
        let z = logits[base + c];
        if (z > m) { s = s * exp(m - z) + 1.0; m = z; } else { s = s + exp(z - m); }
      }
      partMax[tid] = m;
      partSum[tid] = s;
      workgroupBarrier();
      for (var width = ${WORKGROUP / 2}; width > 0; width = width >> 1) {
        if (tid < width) {
          let m1 = partMax[tid];
          let m2 = partMax[tid + width];
          let mm = max(m1, m2);
          partSum[tid] = partSum[tid] * exp(m1 - mm) + partSum[tid + width] * exp(m2 - mm);
          partMax[tid] = mm;
        }
        workgroupBarrier();
      }
      let rowMax = partMax[0];
      let rowSum = partSum[0];`;

const wgslShared = `
    var<workgroup> partMax : array<f32, ${WORKGROUP}>;
    var<workgroup> partSum : array<f32, ${WORKGROUP}>;`;

function rowProgram(kind: 'forward' | 'backward', rows: number, outputShape: number[], variableNames: string[], body: string) {
  return {
    variableNames,
    outputShape,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [rows, 1, 1] as [number, number, number],
    workgroupSize: [WORKGROUP, 1, 1] as [number, number, number],
    shaderKey: `studioCrossEntropy_${kind}`,
    uniforms: kind === 'backward' ? 'count : f32,' : undefined,
    getUserCode: () => `${wgslShared}
    fn main(index : i32) {
      let row = index / ${WORKGROUP};
      ${wgslRowMaxSum}
      ${body}
    }`,
  };
}

const gpuForward: GpuKernel = {
  program: ([logits]) => ({
    program: rowProgram(
      'forward',
      logits.shape[0],
      [logits.shape[0]],
      FORWARD_INPUTS,
      `if (tid == 0) {
        result[row] = weights[row] * (rowMax + log(rowSum) - logits[base + targets[row]]);
      }`,
    ),
  }),
};

const gpuBackward: GpuKernel = {
  program: ([logits], attrs: NamedAttrMap) => ({
    program: rowProgram(
      'backward',
      logits.shape[0],
      logits.shape,
      BACKWARD_INPUTS,
      `let g = weights[row] * dy[0] / uniforms.count;
      let label = targets[row];
      for (var c = tid; c < V; c += ${WORKGROUP}) {
        let p = exp(logits[base + c] - rowMax) / rowSum;
        result[base + c] = (p - select(0.0, 1.0, c == label)) * g;
      }`,
    ),
    uniforms: [{ type: 'float32', data: [(attrs as { count: number }).count] }],
  }),
};

export const crossEntropyKernels = {
  cpu: [cpuKernel(CROSS_ENTROPY, FORWARD_INPUTS, hostForward), cpuKernel(CROSS_ENTROPY_GRAD, BACKWARD_INPUTS, hostBackward)],
  wasm: [wasmKernel(CROSS_ENTROPY, FORWARD_INPUTS, hostForward), wasmKernel(CROSS_ENTROPY_GRAD, BACKWARD_INPUTS, hostBackward)],
  webgpu: [webgpuKernel(CROSS_ENTROPY, FORWARD_INPUTS, gpuForward), webgpuKernel(CROSS_ENTROPY_GRAD, BACKWARD_INPUTS, gpuBackward)],
};

/** Whether the fused cross-entropy can run on the active backend for `rows` rows. */
export function canFuseCrossEntropy(rows: number): boolean {
  const backend = tf.getBackend();
  return rows <= MAX_WORKGROUPS && !!tf.getKernel(CROSS_ENTROPY, backend) && !!tf.getKernel(CROSS_ENTROPY_GRAD, backend);
}

/**
 * Σ_r w_r · CE(z_r, t_r) / max(count, 1) for logits `z` [N, V], with its gradient, through the
 * fused kernels (the active backend must have them; see canFuseCrossEntropy).
 */
export function fusedCrossEntropy(z: tf.Tensor2D, targets: Int32Array, weights: Float32Array, count: number): tf.Scalar {
  const denom = Math.max(count, 1);
  const t = tf.tensor1d(targets, 'int32');
  const w = tf.tensor1d(weights);
  const ce = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const logits = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    save([logits, t, w]);
    const perRow = tf.engine().runKernel(CROSS_ENTROPY, { logits, targets: t, weights: w } as unknown as tf.NamedTensorMap) as tf.Tensor1D;
    return {
      value: tf.div(tf.sum(perRow), denom) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sz, st, sw] = saved;
        const inputs = { logits: sz, targets: st, weights: sw, dy: tf.reshape(dy, [1]) };
        return [tf.engine().runKernel(CROSS_ENTROPY_GRAD, inputs as unknown as tf.NamedTensorMap, { count: denom }) as tf.Tensor];
      },
    };
  });
  return ce(z) as tf.Scalar;
}

