// The generate slice: the base model's and the adapter's text for the latest generate
// request, streamed in, and which side the worker failed.
import type { FromWorker } from '../../../src/worker/protocol';
import { isGenerating } from '../selectors';
import type { GenerationOutput, GenerationState, StudioData } from '../state';

export type GenerateMessage = Extract<FromWorker, { type: 'generated' }>;

/** What the live region says once every side of a generation has finished. */
function generationEndLine(g: GenerationState): string {
  const failed = [g.base, g.adapter].find((o) => o?.error);
  return failed ? `Generation failed: ${failed.error}` : 'Generation finished';
}

export function reduceGenerate(s: StudioData, msg: GenerateMessage): StudioData {
  const g = s.generation;
  const side = msg.withAdapter ? 'adapter' : 'base';
  const current = g[side];
  // An answer to an earlier request, or for a side that was cleared or has failed.
  if (msg.requestId !== g.requestId || !current || current.done) return s;
  const next: GenerationState = { ...g, [side]: { text: msg.text, done: msg.done } };
  const out = { ...s, generation: next };
  return msg.done && !isGenerating(out) ? { ...out, announcement: generationEndLine(next) } : out;
}

/**
 * Marks the oldest unfinished side failed (every unfinished side with `all`): the worker
 * answers requests in the order sent.
 */
export function failGeneration(s: StudioData, message: string, all = false): StudioData {
  if (!isGenerating(s)) return s;
  const g = s.generation;
  const fail = (o: GenerationOutput | null) => (o && !o.done ? { ...o, done: true, error: message } : o);
  let next: GenerationState;
  if (all) next = { ...g, base: fail(g.base), adapter: fail(g.adapter) };
  else if (g.base && !g.base.done) next = { ...g, base: fail(g.base) };
  else next = { ...g, adapter: fail(g.adapter) };
  const out = { ...s, generation: next };
  return isGenerating(out) ? out : { ...out, announcement: generationEndLine(next) };
}
