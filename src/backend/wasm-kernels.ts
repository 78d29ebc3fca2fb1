// Kernels the tfjs wasm backend (4.22) lacks, registered in plain JavaScript over its heap.
//
// UnsortedSegmentSum is what tf.gather's gradient calls: without it no embedding can train on
// wasm (full training, distillation students, pretraining in the engine). The gradient of a
// gather scatters each row of dy back to its index and sums rows that share one.
import { getBackend, getKernel, registerKernel, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const unsortedSegmentSum: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = attrs as unknown as { numSegments: number };
    const wasm = backend as BackendWasm;
    const outer = segmentIds.shape.reduce((a, b) => a * b, 1);
    const innerShape = x.shape.slice(segmentIds.shape.length);
    const inner = innerShape.reduce((a, b) => a * b, 1);
    const out = wasm.makeOutput([numSegments, ...innerShape], x.dtype);
    const outVals = wasm.typedArrayFromHeap(out);
    outVals.fill(0); // the heap is not zeroed
    const xVals = wasm.typedArrayFromHeap(x);
    const ids = wasm.typedArrayFromHeap(segmentIds);
    for (let i = 0; i < outer; i++) {
      const seg = ids[i];
      // TensorFlow drops ids outside [0, numSegments).
      if (seg < 0 || seg >= numSegments) continue;
      const src = i * inner;
      const dst = seg * inner;
      for (let j = 0; j < inner; j++) outVals[dst + j] += xVals[src + j];
    }
    return out;
  },
};

/** Registers the missing kernels once; safe to call again. */
export function registerWasmKernels(): void {
  if (!getKernel(unsortedSegmentSum.kernelName, 'wasm')) registerKernel(unsortedSegmentSum);
}

/**
 * Throws a message saying what to do when the active backend cannot compute an embedding
 * gradient (full training, distillation); on wasm it first registers the kernel above.
 */
export function checkEmbeddingGradients(): void {
  const backend = getBackend();
  if (backend === 'wasm') registerWasmKernels();
  if (!getKernel(unsortedSegmentSum.kernelName, backend)) {
    throw new Error(
      `Training every weight, embeddings included, needs the "${unsortedSegmentSum.kernelName}" kernel; the "${backend}" backend has none. Use the webgpu, wasm or cpu backend.`,
    );
  }
}
