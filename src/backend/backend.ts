// Chooses and starts a tfjs backend: WebGPU first; then wasm, then cpu, each fallback
// announced with its reason. `forced` (the page's ?backend=) skips the others, and fails
// loudly rather than silently running elsewhere.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerFusedKernels } from '../kernels/registry';
import { registerWasmKernels } from './wasm-kernels';
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

interface GpuAdapterFacts {
  description: string;
  software: boolean;
}

/** What the WebGPU adapter says about itself; SwiftShader is Chromium's CPU rasteriser. */
async function probeWebGpu(): Promise<GpuAdapterFacts> {
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

async function tryBackend(name: BackendName, wasm?: WasmFiles): Promise<GpuAdapterFacts> {
  let facts: GpuAdapterFacts = { description: '', software: false };
  if (name === 'webgpu') {
    facts = await probeWebGpu();
    registerWebGpuKernels();
    registerFusedKernels('webgpu');
  }
  if (name === 'wasm') {
    if (wasm) setWasmPaths(wasm as unknown as Record<string, string>);
    // The threaded build spawns pthread workers from a classic script that breaks inside a
    // bundled module worker; one thread is also what Chromium gave it here in practice.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    registerWasmKernels();
    registerFusedKernels('wasm');
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs could not initialise the ${name} backend`);
  await tf.ready();
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
      let description = LABEL[name];
      if (name === 'webgpu') {
        description += ` · ${facts.description}`;
        if (onDeviceLost) watchDeviceLoss(onDeviceLost);
      }
      if (name === 'wasm') {
        const threads = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) ? 'multithreaded' : 'single thread';
        const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'SIMD' : 'no SIMD';
        description += ` · ${simd}, ${threads}`;
      }
      return { name, description, software: facts.software, fallbacks, forced: !!forced, selfCheck };
    } catch (e) {
      fallbacks.push(`${LABEL[name]}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no compute backend could start: ${fallbacks.join('; ')}`);
}
