import { describe, expect, it } from 'vitest';
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
    // every block parameter lives under blockPath(layer)
    for (const l of info.linears) expect(l.path.startsWith(`${gpt2.blockPath(info.config, l.layer)}.`)).toBe(true);
  });
});
