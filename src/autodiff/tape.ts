// tfjs' tape, as the studio's backward passes read it: the engine records one node per op
// while a gradient is being taken, and a backward pass walks those nodes in reverse, calling
// each node's gradient function with the gradients of its outputs.
//
// `backprop` walks a tape as tfjs' backpropagateGradients does — the same nodes, the same
// gradient functions, in the same order, summing a tensor's gradient contributions in the same
// order, so the same bits — but it frees each intermediate's gradient, and what its node saved
// for the backward, once nothing still to be walked reads them. tfjs keeps them all until the
// pass ends: for a transformer step, one more tensor the size of each activation, alive at once.
import * as tf from '@tensorflow/tfjs';

/** A recorded op on tfjs' tape (tfjs-core 4.22 TapeNode). */
export interface TapeNode {
  id: number;
  kernelName: string;
  outputs: tf.Tensor[];
  inputs: Record<string, tf.Tensor>;
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

/** A tidy scope as the engine keeps it (tfjs-core 4.22 ScopeState). */
interface Scope {
  id: number;
  track: tf.Tensor[];
}

/** The parts of tfjs' engine (4.22) that record a tape and run scopes. */
export interface EngineInternals {
  state: {
    activeTape: TapeNode[] | null;
    gradientDepth: number;
    kernelDepth: number;
    nextTapeNodeId: number;
    scopeStack: Scope[];
  };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
}

export const engineInternals = () => tf.engine() as unknown as EngineInternals;

/** Runs `f` recording a fresh tape (a first-order gradient: no tape may be active); returns what it returned and the tape. */
export function recordTape<T extends tf.Tensor>(f: () => T): { y: T; tape: TapeNode[] } {
  const engine = engineInternals();
  if (engine.state.gradientDepth !== 0) throw new Error('recordTape: a gradient is already being taken');
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', f),
  );
  return { y, tape: engine.state.activeTape ?? [] };
}

/**
 * The nodes on a path from one of `xs` to `y`, in tape order, each with only the inputs that
 * depend on an x (the same pruning tfjs' getFilteredNodesXToY does).
 */
function nodesFromXsToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      for (const o of node.outputs) fromX.add(o.id);
      nodesFromX.add(node.id);
    }
  }
  const leadsToY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => leadsToY.has(o.id))) {
      for (const t of Object.values(node.inputs)) leadsToY.add(t.id);
      nodesToY.add(node.id);
    }
  }
  return tape
    .filter((n) => nodesFromX.has(n.id) && nodesToY.has(n.id))
    .map((n) => ({ ...n, inputs: Object.fromEntries(Object.entries(n.inputs).filter(([, t]) => fromX.has(t.id))) }));
}

/**
 * The gradient of `y` with respect to each of `xs` that it reaches (by tensor id), given the
 * gradient `dy` of what `y` feeds: walks `tape` in reverse from `y`. Call inside a tidy (the
 * gradients it returns are tracked there) with no tape recording. Every node's saved tensors
 * are disposed as it is left and the rest of the tape's at the end: the tape is spent.
 */
export function backprop(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor, dy: tf.Tensor): Map<number, tf.Tensor> {
  const engine = engineInternals();
  const nodes = nodesFromXsToY(tape, xs, y);
  const wanted = new Set(xs.map((x) => x.id));
  const acc = new Map<number, tf.Tensor>([[y.id, dy]]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
    const inputGradients = node.gradient(dys);
    for (const [name, x] of Object.entries(node.inputs)) {
      if (!(name in inputGradients)) throw new Error(`Cannot backprop through input ${name} of ${node.kernelName}.`);
      const dx = engine.tidy(() => inputGradients[name]());
      const cur = acc.get(x.id);
      if (cur === undefined) acc.set(x.id, dx);
      else {
        acc.set(x.id, tf.add(cur, dx));
        cur.dispose();
        dx.dispose();
      }
    }
    // Every consumer of these outputs came later on the tape and has run: their gradients
    // are complete, and nothing reads them again. Nor does anything read what this node saved
    // (each saved tensor is the node's own handle on the data).
    for (const o of node.outputs) {
      const g = acc.get(o.id);
      if (g && g !== dy && !wanted.has(o.id)) {
        g.dispose();
        acc.delete(o.id);
      }
    }
    for (const t of node.saved ?? []) t.dispose();
  }
  for (const node of tape) for (const t of node.saved ?? []) t.dispose();
  const out = new Map<number, tf.Tensor>();
  for (const x of xs) {
    const g = acc.get(x.id);
    if (g) out.set(x.id, g);
  }
  return out;
}
