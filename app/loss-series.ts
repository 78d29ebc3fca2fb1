// The loss chart's rows: one per step that has a training loss and/or a held-out loss.
// Rows stay sorted by step; updates return new arrays (the store is immutable).
import type { EvalPoint, ProgressPoint } from '../src/worker/protocol';

export interface LossRow {
  step: number;
  loss?: number;
  evalLoss?: number;
  /** Distillation's loss terms at this step (soft-target, causal or masked language-modelling, hidden cosine). */
  ce?: number;
  clm?: number;
  mlm?: number;
  cos?: number;
}

function upsert(rows: LossRow[], step: number, patch: Partial<LossRow>): LossRow[] {
  const last = rows[rows.length - 1];
  // Fast path: steps almost always arrive in order.
  if (!last || last.step < step) return [...rows, { step, ...patch }];
  if (last.step === step) return [...rows.slice(0, -1), { ...last, ...patch }];
  let i = rows.findIndex((r) => r.step >= step);
  if (i < 0) i = rows.length;
  const next = rows.slice();
  if (rows[i]?.step === step) next[i] = { ...rows[i], ...patch };
  else next.splice(i, 0, { step, ...patch });
  return next;
}

export function addProgress(rows: LossRow[], points: ProgressPoint[]): LossRow[] {
  let next = rows;
  for (const p of points) next = upsert(next, p.step, { loss: p.loss, ...p.terms });
  return next;
}

export function addEval(rows: LossRow[], point: EvalPoint): LossRow[] {
  return upsert(rows, point.step, { evalLoss: point.evalLoss });
}

/**
 * At most about `max` rows for drawing: every row with a held-out loss is kept, training rows
 * are thinned evenly, and the newest row is always kept so the line reaches the current step.
 */
export function thinRows(rows: LossRow[], max: number): LossRow[] {
  if (rows.length <= max) return rows;
  const stride = Math.ceil(rows.length / max);
  return rows.filter((r, i) => r.evalLoss !== undefined || i % stride === 0 || i === rows.length - 1);
}
