// The architectures the engine runs, and the two ways to find one: by config.json's
// "model_type" when a checkpoint is loaded, and by ModelConfig.family for a model already
// built. Everything outside src/models/ asks here (or the architecture it returns) instead of
// testing a family itself.
import type { Architecture } from './architecture';
import { bert } from './bert';
import { gpt2 } from './gpt2';
import { llama } from './llama';
import type { ModelInfo } from './types';

export const ARCHITECTURES: readonly Architecture[] = [gpt2, llama, bert];

/** The config.json "model_type" values some architecture reads, in registry order. */
export function supportedModelTypes(): string[] {
  return ARCHITECTURES.flatMap((a) => a.modelTypes);
}

/** The architecture that reads a config.json with this "model_type"; undefined when none does. */
export function architectureForModelType(modelType: unknown): Architecture | undefined {
  return typeof modelType === 'string' ? ARCHITECTURES.find((a) => a.modelTypes.includes(modelType)) : undefined;
}

/** The architecture a model was built by (its config's family). */
export function architectureOf(info: ModelInfo): Architecture {
  const arch = ARCHITECTURES.find((a) => a.family === info.config.family);
  if (!arch) throw new Error(`${info.name}: no architecture "${info.config.family}"`);
  return arch;
}
