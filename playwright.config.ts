import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS } from './e2e/driver';

// Headless Debian Chromium with WebGPU (SwiftShader here, a real GPU where there is one).
// Playwright cannot download its own browser on these machines, so it drives /usr/bin/chromium.
// E2E_PORT moves the preview server, so two checkouts can run their browser tests side by side.
const PORT = Number(process.env.E2E_PORT ?? 4173);

export default defineConfig({
  testDir: 'e2e',
  timeout: 300_000,
  expect: { timeout: 60_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${PORT}/`,
    acceptDownloads: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    },
  },
  webServer: {
    command: `npx vite build && npx vite preview --port ${PORT} --strictPort`,
    url: `http://localhost:${PORT}/`,
    timeout: 180_000,
    reuseExistingServer: false,
  },
});
