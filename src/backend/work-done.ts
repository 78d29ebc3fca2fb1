// Knowing when queued work has run without reading anything back. tfjs' webgpu backend records
// kernels into a command encoder and submits them in batches; the GPU runs them later, and
// only a read-back (a staging copy and a map) says when. WebGPU's onSubmittedWorkDone says it
// without the copy: the trainer learns that a step finished while its loss stays on the device
// for the batched read-back, and an evaluation waits batch by batch so a request to skip it
// is seen between batches.
import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs' webgpu backend (4.22) that submit what it has recorded so far. */
interface WebGpuQueueLike {
  queue: GPUQueue;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/**
 * Resolves once the work queued on the active backend so far has run. On WebGPU the recorded
 * kernels are submitted now and the promise waits for the GPU; on cpu and wasm, which compute
 * as the ops are called, the work has already run and the promise resolves on the next task,
 * so messages that arrived meanwhile (a stop, a skip) are handled first.
 */
export function workDone(): Promise<void> {
  if (tf.getBackend() === 'webgpu') {
    const gpu = tf.backend() as unknown as WebGpuQueueLike;
    gpu.ensureCommandEncoderReady();
    gpu.endComputePassEncoder();
    gpu.submitQueue();
    return gpu.queue.onSubmittedWorkDone();
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}
