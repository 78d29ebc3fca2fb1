// How one fused kernel becomes a tfjs kernel on each backend. The cpu and wasm backends run the
// same plain-JavaScript loop: on cpu over the backend's own typed arrays, on wasm over views of
// the module's heap (no copy in or out). WebGPU runs a WGSL program through the backend's
// runWebGPUProgram, so it is recorded, batched and pooled like tfjs' own kernels.
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu/dist/webgpu_program';

export type HostArray = Float32Array | Int32Array;

/** A kernel for the cpu and wasm backends: reads `inputs`, writes every entry of `out`. */
export interface HostKernel {
  outputShape(inputs: TensorInfo[], attrs: NamedAttrMap): number[];
  compute(inputs: HostArray[], shapes: number[][], out: Float32Array, attrs: NamedAttrMap): void;
}

/**
 * A kernel for the webgpu backend: the program to run and its extra uniforms. Its WGSL defines
 * `fn main(index : i32)`, which tfjs' shader header calls with the flat global invocation index.
 */
export interface GpuKernel {
  program(inputs: TensorInfo[], attrs: NamedAttrMap): { program: WebGPUProgram; uniforms?: { type: string; data: number[] }[] };
}

interface CpuBackendLike {
  readSync(dataId: unknown): unknown;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

interface WebGpuBackendLike {
  runWebGPUProgram(program: WebGPUProgram, inputs: TensorInfo[], dtype: 'float32', uniforms?: { type: string; data: number[] }[]): TensorInfo;
}

/** The kernel's inputs in the order its name lists them. */
function ordered(inputs: Record<string, TensorInfo | undefined>, names: string[]): TensorInfo[] {
  return names.map((n) => {
    const t = inputs[n];
    if (!t) throw new Error(`kernel input "${n}" is missing`);
    return t;
  });
}

export function cpuKernel(kernelName: string, inputNames: string[], k: HostKernel): KernelConfig {
  return {
    kernelName,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs = {} }) => {
      const cpu = backend as unknown as CpuBackendLike;
      const ins = ordered(inputs as Record<string, TensorInfo>, inputNames);
      const shape = k.outputShape(ins, attrs);
      const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
      k.compute(
        ins.map((t) => cpu.readSync(t.dataId) as HostArray),
        ins.map((t) => t.shape),
        out,
        attrs,
      );
      return cpu.makeTensorInfo(shape, 'float32', out);
    },
  };
}

export function wasmKernel(kernelName: string, inputNames: string[], k: HostKernel): KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs = {} }) => {
      const wasm = backend as BackendWasm;
      const ins = ordered(inputs as Record<string, TensorInfo>, inputNames);
      const out = wasm.makeOutput(k.outputShape(ins, attrs), 'float32');
      // Views are taken after makeOutput: allocating may grow the heap and detach older views.
      k.compute(
        ins.map((t) => wasm.typedArrayFromHeap(t) as HostArray),
        ins.map((t) => t.shape),
        wasm.typedArrayFromHeap(out) as Float32Array,
        attrs,
      );
      return out;
    },
  };
}

export function webgpuKernel(kernelName: string, inputNames: string[], k: GpuKernel): KernelConfig {
  return {
    kernelName,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend, attrs = {} }) => {
      const ins = ordered(inputs as Record<string, TensorInfo>, inputNames);
      const { program, uniforms } = k.program(ins, attrs);
      return (backend as unknown as WebGpuBackendLike).runWebGPUProgram(program, ins, 'float32', uniforms);
    },
  };
}

/**
 * A tree sum over a workgroup's `part` array (size `size`, a power of two), leaving the total in
 * part[0] for every thread to read. Each step halves the active threads; the barrier keeps the
 * workgroup in step, so the loop bound depends on nothing but the constant size.
 */
export function wgslBlockSum(size: number): string {
  return `
      workgroupBarrier();
      for (var width = ${size / 2}; width > 0; width = width >> 1) {
        if (tid < width) { part[tid] = part[tid] + part[tid + width]; }
        workgroupBarrier();
      }`;
}

/** The most workgroups one dispatch dimension may have (WebGPU's guaranteed minimum limit). */
export const MAX_WORKGROUPS = 65535;
