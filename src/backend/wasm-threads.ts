// How many threads the WebAssembly backend runs, and — when it is one — why not more; and
// starting the threaded build's pthread workers without leaving the start-up hanging on them.
// The threaded SIMD build runs XNNPACK's thread pool on pthreads, which are Web Workers sharing
// one WebAssembly.Memory: that needs SharedArrayBuffer, which browsers only hand to pages that
// are cross-origin isolated (COOP same-origin + COEP require-corp or credentialless).

/**
 * Pthread workers the threaded build starts up front (its Emscripten PTHREAD_POOL_SIZE). A
 * thread beyond these would need a new worker to start while the thread that asked for it
 * blocks waiting, which never happens inside a worker, so the thread count stops here.
 */
export const PTHREAD_POOL_SIZE = 8;

/** What the global scope offers for threads. */
export interface ThreadSupport {
  /** `crossOriginIsolated` of the page or worker; undefined outside a browser (Node). */
  crossOriginIsolated: boolean | undefined;
  /** Whether `SharedArrayBuffer` is defined. */
  sharedArrayBuffer: boolean;
  /** `navigator.hardwareConcurrency`; undefined where the platform does not say. */
  logicalCores: number | undefined;
}

export interface ThreadPlan {
  /** Threads to ask the backend for; 1 means the single-threaded build. */
  threads: number;
  /** Why the backend runs one thread, when it does. */
  reason?: string;
}

/** Decides the thread count from what the global scope offers: one per logical core, up to the pool. */
export function planWasmThreads(support: ThreadSupport): ThreadPlan {
  if (support.crossOriginIsolated === undefined) return { threads: 1, reason: 'not in a browser (tfjs runs WebAssembly on one thread outside one)' };
  if (!support.crossOriginIsolated) {
    return { threads: 1, reason: 'the page is not cross-origin isolated (its Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers are missing), so threads cannot share memory' };
  }
  if (!support.sharedArrayBuffer) return { threads: 1, reason: 'this browser has no SharedArrayBuffer, so threads cannot share memory' };
  const cores = support.logicalCores ?? 1;
  if (cores < 2) return { threads: 1, reason: `the browser reports ${cores} logical core` };
  return { threads: Math.min(cores, PTHREAD_POOL_SIZE) };
}

/** What this global scope (page, worker or Node) offers for threads. */
export function threadSupportHere(): ThreadSupport {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  return {
    crossOriginIsolated: typeof g.crossOriginIsolated === 'boolean' ? g.crossOriginIsolated : undefined,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    logicalCores: g.navigator?.hardwareConcurrency,
  };
}

/**
 * Whether an error that reached this scope comes from a pthread worker: Emscripten logs a
 * worker's error and rethrows its ErrorEvent, and the error also arrives on its own, from the
 * worker's blob: script (tfjs starts the workers from blob URLs; this scope's code is files).
 */
function fromPthreadWorker(e: ErrorEvent): boolean {
  const rethrown = typeof ErrorEvent === 'function' && e.error instanceof ErrorEvent;
  return rethrown || (e.filename ?? '').startsWith('blob:');
}

/**
 * Resolves when `start` does, rejects when it rejects, when a pthread worker fails (the error
 * is handled here, so it does not also reach the page), or after `ms` milliseconds.
 */
export function startWithinWorkers<T>(start: Promise<T>, ms: number): Promise<T> {
  const scope = globalThis as { addEventListener?: typeof addEventListener; removeEventListener?: typeof removeEventListener };
  return new Promise<T>((resolve, reject) => {
    const onError = (e: ErrorEvent) => {
      if (!fromPthreadWorker(e)) return;
      e.preventDefault();
      const inner = e.error as { message?: string } | undefined;
      finish(() => reject(new Error(`a pthread worker failed (${inner?.message ?? e.message})`)));
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`the pthread workers did not start within ${ms / 1000} s`))), ms);
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      scope.removeEventListener?.('error', onError);
      settle();
    };
    scope.addEventListener?.('error', onError);
    start.then(
      (v) => finish(() => resolve(v)),
      (e) => finish(() => reject(e)),
    );
  });
}

/**
 * After a threaded start failed, the rest of its pthread workers still fail one by one; their
 * errors are handled here, so the page does not report the worker that trains — on one thread —
 * as failed. Emscripten has logged each to the console.
 */
export function ignoreAbandonedWorkerErrors(): void {
  const scope = globalThis as { addEventListener?: typeof addEventListener };
  scope.addEventListener?.('error', (e: ErrorEvent) => {
    if (fromPthreadWorker(e)) e.preventDefault();
  });
}

/**
 * Makes `navigator.hardwareConcurrency` read `cores` until the returned function is called.
 * The threaded build sizes its thread pool when it starts, from half of hardwareConcurrency
 * (it takes every second logical core for a hyperthread sibling), and caps setThreadsCount
 * there: on a machine whose logical cores are all real (most VMs, many laptops) that halves
 * the threads for nothing.
 */
export function pretendLogicalCores(cores: number): () => void {
  const nav = (globalThis as { navigator?: object }).navigator;
  if (!nav) return () => {};
  Object.defineProperty(nav, 'hardwareConcurrency', { configurable: true, get: () => cores });
  // Removing the own property uncovers the browser's getter again.
  return () => delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
}

/** "1 thread", "4 threads". */
export function describeThreads(threads: number): string {
  return `${threads} thread${threads === 1 ? '' : 's'}`;
}
