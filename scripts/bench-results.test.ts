import { describe, expect, it } from 'vitest';
import { buildRows, formatTable, median, mergeResults, type BenchConfig, type Measurement } from './bench-results';

const ref: BenchConfig = { name: 'reference', layers: 4, width: 128, heads: 4, vocab: 257, batch: 8, sequence: 128 };
const larger: BenchConfig = { ...ref, name: 'larger', layers: 6, width: 384, heads: 6 };

function m(backend: Measurement['backend'], method: string, config: BenchConfig, stepMs: number[], peakBytes: number, extra: Partial<Measurement> = {}): Measurement {
  return { backend, method, config, stepMs, warmupSteps: 1, trainable: 1, peakBytes, ...extra };
}

describe('median', () => {
  it('is the middle value of an odd count and the mean of the middle two of an even count, whatever the order', () => {
    expect(median([30, 10, 20])).toBe(20);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('refuses no values', () => {
    expect(() => median([])).toThrow('median of no values');
  });
});

describe('buildRows', () => {
  const measured = [
    m('wasm', 'full-finetune', ref, [400, 100, 200], 800),
    m('wasm', 'lora', ref, [50, 60, 40], 200),
    m('pytorch', 'lora', ref, [20, 25, 30], 100),
    m('pytorch', 'full-finetune', ref, [80, 90, 100], 400),
    m('wasm', 'lora', larger, [500], 1000),
  ];
  const rows = buildRows(measured);
  const row = (backend: string, method: string, config = 'reference') => rows.find((r) => r.backend === backend && r.method === method && r.config.name === config)!;

  it('keeps every measurement, in order, with its median step and the tokens that step reads per second', () => {
    expect(rows.map((r) => [r.backend, r.method, r.config.name])).toEqual(measured.map((x) => [x.backend, x.method, x.config.name]));
    expect(row('wasm', 'full-finetune').medianStepMs).toBe(200);
    expect(row('wasm', 'full-finetune').tokensPerSec).toBe((8 * 128 * 1000) / 200);
    expect(row('wasm', 'lora').stepMs).toEqual([50, 60, 40]);
  });

  it('divides by full fine-tuning on the same backend and config', () => {
    expect(row('wasm', 'lora').stepVsFull).toBe(50 / 200);
    expect(row('wasm', 'lora').memoryVsFull).toBe(200 / 800);
    expect(row('pytorch', 'lora').stepVsFull).toBe(25 / 90);
    expect(row('wasm', 'full-finetune').stepVsFull).toBe(1);
    expect(row('wasm', 'full-finetune').memoryVsFull).toBe(1);
  });

  it('divides by the same method on PyTorch with the same config, and says null where there is no such row', () => {
    expect(row('wasm', 'lora').stepVsPytorch).toBe(50 / 25);
    expect(row('wasm', 'lora').memoryVsPytorch).toBe(2);
    expect(row('wasm', 'full-finetune').stepVsPytorch).toBe(200 / 90);
    expect(row('pytorch', 'lora').stepVsPytorch).toBeNull();
    const lone = row('wasm', 'lora', 'larger');
    expect([lone.stepVsFull, lone.memoryVsFull, lone.stepVsPytorch, lone.memoryVsPytorch]).toEqual([null, null, null, null]);
  });

  it('is plain JSON: results.json holds the rows as built', () => {
    expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
  });
});

describe('formatTable', () => {
  it('prints one markdown row per measurement, counts and MB where measured, — where not, and the rows not run with why', () => {
    const rows = buildRows([
      m('webgpu', 'full-finetune', ref, [2000], 4_000_000, { dispatchesPerStep: 1234.4, bufferBytesPerStep: 1_500_000, kernelsPerStep: 900 }),
      m('webgpu', 'lora', ref, [1000], 1_000_000, { dispatchesPerStep: 800, bufferBytesPerStep: 0, kernelsPerStep: 700 }),
    ]);
    const lines = formatTable({ rows, skipped: [{ backend: 'pytorch', method: 'houlsby', config: ref, skipped: 'no counterpart in peft' }] }).split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('| backend | config | method | ms/step | tokens/s | trainable | peak MB | dispatches | buffer MB | kernels | step/full | mem/full | step/torch | mem/torch |');
    expect(lines[2]).toBe('| webgpu | reference | full-finetune | 2000 | 512 | 1 | 4.0 | 1,234 | 1.5 | 900 | 1.00× | 1.00× | — | — |');
    expect(lines[3]).toBe('| webgpu | reference | lora | 1000 | 1024 | 1 | 1.0 | 800 | 0.0 | 700 | 0.50× | 0.25× | — | — |');
    expect(lines[4]).toBe('| pytorch | reference | houlsby | not run: no counterpart in peft |');
  });
});

describe('mergeResults', () => {
  it("replaces the earlier run's entry for what this run measured or could not run, keeps the rest, and recomputes nothing stale", () => {
    const earlier = {
      rows: buildRows([m('webgpu', 'lora', ref, [900], 10), m('wasm', 'lora', ref, [300], 20), m('wasm', 'full-finetune', ref, [600], 40), m('wasm', 'bitfit', larger, [50], 5)]),
      skipped: [{ backend: 'webgpu' as const, method: 'houlsby', config: larger, skipped: 'software adapter' }, { backend: 'wasm' as const, method: 'distill', config: ref, skipped: 'failed' }],
    };
    const now = {
      measured: [m('wasm', 'lora', ref, [100], 20, { measuredAt: '2026-12-03T10:00:00Z' }), m('wasm', 'distill', ref, [70], 9)],
      skipped: [{ backend: 'wasm' as const, method: 'bitfit', config: larger, skipped: 'failed again' }],
    };
    const merged = mergeResults(earlier, now);
    expect(merged.measured.map((r) => `${r.backend} ${r.config.name} ${r.method} ${r.stepMs[0]}`)).toEqual([
      'webgpu reference lora 900',
      'wasm reference full-finetune 600',
      'wasm reference lora 100',
      'wasm reference distill 70',
    ]);
    expect(merged.measured.every((r) => !('stepVsFull' in r))).toBe(true);
    expect(merged.skipped.map((r) => `${r.backend} ${r.config.name} ${r.method} ${r.skipped}`)).toEqual(['webgpu larger houlsby software adapter', 'wasm larger bitfit failed again']);
    // Ratios come from the rows as merged: the new LoRA row against the kept full fine-tuning.
    expect(buildRows(merged.measured).find((r) => r.backend === 'wasm' && r.method === 'lora')!.stepVsFull).toBeCloseTo(100 / 600);
  });
});
