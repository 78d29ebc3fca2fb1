// Gradients of a scalar loss with respect to variables, computed as tf.variableGrads computes
// them — the same tape, the same gradient functions, in the same order, so the same bits —
// but holding less memory while the backward pass runs (./tape.ts), and, when asked, less
// while the forward pass runs too: blocks a model wraps in `recomputeInBackward` keep only
// their inputs and run again in the backward pass (./recompute.ts).
import * as tf from '@tensorflow/tfjs';
import { beginRecompute } from './recompute';
import { backprop, engineInternals, recordTape } from './tape';

export interface LeanGradsOptions {
  /** Recompute each block's activations in the backward pass instead of keeping them. */
  recompute?: boolean;
}

/**
 * The loss `f` returns and its gradient for each variable of `vars` that it reaches (absent
 * for one it does not), like tf.variableGrads(f, vars) with trainable variables.
 */
export function leanVariableGrads(
  f: () => tf.Scalar,
  vars: tf.Variable[],
  opts: LeanGradsOptions = {},
): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const engine = engineInternals();
  if (vars.length === 0) throw new Error('leanVariableGrads: no variables');
  const recompute = opts.recompute ? beginRecompute(vars) : undefined;
  try {
    const { y, tape } = recordTape(f);
    if (!(y instanceof tf.Tensor) || y.rank !== 0) throw new Error('leanVariableGrads: the loss must be a scalar');
    const grads = engine.tidy('backward', () => {
      const byId = backprop(tape, vars, y, tf.onesLike(y));
      const named: Record<string, tf.Tensor> = {};
      for (const v of vars) {
        const g = byId.get(v.id);
        if (g) named[v.name] = g;
      }
      return named;
    });
    return { value: y as tf.Scalar, grads };
  } finally {
    recompute?.end();
    // What a failed pass left saved (a pass that ran has freed it all already).
    for (const node of engine.state.activeTape ?? []) for (const t of node.saved ?? []) t.dispose();
    engine.state.activeTape = null;
  }
}
