// Builds a LoadedModel from a Hugging Face folder's contents: config.json's "model_type" picks
// the architecture (./registry.ts), model.safetensors supplies the weights. Every tensor the
// architecture needs must be present with its exact shape; anything unexpected is refused by
// name, so a checkpoint of another family never half-loads.
import * as tf from '@tensorflow/tfjs';
import type { SafetensorsTensor } from '../io/safetensors';
import { checkTensors } from '../io/tensor-check';
import { architectureForModelType, architectureOf, supportedModelTypes } from './registry';
import type { LoadedModel, ModelInfo } from './types';

export const WEIGHTS_FILE = 'model.safetensors';

/** Reads config.json into ModelInfo (pure; nothing allocated). */
export function modelInfo(name: string, rawConfig: unknown): ModelInfo {
  if (!rawConfig || typeof rawConfig !== 'object' || Array.isArray(rawConfig)) throw new Error('config.json: expected a JSON object');
  const raw = rawConfig as Record<string, unknown>;
  const arch = architectureForModelType(raw.model_type);
  if (!arch) {
    const supported = supportedModelTypes().map((t) => JSON.stringify(t)).join(', ');
    throw new Error(`config.json: "model_type" ${JSON.stringify(raw.model_type)} is not supported yet (supported: ${supported})`);
  }
  return arch.info(name, arch.parseConfig(raw, 'config.json'));
}

/**
 * The model over `tensors` (a checkpoint's, by its names); `fileOf` names the file each came
 * from, so a refusal names the shard that holds the wrong tensor.
 */
export function buildModel(name: string, rawConfig: unknown, tensors: Map<string, SafetensorsTensor>, fileOf: (tensor: string) => string = () => WEIGHTS_FILE): LoadedModel {
  const info = modelInfo(name, rawConfig);
  const arch = architectureOf(info);
  const named = new Map<string, SafetensorsTensor>();
  const rawName = new Map<string, string>();
  for (const [raw, t] of tensors) {
    const name = arch.normaliseName(raw, info.config);
    if (name !== undefined) {
      named.set(name, t);
      rawName.set(name, raw);
    }
  }
  const data = checkTensors((n) => fileOf(rawName.get(n) ?? n), named, info.params, `${info.name} (config.json)`);
  const weights = new Map<string, tf.Tensor>();
  for (const p of info.params) weights.set(p.name, tf.tensor(data.get(p.name)!, p.shape, 'float32'));
  return arch.build(info, weights);
}
