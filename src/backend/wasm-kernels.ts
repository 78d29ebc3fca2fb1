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
import { backend_util, getBackend, getKernel, registerKernel, unregisterKernel, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs';
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

// BatchMatMul, on the fast path. The wasm backend's matmul is fast (XNNPACK, SIMD) only for a
// single matrix pair with neither operand transposed; otherwise it takes a scalar loop about
// ten times slower (47 ms against 4.6 ms for [1024,128]·[512,128]ᵀ). Every backward pass asks
// for transposes — dx = dy·Wᵀ, dW = xᵀ·dy — and attention multiplies a batch of matrices per
// head (q·kᵀ, then by v). So a transposed operand is written out first (a memory-bound copy),
// a batch against one shared matrix becomes one tall matrix, and a batch of pairs is
// multiplied pair by pair, each pair copied out of and back into the batch: the same products
// at the fast path's speed.
const STOCK_MATMUL = new WeakMap<object, KernelConfig>();

const sizeOf = (shape: number[]) => shape.reduce((x, y) => x * y, 1);

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
      const wasm = backend as BackendWasm;
      const batchA = sizeOf(a.shape.slice(0, -2));
      const batchB = sizeOf(b.shape.slice(0, -2));
      const outer = backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
      // Batch dimensions broadcast other than against a single matrix: the stock kernel's way.
      const pairwise = sizeOf(outer) === Math.max(batchA, batchB) && (batchA === batchB || batchA === 1 || batchB === 1);
      if ((!transposeA && !transposeB && batchA === 1 && batchB === 1) || !pairwise) return stock.kernelFunc(args);
      const swapLast = (t: TensorInfo) => {
        const perm = t.shape.map((_, i) => i);
        [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
        return transpose.kernelFunc({ inputs: { x: t }, backend, attrs: { perm } }) as TensorInfo;
      };
      const made: TensorInfo[] = [];
      const temp = (t: TensorInfo) => (made.push(t), t);
      const plain = { ...attrs, transposeA: false, transposeB: false };
      try {
        const a2 = transposeA ? temp(swapLast(a)) : a;
        const b2 = transposeB ? temp(swapLast(b)) : b;
        const [M, K] = a2.shape.slice(-2);
        const N = b2.shape[b2.shape.length - 1];
        if (batchB === 1) {
          // Every matrix of the batch against the same one: rows stacked, one product.
          const tall: TensorInfo = { dataId: a2.dataId, shape: [1, batchA * M, K], dtype: a2.dtype };
          const flat: TensorInfo = { dataId: b2.dataId, shape: [1, K, N], dtype: b2.dtype };
          const out = stock.kernelFunc({ inputs: { a: tall, b: flat }, backend, attrs: plain }) as TensorInfo;
          return { ...out, shape: [...outer, M, N] };
        }
        const out = wasm.makeOutput([...outer, M, N], 'float32');
        const batch = Math.max(batchA, batchB);
        for (let i = 0; i < batch; i++) {
          const slice = (t: TensorInfo, rows: number, cols: number, index: number): TensorInfo => {
            const s = wasm.makeOutput([1, rows, cols], 'float32');
            // Views are taken after makeOutput: allocating may grow the heap and detach older views.
            (wasm.typedArrayFromHeap(s) as Float32Array).set((wasm.typedArrayFromHeap(t) as Float32Array).subarray(index * rows * cols, (index + 1) * rows * cols));
            return s;
          };
          const ai = slice(a2, M, K, batchA === 1 ? 0 : i);
          const bi = slice(b2, K, N, i);
          try {
            const oi = stock.kernelFunc({ inputs: { a: ai, b: bi }, backend, attrs: plain }) as TensorInfo;
            (wasm.typedArrayFromHeap(out) as Float32Array).set(wasm.typedArrayFromHeap(oi) as Float32Array, i * M * N);
            wasm.disposeData(oi.dataId);
          } finally {
            wasm.disposeData(ai.dataId);
            wasm.disposeData(bi.dataId);
          }
        }
        return out;
      } finally {
        for (const t of made) wasm.disposeData(t.dataId);
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
