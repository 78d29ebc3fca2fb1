// LoRA: Low-Rank Adaptation of Large Language Models (Hu et al. 2021, arXiv 2106.09685).
//
// For each targeted linear W (frozen), learn A ∈ ℝ^{r×in} and B ∈ ℝ^{out×r}:
//     y = x·W + b + dropout(x)·Aᵀ·Bᵀ · (alpha / r)
// A starts Kaiming-uniform (a = √5, PyTorch's nn.Linear default, as PEFT), B starts at zero,
// so training begins exactly at the base model. Shapes, names, defaults and the saved layout
// follow Hugging Face PEFT, so `PeftModel.from_pretrained` loads the export unchanged.
import * as tf from '@tensorflow/tfjs';
import { architectureOf } from '../models/registry';
import type { LinearModule, LoadedModel, ModelInfo } from '../models/types';
import type { Adapter, ExportedFiles, FieldSpec, PeftMethod, Plan } from './types';
import { ownedVariable } from '../train/variable';
import { ADAPTER_WEIGHTS, expectField, PEFT_PREFIX, peftTaskType, peftTypeOf, readPeftAdapter, writePeftAdapter } from '../export/peft-files';
import { checkTensors } from '../io/tensor-check';

// Config: the settings, their defaults and form fields, validation and the plan.

export interface LoraConfig {
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  /** Module names (last path component) or full paths; PEFT matches either by suffix. */
  target_modules: string[];
  /** rsLoRA (Kalajdzievski 2023): scale by alpha/√r instead of alpha/r. */
  use_rslora: boolean;
}

/** PEFT's rule: a target matches a module whose full path equals it or ends with `.target`. */
export function isTarget(module: LinearModule, targets: string[]): boolean {
  return targets.some((t) => module.path === t || module.path.endsWith(`.${t}`));
}

function targetedModules(model: ModelInfo, c: LoraConfig): LinearModule[] {
  return model.linears.filter((m) => isTarget(m, c.target_modules));
}

function defaults(model: ModelInfo): LoraConfig {
  // PEFT's default for the family when target_modules is not given.
  const targets = [...architectureOf(model).loraTargets(model.config)];
  return { r: 8, lora_alpha: 8, lora_dropout: 0, target_modules: targets, use_rslora: false };
}

function fields(model: ModelInfo): FieldSpec[] {
  const names = [...new Set(model.linears.map((m) => m.name))];
  return [
    { key: 'r', label: 'Rank r', kind: 'number', min: 1, max: 1024, step: 1, integer: true, help: 'Rank of the update B·A.' },
    { key: 'lora_alpha', label: 'Alpha', kind: 'number', min: 0, step: 1, help: 'The update is scaled by alpha / r.' },
    { key: 'lora_dropout', label: 'Dropout', kind: 'number', min: 0, max: 0.99, step: 0.05, help: 'Dropout on the input of the LoRA branch, during training only.' },
    {
      key: 'target_modules',
      label: 'Target modules',
      kind: 'multiselect',
      options: names.map((n) => ({ value: n, label: n })),
      help: 'Linear layers that get an update (a name matches every module ending in it).',
    },
    {
      key: 'use_rslora',
      label: 'Scaling',
      kind: 'select',
      options: [
        { value: 'false', label: 'alpha / r (LoRA)' },
        { value: 'true', label: 'alpha / √r (rsLoRA)' },
      ],
    },
  ];
}

function validate(model: ModelInfo, c: LoraConfig): void {
  if (!Number.isInteger(c.r) || c.r < 1) throw new Error(`r must be a positive integer (got ${c.r})`);
  if (!(c.lora_alpha > 0)) throw new Error(`lora_alpha must be positive (got ${c.lora_alpha})`);
  if (!(c.lora_dropout >= 0 && c.lora_dropout < 1)) throw new Error(`lora_dropout must be in [0, 1) (got ${c.lora_dropout})`);
  if (!Array.isArray(c.target_modules) || c.target_modules.length === 0) throw new Error('target_modules: choose at least one module');
  for (const t of c.target_modules) {
    if (!model.linears.some((m) => isTarget(m, [t]))) {
      throw new Error(`target_modules: "${t}" matches no linear module of ${model.name}`);
    }
  }
}

function plan(model: ModelInfo, c: LoraConfig): Plan {
  validate(model, c);
  const tensors = targetedModules(model, c).flatMap((m) => [
    { name: `${m.path}.lora_A.weight`, shape: [c.r, m.inFeatures] },
    { name: `${m.path}.lora_B.weight`, shape: [m.outFeatures, c.r] },
  ]);
  const trainable = tensors.reduce((s, t) => s + t.shape[0] * t.shape[1], 0);
  return { trainable, total: model.totalParams + trainable, tensors };
}

// Adapter: the low-rank pairs, their math and the merge into the base weights.

export function loraScaling(c: LoraConfig): number {
  return c.use_rslora ? c.lora_alpha / Math.sqrt(c.r) : c.lora_alpha / c.r;
}

interface LoraPair {
  A: tf.Variable; // [r, in]
  B: tf.Variable; // [out, r]
}

class LoraAdapter implements Adapter {
  readonly variables: tf.Variable[];

  constructor(
    private readonly model: LoadedModel,
    private readonly config: LoraConfig,
    private readonly pairs: Map<string, LoraPair>,
  ) {
    this.variables = [...pairs.values()].flatMap((p) => [p.A, p.B]);
  }

  hooks(training: boolean) {
    const scaling = loraScaling(this.config);
    const dropout = training ? this.config.lora_dropout : 0;
    return {
      // `y` is the frozen module's output, whatever its weight layout; LoRA adds its update.
      linear: (path: string, x: tf.Tensor, y: tf.Tensor) => {
        const pair = this.pairs.get(path);
        if (!pair) return y;
        const xd = dropout > 0 ? tf.dropout(x, dropout) : x;
        const delta = tf.matMul(tf.matMul(xd, pair.A, false, true), pair.B, false, true);
        return tf.add(y, tf.mul(delta, scaling));
      },
    };
  }

  exportFiles() {
    return writeFiles(this.model.info, this.config, this.pairs);
  }

  /**
   * The base weights with every pair folded in, as PEFT's merge_and_unload does:
   * W + scaling·B·A for nn.Linear's [out, in] layout, its transpose for Conv1D's [in, out].
   */
  async mergedWeights() {
    const scaling = loraScaling(this.config);
    const layout = new Map(this.model.info.linears.map((m) => [`${m.path}.weight`, m]));
    const out = [];
    for (const p of this.model.info.params) {
      const w = this.model.weights.get(p.name);
      if (!w) throw new Error(`weight "${p.name}" is missing`);
      const module = layout.get(p.name);
      const pair = module && this.pairs.get(module.path);
      const merged = pair
        ? tf.tidy(() => {
            const delta = tf.mul(tf.matMul(pair.B, pair.A), scaling); // [out, in]
            return tf.add(w, module.fanInFanOut ? tf.transpose(delta) : delta);
          })
        : w;
      out.push({ name: p.name, shape: [...p.shape], data: Float32Array.from((await merged.data()) as Float32Array) });
      if (merged !== w) merged.dispose();
    }
    return out;
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

function create(model: LoadedModel, c: LoraConfig, seed: number): Adapter {
  validate(model.info, c);
  const pairs = new Map<string, LoraPair>();
  targetedModules(model.info, c).forEach((m, i) => {
    // kaiming_uniform_(a=√5) on [r, in]: bound = √(2/(1+a²))·√(3/fan_in) = 1/√in.
    const bound = 1 / Math.sqrt(m.inFeatures);
    pairs.set(m.path, {
      A: ownedVariable(tf.randomUniform([c.r, m.inFeatures], -bound, bound, 'float32', seed + i)),
      B: ownedVariable(tf.zeros([m.outFeatures, c.r])),
    });
  });
  return new LoraAdapter(model, { ...c, target_modules: [...c.target_modules] }, pairs);
}

// File format: Hugging Face PEFT's LORA adapter (src/export/peft-files.ts).

async function writeFiles(info: ModelInfo, c: LoraConfig, pairs: Map<string, LoraPair>): Promise<ExportedFiles> {
  const tensors = [];
  for (const [path, { A, B }] of pairs) {
    tensors.push(
      { name: `${PEFT_PREFIX}${path}.lora_A.weight`, shape: A.shape, data: (await A.data()) as Float32Array },
      { name: `${PEFT_PREFIX}${path}.lora_B.weight`, shape: B.shape, data: (await B.data()) as Float32Array },
    );
  }
  const files = writePeftAdapter(
    {
      alpha_pattern: {},
      auto_mapping: null,
      base_model_name_or_path: info.name,
      bias: 'none',
      fan_in_fan_out: info.linears.some((m) => m.fanInFanOut),
      inference_mode: true,
      init_lora_weights: true,
      layers_pattern: null,
      layers_to_transform: null,
      lora_alpha: c.lora_alpha,
      lora_dropout: c.lora_dropout,
      modules_to_save: null,
      peft_type: 'LORA',
      r: c.r,
      rank_pattern: {},
      revision: null,
      target_modules: [...c.target_modules],
      task_type: peftTaskType(info),
      use_dora: false,
      use_rslora: c.use_rslora,
    },
    tensors,
  );
  return { baseName: `${info.name}-lora`, files };
}

function recognizes(files: Record<string, Uint8Array>): boolean {
  return peftTypeOf(files) === 'LORA';
}

function load(model: LoadedModel, files: Record<string, Uint8Array>): Adapter {
  const { config, tensors } = readPeftAdapter(files);
  expectField(config, 'peft_type', 'LORA');
  const cfg = (key: string, fallback: unknown) => (config[key] === undefined ? fallback : config[key]);
  const rawTargets = cfg('target_modules', architectureOf(model.info).loraTargets(model.info.config));
  const c: LoraConfig = {
    r: Number(cfg('r', 8)),
    lora_alpha: Number(cfg('lora_alpha', 8)),
    lora_dropout: Number(cfg('lora_dropout', 0)),
    target_modules: typeof rawTargets === 'string' ? [rawTargets] : (rawTargets as string[]),
    use_rslora: cfg('use_rslora', false) === true,
  };
  for (const key of ['use_dora', 'rank_pattern', 'alpha_pattern', 'layers_to_transform'] as const) {
    const v = config[key];
    const unset = v == null || v === false || (typeof v === 'object' && Object.keys(v).length === 0);
    if (!unset) throw new Error(`adapter_config.json: "${key}" is ${JSON.stringify(v)}; the studio supports only plain LoRA`);
  }
  if (config.bias !== undefined && config.bias !== 'none') throw new Error(`adapter_config.json: "bias" is ${JSON.stringify(config.bias)}; only "none" is supported`);
  if (typeof config.target_modules === 'string') {
    // PEFT treats a string as a full-match regex over module paths.
    const re = new RegExp(`^(?:${config.target_modules})$`);
    c.target_modules = model.info.linears.filter((m) => re.test(m.path)).map((m) => m.path);
  }
  validate(model.info, c);

  const modules = targetedModules(model.info, c);
  const expected = modules.flatMap((m) => [
    { name: `${m.path}.lora_A.weight`, shape: [c.r, m.inFeatures] },
    { name: `${m.path}.lora_B.weight`, shape: [m.outFeatures, c.r] },
  ]);
  const data = checkTensors(ADAPTER_WEIGHTS, tensors, expected, model.info.name, { shown: (name) => PEFT_PREFIX + name });
  const pairs = new Map<string, LoraPair>();
  for (const m of modules) {
    const v = (part: 'lora_A' | 'lora_B', shape: number[]) => ownedVariable(tf.tensor(data.get(`${m.path}.${part}.weight`)!, shape));
    pairs.set(m.path, { A: v('lora_A', [c.r, m.inFeatures]), B: v('lora_B', [m.outFeatures, c.r]) });
  }
  return new LoraAdapter(model, c, pairs);
}

export const lora: PeftMethod<LoraConfig> = {
  id: 'lora',
  label: 'LoRA',
  summary: 'Learns a low-rank update B·A beside each targeted weight matrix; the base weights stay frozen.',
  paper: { title: 'LoRA: Low-Rank Adaptation of Large Language Models (Hu et al. 2021)', url: 'https://arxiv.org/abs/2106.09685' },
  defaults,
  fields,
  validate,
  plan,
  create,
  recognizes,
  load,
};
