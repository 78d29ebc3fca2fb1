// One check for every set of tensors read from a file against the ones a model or an adapter
// needs, with one set of messages: each names the file, the tensor and what was expected, so a
// person can tell a checkpoint of another model (or method, or settings) from a damaged one.
import type { SafetensorsTensor } from './safetensors';

export interface ExpectedTensor {
  name: string;
  shape: number[];
}

/**
 * Checks `tensors` (read from `file`, or for a set of files each tensor's own: `file(name)`,
 * which names a missing tensor's expected place) against `expected`: each expected one missing, of another
 * shape or not float, then any tensor nobody expects. `needs` says what the expectation
 * comes from ("tiny-gpt2", "tiny-gpt2 with 4 virtual tokens"); `shown` spells a name as the
 * file does (PEFT prefixes its keys); `shapeNote` follows a shape mismatch (how the shape is
 * made up). Returns each expected tensor's values by name.
 */
export function checkTensors(
  file: string | ((tensor: string) => string),
  tensors: Map<string, SafetensorsTensor>,
  expected: ExpectedTensor[],
  needs: string,
  { shown = (name: string) => name, shapeNote = '' }: { shown?: (name: string) => string; shapeNote?: string } = {},
): Map<string, Float32Array> {
  const fileOf = typeof file === 'string' ? () => file : file;
  const out = new Map<string, Float32Array>();
  for (const { name, shape } of expected) {
    const t = tensors.get(name);
    if (!t) throw new Error(`${fileOf(name)}: tensor "${shown(name)}" is missing`);
    if (t.shape.join() !== shape.join()) throw new Error(`${fileOf(name)}: "${shown(name)}" has shape [${t.shape}], ${needs} needs [${shape}]${shapeNote}`);
    if (!(t.data instanceof Float32Array)) throw new Error(`${fileOf(name)}: "${shown(name)}" is ${t.dtype}, expected a float tensor`);
    out.set(name, t.data);
  }
  const unexpected = [...tensors.keys()].filter((k) => !out.has(k));
  if (unexpected.length) {
    const more = unexpected.length > 5 ? ` and ${unexpected.length - 5} more` : '';
    throw new Error(`${fileOf(unexpected[0])}: unexpected tensors for ${needs}: ${unexpected.slice(0, 5).map(shown).join(', ')}${more}`);
  }
  return out;
}
