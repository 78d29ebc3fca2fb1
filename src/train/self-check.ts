// The backend self-check: before anything trains on a backend, three training steps of a small
// GPT-2 whose every part trains through a different path — LoRA on every linear (with B not
// zero, so A learns too), Houlsby adapters after both sublayers, P-tuning v2 key/value prefixes
// and the token embedding itself (through gather's gradient and the tied head) — run on that
// backend and on the cpu backend from the same state, and must agree (src/train/parity.ts).
// Seventeen-odd trainable tensors also exercise the many-input sums of gradient clipping.
// Where the backend has the fused LayerNorm, cross-entropy and gelu_new kernels, each is first compared
// on its own with the stock ops on the cpu backend (src/kernels/kernel-check.ts).
// A backend that computes any of it wrongly is refused, naming what differed.
import * as tf from '@tensorflow/tfjs';
import { checkFusedKernels } from '../kernels/kernel-check';
import { randomGpt2 } from '../models/gpt2-init';
import type { Hooks, LoadedModel } from '../models/types';
import { coerceConfig, getMethod } from '../peft/registry';
import type { Adapter } from '../peft/types';
import { causalLmLoss, IGNORE_INDEX } from './loss';
import { formatDifference } from './difference';
import { checkAgainstCpu, PARITY_TOLERANCE, parityFailure, type ParityCheck } from './parity';
import type { TokenBatch, TrainingSpec } from './trainer';
import { ownedVariable } from './variable';

const SHAPE = { n_layer: 2, n_embd: 16, n_head: 2, n_positions: 32, vocab_size: 40 };
const BATCH = 2;
const LENGTH = 8;
const STEPS = 3;

/** The check's batches: fixed ids, the second row padded at the end as real batches are. */
function checkBatches(): TokenBatch[] {
  return Array.from({ length: STEPS }, (_, s) => {
    const ids = Int32Array.from({ length: BATCH * LENGTH }, (_, i) => (i * 7 + s * 11 + 3) % SHAPE.vocab_size);
    const labels = Int32Array.from(ids);
    for (let i = LENGTH + 6; i < 2 * LENGTH; i++) labels[i] = IGNORE_INDEX;
    return { ids, labels, batch: BATCH, length: LENGTH };
  });
}

interface CheckSetup {
  spec: TrainingSpec;
  names: string[];
  dispose(): void;
}

/** Builds the model and its trainable parts on the current backend. */
function buildSetup(): CheckSetup {
  const model: LoadedModel = randomGpt2('self-check', SHAPE, 7);
  const info = model.info;
  const adapters: Adapter[] = [];
  const make = (id: string, raw: Record<string, unknown>) => {
    const method = getMethod(id);
    const adapter = method.create(model, coerceConfig(method, info, raw), 11);
    adapters.push(adapter);
    return adapter;
  };
  const lora = make('lora', { r: 2, lora_alpha: 4, target_modules: ['c_attn', 'c_proj', 'c_fc'] });
  const houlsby = make('houlsby', { bottleneck_size: 4 });
  const prefix = make('p-tuning-v2', { num_virtual_tokens: 2 });
  const wte = ownedVariable(tf.clone(model.weights.get('transformer.wte.weight')!));
  const hooks = (training: boolean): Hooks => ({
    ...lora.hooks(training),
    ...houlsby.hooks(training),
    ...prefix.hooks(training),
    param: (name, frozen) => (name === 'transformer.wte.weight' ? wte : frozen),
  });
  const variables = [...adapters.flatMap((a) => a.variables), wte];
  const names = [...adapters.flatMap((a, k) => a.variables.map((_, i) => `${['LoRA', 'Houlsby', 'P-tuning v2'][k]} tensor ${i + 1}`)), 'token embedding'];
  const spec: TrainingSpec = {
    variables,
    stepLoss: (b) => () => {
      const { logits, prepended } = model.forward(tf.tensor2d(b.ids, [b.batch, b.length], 'int32'), hooks(true), { training: true });
      return { total: causalLmLoss(logits, b.labels, prepended).loss };
    },
    evaluate: async () => NaN,
    noun: 'check',
  };
  return {
    spec,
    names,
    dispose: () => {
      for (const a of adapters) a.dispose();
      wte.dispose();
      model.dispose();
    },
  };
}

/** LoRA's B starts at zero, which would leave A's gradient zero: give every variable a seeded non-trivial value. */
function perturbedStart(vars: tf.Variable[]): Float32Array[] {
  let state = 12345;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
  return vars.map((v) => Float32Array.from({ length: v.size }, () => 0.2 * next()));
}

export interface SelfCheckResult {
  checks: ParityCheck[];
  /** The first failed check as a sentence; undefined when the backend passed. */
  failure?: string;
  /** Trainable tensors compared. */
  tensors: number;
  /** How many of the checks compared a fused kernel with the stock ops (none where the backend has none). */
  kernels: number;
  ms: number;
}

/**
 * Runs the check on `candidate` against the cpu backend and leaves `candidate` active. A
 * candidate that throws (a kernel it lacks, a GPU error) fails the check with that message.
 */
export async function selfCheck(candidate: string): Promise<SelfCheckResult> {
  const t0 = performance.now();
  let tensors = 0;
  let kernels = 0;
  const opts = { totalSteps: STEPS, learningRate: 0.01, warmupSteps: 0, weightDecay: 0.01, maxGradNorm: 1 };
  try {
    const kernelChecks = await checkFusedKernels(candidate, PARITY_TOLERANCE.step);
    kernels = kernelChecks.length;
    const trainingChecks = await checkAgainstCpu(
      candidate,
      () => buildSetup(),
      checkBatches(),
      opts,
      (vars) => {
        tensors = vars.length;
        return perturbedStart(vars);
      },
    );
    const checks = [...kernelChecks, ...trainingChecks];
    return { checks, failure: parityFailure(checks), tensors, kernels, ms: performance.now() - t0 };
  } catch (e) {
    return { checks: [], failure: `a training step failed: ${(e as Error).message ?? String(e)}`, tensors, kernels, ms: performance.now() - t0 };
  }
}
/** One line for the page: what was compared and how close it came. */
export function describeSelfCheck(r: SelfCheckResult): string {
  const worst = Math.max(0, ...r.checks.map((c) => c.difference));
  const fused = r.kernels > 0 ? `, as do the fused LayerNorm, cross-entropy and gelu_new kernels against the stock ops (${r.kernels} cases)` : '';
  return `${STEPS} training steps of a small GPT-2 with ${r.tensors} trainable tensors (LoRA, Houlsby, P-tuning v2, embeddings) match the CPU reference${fused} (worst relative difference ${formatDifference(worst)}; ${Math.round(r.ms)} ms)`;
}
