// Activation recomputation (gradient checkpointing; Chen et al. 2016, "Training Deep Nets with
// Sublinear Memory Cost"): a transformer block keeps nothing for the backward pass but its
// input. When the backward pass reaches the block, the block runs forward again, recording its
// ops, and the gradient flows through that fresh recording. Training memory then holds one
// hidden state per block plus one block's activations, instead of every block's activations,
// for one more forward pass of compute.
//
// A model wraps each block in `recomputeInBackward`. It recomputes only inside a backward pass
// that asked for it (`leanVariableGrads(..., { recompute: true })`); anywhere else — inference,
// tf.variableGrads, a test's tf.grads — it is a plain tf.tidy.
//
// On the tape, the block's nodes are replaced by one node whose inputs are the tensors from
// outside the block that its gradient reaches (its input hidden state, trainable variables, a
// prefix's keys and values...) and whose gradient function reruns the block. The block must be
// deterministic (the studio's forward passes run no dropout), and it reads the same tensor
// objects again, so those it reads from outside are kept alive until its backward has run.
import * as tf from '@tensorflow/tfjs';
import { backprop, engineInternals, type TapeNode } from './tape';

/** What one recomputing backward pass tracks while its forward runs. */
interface Session {
  /** Ids of the tensors that depend on a trainable variable, as far as the tape is scanned. */
  fromVars: Set<number>;
  /** Tape nodes scanned into `fromVars` so far. */
  scanned: number;
  /** Tidy scopes opened inside the forward pass: a tensor tracked by one of them would be disposed when the forward ends. */
  forwardScopesFrom: number;
  /** Tensors the forward would have disposed, kept alive for the blocks that read them: how many blocks still will. */
  held: Map<number, { tensor: tf.Tensor; readers: number }>;
}

let session: Session | null = null;

/**
 * Starts recomputing blocks in the forward pass about to be recorded, for gradients with
 * respect to `vars`; `end` must follow once its backward pass has run (or failed).
 */
export function beginRecompute(vars: tf.Variable[]): { end: () => void } {
  if (session) throw new Error('beginRecompute: a recomputing pass is already running');
  const own: Session = {
    fromVars: new Set(vars.map((v) => v.id)),
    scanned: 0,
    forwardScopesFrom: engineInternals().state.scopeStack.length,
    held: new Map(),
  };
  session = own;
  return {
    end: () => {
      if (session === own) session = null;
      for (const { tensor } of own.held.values()) tensor.dispose();
      own.held.clear();
    },
  };
}

/** Adds to `fromVars` the outputs of every node up to `end` that reads a tensor in it. */
function scan(s: Session, tape: TapeNode[], end: number) {
  for (let i = s.scanned; i < end; i++) {
    const node = tape[i];
    if (Object.values(node.inputs).some((t) => s.fromVars.has(t.id))) for (const o of node.outputs) s.fromVars.add(o.id);
  }
  s.scanned = end;
}

/** Whether a tidy scope opened inside the forward pass will dispose `t` (so it must be kept to be read again). */
function disposedWithForward(s: Session, t: tf.Tensor): boolean {
  const scopeId = (t as unknown as { scopeId?: number; kept?: boolean }).scopeId;
  if ((t as unknown as { kept?: boolean }).kept || scopeId === undefined) return false;
  return engineInternals().state.scopeStack.slice(s.forwardScopesFrom).some((scope) => scope.id === scopeId);
}

/**
 * Runs `block` (a function of tensors it reads from its closure, returning one tensor) in a
 * tidy scope; inside a recomputing backward pass, keeps nothing of it for the backward but
 * what it read from outside, and reruns it there.
 */
export function recomputeInBackward<T extends tf.Tensor>(block: () => T): T {
  const s = session;
  const engine = engineInternals();
  const tape = engine.state.activeTape;
  if (!s || !tape || engine.state.gradientDepth !== 1 || engine.state.kernelDepth !== 0) return tf.tidy(block);
  scan(s, tape, tape.length);
  const start = tape.length;
  const y = tf.tidy(block);
  const segment = tape.slice(start);
  const made = new Set(segment.flatMap((n) => n.outputs.map((o) => o.id)));
  // A block that records nothing, or hands back a tensor it did not make, stays as recorded.
  if (segment.length === 0 || !made.has(y.id)) return y;
  const outside = new Map<number, tf.Tensor>();
  for (const node of segment) for (const t of Object.values(node.inputs)) if (!made.has(t.id)) outside.set(t.id, t);
  tape.splice(start);
  for (const node of segment) for (const t of node.saved ?? []) t.dispose();
  s.scanned = tape.length;
  const xs = [...outside.values()].filter((t) => s.fromVars.has(t.id));
  // Nothing trainable flows through the block (a frozen teacher, say): no gradient to rerun for.
  if (xs.length === 0) return y;

  const read = [...outside.values()].filter((t) => disposedWithForward(s, t) || s.held.has(t.id));
  for (const t of read) {
    const h = s.held.get(t.id);
    if (h) h.readers++;
    else s.held.set(t.id, { tensor: tf.keep(t), readers: 1 });
  }
  const release = () => {
    for (const t of read) {
      const h = s.held.get(t.id);
      if (h && --h.readers === 0) {
        h.tensor.dispose();
        s.held.delete(t.id);
      }
    }
  };

  const node: TapeNode = {
    id: engine.state.nextTapeNodeId++,
    kernelName: 'RecomputedBlock',
    inputs: Object.fromEntries(xs.map((x, i) => [`x${i}`, x])),
    outputs: [y],
    saved: [],
    gradient: (dys) => {
      const dy = dys[0] ?? tf.zeros(y.shape, y.dtype);
      const grads = rerun(block, xs, dy);
      release();
      return Object.fromEntries(xs.map((_, i) => [`x${i}`, () => grads[i]]));
    },
  };
  tape.push(node);
  s.fromVars.add(y.id);
  s.scanned = tape.length;
  return y;
}

/** Runs `block` forward again on a tape of its own and takes the gradient of its output, seeded with `dy`, with respect to each of `xs`. */
function rerun(block: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const engine = engineInternals();
  const outerTape = engine.state.activeTape;
  const outerSession = session;
  // The rerun is not itself recomputed, and its tape must not replace the pass's own.
  session = null;
  try {
    return engine.tidy(() => {
      const y = engine.scopedRun(
        () => engine.startTape(),
        () => engine.endTape(),
        () => engine.tidy(block),
      );
      const tape = engine.state.activeTape ?? [];
      const grads = backprop(tape, xs, y, dy);
      return xs.map((x) => grads.get(x.id) ?? tf.zerosLike(x));
    });
  } finally {
    engine.state.activeTape = outerTape;
    session = outerSession;
  }
}
