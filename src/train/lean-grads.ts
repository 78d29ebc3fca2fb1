// Gradients of a scalar loss with respect to variables, computed as tf.variableGrads computes
// them — the same tape, the same gradient functions, in the same order, so the same bits —
// but holding less memory while the backward pass runs.
//
// tfjs' own backward pass keeps the gradient of every intermediate tensor until the whole pass
// ends: for a transformer step that is one more tensor the size of each activation, alive at
// once. Walking the tape in reverse, the gradient of a tensor is complete once the node that
// produced it is reached (every consumer of a tensor comes after its producer on the tape), and
// after that node has run it is read by nothing else. So it is freed there, and so is what the
// node saved for its backward: the backward pass holds only the gradients and saved tensors of
// the part of the tape still to be walked.
import * as tf from '@tensorflow/tfjs';

/** What a recorded op looks like on tfjs' tape (tfjs-core 4.22 TapeNode). */
interface TapeNode {
  id: number;
  kernelName: string;
  outputs: tf.Tensor[];
  inputs: Record<string, tf.Tensor>;
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

/** The parts of tfjs' engine (4.22) that record a tape and run scopes. */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
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
 * The loss `f` returns and its gradient for each variable of `vars` that it reaches (absent
 * for one it does not), like tf.variableGrads(f, vars) with trainable variables.
 */
export function leanVariableGrads(f: () => tf.Scalar, vars: tf.Variable[]): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const engine = tf.engine() as unknown as EngineInternals;
  if (vars.length === 0) throw new Error('leanVariableGrads: no variables');
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', f),
  );
  if (!(y instanceof tf.Tensor) || y.rank !== 0) throw new Error('leanVariableGrads: the loss must be a scalar');
  const nodes = nodesFromXsToY(engine.state.activeTape ?? [], vars, y);
  const wanted = new Set(vars.map((v) => v.id));
  // Outside a higher-order gradient, what a node saved for its backward is read by that node
  // only (each saved tensor is its own handle on the data), so it goes once the node has run.
  const freeSaved = engine.state.gradientDepth === 0;
  const grads = engine.tidy('backward', () => {
    const acc = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
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
      // are complete, and nothing reads them again.
      for (const o of node.outputs) {
        const g = acc.get(o.id);
        if (g && !wanted.has(o.id)) {
          g.dispose();
          acc.delete(o.id);
        }
      }
      if (freeSaved) for (const t of node.saved ?? []) t.dispose();
    }
    const named: Record<string, tf.Tensor> = {};
    for (const v of vars) {
      const g = acc.get(v.id);
      if (g) named[v.name] = g;
    }
    return named;
  });
  // As tfjs does outside higher-order gradients: the tape's saved tensors are no longer needed.
  if (engine.state.gradientDepth === 0) {
    for (const node of engine.state.activeTape ?? []) for (const t of node.saved ?? []) t.dispose();
    engine.state.activeTape = null;
  }
  return { value: y as tf.Scalar, grads };
}
