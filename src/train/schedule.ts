// Learning-rate schedule: linear warmup, then cosine decay to zero (Loshchilov & Hutter 2017),
// the shape of Hugging Face's get_cosine_schedule_with_warmup. Steps count from 0; warmup
// uses step + 1 so the very first update already moves the weights.
export interface Schedule {
  peak: number;
  warmupSteps: number;
  totalSteps: number;
}

export function learningRateAt(step: number, s: Schedule): number {
  if (step < s.warmupSteps) return (s.peak * (step + 1)) / s.warmupSteps;
  const decaySteps = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, (step - s.warmupSteps) / decaySteps);
  return s.peak * 0.5 * (1 + Math.cos(Math.PI * progress));
}
