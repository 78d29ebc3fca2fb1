// Saves bytes the worker exported as a file download (an <a download> click on a Blob URL).

export function mimeTypeFor(fileName: string): string {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.zip')) return 'application/zip';
  if (lower.endsWith('.json')) return 'application/json';
  return 'application/octet-stream';
}

export function saveBytes(fileName: string, bytes: Uint8Array): void {
  // Copy into a fresh ArrayBuffer-backed view: BlobPart must not be a SharedArrayBuffer view.
  const blob = new Blob([new Uint8Array(bytes)], { type: mimeTypeFor(fileName) });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // Give the browser time to start the download before the URL goes away.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
