// A sequence-classification head on any family's last hidden state, as the family's
// *ForSequenceClassification computes it (Architecture.sequenceClassifier says how):
//
//   pooled = h[first token]  or  h[last non-padding token]
//   for each layer:  pooled = act(pooled · Wᵀ + b)        (nn.Linear, W stored [out, in])
//   logits = pooled                                        [B, numLabels]
//
// Its weights are trainable variables named as the state dict names them (`classifier.weight`,
// `bert.pooler.dense.bias`, `score.weight`), so PEFT's modules_to_save export needs no table.
// Dropout is not run, as nowhere else in the studio's forward passes.
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, mulberry32, normals } from '../data/random';
import type { ClassifierLayer, SequenceClassifierSpec } from './architecture';
import { architectureOf } from './registry';
import type { ModelInfo } from './types';

/** The PRNG stream a head's initial weights are drawn from, apart from the method's own. */
const HEAD_INIT_STREAM = 0x5c1a55;

/** One named head parameter. */
export interface HeadTensor {
  name: string;
  shape: number[];
}

function outOf(layer: ClassifierLayer, numLabels: number): number {
  return layer.outFeatures === 'labels' ? numLabels : layer.outFeatures;
}

/** The head's parameters for `numLabels` labels, in state-dict order (each layer's weight, then bias). */
export function classifierParams(spec: SequenceClassifierSpec, numLabels: number): HeadTensor[] {
  return spec.layers.flatMap((l) => {
    const out = outOf(l, numLabels);
    const w = { name: `${l.path}.weight`, shape: [out, l.inFeatures] };
    return l.hasBias ? [w, { name: `${l.path}.bias`, shape: [out] }] : [w];
  });
}

/**
 * The head `info`'s family puts on it for `numLabels` labels, as the plan counts it: its
 * parameters (`classifierParams`) and how many values they hold.
 */
export function classifierPlan(info: ModelInfo, numLabels: number): { tensors: HeadTensor[]; size: number } {
  const tensors = classifierParams(architectureOf(info).sequenceClassifier(info.config), numLabels);
  return { tensors, size: tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0) };
}

/**
 * The state-dict prefix of the model's transformer body, transformers' base_model_prefix plus a
 * dot (`transformer.`, `model.`, `bert.`, `distilbert.`): the body's parameters have the same
 * names in the *ForSequenceClassification as in the LM checkpoint, and what lies outside it in
 * either is that class's head (`lm_head`, `cls.predictions.*`; `classifier`, `score`).
 */
export function backbonePrefix(info: ModelInfo): string {
  return `${architectureOf(info).sequenceClassifier(info.config).baseModelPrefix}.`;
}

/**
 * Which position each row is read at, over the forward's T' = prepended + T positions.
 * `ids` [batch, length] row-major are the real tokens, right-padded with `padId`.
 */
export function poolPositions(spec: SequenceClassifierSpec, ids: Int32Array, batch: number, length: number, prepended: number, padId: number): number[] {
  if (spec.pooling === 'first-token') return new Array<number>(batch).fill(0);
  // transformers reads the last position when it is handed embeddings and no ids.
  if (prepended > 0) return new Array<number>(batch).fill(prepended + length - 1);
  return Array.from({ length: batch }, (_, b) => {
    // argmax of index·(id ≠ pad): the rightmost real token, or 0 in a row of padding only.
    let last = 0;
    for (let t = 0; t < length; t++) if (ids[b * length + t] !== padId) last = t;
    return last;
  });
}

export class SequenceClassifier {
  readonly params: HeadTensor[];
  readonly variables: tf.Variable[];

  /** `initial` gives every parameter's values by name (`classifierParams` order and shapes). */
  constructor(
    readonly spec: SequenceClassifierSpec,
    readonly numLabels: number,
    readonly padId: number,
    initial: Map<string, Float32Array>,
  ) {
    if (!Number.isInteger(numLabels) || numLabels < 2) throw new Error(`a classifier needs at least 2 labels, got ${numLabels}`);
    this.params = classifierParams(spec, numLabels);
    this.variables = this.params.map((p) => {
      const data = initial.get(p.name);
      const size = p.shape.reduce((a, b) => a * b, 1);
      if (!data || data.length !== size) throw new Error(`classifier: "${p.name}" needs ${size} values [${p.shape}], got ${data?.length ?? 'none'}`);
      const init = tf.tensor(data, p.shape, 'float32');
      const v = tf.variable(init, true);
      init.dispose();
      return v;
    });
  }

  /**
   * A head initialised as transformers initialises a new one: weights N(0, initializer_range),
   * biases 0; drawn from `seed`.
   */
  static seeded(info: ModelInfo, numLabels: number, padId: number, seed: number): SequenceClassifier {
    const spec = architectureOf(info).sequenceClassifier(info.config);
    const std = typeof info.config.raw.initializer_range === 'number' ? info.config.raw.initializer_range : 0.02;
    const rand = mulberry32(deriveSeed(seed, HEAD_INIT_STREAM));
    const initial = new Map<string, Float32Array>();
    for (const p of classifierParams(spec, numLabels)) {
      const size = p.shape.reduce((a, b) => a * b, 1);
      initial.set(p.name, p.name.endsWith('.bias') ? new Float32Array(size) : normals(size, std, rand));
    }
    return new SequenceClassifier(spec, numLabels, padId, initial);
  }

  /** Trainable head parameters (what print_trainable_parameters adds for modules_to_save). */
  get size(): number {
    return this.variables.reduce((n, v) => n + v.size, 0);
  }

  /**
   * Logits [B, numLabels] from the forward's last hidden state [B, T', d] for the batch's ids
   * [B, T] (T' = prepended + T). Call inside tf.tidy or a gradient tape.
   */
  logits(lastHidden: tf.Tensor3D, ids: Int32Array, prepended: number): tf.Tensor2D {
    const [B, total, d] = lastHidden.shape;
    const positions = poolPositions(this.spec, ids, B, total - prepended, prepended, this.padId);
    // A one-hot selection summed over time: exact, and its gradient needs no gather kernel.
    const pick = new Float32Array(B * total);
    positions.forEach((t, b) => (pick[b * total + t] = 1));
    let x: tf.Tensor2D = tf.sum(tf.mul(lastHidden, tf.tensor3d(pick, [B, total, 1])), 1);
    let v = 0;
    for (const layer of this.spec.layers) {
      const w = this.variables[v++];
      let y: tf.Tensor2D = tf.matMul(x, w, false, true);
      if (layer.hasBias) y = tf.add(y, this.variables[v++]) as tf.Tensor2D;
      x = layer.activation === 'tanh' ? tf.tanh(y) : layer.activation === 'relu' ? tf.relu(y) : y;
    }
    if (x.shape[1] !== this.numLabels || d !== this.spec.layers[0].inFeatures) throw new Error(`classifier: logits are [${x.shape}], expected [${B},${this.numLabels}]`);
    return x;
  }

  /** Every parameter's current values, named as the state dict names them. */
  async tensors(): Promise<{ name: string; shape: number[]; data: Float32Array }[]> {
    return Promise.all(this.params.map(async (p, i) => ({ name: p.name, shape: p.shape, data: Float32Array.from((await this.variables[i].data()) as Float32Array) })));
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
