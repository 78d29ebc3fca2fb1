// Creates the training worker and is the page's only line to it: typed messages both ways.
import type { BackendName, FromWorker, ToWorker } from '../src/worker/protocol';

export interface WorkerClient {
  post(msg: ToWorker): void;
  terminate(): void;
}

export interface WorkerClientOptions {
  backend?: BackendName;
  /** Absolute URL of the folder holding model folders (ends with '/'). */
  modelsBaseUrl: string;
  onMessage(msg: FromWorker): void;
  /** The worker failed to start or threw outside any request. */
  onFailure(message: string): void;
}

export function startWorkerClient(opts: WorkerClientOptions): WorkerClient {
  const worker = new Worker(new URL('../src/worker/studio.worker.ts', import.meta.url), { type: 'module' });
  worker.addEventListener('message', (e: MessageEvent<FromWorker>) => opts.onMessage(e.data));
  worker.addEventListener('error', (e: ErrorEvent) => {
    e.preventDefault();
    opts.onFailure(e.message || 'The training worker failed to start.');
  });
  worker.addEventListener('messageerror', () => opts.onFailure('A message from the training worker could not be read.'));

  const post = (msg: ToWorker) => worker.postMessage(msg);
  // `init` goes first, always.
  post({ type: 'init', backend: opts.backend, modelsBaseUrl: opts.modelsBaseUrl });
  return { post, terminate: () => worker.terminate() };
}
