import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// COOP/COEP make the page cross-origin isolated, which multithreaded wasm needs.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * tfjs starts each pthread worker of the threaded SIMD wasm build from the source text of the
 * Emscripten factory (`factory.toString()` in a Blob). That text must stand on its own: the
 * factory reads `_scriptDir`, declared outside it, behind a `typeof` guard — and the minifier,
 * seeing the declaration, drops the guard, so every pthread worker dies on an undefined name
 * and the backend never starts. Building the factory from the file's untouched text keeps the
 * text the workers evaluate exactly what Emscripten emitted.
 */
function threadedWasmFactoryVerbatim(): Plugin {
  const file = /\/@tensorflow\/tfjs-backend-wasm\/wasm-out\/tfjs-backend-wasm-threaded-simd\.js$/;
  return {
    name: 'threaded-wasm-factory-verbatim',
    load(id) {
      const path = id.split('?')[0];
      if (!file.test(path)) return null;
      const source = readFileSync(path, 'utf8');
      return `export default new Function(${JSON.stringify(`${source}\nreturn WasmBackendModuleThreadedSimd;`)})();`;
    },
  };
}

export default defineConfig({
  plugins: [react()],
  // The wasm backend is only imported by the training worker, whose bundle has its own plugins.
  worker: { format: 'es', plugins: () => [threadedWasmFactoryVerbatim()] },
  server: { headers: isolation, port: 5173 },
  preview: { headers: isolation, port: 5173 },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
