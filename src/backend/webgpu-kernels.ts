// Corrections to the tfjs webgpu backend (4.22), registered over its own kernels, and a watch
// on the GPU's validation errors.
//
// AddN: tfjs binds every input of tf.addN as its own storage buffer in one shader, plus one for
// the output. WebGPU allows `maxStorageBuffersPerShaderStage` of them per shader (8 unless the
// device asks for more, and tfjs does not ask), so an addN of 8 or more tensors makes an invalid
// pipeline. WebGPU does not throw for that: it reports a validation error to nobody and drops
// the whole command buffer the dispatch was batched into (tfjs batches up to 15 dispatches), so
// that batch's outputs keep whatever their pooled buffers held before. A training step sums one
// squared norm per trainable tensor with addN for gradient clipping, so with 8 or more trainable
// tensors the clipping factor and up to 14 neighbouring kernels (gradients, AdamW moments,
// variable updates) silently came out wrong. Concat already splits its inputs by this limit;
// this AddN does the same: sums of at most (limit − 1) inputs, then the sum of the partial sums.
import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';

interface WebGpuBackendLike {
  device: GPUDevice;
  disposeData(dataId: unknown): void;
}

let stockAddN: KernelFunc | undefined;

/** Adds `inputs` with shaders that each bind at most `maxInputs` of them. */
function chunkedAddN(inputs: TensorInfo[], backend: WebGpuBackendLike, maxInputs: number): TensorInfo {
  if (inputs.length <= maxInputs) return stockAddN!({ inputs: inputs as never, backend: backend as never, attrs: {} }) as TensorInfo;
  const partials: TensorInfo[] = [];
  for (let i = 0; i < inputs.length; i += maxInputs) partials.push(chunkedAddN(inputs.slice(i, i + maxInputs), backend, maxInputs));
  const sum = chunkedAddN(partials, backend, maxInputs);
  for (const p of partials) backend.disposeData(p.dataId);
  return sum;
}

/** The storage buffers one shader may bind on this device, one of which is the output. */
function addNInputLimit(device: GPUDevice): number {
  return Math.max(2, device.limits.maxStorageBuffersPerShaderStage - 1);
}

/** Registers the corrected kernels over tfjs' own once; safe to call again. */
export function registerWebGpuKernels(): void {
  if (stockAddN) return;
  const stock = getKernel('AddN', 'webgpu');
  if (!stock) throw new Error('the tfjs webgpu backend has no AddN kernel to correct');
  stockAddN = stock.kernelFunc;
  const corrected: KernelConfig = {
    kernelName: 'AddN',
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend }) => {
      const gpu = backend as unknown as WebGpuBackendLike;
      return chunkedAddN(inputs as unknown as TensorInfo[], gpu, addNInputLimit(gpu.device));
    },
  };
  unregisterKernel('AddN', 'webgpu');
  registerKernel(corrected);
}

/**
 * Collects the validation and out-of-memory errors the GPU reports about work it was given.
 * WebGPU never throws for these: the rejected work is skipped and its outputs hold stale data,
 * so a computation that produced one cannot be trusted, and the trainer asks here after
 * each read-back.
 */
class GpuErrorWatch {
  private errors: string[] = [];

  constructor(device: GPUDevice) {
    device.addEventListener('uncapturederror', (event) => {
      const message = (event as GPUUncapturedErrorEvent).error.message.split('\n')[0];
      if (this.errors.length < 8) this.errors.push(message);
    });
  }

  /** The errors reported since the last call, first line of each; empties the list. */
  take(): string[] {
    const out = this.errors;
    this.errors = [];
    return out;
  }
}

let watch: GpuErrorWatch | undefined;

/** Starts watching the device the tfjs webgpu backend uses (once). */
export function watchGpuErrors(device: GPUDevice): void {
  watch ??= new GpuErrorWatch(device);
}

/** Work the GPU rejected: its outputs hold stale data. */
export class GpuRejectedWork extends Error {}

/** Throws naming the first GPU error reported since the last check; a no-op off WebGPU. */
export function throwIfGpuErrors(what: string): void {
  const errors = watch?.take() ?? [];
  if (errors.length > 0) {
    throw new GpuRejectedWork(`the GPU rejected work during ${what}, so its results cannot be trusted: ${errors[0]}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`);
  }
}
