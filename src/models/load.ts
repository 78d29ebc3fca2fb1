// Builds a LoadedModel from a Hugging Face folder's contents: config.json picks the
// architecture, model.safetensors supplies the weights. Every tensor the architecture needs
// must be present with its exact shape; anything unexpected is refused by name, so a
// checkpoint of another family never half-loads.
import * as tf from '@tensorflow/tfjs';
import type { SafetensorsTensor } from '../io/safetensors';
import type { LoadedModel, ModelInfo } from './types';
import { Gpt2, gpt2Config, gpt2Info, normaliseGpt2Name } from './gpt2';

export const WEIGHTS_FILE = 'model.safetensors';

/** Reads config.json into ModelInfo (pure; nothing allocated). */
export function modelInfo(name: string, rawConfig: unknown): ModelInfo {
  if (!rawConfig || typeof rawConfig !== 'object' || Array.isArray(rawConfig)) throw new Error('config.json: expected a JSON object');
  const raw = rawConfig as Record<string, unknown>;
  switch (raw.model_type) {
    case 'gpt2':
      return gpt2Info(name, gpt2Config(raw));
    default:
      throw new Error(`config.json: "model_type" ${JSON.stringify(raw.model_type)} is not supported yet (supported: "gpt2")`);
  }
}

export function buildModel(name: string, rawConfig: unknown, tensors: Map<string, SafetensorsTensor>): LoadedModel {
  const info = modelInfo(name, rawConfig);
  const expected = new Map(info.params.map((p) => [p.name, p.shape]));
  const found = new Map<string, SafetensorsTensor>();
  const unexpected: string[] = [];
  for (const [raw, t] of tensors) {
    const name = normaliseGpt2Name(raw);
    if (name === undefined) continue;
    if (!expected.has(name)) unexpected.push(raw);
    else found.set(name, t);
  }
  if (unexpected.length) throw new Error(`${WEIGHTS_FILE}: tensors ${info.config.modelType} does not have: ${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ` and ${unexpected.length - 5} more` : ''}`);
  for (const [pname, shape] of expected) {
    const t = found.get(pname);
    if (!t) throw new Error(`${WEIGHTS_FILE}: tensor "${pname}" is missing`);
    if (t.shape.join() !== shape.join()) throw new Error(`${WEIGHTS_FILE}: "${pname}" has shape [${t.shape}], config.json implies [${shape}]`);
    if (!(t.data instanceof Float32Array)) throw new Error(`${WEIGHTS_FILE}: "${pname}" is ${t.dtype}, expected a float dtype`);
  }
  const weights = new Map<string, tf.Tensor>();
  for (const [pname, shape] of expected) weights.set(pname, tf.tensor(found.get(pname)!.data as Float32Array, shape, 'float32'));
  return new Gpt2(info, weights);
}
