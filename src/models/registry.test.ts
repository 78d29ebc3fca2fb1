import { describe, expect, it } from 'vitest';
import { bert } from './bert';
import { bertConfigJson } from './bert-init';
import { gpt2ConfigJson, TINY_SHAPE } from './gpt2-init';
import { gpt2, gpt2Config, gpt2Info } from './gpt2';
import { modelInfo } from './load';
import { ARCHITECTURES, architectureForModelType, architectureOf, supportedModelTypes } from './registry';

describe('architecture registry', () => {
  it('finds an architecture by config.json model_type, and a built model’s by its family', () => {
    expect(architectureForModelType('gpt2')).toBe(gpt2);
    expect(architectureForModelType('llama-not-here')).toBeUndefined();
    expect(architectureForModelType(undefined)).toBeUndefined();
    expect(architectureForModelType(['gpt2'])).toBeUndefined();
    const info = modelInfo('tiny', gpt2ConfigJson());
    expect(info.config.family).toBe('gpt2');
    expect(architectureOf(info)).toBe(gpt2);
    expect(() => architectureOf({ ...info, config: { ...info.config, family: 'nope' } })).toThrow(/tiny: no architecture "nope"/);
  });

  it('reads BERT, RoBERTa and DistilBERT as the bert family, a masked LM; GPT-2 is a causal LM', () => {
    for (const t of ['bert', 'roberta', 'distilbert']) expect(architectureForModelType(t)).toBe(bert);
    const info = modelInfo('tiny-bert', bertConfigJson({ hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 64, vocab_size: 40 }));
    expect(architectureOf(info)).toBe(bert);
    expect(bert.objective).toBe('masked-lm');
    expect(gpt2.objective).toBe('causal-lm');
  });

  it('lists every model_type it reads, in registry order, in the message for one it does not', () => {
    expect(supportedModelTypes()).toEqual(ARCHITECTURES.flatMap((a) => a.modelTypes));
    expect(supportedModelTypes()).toContain('gpt2');
    const listed = supportedModelTypes().map((t) => `"${t}"`).join(', ');
    expect(() => modelInfo('x', { ...gpt2ConfigJson(), model_type: 'bert-not-here' })).toThrow(
      `config.json: "model_type" "bert-not-here" is not supported yet (supported: ${listed})`,
    );
  });

  it('gives every family one entry with a distinct family and distinct model types', () => {
    const families = ARCHITECTURES.map((a) => a.family);
    expect(new Set(families).size).toBe(families.length);
    const types = supportedModelTypes();
    expect(new Set(types).size).toBe(types.length);
  });
});

describe('gpt2 architecture', () => {
  it('reads config.json, names GPT2LMHeadModel’s blocks and the names other formats need', () => {
    const raw = gpt2ConfigJson(TINY_SHAPE);
    expect(gpt2.parseConfig(raw, 'config.json')).toEqual(gpt2Config(raw));
    expect(gpt2.info('t', gpt2.parseConfig(raw, 'config.json'))).toEqual(gpt2Info('t', gpt2Config(raw)));
    const info = gpt2.info('t', gpt2.parseConfig(raw, 'config.json'));
    expect(gpt2.blockPath(info.config, 3)).toBe('transformer.h.3');
    expect(gpt2.loraTargets(info.config)).toEqual(['c_attn']);
    expect(gpt2.adapterHubModelClass(info.config)).toBe('GPT2LMHeadModel');
    expect(gpt2.adapterHubLayerPath(info.config, 3, 'attn')).toBe('transformer.h.3.attention_adapters');
    expect(gpt2.adapterHubLayerPath(info.config, 3, 'mlp')).toBe('transformer.h.3.output_adapters');
    // every block parameter lives under blockPath(layer)
    for (const l of info.linears) expect(l.path.startsWith(`${gpt2.blockPath(info.config, l.layer)}.`)).toBe(true);
  });
});

describe('bert architecture', () => {
  it('names the blocks, PEFT targets, the AdapterHub class and where AdapterHub puts its adapters, per model type', () => {
    const sizes = { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 64, vocab_size: 40 };
    const b = bert.parseConfig(bertConfigJson(sizes), 'config.json');
    expect(bert.blockPath(b, 1)).toBe('bert.encoder.layer.1');
    expect(bert.loraTargets(b)).toEqual(['query', 'value']);
    expect(bert.adapterHubModelClass(b)).toBe('BertForMaskedLM');
    expect(bert.adapterHubLayerPath(b, 1, 'attn')).toBe('bert.encoder.layer.1.attention.output');
    expect(bert.adapterHubLayerPath(b, 1, 'mlp')).toBe('bert.encoder.layer.1.output');
    const r = bert.parseConfig({ ...bertConfigJson(sizes), model_type: 'roberta', max_position_embeddings: 66 }, 'config.json');
    expect(bert.adapterHubLayerPath(r, 0, 'attn')).toBe('roberta.encoder.layer.0.attention.output');
    const d = bert.parseConfig({ model_type: 'distilbert', dim: 32, n_layers: 2, n_heads: 4, hidden_dim: 64, max_position_embeddings: 64, vocab_size: 40 }, 'config.json');
    expect(bert.adapterHubLayerPath(d, 0, 'attn')).toBe('distilbert.transformer.layer.0.attention_adapters');
    expect(bert.adapterHubLayerPath(d, 0, 'mlp')).toBe('distilbert.transformer.layer.0.output_adapters');
    // A distilled student's config.json: the depth under each model type's own field, nothing else changed.
    const raw = bertConfigJson(sizes);
    expect(bert.withNumLayers!(raw, 1)).toEqual({ ...raw, num_hidden_layers: 1 });
    expect(bert.parseConfig(bert.withNumLayers!(r.raw, 1), 'config.json')).toEqual({ ...r, numLayers: 1, raw: { ...r.raw, num_hidden_layers: 1 } });
    expect(bert.withNumLayers!(d.raw, 1)).toEqual({ ...d.raw, n_layers: 1 });
    expect(bert.parseConfig(bert.withNumLayers!(d.raw, 1), 'config.json').numLayers).toBe(1);
    // Prefix methods: BERT and RoBERTa take past keys/values in transformers, DistilBERT does not.
    expect(bert.kvPrefixUnsupported?.(b)).toBeUndefined();
    expect(bert.kvPrefixUnsupported?.(r)).toBeUndefined();
    expect(bert.kvPrefixUnsupported?.(d)).toMatch(/^DistilBERT takes no past keys\/values in transformers/);
  });
});
