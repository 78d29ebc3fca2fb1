import * as tf from '@tensorflow/tfjs';

/**
 * A tf.Variable that takes over `init`: tf.variable() keeps its initial tensor alive as a
 * separate tensor, which would otherwise leak one tensor per variable created.
 */
export function ownedVariable(init: tf.Tensor, trainable = true): tf.Variable {
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}
