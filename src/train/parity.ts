// Backend parity: the same training steps, from the same state on the same batches, on two
// backends, compared number by number. A wrong gradient still lowers the loss, so a backend is
// trusted only when what it learns (gradients, updated weights, the trajectory over several
// steps) matches the cpu backend, tfjs' plain-JavaScript reference.
import * as tf from '@tensorflow/tfjs';
import { throwIfGpuErrors } from '../backend/webgpu-kernels';
import { formatDifference, relativeDifference } from './difference';
import { TrainingStepper, type StepOptions, type TokenBatch, type TrainingSpec } from './trainer';

/** Everything a few training steps computed, read back from the device. */
export interface StepTrace {
  /** The trainable tensors' names, in the spec's variable order. */
  names: string[];
  /** Loss at each step. */
  losses: number[];
  /** Global gradient norm (before clipping) at each step. */
  norms: number[];
  /** Each variable's gradient at the first step. */
  firstGrads: Float32Array[];
  /** Each variable after the first step's update. */
  firstUpdate: Float32Array[];
  /** Each variable after the last step. */
  final: Float32Array[];
}

/** Each tensor's values, copied off the device. */
export async function readAll(ts: tf.Tensor[]): Promise<Float32Array[]> {
  return Promise.all(ts.map(async (t) => Float32Array.from((await t.data()) as Float32Array)));
}

/** Sets each variable to the values read from another backend (the check's shared starting point). */
export function assignAll(vars: tf.Variable[], values: Float32Array[]): void {
  tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(values[i], v.shape, 'float32'))));
}

/**
 * Takes one step per batch with TrainingStepper, exactly as a run does, and reads back the
 * first step's gradients and updated variables, every loss and norm, and the final variables.
 */
export async function traceSteps(spec: TrainingSpec, names: string[], batches: TokenBatch[], opts: StepOptions): Promise<StepTrace> {
  const stepper = new TrainingStepper(spec, opts);
  const trace: StepTrace = { names, losses: [], norms: [], firstGrads: [], firstUpdate: [], final: [] };
  try {
    for (let i = 0; i < batches.length; i++) {
      const r = stepper.step(batches[i], i, i === 0);
      try {
        const [loss, norm] = await readAll([r.loss, r.norm]);
        trace.losses.push(loss[0]);
        trace.norms.push(norm[0]);
        if (i === 0) {
          trace.firstGrads = await readAll(r.grads!);
          trace.firstUpdate = await readAll(spec.variables);
        }
      } finally {
        for (const t of [r.loss, r.norm, ...r.terms, ...(r.grads ?? [])]) t.dispose();
      }
      throwIfGpuErrors(`training step ${i + 1} of the check`);
    }
    trace.final = await readAll(spec.variables);
    throwIfGpuErrors('the check');
    return trace;
  } finally {
    stepper.dispose();
  }
}

/** One compared quantity: the worst relative difference over its tensors, and which tensor. */
export interface ParityCheck {
  /** What was compared, e.g. "gradients (step 1)". */
  name: string;
  /** Worst relative difference (see relativeDifference). */
  difference: number;
  tolerance: number;
  ok: boolean;
  /** The tensor with the worst difference, when the quantity has several. */
  worst?: string;
  /** How many tensors or values were compared. */
  count: number;
}

/**
 * The tolerances, relative to each quantity's own scale. Float32 carries 24 bits (ε ≈ 1.2e-7);
 * two correct backends differ only in summation order and fused operations, which over the
 * reductions of a forward and backward pass leaves relative differences of about 1e-6, so the
 * loss, every gradient, the gradient norm and the ten losses must agree to 1e-4.
 *
 * Updated weights are compared in two ways, because AdamW is ill-conditioned where a gradient
 * is near zero: its first update is lr·g/(|g| + 1e-8), so a gradient entry of 1e-10 on one
 * backend and 3e-10 on the other (both rounding noise around a true zero, as for the key biases
 * attention is invariant to) moves the weight by 1% or 3% of lr. So: the update the backend
 * applied must equal the CPU's AdamW applied to the backend's own gradients, to 1e-4 (this
 * checks the optimiser with no amplification); and the change of the weights, after the
 * first step and after ten, must match the CPU's own run in the 2-norm to 1e-3, where the few
 * noise-driven entries weigh little. A wrong kernel, a dropped dispatch or a gradient that does not flow shows up as
 * a difference near 1 or larger.
 */
export const PARITY_TOLERANCE = { step: 1e-4, trajectory: 1e-3 } as const;

/** ‖got − want‖₂ / ‖want‖₂ over all the tensors' changes from `start`; 0 when nothing changed on either side. */
export function changeDifference(got: Float32Array[], want: Float32Array[], start: Float32Array[]): number {
  let diff = 0;
  let scale = 0;
  for (let t = 0; t < want.length; t++) {
    for (let i = 0; i < want[t].length; i++) {
      const dw = want[t][i] - start[t][i];
      const dg = got[t][i] - start[t][i];
      if (!Number.isFinite(dg) || !Number.isFinite(dw)) return Infinity;
      diff += (dg - dw) ** 2;
      scale += dw * dw;
    }
  }
  if (diff === 0) return 0;
  return scale === 0 ? Infinity : Math.sqrt(diff / scale);
}

function worstOf(name: string, got: Float32Array[], want: Float32Array[], names: string[], tolerance: number): ParityCheck {
  let difference = 0;
  let worst: string | undefined;
  for (let i = 0; i < want.length; i++) {
    const d = relativeDifference(got[i] ?? new Float32Array(0), want[i]);
    if (d > difference || (Number.isNaN(d) && !Number.isNaN(difference))) {
      difference = d;
      worst = names[i];
    }
  }
  return { name, difference, tolerance, ok: difference <= tolerance, worst, count: want.length };
}

/**
 * Compares a backend's trace with the CPU's trace of the same steps from the same `start`;
 * `update` is the CPU's AdamW step applied to the backend's own first gradients.
 */
export function compareTraces(got: StepTrace, want: StepTrace, start: Float32Array[], update: Float32Array[]): ParityCheck[] {
  const { step, trajectory } = PARITY_TOLERANCE;
  const change = (name: string, a: Float32Array[], b: Float32Array[]): ParityCheck => {
    const difference = changeDifference(a, b, start);
    return { name, difference, tolerance: trajectory, ok: difference <= trajectory, count: b.length };
  };
  const scalar = (name: string, a: number, b: number): ParityCheck => {
    const difference = relativeDifference([a], [b]);
    return { name, difference, tolerance: step, ok: difference <= step, count: 1 };
  };
  const checks = [
    scalar('loss (step 1)', got.losses[0], want.losses[0]),
    worstOf('gradients (step 1)', got.firstGrads, want.firstGrads, want.names, step),
    scalar('gradient norm (step 1)', got.norms[0], want.norms[0]),
    worstOf('AdamW update (step 1)', got.firstUpdate, update, want.names, step),
    change('weight change (step 1)', got.firstUpdate, want.firstUpdate),
  ];
  const n = want.losses.length;
  if (n > 1) {
    const losses = relativeDifference(got.losses, want.losses);
    checks.push({ name: `losses (steps 1–${n})`, difference: losses, tolerance: step, ok: losses <= step, count: n });
  }
  if (n > 1) checks.push(change(`weight change (steps 1–${n})`, got.final, want.final));
  return checks;
}

/** One side of a parity check: what trains, built on whichever backend is active. */
export interface ParitySide {
  spec: TrainingSpec;
  names: string[];
  dispose(): void;
}

/**
 * Runs `batches` as training steps on `candidate` and on the cpu backend from the same
 * starting values (`start`, or the candidate's own initial values), then applies the CPU's
 * AdamW to the candidate's first gradients, and compares everything. `build` is called once
 * per backend, with that backend active; the candidate is active again when this returns.
 */
export async function checkAgainstCpu(
  candidate: string,
  build: (backend: string) => ParitySide,
  batches: TokenBatch[],
  opts: StepOptions,
  start?: (vars: tf.Variable[]) => Float32Array[],
): Promise<ParityCheck[]> {
  const use = async (name: string) => {
    if (!(await tf.setBackend(name))) throw new Error(`tfjs could not switch to the ${name} backend`);
  };
  try {
    await use(candidate);
    const mine = build(candidate);
    let initial: Float32Array[];
    let got: StepTrace;
    try {
      initial = start ? start(mine.spec.variables) : await readAll(mine.spec.variables);
      assignAll(mine.spec.variables, initial);
      got = await traceSteps(mine.spec, mine.names, batches, opts);
    } finally {
      mine.dispose();
    }
    await use('cpu');
    const ref = build('cpu');
    try {
      assignAll(ref.spec.variables, initial);
      const want = await traceSteps(ref.spec, ref.names, batches, opts);
      // The CPU's update from the candidate's gradients, from the same starting values.
      assignAll(ref.spec.variables, initial);
      const stepper = new TrainingStepper(ref.spec, opts);
      try {
        tf.tidy(() => {
          stepper.applyGradients(
            got.firstGrads.map((g, i) => tf.tensor(g, ref.spec.variables[i].shape, 'float32')),
            stepper.learningRateAt(0),
          );
        });
      } finally {
        stepper.dispose();
      }
      const update = await readAll(ref.spec.variables);
      return compareTraces(got, want, initial, update);
    } finally {
      ref.dispose();
    }
  } finally {
    await use(candidate);
  }
}

/** The first check that failed, as one sentence, or undefined when all passed. */
export function parityFailure(checks: ParityCheck[]): string | undefined {
  const bad = checks.find((c) => !c.ok);
  if (!bad) return undefined;
  const where = bad.worst ? ` (worst: ${bad.worst})` : '';
  return `${bad.name}: relative difference ${formatDifference(bad.difference)} from the CPU reference${where}, above the tolerance of ${formatDifference(bad.tolerance)}`;
}
