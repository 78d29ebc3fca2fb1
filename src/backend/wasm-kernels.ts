// Kernels the tfjs wasm backend (4.22) lacks, registered in plain JavaScript over its heap.
//
// UnsortedSegmentSum is what tf.gather's gradient calls: without it no embedding can train on
// wasm (full training, distillation students, pretraining in the engine). The gradient of a
// gather scatters each row of dy back to its index and sums rows that share one.
//
// Identity is replaced: the stock wasm kernel copies its input into a new buffer, and tfjs
// clones (an Identity) every tensor an op saves for its backward pass — so on wasm each saved
// activation was a second copy, and a tensor saved by three ops four. The replacement shares
// the input's data, counting one more reference, as the cpu, WebGL and WebGPU backends do; no
// kernel writes into its inputs, so a shared buffer is never changed under a clone.
import { getBackend, getKernel, registerKernel, unregisterKernel, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs';
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

// BatchMatMul with a transposed operand. The wasm backend's matmul is fast (XNNPACK, SIMD)
// only when neither operand is transposed; with transposeA or transposeB it takes a scalar
// path about ten times slower (47 ms against 4.6 ms for [1024,128]·[512,128]ᵀ) — and every
// backward pass asks for exactly those: dx = dy·Wᵀ, dW = xᵀ·dy, and attention's q·kᵀ. Writing
// the transposed operand out first (a memory-bound copy) and multiplying plainly gives the
// same products at the fast path's speed.
const STOCK_MATMUL = new WeakMap<object, KernelConfig>();

function plainMatMul(stock: KernelConfig, transpose: KernelConfig): KernelConfig {
  return {
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    // The stock kernel binds its wasm function when the backend starts; keep that step.
    setupFunc: stock.setupFunc,
    disposeFunc: stock.disposeFunc,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return stock.kernelFunc(args);
      const wasm = backend as BackendWasm;
      const swapLast = (t: TensorInfo) => {
        const perm = t.shape.map((_, i) => i);
        [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
        return transpose.kernelFunc({ inputs: { x: t }, backend, attrs: { perm } }) as TensorInfo;
      };
      const a2 = transposeA ? swapLast(a) : a;
      const b2 = transposeB ? swapLast(b) : b;
      try {
        return stock.kernelFunc({ inputs: { a: a2, b: b2 }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
      } finally {
        if (a2 !== a) wasm.disposeData(a2.dataId);
        if (b2 !== b) wasm.disposeData(b2.dataId);
      }
    },
  };
}

/** Identity that shares its input's buffer (strings, which live outside the heap, go to the stock kernel). */
function sharedIdentity(stock: KernelConfig): KernelConfig {
  return {
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype === 'string') return stock.kernelFunc(args);
      (args.backend as BackendWasm).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  };
}

const STOCK_IDENTITY = new WeakMap<KernelConfig, KernelConfig>();

/** Registers the missing kernels, the sharing Identity and the faster transposed matmul once; safe to call again. */
export function registerWasmKernels(): void {
  if (!getKernel(unsortedSegmentSum.kernelName, 'wasm')) registerKernel(unsortedSegmentSum);
  const identity = getKernel('Identity', 'wasm');
  if (identity && !STOCK_IDENTITY.has(identity)) {
    unregisterKernel('Identity', 'wasm');
    registerKernel(sharedIdentity(identity));
    STOCK_IDENTITY.set(getKernel('Identity', 'wasm')!, identity);
  }
  const matMul = getKernel('BatchMatMul', 'wasm');
  const transpose = getKernel('Transpose', 'wasm');
  if (matMul && transpose && !STOCK_MATMUL.has(matMul)) {
    const wrapped = plainMatMul(matMul, transpose);
    unregisterKernel('BatchMatMul', 'wasm');
    registerKernel(wrapped);
    STOCK_MATMUL.set(getKernel('BatchMatMul', 'wasm')!, matMul);
  }
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
