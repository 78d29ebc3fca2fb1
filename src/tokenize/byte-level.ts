// The built-in model's tokenizer: GPT-2's byte-level BPE with an empty merge table, so every
// UTF-8 byte is exactly one token and any text round-trips. The files are built here (pure
// objects, no I/O) in the same shape as Hugging Face's tokenizer.json / tokenizer_config.json,
// so Python's `tokenizers` and `transformers` load what the studio saves, unchanged.

export const END_OF_TEXT = '<|endoftext|>';
/** Ids 0..255 are the bytes themselves; the one special token follows them. */
export const END_OF_TEXT_ID = 256;
export const BYTE_LEVEL_VOCAB_SIZE = 257;

/**
 * GPT-2's `bytes_to_unicode`: printable Latin-1 bytes map to themselves, the rest are shifted
 * to code points from 256 upward, so no token string contains whitespace or control chars.
 * Index = byte value, entry = its one-character symbol.
 */
export function bytesToUnicode(): string[] {
  const printable = (b: number): boolean =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const symbols: string[] = new Array<string>(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    if (printable(b)) {
      symbols[b] = String.fromCodePoint(b);
    } else {
      symbols[b] = String.fromCodePoint(256 + shifted);
      shifted++;
    }
  }
  return symbols;
}

export interface ByteLevelFiles {
  tokenizer: object;
  tokenizerConfig: object;
}

export function byteLevelTokenizerFiles(opts: { modelMaxLength?: number } = {}): ByteLevelFiles {
  const modelMaxLength = opts.modelMaxLength ?? 1024;
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((symbol, byte) => {
    vocab[symbol] = byte;
  });

  const endOfText = {
    id: END_OF_TEXT_ID,
    content: END_OF_TEXT,
    single_word: false,
    lstrip: false,
    rstrip: false,
    // Special tokens must match the raw text, whatever a normalizer would do to it.
    normalized: false,
    special: true,
  };

  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [endOfText],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    // GPT-2's settings: the post-processor only adjusts offsets, it adds no tokens.
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [] as string[],
    },
  };

  const { id: _id, ...addedTokenFields } = endOfText;
  const tokenizerConfig = {
    add_prefix_space: false,
    added_tokens_decoder: { [String(END_OF_TEXT_ID)]: addedTokenFields },
    bos_token: END_OF_TEXT,
    eos_token: END_OF_TEXT,
    unk_token: END_OF_TEXT,
    // GPT-2 ships `true`, which rewrites " ." to "." on decode; false keeps decode exact.
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
    tokenizer_class: 'GPT2Tokenizer',
  };

  return { tokenizer, tokenizerConfig };
}
