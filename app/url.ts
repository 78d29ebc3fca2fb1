// Reading and writing the page URL's parameters. Pure: callers pass the URL.
import type { BackendName } from '../src/worker/protocol';

const BACKENDS: readonly BackendName[] = ['webgpu', 'wasm', 'cpu'];

/** `?backend=webgpu|wasm|cpu` → that name; anything else → undefined (the worker picks). */
export function backendFromSearch(search: string): BackendName | undefined {
  const value = new URLSearchParams(search).get('backend')?.trim().toLowerCase();
  return BACKENDS.find((b) => b === value);
}

/** The same page with `?backend=` set to `backend` (removed when undefined), every other parameter and the hash kept. */
export function urlWithBackend(href: string, backend: BackendName | undefined): string {
  const url = new URL(href);
  if (backend) url.searchParams.set('backend', backend);
  else url.searchParams.delete('backend');
  return url.href;
}
