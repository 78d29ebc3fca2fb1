// Builds the page and serves it with `vite preview` for the scripts that drive it in headless
// Chromium (benchmarks, the learning check). The server runs in its own process group, so
// `stop()` ends it and everything it started.
import { spawn } from 'node:child_process';

export async function startPreview(port: number): Promise<{ url: string; stop(): void }> {
  await new Promise<void>((resolve, reject) => {
    const build = spawn('npx', ['vite', 'build', '--logLevel', 'error'], { stdio: 'inherit' });
    build.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build exited ${code}`))));
  });
  const server = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort'], { stdio: 'ignore', detached: true });
  const stop = () => {
    if (server.pid) process.kill(-server.pid);
  };
  const url = `http://localhost:${port}/`;
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(url)).ok) return { url, stop };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  stop();
  throw new Error('vite preview did not start');
}
