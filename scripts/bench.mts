// `npm run bench`: training speed and memory of every method against full fine-tuning, in the
// studio page (WebGPU and wasm, in headless Chromium) and in PyTorch on the CPU, in one run.
// Writes bench/results.json and prints a table.
//
// Configs: "reference" is the built-in tiny-gpt2 (GPT-2, vocabulary 257 bytes+EOS, 4 layers,
// width 128, 4 heads); "larger" a randomly initialised GPT-2 of 6 layers, width 384, 6 heads
// (12.6× the parameters) written to a temporary model folder and loaded in the page with
// "Choose a model folder". Both train batches of 8 × 128 tokens.
// Methods: every kind of run of the Method select — the PEFT methods at their defaults (LoRA
// r=8 on c_attn, Houlsby adapter, prompt tuning, prefix tuning, P-tuning, P-tuning v2, BitFit),
// full fine-tuning (the baseline) and distillation into a half-depth student.
//
// Browser (scripts/bench-page.ts): the page driven as a person drives it; each run is one
// warm-up step and `--steps` timed steps (default 3; 1 on a software WebGPU adapter's larger
// config, where only LoRA and full fine-tuning run unless `--all`). ms/step is the median gap
// between the worker's step reports. Memory is the peak of the bytes of tfjs's distinct live data
// buffers during a timed step (the base weights, the trainable variables, AdamW's moments,
// gradients and every activation alive at once — a buffer shared by several tensors counted
// once, unlike tf.memory().numBytes; tensors, not the WebGPU buffer pool, whose reuse is
// reported as buffer bytes created per step). Dispatches, buffer bytes and kernels are
// per timed step.
//
// PyTorch (scripts/bench_torch.py, in .venv-interop, created as scripts/interop.sh does when
// missing): GPT2LMHeadModel of the same config, randomly initialised, the same batch, AdamW,
// default torch threads; the PEFT counterpart of each method from peft (LoRA, prompt tuning,
// prefix tuning, P-tuning = PromptEncoder, P-tuning v2 = prefix tuning without the
// reparameterisation, BitFit = only biases trainable); Houlsby adapters and distillation have no
// counterpart in peft. Memory is parameters + gradients + AdamW state + the bytes autograd saves
// for backward (see the script).
//
// Flags: --backend=webgpu,wasm  --config=reference,larger,larger-recompute  --methods=lora,full (full =
// full-finetune)  --steps=N  --no-python  --all; --merge keeps the rows of bench/results.json
// that this run does not measure again (each row says when it was measured); --print prints
// bench/results.json's table. BENCH_PORT moves the preview server's port.
//
// `--families` instead times the reference-sized model of each family (scripts/bench-families.ts).
// `--session` instead times a whole session on the built-in model (scripts/bench-session.ts):
// from opening the page to the first training step, and every main-thread task over 50 ms, per
// backend (`--backend=`, default wasm then webgpu; `--steps=`, default 8).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelInfo } from '../src/models/load';
import { RUN_KINDS } from '../src/train/registry';
import { benchFamilies } from './bench-families';
import { gpt2Config } from './bench-models';
import { benchPage, RECOMPUTE_METHODS, type PageConfig, type PageMachine } from './bench-page';
import { buildRows, formatTable, median, mergeResults, type BenchResults, type Measurement, type Skipped } from './bench-results';
import { startPreview } from './preview-server';
import { printSession, timeSession } from './bench-session';

const argv = process.argv.slice(2);
const args = new Set(argv);
const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const list = (name: string) => flag(name)?.split(',').filter(Boolean);
const port = Number(process.env.BENCH_PORT ?? 4174);
const REPO = new URL('..', import.meta.url).pathname;

if (args.has('--print')) {
  // The table of the last run's bench/results.json, without running anything.
  console.log(formatTable(JSON.parse(readFileSync(join(REPO, 'bench/results.json'), 'utf8')) as BenchResults));
  process.exit(0);
}

if (args.has('--session')) {
  const server = await startPreview(port);
  try {
    for (const backend of list('backend') ?? ['wasm', 'webgpu']) printSession(await timeSession(server.url, backend, Number(flag('steps') ?? 8)));
  } finally {
    server.stop();
  }
  process.exit(0);
}

if (args.has('--families')) {
  await benchFamilies({ node: !args.has('--browser-only'), browser: !args.has('--node-only'), cpu: args.has('--cpu'), port, only: list('only') });
  process.exit(0);
}

const tinyConfig = JSON.parse(readFileSync(join(REPO, 'public/models/tiny-gpt2/config.json'), 'utf8')) as Record<string, unknown>;
const ALL_CONFIGS: (PageConfig & { configJson: Record<string, unknown> })[] = [
  { name: 'reference', layers: 4, width: 128, heads: 4, vocab: tinyConfig.vocab_size as number, batch: 8, sequence: 128, model: { builtIn: 'tiny-gpt2' }, configJson: tinyConfig },
  (() => {
    const configJson = gpt2Config(6, 384, 6);
    return { name: 'larger', layers: 6, width: 384, heads: 6, vocab: configJson.vocab_size as number, batch: 8, sequence: 128, model: { configJson }, configJson };
  })(),
  // The same, each block's activations recomputed in the backward pass (the studio's "Recompute
  // activations", PyTorch's gradient checkpointing): LoRA and full fine-tuning unless --all
  // (and on a software WebGPU adapter, nothing unless --all).
  (() => {
    const configJson = gpt2Config(6, 384, 6);
    return { name: 'larger-recompute', layers: 6, width: 384, heads: 6, vocab: configJson.vocab_size as number, batch: 8, sequence: 128, recompute: true, model: { configJson }, configJson };
  })(),
];
const configs = ALL_CONFIGS.filter((c) => !list('config') || list('config')!.includes(c.name));
const methodIds = RUN_KINDS.map((k) => k.id).filter((id) => !list('methods') || list('methods')!.map((m) => (m === 'full' ? 'full-finetune' : m)).includes(id));
// wasm first: a software WebGPU's larger config, by far the slowest part, comes last.
const backends = (list('backend') ?? ['wasm', 'webgpu']) as ('webgpu' | 'wasm')[];
const steps = Number(flag('steps') ?? 3);
if (configs.length === 0 || methodIds.length === 0 || !(steps >= 1)) throw new Error(`nothing to run: --config=${flag('config')} --methods=${flag('methods')} --steps=${flag('steps')}`);

// --merge: the rows of bench/results.json that this run does not measure again stay in it.
const earlier = args.has('--merge') ? (JSON.parse(readFileSync(join(REPO, 'bench/results.json'), 'utf8')) as BenchResults) : undefined;
const measured: Measurement[] = [];
const skipped: Skipped[] = [];
const started = Date.now();
let torchInfo: Record<string, unknown> | undefined;
let pageMachine: PageMachine | undefined;
/** bench/results.json as it stands: rewritten after every row, so a run cut short keeps what it measured. */
function writeResults(complete: boolean): BenchResults {
  const results: BenchResults = {
    date: new Date().toISOString(),
    complete,
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, loadAverage1m: loadavg()[0], chromium: pageMachine?.chromium, adapters: pageMachine?.adapters, pytorch: torchInfo, wallSeconds: Math.round((Date.now() - started) / 1000) },
    ...(() => {
      if (!earlier) return { rows: buildRows(measured), skipped };
      const merged = mergeResults(earlier, { measured, skipped });
      return { rows: buildRows(merged.measured), skipped: merged.skipped };
    })(),
  };
  mkdirSync(join(REPO, 'bench'), { recursive: true });
  writeFileSync(join(REPO, 'bench/results.json'), JSON.stringify(results, null, 2) + '\n');
  return results;
}
const onRow = (r: Measurement | Skipped) => {
  if ('skipped' in r) skipped.push(r);
  else measured.push({ ...r, loadAverage1m: loadavg()[0], measuredAt: new Date().toISOString() });
  const what = 'skipped' in r ? `not run: ${r.skipped}` : `median ${median(r.stepMs).toFixed(1)} ms/step, peak ${(r.peakBytes / 1e6).toFixed(1)} MB`;
  console.error(`${r.backend} ${r.config.name} ${r.method}: ${what}`);
  writeResults(false);
};

/** The peft counterpart of each run kind, at the studio's defaults for the model. */
function torchMethod(id: string, info: ReturnType<typeof modelInfo>): { id: string; peft: string; kwargs?: Record<string, unknown> } | string {
  const d = RUN_KINDS.find((k) => k.id === id)!.defaults(info) as Record<string, unknown>;
  switch (id) {
    case 'lora':
      return { id, peft: 'lora', kwargs: { r: d.r, lora_alpha: d.lora_alpha, lora_dropout: d.lora_dropout, target_modules: d.target_modules } };
    case 'prompt-tuning':
      return { id, peft: 'prompt', kwargs: { num_virtual_tokens: d.num_virtual_tokens } };
    case 'prefix-tuning':
    case 'p-tuning-v2':
      return { id, peft: 'prefix', kwargs: { num_virtual_tokens: d.num_virtual_tokens, prefix_projection: d.prefix_projection, encoder_hidden_size: d.encoder_hidden_size } };
    case 'p-tuning':
      return { id, peft: 'p-tuning', kwargs: { num_virtual_tokens: d.num_virtual_tokens, encoder_reparameterization_type: d.encoder_reparameterization_type, encoder_hidden_size: d.encoder_hidden_size, encoder_num_layers: d.encoder_num_layers, encoder_dropout: d.encoder_dropout } };
    case 'bitfit':
      return { id, peft: 'bitfit' };
    case 'full-finetune':
      return { id, peft: 'full' };
    case 'houlsby':
      return 'no counterpart in peft (Houlsby bottleneck adapters are in AdapterHub, not peft)';
    case 'distill':
      return 'no counterpart in peft or transformers (DistilBERT distillation is a training recipe of its own)';
    default:
      return `no counterpart known for ${id}`;
  }
}

/** .venv-interop's Python, created as the interop suite creates it when missing. */
function interopPython(): string {
  const python = join(REPO, '.venv-interop/bin/python');
  const ok = spawnSync(python, ['-c', 'import torch, transformers, peft'], { stdio: 'ignore' }).status === 0;
  if (!ok) {
    const r = spawnSync('bash', [join(REPO, 'scripts/interop-venv.sh')], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('could not create .venv-interop (scripts/interop-venv.sh)');
  }
  return python;
}

function benchTorch() {
  // Each config's methods at the defaults the page gives that model (an encoder's hidden size is the model's width).
  const spec = { configs: [] as { name: string; config: unknown; batch: number; sequence: number; recompute: boolean; methods: unknown[] }[], warmup: 1, steps };
  for (const c of configs) {
    const info = modelInfo(c.name, c.configJson);
    const methods: unknown[] = [];
    for (const id of methodIds.filter((m) => !c.recompute || args.has('--all') || RECOMPUTE_METHODS.includes(m))) {
      const m = torchMethod(id, info);
      if (typeof m === 'string') onRow({ backend: 'pytorch', method: id, config: pick(c), skipped: m });
      else methods.push(m);
    }
    spec.configs.push({ name: c.name, config: c.configJson, batch: c.batch, sequence: c.sequence, recompute: c.recompute === true, methods });
  }
  if (spec.configs.every((c) => c.methods.length === 0)) return;
  const work = mkdtempSync(join(tmpdir(), 'peft-studio-bench-torch-'));
  try {
    writeFileSync(join(work, 'spec.json'), JSON.stringify(spec));
    const env = { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TRANSFORMERS_VERBOSITY: 'error', PYTHONDONTWRITEBYTECODE: '1' };
    const r = spawnSync(interopPython(), [join(REPO, 'scripts/bench_torch.py'), join(work, 'spec.json'), join(work, 'out.json')], { stdio: 'inherit', env });
    if (r.status !== 0) throw new Error(`bench_torch.py exited ${r.status ?? r.signal}`);
    const out = JSON.parse(readFileSync(join(work, 'out.json'), 'utf8')) as { rows: { method: string; config: string; stepMs: number[]; trainable: number; memory: { peakBytes: number } }[] } & Record<string, unknown>;
    const { rows, ...versions } = out;
    torchInfo = versions;
    for (const row of rows) {
      const c = configs.find((x) => x.name === row.config)!;
      onRow({ backend: 'pytorch', method: row.method, config: pick(c), stepMs: row.stepMs, warmupSteps: 1, trainable: row.trainable, peakBytes: row.memory.peakBytes, memory: row.memory });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function pick(c: PageConfig) {
  return { name: c.name, layers: c.layers, width: c.width, heads: c.heads, vocab: c.vocab, batch: c.batch, sequence: c.sequence, recompute: c.recompute };
}

if (!args.has('--no-python')) benchTorch();
if (backends.length > 0) await benchPage({ port, backends, configs, methods: methodIds, steps, all: args.has('--all'), onRow, onMachine: (m) => (pageMachine = m) }, startPreview);
const results = writeResults(true);
const page = pageMachine;
console.log(`\nConfigs (batch × sequence tokens per step): ${configs.map((c) => `${c.name} = GPT-2 ${c.layers} layers, width ${c.width}, ${c.heads} heads, vocab ${c.vocab}, ${c.batch} × ${c.sequence}`).join('; ')}`);
console.log(`Machine: ${results.machine.cores} cores (${results.machine.cpu}), Chromium ${page?.chromium ?? '—'}, adapters ${JSON.stringify(page?.adapters ?? {})}, PyTorch ${torchInfo?.torch ?? '—'} (${torchInfo?.threads ?? '—'} threads)`);
console.log('ms/step: median of the timed steps; peak MB: peak training memory; dispatches, buffer MB (GPU buffers created), kernels: per timed step; ×: ratio to full fine-tuning (same backend, config) and to the same method on PyTorch\n');
console.log(formatTable(results));
console.log('\nwrote bench/results.json');
