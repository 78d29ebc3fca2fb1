// The fused LayerNorm, cross-entropy and gelu_new kernels in the real browser: on WebGPU (WGSL) and on
// WebAssembly the start-up self-check compares each fused kernel — values and gradients, odd
// sizes, ignored labels, logits in the thousands — with the stock ops on the CPU backend, then
// trains a small GPT-2 whose every LayerNorm, activation and loss runs through them against the CPU's stock
// chain. The page may use the backend only when all of it agrees.
import { expect, test } from '@playwright/test';
import { expectBackend, forbidExternalRequests } from './driver';

forbidExternalRequests(test);

for (const [backend, label] of [
  ['webgpu', 'WebGPU'],
  ['wasm', 'WebAssembly'],
] as const) {
  test(`on ${label}, the fused kernels pass the self-check against the CPU's stock ops`, async ({ page }) => {
    test.setTimeout(600_000);
    await page.goto(`/?backend=${backend}`);
    await expectBackend(page, label);
    const check = page.getByRole('region', { name: 'Backend check' });
    await expect(check).toContainText(
      new RegExp(
        `Self-check passed on ${label}: 3 training steps of a small GPT-2 with \\d+ trainable tensors .* match the CPU reference, as do the fused LayerNorm, cross-entropy and gelu_new kernels against the stock ops \\(5 cases\\) \\(worst relative difference [0-9.e+-]+; \\d+ ms\\)`,
      ),
    );
    console.log(`${label}: ${await check.locator('.self-check').textContent()}`);
  });
}
