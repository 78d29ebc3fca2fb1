// Chooses and starts a tfjs backend: WebGPU first; then wasm, then cpu, each fallback
// announced with its reason. `forced` (the page's ?backend=) skips the others, and fails
// loudly rather than silently running elsewhere.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerFusedKernels } from '../kernels/registry';
import { registerWasmKernels } from './wasm-kernels';
import { describeThreads, ignoreAbandonedWorkerErrors, planWasmThreads, pretendLogicalCores, startWithinWorkers, threadSupportHere } from './wasm-threads';
import { registerWebGpuKernels, throwIfGpuErrors, watchGpuErrors } from './webgpu-kernels';

/**
 * Checks a started backend by what it computes (the session passes the training self-check):
 * resolves to a summary of what agreed, with `failure` set to the reason when it may not be trusted.
 */
export type BackendCheck = (name: BackendName) => Promise<{ failure?: string; summary: string }>;

export type BackendName = 'webgpu' | 'wasm' | 'cpu';

export interface BackendReport {
  name: BackendName;
  /** Human description, e.g. "WebGPU · SwiftShader (software)". */
  description: string;
  /** True when WebGPU runs on a software rasteriser (SwiftShader): slow. */
  software: boolean;
  /** Why a preferred backend was not used, one line each, in order of preference. */
  fallbacks: string[];
  /** Set when the page forced a backend with ?backend=. */
  forced: boolean;
  /** What the training self-check compared and found equal to the cpu backend (absent on cpu, the reference). */
  selfCheck?: string;
}

export interface WasmFiles {
  'tfjs-backend-wasm.wasm': string;
  'tfjs-backend-wasm-simd.wasm': string;
  'tfjs-backend-wasm-threaded-simd.wasm': string;
}

interface BackendFacts {
  description: string;
  software: boolean;
  /** Why part of the backend (e.g. WebAssembly threads) is not used, announced with the backend fallbacks. */
  fallback?: string;
}

/** What the WebGPU adapter says about itself; SwiftShader is Chromium's CPU rasteriser. */
async function probeWebGpu(): Promise<BackendFacts> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new Error('this browser exposes no WebGPU (navigator.gpu is undefined)');
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('WebGPU found no adapter');
  const info = adapter.info;
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((s) => s && s.length > 0);
  const text = parts.join(' ');
  const software = /swiftshader/i.test(text) || adapter.isFallbackAdapter === true;
  const name = /swiftshader/i.test(text) ? 'SwiftShader' : parts.join(' · ') || 'unknown adapter';
  return { description: software ? `${name} (software)` : name, software };
}

/**
 * How long the threaded wasm build may take to start its pthread workers before the backend
 * restarts on one thread: a worker that fails to start leaves the start-up waiting forever.
 */
const THREAD_START_MS = 60_000;

async function setBackendOrThrow(name: BackendName): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs could not initialise the ${name} backend`);
  await tf.ready();
}

/**
 * Starts the wasm backend: the threaded SIMD build with one thread per logical core where the
 * page allows threads, else (or when its threads fail to start) the single-threaded build,
 * saying why.
 */
async function startWasm(wasm?: WasmFiles): Promise<BackendFacts> {
  if (wasm) setWasmPaths(wasm as unknown as Record<string, string>);
  registerWasmKernels();
  registerFusedKernels('wasm');
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'SIMD' : 'no SIMD';
  const plan = planWasmThreads(threadSupportHere());
  let why = plan.reason;
  if (plan.threads > 1 && !(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))) why = "this browser's WebAssembly has no threads";
  else if (plan.threads > 1 && simd === 'no SIMD') why = 'the threaded build needs WebAssembly SIMD, which this browser lacks';
  else if (plan.threads > 1) {
    setThreadsCount(plan.threads);
    const restoreCores = pretendLogicalCores(2 * plan.threads);
    try {
      await startWithinWorkers(setBackendOrThrow('wasm'), THREAD_START_MS);
      return { description: `${simd} · ${describeThreads(getThreadsCount())}`, software: false };
    } catch (e) {
      why = (e as Error).message;
      ignoreAbandonedWorkerErrors();
    } finally {
      restoreCores();
    }
  }
  // The flag picks the build; a second setBackend supersedes a threaded start still pending.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await setBackendOrThrow('wasm');
  return { description: `${simd} · ${describeThreads(1)}`, software: false, fallback: `WebAssembly threads: ${why}; running 1 thread` };
}

async function tryBackend(name: BackendName, wasm?: WasmFiles): Promise<BackendFacts> {
  let facts: BackendFacts = { description: '', software: false };
  if (name === 'webgpu') {
    facts = await probeWebGpu();
    registerWebGpuKernels();
    registerFusedKernels('webgpu');
  }
  if (name === 'wasm') facts = await startWasm(wasm);
  else await setBackendOrThrow(name);
  if (name === 'webgpu') watchGpuErrors((tf.backend() as unknown as { device: GPUDevice }).device);
  // A tiny computation proves the backend works end to end (shaders compile, readback works).
  const probe = tf.tidy(() => tf.sum(tf.mul(tf.tensor1d([1, 2, 3]), 2)));
  const v = (await probe.data())[0];
  probe.dispose();
  if (v !== 12) throw new Error(`${name} backend computed a wrong result in its self-test (${v})`);
  throwIfGpuErrors('its first computation');
  return facts;
}

const LABEL: Record<BackendName, string> = { webgpu: 'WebGPU', wasm: 'WebAssembly', cpu: 'CPU (JavaScript)' };

/**
 * Calls `onLost` when the WebGPU device goes away (driver reset, GPU removed, tab evicted):
 * the page can then say so and offer another backend instead of failing on the next step.
 */
function watchDeviceLoss(onLost: (message: string) => void): void {
  const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
  void device?.lost.then((info) => {
    if (info.reason !== 'destroyed') onLost(`the GPU device was lost (${info.message || info.reason}); reload the page, or use ?backend=wasm`);
  });
}

/**
 * Starts the first backend that initialises and passes `check` (the cpu backend is the
 * reference others are checked against, so it is not checked). A forced backend that fails is
 * an error, never a silent move elsewhere.
 */
export async function startBackend(forced?: BackendName, wasm?: WasmFiles, onDeviceLost?: (message: string) => void, check?: BackendCheck): Promise<BackendReport> {
  const order: BackendName[] = forced ? [forced] : ['webgpu', 'wasm', 'cpu'];
  const fallbacks: string[] = [];
  for (const name of order) {
    try {
      const facts = await tryBackend(name, wasm);
      let selfCheck: string | undefined;
      if (check && name !== 'cpu') {
        const result = await check(name);
        if (result.failure) throw new Error(`failed the training self-check: ${result.failure}`);
        selfCheck = result.summary;
      }
      const description = facts.description ? `${LABEL[name]} · ${facts.description}` : LABEL[name];
      if (name === 'webgpu' && onDeviceLost) watchDeviceLoss(onDeviceLost);
      if (facts.fallback) fallbacks.push(facts.fallback);
      return { name, description, software: facts.software, fallbacks, forced: !!forced, selfCheck };
    } catch (e) {
      fallbacks.push(`${LABEL[name]}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no compute backend could start: ${fallbacks.join('; ')}`);
}
