// The interop suite (tests/interop): the studio's files against the real Python stack
// (torch, transformers, peft, safetensors). Run it with `bash scripts/interop.sh`, which
// provides the venv and sets INTEROP_PYTHON; plain `vitest run` does not pick these tests up.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/interop/**/*.test.ts'],
    environment: 'node',
    // Python processes start torch + transformers (seconds each) and the tfjs cpu backend
    // trains a few LoRA steps: be generous.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // One file at a time in one forked process: the CI machine has 2 cores, and each file
    // already runs a multi-threaded torch next to the tfjs engine.
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
