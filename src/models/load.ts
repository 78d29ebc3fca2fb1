// Builds a LoadedModel from a Hugging Face folder's contents: config.json picks the
// architecture, model.safetensors supplies the weights. Every tensor the architecture needs
// must be present with its exact shape; anything unexpected is refused by name, so a
// checkpoint of another family never half-loads.
import * as tf from '@tensorflow/tfjs';
import type { SafetensorsTensor } from '../io/safetensors';
import { checkTensors } from '../io/tensor-check';
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
  const named = new Map<string, SafetensorsTensor>();
  for (const [raw, t] of tensors) {
    const name = normaliseGpt2Name(raw);
    if (name !== undefined) named.set(name, t);
  }
  const data = checkTensors(WEIGHTS_FILE, named, info.params, `${info.name} (config.json)`);
  const weights = new Map<string, tf.Tensor>();
  for (const p of info.params) weights.set(p.name, tf.tensor(data.get(p.name)!, p.shape, 'float32'));
  return new Gpt2(info, weights);
}
