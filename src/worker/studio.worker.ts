// The training worker's entry: routes typed messages to a StudioSession and posts its
// events back. Vite resolves the wasm binaries to URLs served with the page, so the wasm
// fallback never reaches beyond the studio's own origin.
/// <reference lib="webworker" />
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { FromWorker, ToWorker } from './protocol';
import { StudioSession } from './session';

declare const self: DedicatedWorkerGlobalScope;

const session = new StudioSession(
  (msg: FromWorker) => {
    // Exported bytes move to the page instead of being copied.
    if (msg.type === 'exported' || msg.type === 'rejectedRows') self.postMessage(msg, [msg.bytes.buffer]);
    else self.postMessage(msg);
  },
  {
    wasmFiles: {
      'tfjs-backend-wasm.wasm': wasmPlain,
      'tfjs-backend-wasm-simd.wasm': wasmSimd,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
    },
  },
);

self.onmessage = (e: MessageEvent<ToWorker>) => {
  void session.enqueue(e.data);
};
