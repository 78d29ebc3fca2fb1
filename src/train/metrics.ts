// Held-out classification metrics from predicted and true label ids: accuracy, macro-F1 (the
// unweighted mean of each label's F1, as scikit-learn's f1_score(average="macro")) and the
// confusion matrix (rows: true label, columns: predicted label).

export interface ClassificationMetrics {
  /** Correct / all, in [0, 1]. */
  accuracy: number;
  /** Mean over labels of 2·precision·recall / (precision + recall); a label's F1 is 0 when it has no true positive. */
  macroF1: number;
  /** Each label's F1, by label id. */
  f1: number[];
  /** confusion[t][p]: held-out examples of true label t predicted as p. */
  confusion: number[][];
  examples: number;
}

/**
 * Metrics over `numLabels` labels. A label that never occurs and is never predicted has F1 0
 * and still counts in the macro mean, as scikit-learn averages over the labels it is given.
 */
export function classificationMetrics(truth: ArrayLike<number>, predicted: ArrayLike<number>, numLabels: number): ClassificationMetrics {
  if (truth.length !== predicted.length) throw new Error(`classificationMetrics: ${truth.length} true labels but ${predicted.length} predictions`);
  const confusion = Array.from({ length: numLabels }, () => new Array<number>(numLabels).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    const p = predicted[i];
    if (!(t >= 0 && t < numLabels && p >= 0 && p < numLabels)) throw new Error(`classificationMetrics: label ${t} or prediction ${p} is outside 0..${numLabels - 1}`);
    confusion[t][p]++;
  }
  let correct = 0;
  const f1 = confusion.map((row, k) => {
    const tp = row[k];
    correct += tp;
    const actual = row.reduce((a, b) => a + b, 0);
    const predictedK = confusion.reduce((a, r) => a + r[k], 0);
    // F1 = 2·tp / (actual + predicted): precision and recall without dividing by zero.
    return tp === 0 ? 0 : (2 * tp) / (actual + predictedK);
  });
  const n = truth.length;
  return { accuracy: n ? correct / n : NaN, macroF1: f1.reduce((a, b) => a + b, 0) / numLabels, f1, confusion, examples: n };
}
