import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { BYTE_LEVEL_VOCAB_SIZE, END_OF_TEXT, END_OF_TEXT_ID, byteLevelTokenizerFiles, bytesToUnicode } from './byte-level';

describe('bytesToUnicode', () => {
  it('is GPT-2s mapping: a bijection of 256 single characters, printable bytes unchanged', () => {
    const symbols = bytesToUnicode();
    expect(symbols).toHaveLength(256);
    expect(new Set(symbols).size).toBe(256);
    expect(symbols[0x41]).toBe('A');
    expect(symbols[0xe9]).toBe('é');
    // GPT-2's well-known shifted symbols: space → Ġ, newline → Ċ, NUL → Ā.
    expect(symbols[0x20]).toBe('Ġ');
    expect(symbols[0x0a]).toBe('Ċ');
    expect(symbols[0x00]).toBe('Ā');
    for (const s of symbols) expect([...s]).toHaveLength(1);
  });
});

describe('byteLevelTokenizerFiles', () => {
  const files = byteLevelTokenizerFiles({ modelMaxLength: 256 });
  const tok = new Tokenizer(files.tokenizer, files.tokenizerConfig);
  const encode = (text: string): number[] => tok.encode(text, { add_special_tokens: true }).ids;

  it('has 256 byte tokens in byte order plus <|endoftext|> at 256', () => {
    const vocab = tok.get_vocab(true);
    expect(vocab.size).toBe(BYTE_LEVEL_VOCAB_SIZE);
    bytesToUnicode().forEach((symbol, byte) => expect(vocab.get(symbol)).toBe(byte));
    expect(tok.token_to_id(END_OF_TEXT)).toBe(END_OF_TEXT_ID);
  });

  it('encodes each UTF-8 byte as its own id', () => {
    expect(encode('Hi')).toEqual([72, 105]);
    expect(encode('é')).toEqual([0xc3, 0xa9]);
    expect(encode('a b\n')).toEqual([97, 32, 98, 10]);
    const text = 'naïve 😀 日本語\r\n\ttabs';
    expect(encode(text)).toEqual([...new TextEncoder().encode(text)]);
  });

  it('keeps <|endoftext|> whole as the special id', () => {
    expect(encode(`x${END_OF_TEXT}y`)).toEqual([120, END_OF_TEXT_ID, 121]);
  });

  it('round-trips arbitrary Unicode through the real package', () => {
    // Seeded pseudo-random strings across the planes, including whitespace runs and controls.
    let state = 12345;
    const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
    const pool = [0x0a, 0x0d, 0x09, 0x20, 0x20, 0x41, 0x7f, 0xa0, 0xe9, 0x2028, 0x4e2d, 0xfeff, 0x1f600, 0x10fffd, 0x0];
    for (let n = 0; n < 50; n++) {
      const length = next() % 40;
      let text = '';
      for (let i = 0; i < length; i++) {
        const r = next();
        const cp = r % 3 === 0 ? pool[r % pool.length] : r % 5 === 0 ? 0x10000 + (r % 0xfffff) : r % 0xd7ff;
        text += String.fromCodePoint(cp > 0x10ffff ? 0x10ffff : cp);
      }
      const ids = encode(text);
      expect(ids).toEqual([...new TextEncoder().encode(text)]);
      if (ids.length > 0) expect(tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false })).toBe(text);
    }
  });

  it('writes a GPT-2-style tokenizer_config.json', () => {
    expect(files.tokenizerConfig).toMatchObject({
      tokenizer_class: 'GPT2Tokenizer',
      bos_token: END_OF_TEXT,
      eos_token: END_OF_TEXT,
      unk_token: END_OF_TEXT,
      model_max_length: 256,
      add_prefix_space: false,
      clean_up_tokenization_spaces: false,
    });
    expect(byteLevelTokenizerFiles().tokenizerConfig).toMatchObject({ model_max_length: 1024 });
  });
});
