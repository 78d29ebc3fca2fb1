// WebAssembly threads need a cross-origin isolated page. Served without its COOP/COEP headers,
// the page still trains on WebAssembly, on one thread, and says why. (On the isolated page the
// threaded build runs one thread per logical core: the parity spec checks it against the CPU.)
import { expect, test } from '@playwright/test';
import { expectBackend, forbidExternalRequests } from './driver';

forbidExternalRequests(test);

test('without cross-origin isolation, WebAssembly runs one thread and the page says why', async ({ page }) => {
  // The document's headers decide whether the page (and its workers) are isolated.
  await page.route((url) => url.pathname === '/', async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers() };
    delete headers['cross-origin-opener-policy'];
    delete headers['cross-origin-embedder-policy'];
    await route.fulfill({ response, headers });
  });
  await page.goto('/?backend=wasm');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
  await expectBackend(page, 'WebAssembly');
  const region = page.getByRole('region', { name: 'Compute backend' });
  await expect(region).toContainText('WebAssembly · SIMD · 1 thread');
  await expect(page.getByRole('list', { name: 'Why other backends were not used' })).toHaveText(
    'WebAssembly threads: the page is not cross-origin isolated (its Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers are missing), so threads cannot share memory; running 1 thread',
  );
  await expect(page.getByRole('region', { name: 'Backend check' })).toContainText(/Self-check passed on WebAssembly: 3 training steps of a small GPT-2 with \d+ trainable tensors/);
});
