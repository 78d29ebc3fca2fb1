// The activations and normalisations the architectures and methods share, each written once,
// op for op, so every caller computes bit-identical results.
import * as tf from '@tensorflow/tfjs';
import { canFuseGeluNew, fusedGeluNew } from '../kernels/gelu-new';
import { canFuseLayerNorm, fusedLayerNorm } from '../kernels/layer-norm';

/**
 * GELU's tanh approximation: transformers' "gelu_new" (NewGELUActivation), GPT-2's activation;
 * one fused kernel each way where the active backend has them, else the stock chain below.
 */
export function geluNew(x: tf.Tensor): tf.Tensor {
  return canFuseGeluNew() && x.dtype === 'float32' ? fusedGeluNew(x) : stockGeluNew(x);
}

/** gelu_new through tfjs' own ops, differentiated by autodiff. */
export function stockGeluNew(x: tf.Tensor): tf.Tensor {
  const c = Math.sqrt(2 / Math.PI);
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(c, tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
}

/** Exact GELU with erf: transformers' "gelu" (GELUActivation). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/**
 * LayerNorm over the last axis: (x − mean) / √(var + eps) · g + b, the biased variance as torch
 * uses. Where the active backend has the fused kernels this is one dispatch forward and four
 * backward; otherwise the stock chain below.
 */
export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  if (canFuseLayerNorm(x.size / x.shape[x.rank - 1])) return fusedLayerNorm(x, g, b, eps);
  return stockLayerNorm(x, g, b, eps);
}

/** LayerNorm through tfjs' own ops (tf.moments and five elementwise ops), differentiated by autodiff. */
export function stockLayerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), g), b);
}
