import { describe, expect, it } from 'vitest';
import { END_OF_TEXT_ID, byteLevelTokenizerFiles } from './byte-level';
import { loadTokenizer } from './tokenizer';

const files = byteLevelTokenizerFiles();

function withConfig(patch: Record<string, unknown>): Record<string, unknown> {
  return { ...(files.tokenizerConfig as Record<string, unknown>), ...patch };
}

describe('loadTokenizer', () => {
  const tok = loadTokenizer(files.tokenizer, files.tokenizerConfig);

  it('encodes and decodes through @huggingface/tokenizers', () => {
    expect(tok.encode('Hi')).toEqual([72, 105]);
    expect(tok.decode([72, 105])).toBe('Hi');
    const text = 'Ünïcödé 🎉 a . b ,\n\nnew paragraph<|endoftext|>';
    expect(tok.decode(tok.encode(text))).toBe(text);
    expect(tok.decode([])).toBe('');
  });

  it('reports vocab size and eos; pad falls back to eos when the config has none', () => {
    expect(tok.vocabSize).toBe(257);
    expect(tok.eosToken).toBe('<|endoftext|>');
    expect(tok.eosId).toBe(END_OF_TEXT_ID);
    expect(tok.padId).toBe(END_OF_TEXT_ID);
  });

  it('accepts eos/pad as {content} objects and uses an explicit pad token', () => {
    const t = loadTokenizer(files.tokenizer, withConfig({ eos_token: { content: '<|endoftext|>' }, pad_token: { content: '!' } }));
    expect(t.eosId).toBe(256);
    expect(t.padId).toBe(33);
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => tok.decode([257])).toThrow(/outside the vocabulary/);
    expect(() => tok.decode([1.5])).toThrow(/outside the vocabulary/);
  });

  it('names the file and field when the input is wrong', () => {
    expect(() => loadTokenizer('nope', files.tokenizerConfig)).toThrow(/^tokenizer\.json: expected a JSON object, got a string/);
    expect(() => loadTokenizer({ added_tokens: [] }, files.tokenizerConfig, 'models/x/tokenizer.json')).toThrow(
      /^models\/x\/tokenizer\.json: "model" must be an object/,
    );
    const noAdded = { ...(files.tokenizer as Record<string, unknown>), added_tokens: undefined };
    expect(() => loadTokenizer(noAdded, files.tokenizerConfig)).toThrow(/"added_tokens" must be an array/);
    expect(() => loadTokenizer(files.tokenizer, [])).toThrow(/^tokenizer_config\.json: expected a JSON object, got an array/);
    expect(() => loadTokenizer(files.tokenizer, withConfig({ eos_token: undefined }), 'm/tokenizer.json')).toThrow(
      /^m\/tokenizer_config\.json: "eos_token" is missing/,
    );
    expect(() => loadTokenizer(files.tokenizer, withConfig({ eos_token: 7 }))).toThrow(/"eos_token" must be a token string/);
    expect(() => loadTokenizer(files.tokenizer, withConfig({ pad_token: '<pad>' }))).toThrow(
      /tokenizer_config\.json: "pad_token" "<pad>" is not in tokenizer\.json's vocabulary/,
    );
  });

  it('wraps errors from the package with the file name', () => {
    const broken = { ...(files.tokenizer as Record<string, unknown>), pre_tokenizer: { type: 'NoSuchPreTokenizer' } };
    expect(() => loadTokenizer(broken, files.tokenizerConfig)).toThrow(
      /^tokenizer\.json: could not build the tokenizer \(Unknown PreTokenizer type: NoSuchPreTokenizer\)/,
    );
  });
});
