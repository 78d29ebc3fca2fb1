// How many threads the WebAssembly backend runs, and — when it is one — why not more.
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

/** "1 thread", "4 threads". */
export function describeThreads(threads: number): string {
  return `${threads} thread${threads === 1 ? '' : 's'}`;
}
