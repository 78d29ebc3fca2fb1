// The rows `npm run bench` writes to bench/results.json and prints: one per backend × method ×
// config, each with its median step time, throughput, memory and work per step, and its ratios
// to full fine-tuning on the same backend and config and to the same method on PyTorch, both
// taken from the same run. Pure: the measuring lives in bench.mts, bench-page.ts and
// bench_torch.py.

export type BenchBackend = 'webgpu' | 'wasm' | 'pytorch';

/** The model and batch a row trained: a GPT-2 of this shape on batch × sequence tokens. */
export interface BenchConfig {
  name: string;
  layers: number;
  width: number;
  heads: number;
  vocab: number;
  batch: number;
  sequence: number;
  /** Each block's activations recomputed in the backward pass (gradient checkpointing) instead of kept. */
  recompute?: boolean;
}

/** What one run measured; what a side cannot measure is absent. */
export interface Measurement {
  backend: BenchBackend;
  method: string;
  config: BenchConfig;
  /** Each timed step's wall time, warm-up steps excluded. */
  stepMs: number[];
  warmupSteps: number;
  trainable: number;
  /** Peak bytes held while training (what each side counts: see bench.mts). */
  peakBytes: number;
  /** WebGPU compute dispatches (dispatchWorkgroups calls) per timed step. */
  dispatchesPerStep?: number;
  /** Bytes of GPU buffers created (createBuffer sizes) per timed step. */
  bufferBytesPerStep?: number;
  /** tfjs kernels run (engine.runKernel calls) per timed step. */
  kernelsPerStep?: number;
  /** The machine's 1-minute load average when the row finished: other work shares its cores. */
  loadAverage1m?: number;
  /** ISO time the row finished (rows kept from an earlier run by `--merge` keep theirs). */
  measuredAt?: string;
  /** PyTorch: the peak's parts (parameters, gradients, AdamW state, saved activations). */
  memory?: Record<string, number>;
}

/** A row that did not run, and why. */
export interface Skipped {
  backend: BenchBackend;
  method: string;
  config: BenchConfig;
  skipped: string;
}

export interface BenchRow extends Measurement {
  medianStepMs: number;
  tokensPerSec: number;
  /** This row's median step time over full fine-tuning's (same backend and config); null without that row. */
  stepVsFull: number | null;
  /** Peak bytes over full fine-tuning's (same backend and config). */
  memoryVsFull: number | null;
  /** Median step time over the same method's on PyTorch (same config); null on PyTorch or without that row. */
  stepVsPytorch: number | null;
  memoryVsPytorch: number | null;
}

export interface BenchResults {
  /** ISO time the run ended. */
  date: string;
  /** False while the run is going (the file is rewritten after every row) or when it was cut short. */
  complete: boolean;
  machine: Record<string, unknown>;
  rows: BenchRow[];
  skipped: Skipped[];
}

const sameRow = (a: { backend: string; method: string; config: { name: string } }, b: { backend: string; method: string; config: { name: string } }) =>
  a.backend === b.backend && a.method === b.method && a.config.name === b.config.name;

/**
 * An earlier run's rows and rows not run, with this run's on top: what this run measured or
 * could not run replaces the earlier entry for that backend, config and method; the rest stay.
 */
export function mergeResults(
  earlier: { rows: Measurement[]; skipped: Skipped[] },
  now: { measured: Measurement[]; skipped: Skipped[] },
): { measured: Measurement[]; skipped: Skipped[] } {
  const fresh = [...now.measured, ...now.skipped];
  const stays = <T extends Measurement | Skipped>(r: T) => !fresh.some((f) => sameRow(f, r));
  const kept = earlier.rows.filter(stays).map((r) => {
    // A row read back from results.json carries what buildRows derived; only the measurement goes on.
    const { medianStepMs: _m, tokensPerSec: _t, stepVsFull: _sf, memoryVsFull: _mf, stepVsPytorch: _sp, memoryVsPytorch: _mp, ...m } = r as BenchRow;
    return m as Measurement;
  });
  return { measured: [...kept, ...now.measured], skipped: [...earlier.skipped.filter(stays), ...now.skipped] };
}

export function median(xs: number[]): number {
  if (xs.length === 0) throw new Error('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const ratio = (a: number, b: number | undefined) => (b === undefined || b === 0 ? null : a / b);

/** Adds each measurement's median, tokens/s and its ratios to the other rows of the same run. */
export function buildRows(measured: Measurement[]): BenchRow[] {
  const find = (backend: BenchBackend, method: string, config: string) => measured.find((m) => m.backend === backend && m.method === method && m.config.name === config);
  const med = (m: Measurement | undefined) => (m ? median(m.stepMs) : undefined);
  return measured.map((m) => {
    const medianStepMs = median(m.stepMs);
    const full = m.method === 'full-finetune' ? undefined : find(m.backend, 'full-finetune', m.config.name);
    const torch = m.backend === 'pytorch' ? undefined : find('pytorch', m.method, m.config.name);
    return {
      ...m,
      medianStepMs,
      tokensPerSec: (m.config.batch * m.config.sequence * 1000) / medianStepMs,
      stepVsFull: m.method === 'full-finetune' ? 1 : ratio(medianStepMs, med(full)),
      memoryVsFull: m.method === 'full-finetune' ? 1 : ratio(m.peakBytes, full?.peakBytes),
      stepVsPytorch: ratio(medianStepMs, med(torch)),
      memoryVsPytorch: ratio(m.peakBytes, torch?.peakBytes),
    };
  });
}

const fmtRatio = (r: number | null) => (r === null ? '—' : `${r.toFixed(2)}×`);
const fmtCount = (n: number | undefined) => (n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));
const fmtMb = (bytes: number | undefined) => (bytes === undefined ? '—' : (bytes / 1e6).toFixed(1));

const HEADER = ['backend', 'config', 'method', 'ms/step', 'tokens/s', 'trainable', 'peak MB', 'dispatches', 'buffer MB', 'kernels', 'step/full', 'mem/full', 'step/torch', 'mem/torch'];

/** The printed table: a markdown table of every row, then the rows that did not run and why. */
export function formatTable(results: Pick<BenchResults, 'rows' | 'skipped'>): string {
  const lines = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`];
  for (const r of results.rows) {
    const cells = [
      r.backend,
      r.config.name,
      r.method,
      r.medianStepMs.toFixed(r.medianStepMs < 100 ? 1 : 0),
      r.tokensPerSec.toFixed(0),
      r.trainable.toLocaleString('en-US'),
      fmtMb(r.peakBytes),
      fmtCount(r.dispatchesPerStep),
      fmtMb(r.bufferBytesPerStep),
      fmtCount(r.kernelsPerStep),
      fmtRatio(r.stepVsFull),
      fmtRatio(r.memoryVsFull),
      fmtRatio(r.stepVsPytorch),
      fmtRatio(r.memoryVsPytorch),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  for (const s of results.skipped) lines.push(`| ${s.backend} | ${s.config.name} | ${s.method} | not run: ${s.skipped} |`);
  return lines.join('\n');
}
