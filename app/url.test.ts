import { describe, expect, it } from 'vitest';
import { backendFromSearch, urlWithBackend } from './url';

describe('url', () => {
  it('reads ?backend=', () => {
    expect(backendFromSearch('?backend=webgpu')).toBe('webgpu');
    expect(backendFromSearch('?x=1&backend=WASM')).toBe('wasm');
    expect(backendFromSearch('?backend=cpu')).toBe('cpu');
    expect(backendFromSearch('?backend=cuda')).toBeUndefined();
    expect(backendFromSearch('')).toBeUndefined();
  });

  it('sets ?backend= keeping other parameters and the hash', () => {
    expect(urlWithBackend('http://localhost:5173/?backend=webgpu&debug=1#run', 'wasm')).toBe(
      'http://localhost:5173/?backend=wasm&debug=1#run',
    );
    expect(urlWithBackend('http://localhost:5173/studio/', 'wasm')).toBe('http://localhost:5173/studio/?backend=wasm');
  });

  it('removes ?backend= when none is given, so the studio chooses', () => {
    expect(urlWithBackend('http://localhost:5173/?backend=webgpu&debug=1#run', undefined)).toBe('http://localhost:5173/?debug=1#run');
  });
});
