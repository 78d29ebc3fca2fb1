// Studio LoRA merged into the base weights (Export merged model) → transformers, against
// PEFT's own merge_and_unload of the same adapter: the studio's checkpoint loads with
// AutoModelForCausalLM with nothing missing or unexpected, every parameter equals PEFT's
// merged one, and both give the studio's adapted logits within 1e-4. Two adapters: Conv1D
// targets of two shapes with plain scaling, and rsLoRA on c_proj (two module kinds).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzipFiles, zipFiles } from '../../src/io/zip';
import { lora, type LoraConfig } from '../../src/peft/lora';
import type { Adapter } from '../../src/peft/types';
import {
  cleanup,
  flat,
  maxAbsDiff,
  MODEL_DIR,
  openStudio,
  randomizeVariables,
  runPythonSpec,
  type Studio,
  studioLogits,
  TOLERANCE,
  writeFolder,
  writeMergedCheckpoint,
} from './helpers';

const CASES: { name: string; config: LoraConfig }[] = [
  { name: 'attn-and-mlp', config: { r: 4, lora_alpha: 16, lora_dropout: 0, target_modules: ['c_attn', 'c_fc'], use_rslora: false } },
  { name: 'rslora-c_proj', config: { r: 2, lora_alpha: 8, lora_dropout: 0, target_modules: ['c_proj'], use_rslora: true } },
];

interface Report {
  peft_logits: unknown;
  merged_logits: unknown;
  loading_info: Record<string, string[]>;
  max_param_diff: number;
  same_parameter_names: boolean;
  warnings: string[];
}

let studio: Studio;
let work: string;
let ids: number[][];
let baseLogits: Float32Array;
const adapters: Adapter[] = [];
const logits: Record<string, Float32Array> = {};
let py: Record<string, Report>;

beforeAll(async () => {
  ({ studio, ids, baseLogits, work } = await openStudio('lora-merge'));
  const specCases = [];
  for (const [i, c] of CASES.entries()) {
    const adapter = lora.create(studio.model, c.config, i);
    adapters.push(adapter);
    // B starts at zero, which would make the merge a no-op: give both matrices real values.
    randomizeVariables(adapter, 0.2, 100 * i);
    const adapterDir = join(work, c.name);
    writeFolder(adapterDir, unzipFiles(zipFiles((await adapter.exportFiles()).files), 'adapter.zip'));
    const mergedDir = join(work, `${c.name}-merged`);
    await writeMergedCheckpoint(mergedDir, adapter);
    logits[c.name] = await studioLogits(studio.model, ids, adapter.hooks(false));
    specCases.push({ name: c.name, adapter_dir: adapterDir, merged_dir: mergedDir });
  }
  py = runPythonSpec<{ cases: Record<string, Report> }>('lora_merge_check.py', work, 'check', { model_dir: MODEL_DIR, ids, cases: specCases }).cases;
});

afterAll(() => {
  for (const a of adapters) a.dispose();
  studio?.model.dispose();
  cleanup(work);
});

describe('LoRA merged checkpoint vs PEFT merge_and_unload', () => {
  for (const c of CASES) {
    it(`${c.name}: loads in transformers with nothing missing or unexpected, no warnings`, () => {
      const r = py[c.name];
      expect(r.loading_info.missing_keys).toEqual([]);
      expect(r.loading_info.unexpected_keys).toEqual([]);
      expect(r.loading_info.mismatched_keys).toEqual([]);
      expect(r.warnings).toEqual([]);
      expect(r.same_parameter_names).toBe(true);
    });

    it(`${c.name}: every parameter equals PEFT's merged one, and the logits equal PEFT's and the studio's adapted ones within 1e-4`, () => {
      const r = py[c.name];
      expect(r.max_param_diff).toBeLessThan(TOLERANCE);
      const ours = flat(r.merged_logits);
      const peft = flat(r.peft_logits);
      expect(maxAbsDiff(ours, peft)).toBeLessThan(TOLERANCE);
      expect(maxAbsDiff(ours, logits[c.name])).toBeLessThan(TOLERANCE);
      // The adapter really changes the model, so equal logits are not equal base models.
      expect(maxAbsDiff(logits[c.name], baseLogits)).toBeGreaterThan(1e-2);
    });
  }
});
