// Reading and writing the page URL's parameters. Pure: callers pass the URL.
import type { BackendName } from '../src/worker/protocol';

const BACKENDS: readonly BackendName[] = ['webgpu', 'wasm', 'cpu'];

/** `?backend=webgpu|wasm|cpu` → that name; anything else → undefined (the worker picks). */
export function backendFromSearch(search: string): BackendName | undefined {
  const value = new URLSearchParams(search).get('backend')?.trim().toLowerCase();
  return BACKENDS.find((b) => b === value);
}

/** The same page with `?backend=` set to `backend`, every other parameter and the hash kept. */
export function urlWithBackend(href: string, backend: BackendName): string {
  const url = new URL(href);
  url.searchParams.set('backend', backend);
  return url.href;
}
