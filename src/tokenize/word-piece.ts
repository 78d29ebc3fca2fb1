// A small BERT WordPiece tokenizer for tests: tokenizer.json and tokenizer_config.json in the
// shape transformers' BertTokenizerFast saves them (BertNormalizer lower-casing, BertPreTokenizer,
// [CLS] … [SEP] added by TemplateProcessing, the WordPiece model and decoder), over a vocabulary
// given as a word list. Pure objects, no I/O.

/** BERT's special tokens, at ids 0..4 as in bert-base-uncased's order of appearance here. */
export const WORD_PIECE_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export interface WordPieceFiles {
  tokenizer: object;
  tokenizerConfig: object;
  /** Every token by id: the specials, then `words` in order. */
  vocab: string[];
}

/** `words` are lower-case words or `##` continuations; the five specials come first. */
export function wordPieceTokenizerFiles(words: string[], opts: { maskToken?: boolean } = {}): WordPieceFiles {
  const vocab = [...WORD_PIECE_SPECIALS, ...words];
  if (new Set(vocab).size !== vocab.length) throw new Error('wordPieceTokenizerFiles: the vocabulary repeats a token');
  const id = (t: string) => vocab.indexOf(t);
  const added = WORD_PIECE_SPECIALS.map((content) => ({ id: id(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const special = (t: string, typeId: number) => ({ SpecialToken: { id: t, type_id: typeId } });
  const sequence = (s: 'A' | 'B', typeId: number) => ({ Sequence: { id: s, type_id: typeId } });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0)],
      pair: [special('[CLS]', 0), sequence('A', 0), special('[SEP]', 0), sequence('B', 1), special('[SEP]', 1)],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
  const tokenizerConfig: Record<string, unknown> = {
    cls_token: '[CLS]',
    do_lower_case: true,
    ...(opts.maskToken === false ? {} : { mask_token: '[MASK]' }),
    model_max_length: 512,
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: '[UNK]',
  };
  return { tokenizer, tokenizerConfig, vocab };
}
