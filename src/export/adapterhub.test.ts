import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import { normaliseGpt2Name } from '../models/gpt2';
import {
  ADAPTERHUB_CONFIG,
  ADAPTERHUB_VERSION,
  ADAPTERHUB_WEIGHTS,
  adapterHubFiles,
  type BottleneckSettings,
  doubleSeqBnConfig,
  isBottleneckAdapter,
  PyFloat,
  pythonJson,
  readAdapterHubWeights,
  readBottleneckConfig,
  writeAdapterHubFolder,
} from './adapterhub';

const SETTINGS: BottleneckSettings = { mh_adapter: true, output_adapter: true, reduction_factor: 16, non_linearity: 'swish', init_weights: 'bert', dropout: 0 };
const HEADER = { hidden_size: 768, model_class: 'GPT2LMHeadModel', model_name: 'gpt2', model_type: 'gpt2', name: 'houlsby' };
const TARGET = { name: 'gpt2', modelType: 'gpt2', hiddenSize: 768 };
const TENSORS = [
  { name: 'transformer.h.0.attention_adapters.adapters.houlsby.adapter_down.0.weight', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
  { name: 'transformer.h.0.attention_adapters.adapters.houlsby.adapter_down.0.bias', shape: [2], data: Float32Array.from([7, 8]) },
];

/** What Python writes for json.dump(full_config, indent=2, sort_keys=True) with DoubleSeqBnConfig's defaults on gpt2. */
const PYTHON_CONFIG = `{
  "config": {
    "adapter_residual_before_ln": false,
    "cross_adapter": false,
    "dropout": 0.0,
    "factorized_phm_W": true,
    "factorized_phm_rule": false,
    "hypercomplex_nonlinearity": "glorot-uniform",
    "init_weights": "bert",
    "inv_adapter": null,
    "inv_adapter_reduction_factor": null,
    "is_parallel": false,
    "learn_phm": true,
    "leave_out": [],
    "ln_after": false,
    "ln_before": false,
    "mh_adapter": true,
    "non_linearity": "swish",
    "original_ln_after": true,
    "original_ln_before": false,
    "output_adapter": true,
    "phm_bias": true,
    "phm_c_init": "normal",
    "phm_dim": 4,
    "phm_init_range": 0.0001,
    "phm_layer": false,
    "phm_rank": 1,
    "reduction_factor": 16,
    "residual_before_ln": true,
    "scaling": 1.0,
    "shared_W_phm": false,
    "shared_phm_rule": true,
    "stochastic_depth": 0.0,
    "use_gating": false
  },
  "hidden_size": 768,
  "model_class": "GPT2LMHeadModel",
  "model_name": "gpt2",
  "model_type": "gpt2",
  "name": "houlsby",
  "version": "adapters.1.1.0"
}`;

const encode = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

/** A folder as save_adapter writes it, at the top level (as unzipped), with `patch(top, inner)` applied to its config. */
function folderWith(patch: (top: Record<string, unknown>, inner: Record<string, unknown>) => void = () => {}): Record<string, Uint8Array> {
  const top = JSON.parse(new TextDecoder().decode(writeAdapterHubFolder('x', HEADER, doubleSeqBnConfig(SETTINGS), TENSORS)[`x/${ADAPTERHUB_CONFIG}`]));
  patch(top, top.config);
  return { [ADAPTERHUB_CONFIG]: encode(top), [ADAPTERHUB_WEIGHTS]: writeSafetensors(TENSORS) };
}

describe("pythonJson: Python's json.dump(indent=2, sort_keys=True)", () => {
  it('sorts keys at every level, indents by two, writes empty containers inline', () => {
    const value = { b: [1, new PyFloat(2), 'x', [], {}], a: { d: null, c: true }, g: new PyFloat(0.5), h: new PyFloat(128 / 5.5), s: 'q"\n' };
    // json.dumps of the same value with floats where PyFloat stands.
    expect(pythonJson(value)).toBe('{\n  "a": {\n    "c": true,\n    "d": null\n  },\n  "b": [\n    1,\n    2.0,\n    "x",\n    [],\n    {}\n  ],\n  "g": 0.5,\n  "h": 23.272727272727273,\n  "s": "q\\"\\n"\n}');
  });

  it("writes a PyFloat with Python's fraction and a plain number as JSON does", () => {
    expect(pythonJson(new PyFloat(1))).toBe('1.0');
    expect(pythonJson(new PyFloat(0))).toBe('0.0');
    expect(pythonJson(new PyFloat(0.0001))).toBe('0.0001');
    expect(pythonJson(new PyFloat(25.6))).toBe('25.6');
    expect(pythonJson(16)).toBe('16');
    expect(() => pythonJson(new PyFloat(Number.NaN))).toThrow(/NaN has no JSON spelling/);
    expect(() => pythonJson(new PyFloat(Infinity))).toThrow(/Infinity has no JSON spelling/);
  });
});

describe('doubleSeqBnConfig: DoubleSeqBnConfig.to_dict()', () => {
  it('lists every BnConfig field with the placement fixed to Houlsby’s and Python’s types', () => {
    const cfg = doubleSeqBnConfig({ ...SETTINGS, non_linearity: 'gelu', dropout: 0.1, init_weights: 'mam_adapter', mh_adapter: false });
    const text = pythonJson(cfg);
    expect(JSON.parse(text)).toMatchObject({
      mh_adapter: false,
      output_adapter: true,
      non_linearity: 'gelu',
      init_weights: 'mam_adapter',
      original_ln_before: false,
      original_ln_after: true,
      residual_before_ln: true,
      adapter_residual_before_ln: false,
      ln_before: false,
      ln_after: false,
      is_parallel: false,
      use_gating: false,
      leave_out: [],
      phm_layer: false,
      inv_adapter: null,
      reduction_factor: 16,
    });
    expect(Object.keys(cfg)).toHaveLength(32);
    expect(text).toContain('\n  "dropout": 0.1,\n');
    expect(text).toContain('\n  "scaling": 1.0,\n');
    expect(text).toContain('\n  "stochastic_depth": 0.0,\n');
    expect(text).toContain('\n  "phm_init_range": 0.0001,\n');
  });

  it('writes an integral reduction_factor as an int (as the presets do) and a fractional one as a float', () => {
    expect(pythonJson(doubleSeqBnConfig(SETTINGS))).toContain('\n  "reduction_factor": 16,\n');
    expect(pythonJson(doubleSeqBnConfig({ ...SETTINGS, reduction_factor: 128 / 5.5 }))).toContain('\n  "reduction_factor": 23.272727272727273,\n');
    expect(pythonJson(doubleSeqBnConfig({ ...SETTINGS, reduction_factor: 32 }))).toContain('\n  "reduction_factor": 32,\n');
  });
});

describe("writeAdapterHubFolder: save_adapter's folder", () => {
  it('writes adapter_config.json byte for byte as Python does, then adapter.safetensors without metadata, inside the folder', () => {
    const files = writeAdapterHubFolder('gpt2-houlsby', HEADER, doubleSeqBnConfig(SETTINGS), TENSORS);
    expect(Object.keys(files)).toEqual(['gpt2-houlsby/adapter_config.json', 'gpt2-houlsby/adapter.safetensors']);
    expect(new TextDecoder().decode(files['gpt2-houlsby/adapter_config.json'])).toBe(PYTHON_CONFIG);
    expect(JSON.parse(PYTHON_CONFIG).version).toBe(ADAPTERHUB_VERSION);
    const weights = files['gpt2-houlsby/adapter.safetensors'];
    expect(Array.from(weights)).toEqual(Array.from(writeSafetensors(TENSORS)));
    const { tensors, metadata } = readSafetensors(weights, ADAPTERHUB_WEIGHTS);
    expect(metadata).toEqual({});
    expect([...tensors.keys()].sort()).toEqual(TENSORS.map((t) => t.name).sort());
  });
});

describe('reading an AdapterHub folder', () => {
  it('finds the folder at the top level or inside one folder (a zip of it), and nowhere deeper', () => {
    const top = folderWith();
    expect(adapterHubFiles(top)).toBe(top);
    const inFolder = { 'a/adapter_config.json': top[ADAPTERHUB_CONFIG], 'a/adapter.safetensors': top[ADAPTERHUB_WEIGHTS] };
    expect(adapterHubFiles(inFolder)).toEqual(top);
    const twoFolders = { 'a/adapter_config.json': top[ADAPTERHUB_CONFIG], 'b/adapter.safetensors': top[ADAPTERHUB_WEIGHTS] };
    expect(adapterHubFiles(twoFolders)).toBe(twoFolders);
    const deeper = { 'a/b/adapter_config.json': top[ADAPTERHUB_CONFIG] };
    expect(adapterHubFiles(deeper)).toBe(deeper);
  });

  it('recognizes bottleneck adapter configs by their shape alone', () => {
    const enc = (v: unknown) => ({ 'adapter_config.json': encode(v) });
    expect(isBottleneckAdapter(enc({ config: { mh_adapter: true }, model_class: 'GPT2LMHeadModel' }))).toBe(true);
    expect(isBottleneckAdapter(enc({ config: { output_adapter: true }, model_class: 'BertModel' }))).toBe(true);
    expect(isBottleneckAdapter(enc({ config: { mh_adapter: true } }))).toBe(false);
    expect(isBottleneckAdapter(enc({ config: { architecture: 'lora', r: 8 }, model_class: 'GPT2LMHeadModel' }))).toBe(false);
    expect(isBottleneckAdapter(enc({ peft_type: 'LORA' }))).toBe(false);
    expect(isBottleneckAdapter({ 'adapter_config.json': encode('not json') })).toBe(false);
    expect(isBottleneckAdapter({})).toBe(false);
    expect(isBottleneckAdapter({ 'x/adapter_config.json': folderWith()[ADAPTERHUB_CONFIG] })).toBe(true);
  });

  it('reads back the name and settings written, with BnConfig’s defaults for missing keys', () => {
    const written = { ...SETTINGS, reduction_factor: 128 / 5.5, non_linearity: 'tanh', init_weights: 'houlsby', dropout: 0.25, output_adapter: false };
    const files = writeAdapterHubFolder('f', { ...HEADER, name: 'mine' }, doubleSeqBnConfig(written), TENSORS);
    expect(readBottleneckConfig(files, TARGET)).toEqual({ name: 'mine', settings: written });
    const bare = folderWith((_, c) => {
      for (const k of ['init_weights', 'dropout', 'mh_adapter']) delete c[k];
    });
    expect(readBottleneckConfig(bare, TARGET).settings).toEqual({ ...SETTINGS, init_weights: 'bert', dropout: 0, mh_adapter: false });
  });

  it("maps activations as load_weights_config does: lower-cased, and renamed in configs without a \"version\"", () => {
    const act = (nonLinearity: string, version: boolean) =>
      readBottleneckConfig(
        folderWith((t, c) => {
          c.non_linearity = nonLinearity;
          if (!version) delete t.version;
        }),
        TARGET,
      ).settings.non_linearity;
    expect(act('gelu', false)).toBe('gelu_new');
    expect(act('gelu_orig', false)).toBe('gelu');
    expect(act('GELU', false)).toBe('gelu_new');
    expect(act('swish', false)).toBe('swish');
    expect(act('gelu', true)).toBe('gelu');
    expect(act('Swish', true)).toBe('swish');
  });

  it('refuses a config that is not an AdapterHub bottleneck adapter for this model, naming the field', () => {
    const read = (files: Record<string, Uint8Array>) => () => readBottleneckConfig(files, TARGET);
    expect(read({ [ADAPTERHUB_WEIGHTS]: new Uint8Array(4) })).toThrow(/^adapter_config\.json is missing \(files present: adapter\.safetensors\)/);
    expect(read({ [ADAPTERHUB_CONFIG]: encode('[1]') })).toThrow(/^adapter_config\.json: not a JSON object/);
    expect(read({ [ADAPTERHUB_CONFIG]: encode({ peft_type: 'LORA', r: 8 }) })).toThrow(/^adapter_config\.json: "peft_type" is "LORA"; this is a Hugging Face PEFT adapter/);
    expect(read(folderWith((t) => delete t.config))).toThrow(/^adapter_config\.json: "config" is missing; not an AdapterHub adapter/);
    expect(read(folderWith((_, c) => (c.architecture = 'lora')))).toThrow(/"config\.architecture" is "lora", expected a bottleneck adapter/);
    expect(read(folderWith((t) => (t.model_type = 'bert')))).toThrow(/"model_type" is "bert", expected "gpt2" \(gpt2\)/);
    expect(read(folderWith((t) => (t.hidden_size = 64)))).toThrow(/^adapter_config\.json: "hidden_size" is 64, expected 768 \(gpt2\)/);
    expect(read(folderWith((_, c) => (c.original_ln_before = true)))).toThrow(/"config\.original_ln_before" is true; the studio runs Houlsby adapters \(double_seq_bn\), which need false/);
    expect(read(folderWith((_, c) => (c.ln_after = true)))).toThrow(/"config\.ln_after" is true/);
    expect(read(folderWith((_, c) => (c.inv_adapter = 'nice')))).toThrow(/"config\.inv_adapter" is "nice"/);
    expect(read(folderWith((_, c) => (c.scaling = 'learned')))).toThrow(/"config\.scaling" is "learned"; only 1\.0 is supported/);
    expect(read(folderWith((_, c) => (c.leave_out = [0])))).toThrow(/"config\.leave_out" is \[0\]/);
    expect(read(folderWith((_, c) => (c.stochastic_depth = 0.1)))).toThrow(/"config\.stochastic_depth" is 0\.1; only 0 is supported/);
    expect(read(folderWith((_, c) => (c.reduction_factor = { default: 16 })))).toThrow(/"config\.reduction_factor" is \{"default":16\}; a per-layer mapping/);
    expect(read(folderWith((_, c) => (c.non_linearity = 3)))).toThrow(/"config\.non_linearity" is 3; expected a string/);
    expect(read(folderWith((t) => (t.name = 'a.b')))).toThrow(/"name" is "a\.b"; expected the adapter's name/);
    expect(read(folderWith((t) => delete t.name))).toThrow(/"name" is undefined; expected the adapter's name/);
  });

  it('reads adapter.safetensors under GPT2LMHeadModel’s names, a GPT2Model’s included, and points at a pickle', () => {
    const names = (files: Record<string, Uint8Array>) => [...readAdapterHubWeights(files, normaliseGpt2Name).keys()].sort();
    const want = TENSORS.map((t) => t.name).sort();
    expect(names(folderWith())).toEqual(want);
    const gpt2Model = writeSafetensors(TENSORS.map((t) => ({ ...t, name: t.name.replace(/^transformer\./, '') })));
    expect(names({ 'f/adapter_config.json': folderWith()[ADAPTERHUB_CONFIG], 'f/adapter.safetensors': gpt2Model })).toEqual(want);
    const config = folderWith()[ADAPTERHUB_CONFIG];
    expect(() => readAdapterHubWeights({ [ADAPTERHUB_CONFIG]: config, 'pytorch_adapter.bin': new Uint8Array(4) }, normaliseGpt2Name)).toThrow(
      /^adapter\.safetensors is missing \(pytorch_adapter\.bin is a pickle; save with model\.save_adapter\(\.\.\., use_safetensors=True\)\)/,
    );
    expect(() => readAdapterHubWeights({ [ADAPTERHUB_CONFIG]: config }, normaliseGpt2Name)).toThrow(/^adapter\.safetensors is missing$/);
  });
});
