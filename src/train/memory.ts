// What training costs in memory, as the PEFT papers count it against full fine-tuning: in
// float32, every weight the forward pass reads (4 bytes a parameter), and for each trainable
// parameter its gradient (4 bytes) and AdamW's first and second moments (8 bytes). Full
// fine-tuning pays 16 bytes for every parameter; a PEFT method pays 4 for the frozen base and
// 16 only for its own few. Activations, which depend on the batch and the sequence length
// rather than on the method, are left out.

/** Bytes of one float32. */
const F32 = 4;

export interface TrainingMemory {
  /** Every parameter (frozen and trainable), float32. */
  weightBytes: number;
  /** One gradient per trainable parameter. */
  gradientBytes: number;
  /** AdamW's two moments (m and v) per trainable parameter. */
  momentBytes: number;
  totalBytes: number;
}

/** `trainable` and `total` as a plan counts them (total = frozen + trainable). */
export function trainingMemory(trainable: number, total: number): TrainingMemory {
  if (!(trainable >= 0 && total >= trainable)) throw new Error(`trainingMemory: need 0 ≤ trainable ≤ total, got ${trainable} of ${total}`);
  const weightBytes = total * F32;
  const gradientBytes = trainable * F32;
  const momentBytes = 2 * trainable * F32;
  return { weightBytes, gradientBytes, momentBytes, totalBytes: weightBytes + gradientBytes + momentBytes };
}
