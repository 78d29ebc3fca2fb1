// The "Held-out loss by method" chart's rows: one row per evaluated step, one column per
// method, so recharts draws each method's curve over a shared step axis.
import type { EvalPoint } from '../src/worker/protocol';

export type CompareRow = { step: number } & Record<string, number>;

/** Rows sorted by step; a method with no evaluation at a step has no value there (the line connects over it). */
export function compareRows(curves: Record<string, EvalPoint[]>, methodIds: string[]): CompareRow[] {
  const byStep = new Map<number, CompareRow>();
  for (const id of methodIds) {
    for (const p of curves[id] ?? []) {
      if (!Number.isFinite(p.evalLoss)) continue;
      const row = byStep.get(p.step) ?? { step: p.step };
      row[id] = p.evalLoss;
      byStep.set(p.step, row);
    }
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}
