// Drives the studio page the way a person does. Shared by the browser tests and the
// benchmark, so both exercise exactly the same path.
import { expect, type Locator, type Page, type test } from '@playwright/test';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];

/** Drops a file on the "Dataset" drop area with a real DataTransfer, as dragging from the desktop does. */
export async function dropFile(page: Page, name: string, content: string, mime = 'application/jsonl') {
  const dataTransfer = await page.evaluateHandle(
    ({ name, content, mime }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([content], name, { type: mime }));
      return dt;
    },
    { name, content, mime },
  );
  const area = page.locator('.dataset-drop');
  await area.dispatchEvent('dragenter', { dataTransfer });
  await area.dispatchEvent('dragover', { dataTransfer });
  await area.dispatchEvent('drop', { dataTransfer });
}

/**
 * Drops files with these bytes on `area` with a real DataTransfer, as dragging them from the
 * desktop does (each file as a plain file, not a folder entry).
 */
export async function dropFiles(area: Locator, files: { name: string; mimeType: string; bytes: Uint8Array }[]) {
  const dataTransfer = await area.page().evaluateHandle((files) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.mimeType }));
    return dt;
  }, files.map((f) => ({ name: f.name, mimeType: f.mimeType, base64: Buffer.from(f.bytes).toString('base64') })));
  await area.dispatchEvent('dragenter', { dataTransfer });
  await area.dispatchEvent('dragover', { dataTransfer });
  await area.dispatchEvent('drop', { dataTransfer });
}

/** Types into the field with this visible label and leaves it, as a person tabbing on. */
export async function fill(page: Page, label: string, value: string) {
  const field = page.getByLabel(label, { exact: true });
  await field.fill(value);
  await field.blur();
}

const SENTENCES = [
  'The cat sat on the mat and watched the rain.',
  'A small boat drifted slowly down the quiet river.',
  'She opened the old book and began to read aloud.',
  'The wind carried the smell of bread through the town.',
  'He planted three trees at the edge of the field.',
  'Bright stars filled the sky above the sleeping village.',
];

/** A small .jsonl dataset of numbered English sentences. */
export function sampleJsonl(lines: number, repeat = 1): string {
  return Array.from({ length: lines }, (_, i) => JSON.stringify({ text: `${i}. ${Array(repeat).fill(SENTENCES[i % SENTENCES.length]).join(' ')}` })).join('\n');
}

export const SAMPLE_SENTENCES = SENTENCES;

/**
 * Fails every test of the file whose page requests anything but its own files: datasets and
 * models never leave the machine, and nothing is fetched from elsewhere.
 */
export function forbidExternalRequests(t: typeof test): void {
  let external: string[] = [];
  t.beforeEach(({ page, baseURL }) => {
    external = [];
    page.on('request', (req) => {
      const url = req.url();
      if (!url.startsWith(baseURL!) && !url.startsWith('blob:') && !url.startsWith('data:')) external.push(url);
    });
  });
  t.afterEach(() => {
    expect(external, 'requests to other origins').toEqual([]);
  });
}

/**
 * Waits until the "Compute backend" region names `label` (WebGPU, WebAssembly, CPU): the page
 * runs its start-up self-check first, which on a software GPU on a busy machine can take minutes.
 */
export async function expectBackend(page: Page, label: string): Promise<void> {
  await expect(page.getByRole('region', { name: 'Compute backend' })).toContainText(label, { timeout: 300_000 });
}
