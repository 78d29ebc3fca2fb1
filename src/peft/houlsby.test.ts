import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERHUB_VERSION } from '../export/adapterhub';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import { unzipFiles, zipFiles } from '../io/zip';
import { randomBert } from '../models/bert-init';
import { SequenceClassifier } from '../models/classifier';
import { gpt2Config, gpt2Info } from '../models/gpt2';
import { randomGpt2 } from '../models/gpt2-init';
import type { LoadedModel } from '../models/types';
import { bottleneckSize, houlsby, pythonFloorDiv, reductionFactorFor, type HoulsbyConfig } from './houlsby';
import { lora } from './lora';
import { changedWeights, logitsOf, overfit, textBatches, weightBytes } from './testing';

// A wider init than GPT-2's 0.02 so the tiny model can overfit a short text (see lora.test.ts).
const SHAPE = { n_layer: 2, n_embd: 32, n_head: 4, n_positions: 64, initializer_range: 0.2 };
const base = (over: Partial<HoulsbyConfig> = {}): HoulsbyConfig => ({
  mh_adapter: true,
  output_adapter: true,
  reduction_factor: 16,
  bottleneck_size: 0,
  non_linearity: 'swish',
  init_weights: 'bert',
  dropout: 0,
  ...over,
});

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

/** erf by its Maclaurin series: exact to ~1e-12 for the |x| < 4 the tests feed it. */
function erf(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
const NAIVE_ACT: Record<string, (x: number) => number> = {
  relu: (x) => Math.max(0, x),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  gelu_new: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  swish: (x) => x / (1 + Math.exp(-x)),
  silu: (x) => x / (1 + Math.exp(-x)),
  tanh: (x) => Math.tanh(x),
};

let model: LoadedModel;
beforeAll(async () => {
  await tf.setBackend('cpu');
  model = randomGpt2('test-gpt2', SHAPE, 7);
});
afterAll(() => model.dispose());

describe('Houlsby plan', () => {
  it('counts (d·m + m) + (m·d + d) per adapter, one or two adapters per layer, as a hand formula gives', () => {
    const d = SHAPE.n_embd;
    const L = SHAPE.n_layer;
    const per = (m: number) => 2 * d * m + m + d;
    // reduction_factor 16 on d = 32: m = 2.
    const p = houlsby.plan(model.info, base());
    expect(p.trainable).toBe(L * 2 * per(2));
    expect(p.total).toBe(model.info.totalParams + p.trainable);
    expect(houlsby.plan(model.info, base({ output_adapter: false })).trainable).toBe(L * per(2));
    expect(houlsby.plan(model.info, base({ mh_adapter: false, reduction_factor: 4 })).trainable).toBe(L * per(8));
    expect(houlsby.plan(model.info, base({ bottleneck_size: 5 })).trainable).toBe(L * 2 * per(5));
    // A factor larger than d still leaves one unit (AdapterHub's floor of 1).
    expect(houlsby.plan(model.info, base({ reduction_factor: 64 })).trainable).toBe(L * 2 * per(1));
    expect(p.tensors.slice(0, 4)).toEqual([
      { name: 'transformer.h.0.attention_adapters.adapters.houlsby.adapter_down.0.weight', shape: [2, d] },
      { name: 'transformer.h.0.attention_adapters.adapters.houlsby.adapter_down.0.bias', shape: [2] },
      { name: 'transformer.h.0.attention_adapters.adapters.houlsby.adapter_up.weight', shape: [d, 2] },
      { name: 'transformer.h.0.attention_adapters.adapters.houlsby.adapter_up.bias', shape: [d] },
    ]);
    expect(p.tensors[4].name).toBe('transformer.h.0.output_adapters.adapters.houlsby.adapter_down.0.weight');
    expect(p.tensors).toHaveLength(L * 2 * 4);
  });

  it('gpt2 (124M) with the double_seq_bn defaults: m = 48, 24 adapters of 74,544', () => {
    const info = gpt2Info('gpt2', gpt2Config({ model_type: 'gpt2', n_layer: 12, n_embd: 768, n_head: 12, n_positions: 1024, vocab_size: 50257 }));
    const p = houlsby.plan(info, houlsby.defaults(info));
    expect(p.trainable).toBe(24 * (2 * 768 * 48 + 48 + 768));
    expect(p.trainable).toBe(1_789_056);
    expect(p.total).toBe(124_439_808 + 1_789_056);
  });

  it("uses AdapterHub's DoubleSeqBnConfig defaults and refuses bad settings naming the field", () => {
    expect(houlsby.defaults(model.info)).toEqual(base());
    expect(() => houlsby.plan(model.info, base({ mh_adapter: false, output_adapter: false }))).toThrow(/mh_adapter \/ output_adapter/);
    expect(() => houlsby.plan(model.info, base({ reduction_factor: 0 }))).toThrow(/^reduction_factor/);
    expect(() => houlsby.plan(model.info, base({ bottleneck_size: 2.5 }))).toThrow(/^bottleneck_size/);
    expect(() => houlsby.plan(model.info, base({ non_linearity: 'softmax' }))).toThrow(/^non_linearity: "softmax"/);
    expect(() => houlsby.plan(model.info, base({ init_weights: 'xavier' as never }))).toThrow(/^init_weights/);
    expect(() => houlsby.plan(model.info, base({ dropout: 1 }))).toThrow(/^dropout/);
  });
});

describe('bottleneck size as AdapterHub derives it', () => {
  it("pythonFloorDiv is Python's float //, not Math.floor(a / b)", () => {
    expect(pythonFloorDiv(1, 0.1)).toBe(9); // Python: 1 // 0.1 == 9.0, while 1 / 0.1 == 10
    expect(Math.floor(1 / 0.1)).toBe(10);
    expect(pythonFloorDiv(128, 128 / 3)).toBe(3);
    expect(pythonFloorDiv(768, 16)).toBe(48);
    expect(pythonFloorDiv(7, 2.5)).toBe(2);
  });

  it('every bottleneck size from 1 to d round-trips through the reduction_factor written for it', () => {
    for (const d of [32, 128, 768]) {
      for (let m = 1; m <= d; m++) {
        const rf = reductionFactorFor(d, { reduction_factor: 16, bottleneck_size: m });
        expect(bottleneckSize(d, { reduction_factor: rf, bottleneck_size: 0 }), `d=${d} m=${m} rf=${rf}`).toBe(m);
        if (d % m === 0) expect(rf).toBe(d / m);
      }
    }
  });
});

describe('Houlsby adapter math', () => {
  it('computes h + up(act(down(h))) with torch Linear layout, for every non-linearity, against a naive loop', async () => {
    const d = SHAPE.n_embd;
    for (const act of ['relu', 'gelu', 'gelu_new', 'swish', 'silu', 'tanh']) {
      const adapter = houlsby.create(model, base({ non_linearity: act, bottleneck_size: 3 }), 5);
      const [downW, downB, upW, upB] = adapter.variables;
      // Large enough values that the non-linearities' curvature matters.
      downW.assign(tf.randomNormal(downW.shape, 0, 0.5, 'float32', 1));
      downB.assign(tf.randomNormal(downB.shape, 0, 0.5, 'float32', 2));
      upW.assign(tf.randomNormal(upW.shape, 0, 0.5, 'float32', 3));
      upB.assign(tf.randomNormal(upB.shape, 0, 0.5, 'float32', 4));
      const h = tf.randomNormal([2, 3, d], 0, 1, 'float32', 6);
      const out = adapter.hooks(false).afterSublayer!(0, 'attn', h);
      expect(out.shape).toEqual([2, 3, d]);
      const got = (await out.data()) as Float32Array;
      const [hd, dw, db, uw, ub] = (await Promise.all([h, downW, downB, upW, upB].map((t) => t.data()))) as Float32Array[];
      const m = 3;
      for (let n = 0; n < 6; n++) {
        const z = Array.from({ length: m }, (_, j) => {
          let s = db[j];
          for (let i = 0; i < d; i++) s += hd[n * d + i] * dw[j * d + i];
          return NAIVE_ACT[act](s);
        });
        for (let o = 0; o < d; o++) {
          let u = ub[o];
          for (let j = 0; j < m; j++) u += z[j] * uw[o * m + j];
          expect(got[n * d + o], `${act} [${n}, ${o}]`).toBeCloseTo(hd[n * d + o] + u, 4);
        }
      }
      h.dispose();
      out.dispose();
      adapter.dispose();
    }
  });

  it('places adapters where the config says: only attention leaves the MLP output untouched', () => {
    const adapter = houlsby.create(model, base({ output_adapter: false }), 1);
    const hook = adapter.hooks(false).afterSublayer!;
    const h = tf.ones([1, 2, SHAPE.n_embd]);
    expect(hook(1, 'mlp', h)).toBe(h);
    const attn = hook(1, 'attn', h);
    expect(attn).not.toBe(h);
    expect(adapter.variables).toHaveLength(SHAPE.n_layer * 4);
    tf.dispose([h, attn]);
    adapter.dispose();
  });

  it("initialises as AdapterHub does: bert N(0, 0.02) near the base; houlsby truncated at ±0.02; mam_adapter exactly the base", async () => {
    const baseLogits = await logitsOf(model);
    const bert = houlsby.create(model, base({ reduction_factor: 1 }), 3);
    const [downW, downB, upW, upB] = await Promise.all(bert.variables.slice(0, 4).map(async (v) => (await v.data()) as Float32Array));
    const std = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
    expect(std(downW)).toBeGreaterThan(0.018);
    expect(std(downW)).toBeLessThan(0.022);
    expect(std(upW)).toBeGreaterThan(0.018);
    expect(std(upW)).toBeLessThan(0.022);
    expect(downB.every((x) => x === 0) && upB.every((x) => x === 0)).toBe(true);
    bert.dispose();
    // Near the base, not at it: the up-projection is small but not zero.
    const bertDefault = houlsby.create(model, base(), 3);
    const near = maxDiff(await logitsOf(model, bertDefault.hooks(false)), baseLogits);
    const scale = Math.max(...baseLogits.map(Math.abs));
    expect(near).toBeGreaterThan(0);
    expect(near / scale).toBeLessThan(0.01);
    bertDefault.dispose();

    const h = houlsby.create(model, base({ init_weights: 'houlsby', reduction_factor: 1 }), 3);
    for (const v of [h.variables[0], h.variables[2]]) {
      const a = (await v.data()) as Float32Array;
      expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(0.02);
      expect(std(a)).toBeGreaterThan(0.007);
    }
    h.dispose();

    const mam = houlsby.create(model, base({ init_weights: 'mam_adapter' }), 3);
    expect(Array.from(await logitsOf(model, mam.hooks(false)))).toEqual(Array.from(baseLogits));
    mam.dispose();
  });

  it('sends gradients to the adapter variables only: frozen weights are not variables and get none', () => {
    const adapter = houlsby.create(model, base(), 2);
    const batch = textBatches();
    const { grads, value } = tf.variableGrads(() =>
      tf.tidy(() => {
        const { logits } = model.forward(tf.tensor2d(batch.ids, [batch.batch, batch.length], 'int32'), adapter.hooks(true));
        return tf.mean(tf.square(logits)) as tf.Scalar;
      }),
    );
    expect(new Set(Object.keys(grads))).toEqual(new Set(adapter.variables.map((v) => v.name)));
    for (const w of model.weights.values()) expect(w instanceof tf.Variable).toBe(false);
    for (const v of adapter.variables) expect(tf.max(tf.abs(grads[v.name])).dataSync()[0], v.name).toBeGreaterThan(0);
    value.dispose();
    tf.dispose(grads);
    adapter.dispose();
  });

  it('drops out only while training', async () => {
    const adapter = houlsby.create(model, base({ dropout: 0.5 }), 2);
    const evalA = await logitsOf(model, adapter.hooks(false));
    expect(Array.from(await logitsOf(model, adapter.hooks(false)))).toEqual(Array.from(evalA));
    expect(maxDiff(await logitsOf(model, adapter.hooks(true)), evalA)).toBeGreaterThan(0);
    adapter.dispose();
  });
});

describe('training Houlsby adapters', () => {
  it('lowers the loss on a tiny text, leaves frozen weights bit-identical, leaks no tensors over 40 steps', async () => {
    const frozenBefore = await weightBytes(model);
    const adapter = houlsby.create(model, base({ reduction_factor: 2 }), 11);
    const batch = textBatches();
    const { result, losses, leaked } = await overfit(model, adapter, batch, { steps: 40, learningRate: 1e-2 });
    expect(result.reason).toBe('finished');
    expect(leaked).toBe(0);
    expect(losses).toHaveLength(40);
    expect(losses[39]).toBeLessThan(losses[0] * 0.7);
    expect(await changedWeights(model, frozenBefore)).toEqual([]);
    adapter.dispose();
  });
});

describe('Houlsby export (AdapterHub layout) and import', () => {
  async function trainedFiles(c: HoulsbyConfig) {
    const adapter = houlsby.create(model, c, 4);
    for (const v of adapter.variables) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 17));
    const exported = await adapter.exportFiles();
    return { adapter, ...exported };
  }

  it("writes save_adapter's folder: adapter_config.json (DoubleSeqBnConfig, Python floats) + adapter.safetensors", async () => {
    const c = base({ non_linearity: 'gelu', bottleneck_size: 5 });
    const { adapter, baseName, files } = await trainedFiles(c);
    expect(baseName).toBe('test-gpt2-houlsby');
    expect(Object.keys(files).sort()).toEqual(['test-gpt2-houlsby/adapter.safetensors', 'test-gpt2-houlsby/adapter_config.json']);

    const text = new TextDecoder().decode(files['test-gpt2-houlsby/adapter_config.json']);
    const cfg = JSON.parse(text);
    expect(Object.keys(cfg)).toEqual(['config', 'hidden_size', 'model_class', 'model_name', 'model_type', 'name', 'version']);
    expect(cfg).toMatchObject({ hidden_size: 32, model_class: 'GPT2LMHeadModel', model_name: 'test-gpt2', model_type: 'gpt2', name: 'houlsby', version: ADAPTERHUB_VERSION });
    expect(cfg.config).toMatchObject({
      mh_adapter: true,
      output_adapter: true,
      non_linearity: 'gelu',
      original_ln_before: false,
      original_ln_after: true,
      residual_before_ln: true,
      adapter_residual_before_ln: false,
      ln_before: false,
      ln_after: false,
      init_weights: 'bert',
      is_parallel: false,
      use_gating: false,
      leave_out: [],
      phm_layer: false,
      inv_adapter: null,
      scaling: 1,
      dropout: 0,
    });
    expect(bottleneckSize(32, { reduction_factor: cfg.config.reduction_factor, bottleneck_size: 0 })).toBe(5);
    expect(Object.keys(cfg.config)).toEqual([...Object.keys(cfg.config)].sort());
    // json.dump(indent=2, sort_keys=True) spelling, with floats as Python writes them.
    expect(text).toContain('\n    "scaling": 1.0,\n');
    expect(text).toContain('"dropout": 0.0,');
    expect(text).toContain('"stochastic_depth": 0.0,');
    expect(text).toContain('"leave_out": [],');
    expect(text.startsWith('{\n  "config": {\n    "adapter_residual_before_ln": false,')).toBe(true);

    const { tensors, metadata } = readSafetensors(files['test-gpt2-houlsby/adapter.safetensors'], 'adapter.safetensors');
    expect(metadata).toEqual({});
    const planned = houlsby.plan(model.info, c).tensors;
    expect(Object.fromEntries([...tensors].map(([k, t]) => [k, t.shape]))).toEqual(Object.fromEntries(planned.map((t) => [t.name, t.shape])));
    adapter.dispose();
  });

  it('reloads to identical outputs, from the folder as exported and through a zip', async () => {
    for (const c of [base({ non_linearity: 'tanh', output_adapter: false }), base({ reduction_factor: 4, dropout: 0.1 })]) {
      const { adapter, files } = await trainedFiles(c);
      const want = await logitsOf(model, adapter.hooks(false));
      expect(maxDiff(want, await logitsOf(model))).toBeGreaterThan(1e-3);
      const zipped = unzipFiles(zipFiles(files), 'x.zip');
      expect(Object.keys(zipped).sort()).toEqual(['adapter.safetensors', 'adapter_config.json']);
      for (const f of [files, zipped]) {
        expect(houlsby.recognizes(f)).toBe(true);
        const reloaded = houlsby.load(model, f);
        expect(Array.from(await logitsOf(model, reloaded.hooks(false)))).toEqual(Array.from(want));
        expect(houlsby.plan(model.info, c).trainable).toBe(reloaded.variables.reduce((s, v) => s + v.size, 0));
        reloaded.dispose();
      }
      adapter.dispose();
    }
  });

  it("reads configs written before AdapterHub's activation rename: no \"version\" and \"gelu\" means gelu_new", async () => {
    const { adapter, files } = await trainedFiles(base({ non_linearity: 'gelu_new' }));
    const folder = unzipFiles(zipFiles(files), 'x.zip');
    const cfg = JSON.parse(new TextDecoder().decode(folder['adapter_config.json']));
    delete cfg.version;
    cfg.config.non_linearity = 'gelu';
    const reloaded = houlsby.load(model, { ...folder, 'adapter_config.json': new TextEncoder().encode(JSON.stringify(cfg)) });
    expect(Array.from(await logitsOf(model, reloaded.hooks(false)))).toEqual(Array.from(await logitsOf(model, adapter.hooks(false))));
    reloaded.dispose();
    adapter.dispose();
  });

  it('refuses files of another method or another model, naming the field or tensor', async () => {
    const { adapter, files } = await trainedFiles(base());
    adapter.dispose();
    const folder = unzipFiles(zipFiles(files), 'x.zip');
    const cfg0 = JSON.parse(new TextDecoder().decode(folder['adapter_config.json']));
    /** The exported config with `patch(top level, inner "config")` applied. */
    const withConfig = (patch: (top: Record<string, unknown>, inner: Record<string, unknown>) => void) => {
      const top = structuredClone(cfg0) as Record<string, unknown>;
      patch(top, top.config as Record<string, unknown>);
      return { ...folder, 'adapter_config.json': new TextEncoder().encode(JSON.stringify(top)) };
    };
    expect(() => houlsby.load(model, withConfig((t) => (t.hidden_size = 64)))).toThrow(/adapter_config\.json: "hidden_size" is 64, expected 32 \(test-gpt2\)/);
    expect(() => houlsby.load(model, withConfig((_, c) => (c.reduction_factor = 8)))).toThrow(/adapter_down\.0\.weight" has shape \[2,32\], test-gpt2 with this config needs \[4,32\]/);
    expect(() => houlsby.load(model, withConfig((_, c) => (c.original_ln_before = true)))).toThrow(/"config\.original_ln_before" is true/);
    expect(() => houlsby.load(model, withConfig((_, c) => (c.non_linearity = 'softmax')))).toThrow(/adapter_config\.json: non_linearity: "softmax"/);
    expect(() => houlsby.load(model, withConfig((_, c) => (c.init_weights = 'xavier')))).toThrow(/adapter_config\.json: init_weights: "xavier"/);
    expect(() => houlsby.load(model, withConfig((t) => (t.name = 'other')))).toThrow(/tensor "transformer\.h\.0\.attention_adapters\.adapters\.other\.adapter_down\.0\.weight" is missing/);
    expect(() => houlsby.load(model, withConfig((_, c) => (c.output_adapter = false)))).toThrow(/unexpected tensors for test-gpt2 with this config: transformer\.h\.0\.output_adapters/);
    const other = randomGpt2('wider', { ...SHAPE, n_embd: 64 }, 1);
    expect(() => houlsby.load(other, folder)).toThrow(/"hidden_size" is 32, expected 64 \(wider\)/);
    other.dispose();
    const deeper = randomGpt2('deeper', { ...SHAPE, n_layer: 3 }, 1);
    expect(() => houlsby.load(deeper, folder)).toThrow(/tensor "transformer\.h\.2\.attention_adapters\.adapters\.houlsby\.adapter_down\.0\.weight" is missing/);
    deeper.dispose();
    expect(() => houlsby.load(model, { 'adapter_config.json': folder['adapter_config.json'], 'pytorch_adapter.bin': new Uint8Array(4) })).toThrow(/adapter\.safetensors is missing \(pytorch_adapter\.bin is a pickle/);

    // A LoRA export is PEFT's, not AdapterHub's.
    const l = lora.create(model, lora.defaults(model.info), 1);
    const loraFiles = (await l.exportFiles()).files;
    l.dispose();
    expect(houlsby.recognizes(loraFiles)).toBe(false);
    expect(() => houlsby.load(model, loraFiles)).toThrow(/adapter_config\.json: "peft_type" is "LORA"; this is a Hugging Face PEFT adapter/);
  });

  it('accepts the adapter keys of a GPT2Model (no transformer. prefix), as AdapterHub loads them', async () => {
    const { adapter, files } = await trainedFiles(base());
    const folder = unzipFiles(zipFiles(files), 'x.zip');
    const { tensors } = readSafetensors(folder['adapter.safetensors'], 'adapter.safetensors');
    const stripped = writeSafetensors([...tensors].map(([k, t]) => ({ name: k.replace(/^transformer\./, ''), shape: t.shape, data: t.data as Float32Array })));
    const reloaded = houlsby.load(model, { ...folder, 'adapter.safetensors': stripped });
    expect(Array.from(await logitsOf(model, reloaded.hooks(false)))).toEqual(Array.from(await logitsOf(model, adapter.hooks(false))));
    reloaded.dispose();
    adapter.dispose();
  });
});

describe('Houlsby with a sequence-classification head (AdapterHub static head)', () => {
  const LABELS = ['neg', 'pos', 'mixed'];

  async function exported(m: LoadedModel, padId: number) {
    const adapter = houlsby.create(m, base(), 4);
    for (const v of adapter.variables) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 17));
    const head = SequenceClassifier.seeded(m.info, LABELS.length, padId, 9);
    return { adapter, head, plain: await adapter.exportFiles(), ...(await adapter.exportWithHead!(head, LABELS)) };
  }

  it("GPT-2: save_adapter(with_head=True)'s folder — the adapter as before, head_config.json and model_head.safetensors with `score`", async () => {
    const { adapter, head, plain, baseName, files } = await exported(model, 5);
    const dir = 'test-gpt2-houlsby-classifier';
    expect(baseName).toBe(dir);
    expect(Object.keys(files).sort()).toEqual([`${dir}/adapter.safetensors`, `${dir}/adapter_config.json`, `${dir}/head_config.json`, `${dir}/model_head.safetensors`]);
    // The adapter's tensors are the plain export's, byte for byte; its config names the classifier's class.
    expect(Buffer.from(files[`${dir}/adapter.safetensors`]).equals(Buffer.from(plain.files['test-gpt2-houlsby/adapter.safetensors']))).toBe(true);
    const adapterConfig = JSON.parse(new TextDecoder().decode(files[`${dir}/adapter_config.json`]));
    const plainConfig = JSON.parse(new TextDecoder().decode(plain.files['test-gpt2-houlsby/adapter_config.json']));
    expect(adapterConfig).toEqual({ ...plainConfig, model_class: 'GPT2ForSequenceClassification' });

    // build_full_config(None, …, name=None, save_id2label=True) + num_labels, as json.dump(indent=2, sort_keys=True) writes it.
    expect(new TextDecoder().decode(files[`${dir}/head_config.json`])).toBe(
      [
        '{',
        '  "config": null,',
        '  "hidden_size": 32,',
        '  "label2id": {',
        '    "mixed": 2,',
        '    "neg": 0,',
        '    "pos": 1',
        '  },',
        '  "model_class": "GPT2ForSequenceClassification",',
        '  "model_name": "test-gpt2",',
        '  "model_type": "gpt2",',
        '  "name": null,',
        '  "num_labels": 3,',
        `  "version": "${ADAPTERHUB_VERSION}"`,
        '}',
      ].join('\n'),
    );
    const { tensors, metadata } = readSafetensors(files[`${dir}/model_head.safetensors`], 'model_head.safetensors');
    expect(metadata).toEqual({});
    const [score] = await head.tensors();
    expect([...tensors.keys()]).toEqual(['score.weight']);
    expect(tensors.get('score.weight')!.shape).toEqual([3, 32]);
    expect(Buffer.from(tensors.get('score.weight')!.data.buffer).equals(Buffer.from(score.data.buffer))).toBe(true);
    adapter.dispose();
    head.dispose();
  });

  it("BERT: the head file holds the pooler beside the classifier; the adapter names BertForSequenceClassification", async () => {
    const bertModel = randomBert('tiny-bert', { hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 32, vocab_size: 40 }, 3);
    const { adapter, head, files } = await exported(bertModel, 0);
    const dir = 'tiny-bert-houlsby-classifier';
    expect(JSON.parse(new TextDecoder().decode(files[`${dir}/adapter_config.json`]))).toMatchObject({ model_class: 'BertForSequenceClassification', hidden_size: 16, name: 'houlsby' });
    expect(JSON.parse(new TextDecoder().decode(files[`${dir}/head_config.json`]))).toMatchObject({ model_class: 'BertForSequenceClassification', num_labels: 3, label2id: { neg: 0, pos: 1, mixed: 2 } });
    const { tensors } = readSafetensors(files[`${dir}/model_head.safetensors`], 'model_head.safetensors');
    const want = await head.tensors();
    expect([...tensors.keys()].sort()).toEqual(['bert.pooler.dense.bias', 'bert.pooler.dense.weight', 'classifier.bias', 'classifier.weight']);
    for (const t of want) {
      expect(tensors.get(t.name)!.shape, t.name).toEqual(t.shape);
      expect(Buffer.from(tensors.get(t.name)!.data.buffer).equals(Buffer.from(t.data.buffer)), t.name).toBe(true);
    }
    const adapterKeys = [...readSafetensors(files[`${dir}/adapter.safetensors`]).tensors.keys()].sort();
    expect(adapterKeys).toEqual(houlsby.plan(bertModel.info, base()).tensors.map((t) => t.name).sort());
    adapter.dispose();
    head.dispose();
    bertModel.dispose();
  });

  it('an import of the folder with its head is refused, naming head_config.json and the class; without the head files it loads', async () => {
    const { adapter, head, files } = await exported(model, 5);
    head.dispose();
    const zipped = unzipFiles(zipFiles(files), 'x.zip');
    expect(houlsby.recognizes(zipped)).toBe(true);
    const before = tf.memory().numTensors;
    for (const f of [files, zipped]) {
      expect(() => houlsby.load(model, f)).toThrow(
        /^head_config\.json: this adapter was saved with a GPT2ForSequenceClassification head, which the studio does not import/,
      );
    }
    expect(tf.memory().numTensors).toBe(before);
    // The head's weights alone (no head_config.json) are refused too.
    const { 'head_config.json': _config, ...weightsOnly } = zipped;
    expect(() => houlsby.load(model, weightsOnly)).toThrow(/^head_config\.json: this adapter was saved with a prediction head, .* on the model class it was trained on$/);
    const { 'model_head.safetensors': _weights, ...adapterOnly } = weightsOnly;
    const reloaded = houlsby.load(model, adapterOnly);
    expect(Array.from(await logitsOf(model, reloaded.hooks(false)))).toEqual(Array.from(await logitsOf(model, adapter.hooks(false))));
    reloaded.dispose();
    adapter.dispose();
  });
});
