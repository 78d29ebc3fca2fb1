// The studio's fused training kernels (LayerNorm, softmax cross-entropy, gelu_new), registered with tfjs per backend. The models and losses
// ask (canFuseLayerNorm, canFuseCrossEntropy, canFuseGeluNew) and take the stock op chain where a backend has
// none: the page registers them on webgpu and wasm, and leaves the cpu backend, the reference
// the others are checked against, on the stock chain.
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs';
import { crossEntropyKernels } from './cross-entropy';
import { geluNewKernels } from './gelu-new';
import { layerNormKernels } from './layer-norm';

export type FusedBackend = 'cpu' | 'wasm' | 'webgpu';

function configs(backend: FusedBackend): KernelConfig[] {
  return [...layerNormKernels[backend], ...crossEntropyKernels[backend], ...geluNewKernels[backend]];
}

/** Registers the fused kernels for `backend`; safe to call again. */
export function registerFusedKernels(backend: FusedBackend): void {
  for (const k of configs(backend)) if (!getKernel(k.kernelName, backend)) registerKernel(k);
}

/** Removes them again, so the models and losses take the stock chain on `backend`. */
export function unregisterFusedKernels(backend: FusedBackend): void {
  for (const k of configs(backend)) if (getKernel(k.kernelName, backend)) unregisterKernel(k.kernelName, backend);
}

/** The fused kernels' names. */
export function fusedKernelNames(): string[] {
  return configs('cpu').map((k) => k.kernelName);
}
