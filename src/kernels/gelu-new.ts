// GPT-2's activation, GELU's tanh approximation (transformers' "gelu_new"), as fused
// elementwise kernels: y = ½x(1 + tanh u) with u = √(2/π)(x + 0.044715x³), and
// dy/dx = ½(1 + tanh u) + ½x(1 − tanh² u) · √(2/π)(1 + 3·0.044715x²). The stock chain is eight
// ops forward (a pow among them) and more than twice that backward; here one kernel each way,
// the backward pass keeping only x.
import * as tf from '@tensorflow/tfjs';
import { cpuKernel, wasmKernel, webgpuKernel, type GpuKernel, type HostKernel } from './backends';

export const GELU_NEW = 'StudioGeluNew';
export const GELU_NEW_GRAD = 'StudioGeluNewGrad';
const C = Math.sqrt(2 / Math.PI);
const A = 0.044715;

const hostForward: HostKernel = {
  outputShape: ([x]) => x.shape,
  compute: ([input], _, out) => {
    const x = input as Float32Array;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      // ½(1 + tanh u) = σ(2u) = 1/(1 + e^(−2u)): one exp, about twice as fast as Math.tanh in
      // JavaScript engines; e^(−2u) overflowing to ∞ gives 0, the limit.
      out[i] = v / (1 + Math.exp(-2 * C * (v + A * v * v * v)));
    }
  },
};

const hostBackward: HostKernel = {
  outputShape: ([x]) => x.shape,
  compute: ([input, grad], _, out) => {
    const x = input as Float32Array;
    const dy = grad as Float32Array;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      // With s = σ(2u) = ½(1 + tanh u): 1 − tanh² u = 4s(1 − s).
      const s = 1 / (1 + Math.exp(-2 * C * (v + A * v * v * v)));
      out[i] = dy[i] * (s + 2 * v * s * (1 - s) * C * (1 + 3 * A * v * v));
    }
  },
};

const WORKGROUP = 64;

/** An elementwise program over x's flat index. tanh is written out, as tfjs' own Tanh does, so large |u| cannot give inf/inf. */
function elementwise(kind: string, variableNames: string[], shape: number[], body: string) {
  const size = shape.reduce((a, b) => a * b, 1);
  return {
    program: {
      variableNames,
      outputShape: shape,
      dispatchLayout: { x: shape.map((_, i) => i) },
      dispatch: [Math.ceil(size / WORKGROUP), 1, 1] as [number, number, number],
      workgroupSize: [WORKGROUP, 1, 1] as [number, number, number],
      shaderKey: kind,
      size: true,
      getUserCode: () => `
    fn tanhStable(u : f32) -> f32 {
      let e = exp(-2.0 * abs(u));
      return sign(u) * (1.0 - e) / (1.0 + e);
    }
    fn main(index : i32) {
      if (index >= uniforms.size) { return; }
      let v = x[index];
      let t = tanhStable(${C} * (v + ${A} * v * v * v));
      ${body}
    }`,
    },
  };
}

const gpuForward: GpuKernel = { program: ([x]) => elementwise(GELU_NEW, ['x'], x.shape, 'result[index] = 0.5 * v * (1.0 + t);') };
const gpuBackward: GpuKernel = {
  program: ([x]) => elementwise(GELU_NEW_GRAD, ['x', 'dy'], x.shape, `result[index] = dy[index] * (0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * ${C} * (1.0 + ${3 * A} * v * v));`),
};

export const geluNewKernels = {
  cpu: [cpuKernel(GELU_NEW, ['x'], hostForward), cpuKernel(GELU_NEW_GRAD, ['x', 'dy'], hostBackward)],
  wasm: [wasmKernel(GELU_NEW, ['x'], hostForward), wasmKernel(GELU_NEW_GRAD, ['x', 'dy'], hostBackward)],
  webgpu: [webgpuKernel(GELU_NEW, ['x'], gpuForward), webgpuKernel(GELU_NEW_GRAD, ['x', 'dy'], gpuBackward)],
};

/** Whether the active backend has the fused gelu_new. */
export function canFuseGeluNew(): boolean {
  const backend = tf.getBackend();
  return !!tf.getKernel(GELU_NEW, backend) && !!tf.getKernel(GELU_NEW_GRAD, backend);
}

/** gelu_new of `x` with its gradient, through the fused kernels (see canFuseGeluNew). */
export function fusedGeluNew(x: tf.Tensor): tf.Tensor {
  const gelu = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xs = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([xs]);
    return {
      value: tf.engine().runKernel(GELU_NEW, { x: xs } as unknown as tf.NamedTensorMap) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => tf.engine().runKernel(GELU_NEW_GRAD, { x: saved, dy } as unknown as tf.NamedTensorMap) as tf.Tensor,
    };
  });
  return gelu(x);
}
