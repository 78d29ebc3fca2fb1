// The studio's tokenizer: a thin, validated wrapper over @huggingface/tokenizers so the rest of
// the engine sees plain number arrays and the few special ids it needs (eos, pad, mask, and
// which ids are special).
import { Tokenizer } from '@huggingface/tokenizers';

export interface TextTokenizer {
  /**
   * Ids as Hugging Face's `tokenizer(text)` gives them (special tokens added by the
   * post-processor, if any); with `addSpecialTokens: false`, as `tokenizer(text,
   * add_special_tokens=False)` gives them (what apply_chat_template encodes a rendered chat with).
   */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /**
   * A sentence pair as `tokenizer(a, b)` encodes it (BERT: [CLS] a [SEP] b [SEP]), with each
   * token's segment (token_type_ids: 0 for the first, 1 for the second where the post-processor
   * gives types; all 0 where it does not).
   */
  encodePair(a: string, b: string): { ids: number[]; typeIds: number[] };
  /** Text for ids, special tokens kept so that encode→decode is exact for byte-level tokenizers. */
  decode(ids: number[]): string;
  /** One more than the largest id, added tokens included (what `len(tokenizer)` is in Python). */
  vocabSize: number;
  /**
   * tokenizer_config.json's eos_token: appended to every example so a causal LM learns where
   * text ends. Undefined when the config has none, as BERT's tokenizers have none: their
   * post-processor already closes each sequence with [SEP].
   */
  eosId?: number;
  eosToken?: string;
  /** pad_token, else eos_token: what fills a batch's rows after their last real token. */
  padId: number;
  /** mask_token, what masked-LM training replaces chosen tokens with; undefined when the config has none. */
  maskId?: number;
  /** The special tokens' ids, ascending: tokenizer.json's added tokens marked special and the config's *_token entries. */
  specialIds: number[];
}

export interface TokenizerOptions {
  /**
   * Refuse a config without eos_token (default true): a causal LM's examples end with it.
   * A masked LM's tokenizer closes sequences itself and need not have one.
   */
  requireEos?: boolean;
}

/** tokenizer_config.json's fields that name special tokens (SpecialTokensMixin.SPECIAL_TOKENS_ATTRIBUTES). */
const SPECIAL_TOKEN_FIELDS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The config next to the tokenizer file, so messages point at the file a person would open. */
function configFileName(fileName: string): string {
  return fileName.replace(/[^/\\]*$/, 'tokenizer_config.json');
}

/**
 * A special-token entry of tokenizer_config.json: either the token string or an AddedToken-like
 * object `{content, …}`. Returns undefined when the field is absent or null.
 */
function specialTokenContent(config: JsonObject, field: string, file: string): string | undefined {
  const value = config[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    if (value === '') throw new Error(`${file}: "${field}" is an empty string`);
    return value;
  }
  if (isObject(value) && typeof value.content === 'string' && value.content !== '') {
    return value.content;
  }
  throw new Error(`${file}: "${field}" must be a token string or an object with a "content" string, got ${describe(value)}`);
}

function validateTokenizerJson(json: unknown, file: string): asserts json is JsonObject {
  if (!isObject(json)) throw new Error(`${file}: expected a JSON object, got ${describe(json)}`);
  const model = json.model;
  if (!isObject(model)) throw new Error(`${file}: "model" must be an object, got ${describe(model)}`);
  if (!isObject(model.vocab) && !Array.isArray(model.vocab)) {
    throw new Error(`${file}: "model.vocab" is missing or not a vocabulary (got ${describe(model.vocab)})`);
  }
  // The package iterates added_tokens unconditionally; a missing list would surface as a TypeError.
  if (!Array.isArray(json.added_tokens)) {
    throw new Error(`${file}: "added_tokens" must be an array, got ${describe(json.added_tokens)}`);
  }
  json.added_tokens.forEach((token, i) => {
    if (!isObject(token) || typeof token.content !== 'string' || !Number.isInteger(token.id)) {
      throw new Error(`${file}: "added_tokens[${i}]" needs an integer "id" and a string "content"`);
    }
  });
}

export function loadTokenizer(
  tokenizerJson: unknown,
  tokenizerConfig: unknown,
  fileName = 'tokenizer.json',
  options: TokenizerOptions = {},
): TextTokenizer {
  const configFile = configFileName(fileName);
  validateTokenizerJson(tokenizerJson, fileName);
  if (!isObject(tokenizerConfig)) {
    throw new Error(`${configFile}: expected a JSON object, got ${describe(tokenizerConfig)}`);
  }

  let inner: Tokenizer;
  try {
    inner = new Tokenizer(tokenizerJson, tokenizerConfig);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`${fileName}: could not build the tokenizer (${reason})`);
  }

  const idOf = (token: string, field: string): number => {
    const id = inner.token_to_id(token);
    if (id === undefined) throw new Error(`${configFile}: "${field}" ${JSON.stringify(token)} is not in ${fileName}'s vocabulary`);
    return id;
  };

  const eosToken = specialTokenContent(tokenizerConfig, 'eos_token', configFile);
  if (eosToken === undefined && options.requireEos !== false) {
    throw new Error(`${configFile}: "eos_token" is missing; causal-LM training needs an end-of-text token`);
  }
  const eosId = eosToken === undefined ? undefined : idOf(eosToken, 'eos_token');
  // GPT-2 ships no pad token; padded positions are masked out of the loss, so eos serves.
  const padToken = specialTokenContent(tokenizerConfig, 'pad_token', configFile);
  const padId = padToken !== undefined ? idOf(padToken, 'pad_token') : eosId;
  if (padId === undefined) throw new Error(`${configFile}: "pad_token" and "eos_token" are both missing; batches need one of them to pad with`);
  const maskToken = specialTokenContent(tokenizerConfig, 'mask_token', configFile);
  const maskId = maskToken === undefined ? undefined : idOf(maskToken, 'mask_token');

  const special = new Set<number>();
  for (const t of tokenizerJson.added_tokens as JsonObject[]) if (t.special === true) special.add(t.id as number);
  for (const field of SPECIAL_TOKEN_FIELDS) {
    const token = specialTokenContent(tokenizerConfig, field, configFile);
    const id = token === undefined ? undefined : inner.token_to_id(token);
    if (id !== undefined) special.add(id);
  }
  const specialIds = [...special].sort((a, b) => a - b);

  let maxId = -1;
  for (const id of inner.get_vocab(true).values()) maxId = Math.max(maxId, id);
  const vocabSize = maxId + 1;
  if (vocabSize <= 0) throw new Error(`${fileName}: the vocabulary is empty`);

  // The JS package defaults clean-up to true, transformers 5 to false; follow the file, else Python.
  const cleanUp = tokenizerConfig.clean_up_tokenization_spaces === true;

  return {
    vocabSize,
    eosId,
    padId,
    eosToken,
    maskId,
    specialIds,
    encode(text: string, options?: { addSpecialTokens?: boolean }): number[] {
      return inner.encode(text, { add_special_tokens: options?.addSpecialTokens ?? true }).ids;
    },
    encodePair(a: string, b: string) {
      const e = inner.encode(a, { text_pair: b, add_special_tokens: true, return_token_type_ids: true });
      return { ids: e.ids, typeIds: e.token_type_ids ?? e.ids.map(() => 0) };
    },
    decode(ids: number[]): string {
      // The package throws on an empty list; an empty sequence is simply empty text.
      if (ids.length === 0) return '';
      for (const id of ids) {
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
          throw new Error(`decode: id ${id} is outside the vocabulary (0..${vocabSize - 1})`);
        }
      }
      return inner.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: cleanUp });
    },
  };
}

/** The tokenizer's end-of-text id, for work that needs one (documents joined by it, generation's stop); throws when it has none. */
export function endOfTextId(tok: TextTokenizer): number {
  if (tok.eosId === undefined) throw new Error('the tokenizer has no end-of-text token (tokenizer_config.json has no "eos_token")');
  return tok.eosId;
}
