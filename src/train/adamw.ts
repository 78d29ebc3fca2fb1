// AdamW (Loshchilov & Hutter 2019, decoupled weight decay) over the adapter's variables only.
// Moments live in non-trainable variables created lazily, so the optimiser holds state for
// exactly the trainable parameters. Matches torch.optim.AdamW:
//   p ← p·(1 − lr·λ);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)
import * as tf from '@tensorflow/tfjs';
import { ownedVariable } from './variable';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

export const ADAMW_DEFAULTS: AdamWOptions = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 };

export class AdamW {
  private t = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(
    private readonly params: tf.Variable[],
    private readonly opts: AdamWOptions = ADAMW_DEFAULTS,
  ) {
    this.m = params.map((p) => ownedVariable(tf.zerosLike(p), false));
    this.v = params.map((p) => ownedVariable(tf.zerosLike(p), false));
  }

  get stepCount(): number {
    return this.t;
  }

  /**
   * One update; `grads[i]` belongs to `params[i]`, multiplied by `scale` first when given (a
   * clipping coefficient). Each parameter's update runs in a scope of its own, so its
   * temporaries — a dozen tensors the parameter's size — are gone before the next one's begin:
   * for full fine-tuning, holding them all until the step ends would be most of its memory.
   */
  apply(grads: tf.Tensor[], lr: number, scale?: tf.Scalar): void {
    this.t += 1;
    const { beta1, beta2, epsilon, weightDecay } = this.opts;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    this.params.forEach((p, i) =>
      tf.tidy(() => {
        const g = scale ? tf.mul(grads[i], scale) : grads[i];
        const m = tf.add(tf.mul(this.m[i], beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i], beta2), tf.mul(tf.square(g), 1 - beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), epsilon);
        const update = tf.div(tf.div(m, bc1), denom);
        const decayed = weightDecay > 0 ? tf.mul(p, 1 - lr * weightDecay) : p;
        p.assign(tf.sub(decayed, tf.mul(update, lr)));
      }),
    );
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

/**
 * Global-norm gradient clipping as torch's clip_grad_norm_: the global L2 norm of `grads` and
 * the coefficient maxNorm / (norm + 1e-6), capped at 1, that scales every gradient (absent when
 * maxNorm is 0: clipping off). The scaled copies are not made here: AdamW.apply scales each
 * gradient as it reaches it. Each square is freed once summed. The norm stays a tensor, so the
 * caller can read it back later without stalling the step.
 */
export function globalNormClip(grads: tf.Tensor[], maxNorm: number): { norm: tf.Scalar; coefficient?: tf.Scalar } {
  const norm = tf.sqrt(tf.addN(grads.map((g) => tf.tidy(() => tf.sum(tf.square(g)))))) as tf.Scalar;
  if (!(maxNorm > 0)) return { norm };
  return { norm, coefficient: tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1) as tf.Scalar };
}
