// A model's chat template: the Jinja program in its tokenizer files that turns a conversation
// into the one text the model reads, rendered here with @huggingface/jinja exactly as
// transformers' `tokenizer.apply_chat_template(messages, tokenize=False)` renders it.
//
// For training, a rendered conversation is cut into segments: the text the assistant's replies
// render to is trained on, the rest (system and user turns, tool results, the template's own
// headers) is context only. This is TRL's SFTTrainer with `assistant_only_loss=True`, whose mask
// comes from transformers' `return_assistant_tokens_mask`: the text a template's
// `{% generation %}…{% endgeneration %}` blocks render is the assistant's.
//
// A template without those markers (most models ship none) is read by rendering prefixes: the
// text an assistant message adds after the conversation so far and the generation prompt, i.e.
// exactly what the model would have to write at that point (its reply and end-of-turn text).
// TRL instead swaps in a marked copy of the templates it knows and refuses the others; for its
// Llama 3 copy the two agree token for token, for its Qwen2.5 copy TRL also trains the newline
// after "<|im_start|>assistant", which the generation prompt already holds.
//
// Characters become tokens as for every example made of segments (dataset.ts): a segment owns
// the tokens from where the encoding of the text before it ends. transformers gives a span the
// tokens holding its first and last characters; the two agree wherever the tokenizer splits at
// the span's edges, which templates ensure by putting special tokens, newlines or header text
// there (a token that straddled an edge would belong to the text after it here).
import { Template } from '@huggingface/jinja';
import type { Segment } from './parse';

/** Roles a message may have (OpenAI / TRL conversational format). */
export const CHAT_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

/**
 * One message. `content` is a string; other fields a record gives a message (`name`,
 * `tool_calls`, `tool_call_id`) reach the template unchanged, as they do in transformers.
 */
export interface ChatMessage {
  role: ChatRole;
  content: string;
  [field: string]: unknown;
}

/** Where the template came from: the model's own files, or the default below. */
export type ChatTemplateOrigin = 'model' | 'default';

/** transformers 5 saves a single chat template beside tokenizer_config.json in this file. */
export const CHAT_TEMPLATE_FILE = 'chat_template.jinja';

/**
 * The template used when the model has none: ChatML (<|im_start|>role\n…<|im_end|>\n), the
 * format of OpenAI's ChatML, Qwen and SmolLM2's instruct models, and transformers' former
 * class-level default. It is the most widely shared chat format, so data written for it reads
 * naturally to people and to other tools. It carries `{% generation %}` markers, as TRL's
 * assistant-only loss requires: each assistant reply and its <|im_end|>\n are trained on, the
 * "<|im_start|>assistant\n" header is not (the generation prompt writes it).
 */
export const DEFAULT_CHAT_TEMPLATE = `{%- for message in messages %}
    {%- if message['role'] == 'assistant' %}
        {{- '<|im_start|>assistant\\n' }}
        {%- generation %}
        {{- message['content'] + '<|im_end|>\\n' }}
        {%- endgeneration %}
    {%- else %}
        {{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
`;

/** tokenizer_config.json's special-token fields, passed to the template by name (transformers' special_tokens_map). */
const SPECIAL_TOKEN_FIELDS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;

// Private-use code points the rendered text marks generation blocks with; removed before use.
const GENERATION_START = '\uE000';
const GENERATION_END = '\uE001';

/** True when the template has `{% generation %}` blocks (TRL's has_generation_markers). */
export function hasGenerationMarkers(template: string): boolean {
  return /\{%-?\s*generation\s*-?%\}/.test(template);
}

/**
 * The template text with each generation tag turned into a statement pair that prints a
 * marker character, keeping the tag's whitespace control: `{%- generation -%}` becomes
 * `{%- if true %}{{ '\uE000' }}{% endif -%}`, which strips what the tag stripped, and trim_blocks /
 * lstrip_blocks treat it as they treat the tag. @huggingface/jinja itself drops generation tags
 * without saying where they were, which is what the marker characters recover.
 */
function markGenerationBlocks(template: string): string {
  return template.replace(/\{%(-?)\s*(end)?generation\s*(-?)%\}/g, (_, left: string, end: string | undefined, right: string) => {
    return `{%${left} if true %}{{ '${end ? GENERATION_END : GENERATION_START}' }}{% endif ${right}%}`;
  });
}

export class ChatTemplate {
  readonly origin: ChatTemplateOrigin;
  /** Where the text was read from (e.g. "model/chat_template.jinja"), for messages. */
  readonly file: string;
  /** The template has `{% generation %}` blocks; else the assistant's text is found by rendering prefixes. */
  readonly marked: boolean;
  private readonly plain: Template;
  private readonly withMarkers?: Template;
  private readonly specialTokens: Record<string, string>;

  /** Throws when @huggingface/jinja cannot parse the text, naming `file`. */
  constructor(text: string, opts: { origin: ChatTemplateOrigin; file: string; specialTokens?: Record<string, string> }) {
    this.origin = opts.origin;
    this.file = opts.file;
    this.specialTokens = opts.specialTokens ?? {};
    this.marked = hasGenerationMarkers(text);
    try {
      this.plain = new Template(text);
      if (this.marked) this.withMarkers = new Template(markGenerationBlocks(text));
    } catch (e) {
      throw new Error(`${opts.file}: the chat template could not be read (${(e as Error).message})`);
    }
  }

  /**
   * The conversation as the model reads it: transformers' apply_chat_template(messages,
   * tokenize=False, add_generation_prompt=…), with the special tokens of tokenizer_config.json
   * by name (bos_token, eos_token, …) and `tools` when given.
   */
  render(messages: readonly ChatMessage[], opts: { addGenerationPrompt?: boolean; tools?: unknown } = {}): string {
    return this.plain.render(this.context(messages, opts.addGenerationPrompt ?? false, opts.tools));
  }

  /**
   * The rendered conversation cut into segments, the assistant's text trained on and the rest
   * not, in order (empty segments left out). Throws a message naming what went wrong when the
   * template refuses the conversation or, without markers, renders a conversation's start
   * differently once more messages follow (then no prefix says which text is the assistant's).
   */
  segments(messages: readonly ChatMessage[], tools?: unknown): Segment[] {
    for (const m of messages) {
      if (m.content.includes(GENERATION_START) || m.content.includes(GENERATION_END)) {
        throw new Error('a message holds U+E000 or U+E001, private-use characters the studio reserves for reading chat templates');
      }
    }
    const { text, spans } = this.withMarkers ? this.markedSpans(messages, tools) : this.prefixSpans(messages, tools);
    const segments: Segment[] = [];
    let at = 0;
    for (const [start, end] of spans) {
      if (start > at) segments.push({ text: text.slice(at, start), train: false });
      if (end > start) segments.push({ text: text.slice(start, end), train: true });
      at = Math.max(at, end);
    }
    if (at < text.length) segments.push({ text: text.slice(at), train: false });
    return segments;
  }

  private context(messages: readonly ChatMessage[], addGenerationPrompt: boolean, tools: unknown): Record<string, unknown> {
    // transformers passes tools and documents as None when absent; templates test them.
    return { ...this.specialTokens, messages, tools: tools ?? null, documents: null, add_generation_prompt: addGenerationPrompt };
  }

  /** The generation blocks' character spans, from the marker characters in the rendered text. */
  private markedSpans(messages: readonly ChatMessage[], tools: unknown): { text: string; spans: [number, number][] } {
    const marked = this.withMarkers!.render(this.context(messages, false, tools));
    const spans: [number, number][] = [];
    let text = '';
    let open: number | undefined;
    for (const ch of marked) {
      if (ch === GENERATION_START || ch === GENERATION_END) {
        const starts = ch === GENERATION_START;
        if (starts === (open !== undefined)) throw new Error(`${this.file}: the chat template's generation blocks are not closed in order`);
        if (starts) open = text.length;
        else {
          spans.push([open!, text.length]);
          open = undefined;
        }
      } else text += ch;
    }
    if (open !== undefined) throw new Error(`${this.file}: a generation block of the chat template is never closed`);
    return { text, spans };
  }

  /** Each assistant message's text: what it adds to the conversation before it and the generation prompt. */
  private prefixSpans(messages: readonly ChatMessage[], tools: unknown): { text: string; spans: [number, number][] } {
    const text = this.render(messages, { tools });
    const spans: [number, number][] = [];
    messages.forEach((m, i) => {
      if (m.role !== 'assistant') return;
      const prompt = this.render(messages.slice(0, i), { addGenerationPrompt: true, tools });
      const through = this.render(messages.slice(0, i + 1), { tools });
      if (!through.startsWith(prompt) || !text.startsWith(through)) {
        throw new Error(
          `${this.file}: the chat template renders the conversation up to message ${i + 1} differently once more messages follow, ` +
            'so its assistant text cannot be told apart; a template with {% generation %} markers says which text is the assistant\'s',
        );
      }
      spans.push([prompt.length, through.length]);
    });
    return { text, spans };
  }
}

/**
 * The chat template of a model's tokenizer files, as transformers 5 loads it: chat_template.jinja
 * beside the config when there is one (it takes priority), else tokenizer_config.json's
 * "chat_template", a string or a list of {name, template} (the one named "default" is used);
 * else the default ChatML template. `folder` names the model in messages.
 */
export function modelChatTemplate(folder: string, tokenizerConfig: Record<string, unknown>, jinjaFile?: string): ChatTemplate {
  const specialTokens: Record<string, string> = {};
  for (const field of SPECIAL_TOKEN_FIELDS) {
    const value = tokenizerConfig[field];
    const content = typeof value === 'string' ? value : typeof value === 'object' && value !== null ? (value as { content?: unknown }).content : undefined;
    if (typeof content === 'string') specialTokens[field] = content;
  }
  if (jinjaFile !== undefined) return new ChatTemplate(jinjaFile, { origin: 'model', file: `${folder}/${CHAT_TEMPLATE_FILE}`, specialTokens });
  const configFile = `${folder}/tokenizer_config.json`;
  const field = tokenizerConfig.chat_template;
  if (field === undefined || field === null) return new ChatTemplate(DEFAULT_CHAT_TEMPLATE, { origin: 'default', file: 'the default ChatML template', specialTokens });
  if (typeof field === 'string') return new ChatTemplate(field, { origin: 'model', file: configFile, specialTokens });
  if (Array.isArray(field)) {
    const named = field.find((t) => typeof t === 'object' && t !== null && (t as { name?: unknown }).name === 'default') as { template?: unknown } | undefined;
    const names = field.map((t) => JSON.stringify((t as { name?: unknown })?.name)).join(', ');
    if (!named) throw new Error(`${configFile}: "chat_template" lists templates (${names}) but none named "default"`);
    if (typeof named.template !== 'string') throw new Error(`${configFile}: "chat_template" entry "default" has no "template" string`);
    return new ChatTemplate(named.template, { origin: 'model', file: configFile, specialTokens });
  }
  throw new Error(`${configFile}: "chat_template" must be a string or a list of {"name", "template"}`);
}
