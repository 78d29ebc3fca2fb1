// Chat records: a conversation in the OpenAI / TRL conversational format ("messages": [{role,
// content}, …]) or ShareGPT's ("conversations": [{from, value}, …]), read into messages and
// rendered with the model's chat template into an example whose assistant replies are trained on
// (chat-template.ts says how the assistant's text is found).
//
// Roles: system, user and assistant; "tool" messages (a tool's result) are accepted and rendered
// by the template like any message, as context the model reads, never trained on. An
// assistant's other fields (tool_calls, name, …) and the record's "tools" reach the template as
// transformers passes them. ShareGPT's "human" and "gpt" are user and assistant.
import { CHAT_ROLES, ChatTemplate, DEFAULT_CHAT_TEMPLATE, type ChatMessage, type ChatRole, type ChatTemplateOrigin } from './chat-template';
import type { Example } from './parse';

/** How a chat record was written: OpenAI / TRL "messages", or ShareGPT "conversations". */
export type ChatKind = 'chat' | 'sharegpt';

/** ShareGPT's "from" values and the role each is. */
const SHAREGPT_ROLES: Record<string, ChatRole> = { human: 'user', user: 'user', gpt: 'assistant', assistant: 'assistant', system: 'system', tool: 'tool' };

/** The chat template could not be had (it does not parse): the whole file is refused with this. */
export class ChatTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChatTemplateError';
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when a record is a chat: it has "messages" or "conversations". */
export function isChatRecord(record: Record<string, unknown>): boolean {
  return 'messages' in record || 'conversations' in record;
}

/**
 * A chat record's messages (roles mapped, other fields kept) and its tools, or what is wrong
 * with it, naming the message by its 1-based position.
 */
export function chatMessages(record: Record<string, unknown>): { messages: ChatMessage[]; kind: ChatKind; tools?: unknown } | { error: string } {
  const kind: ChatKind = 'messages' in record ? 'chat' : 'sharegpt';
  const [listKey, roleKey, contentKey] = kind === 'chat' ? ['messages', 'role', 'content'] : ['conversations', 'from', 'value'];
  const list = record[listKey];
  if (!Array.isArray(list)) return { error: `"${listKey}" must be an array of {"${roleKey}", "${contentKey}"} objects, got ${describe(list)}` };
  if (list.length === 0) return { error: `"${listKey}" is empty` };
  const accepted = kind === 'chat' ? CHAT_ROLES.join(', ') : Object.keys(SHAREGPT_ROLES).join(', ');
  const messages: ChatMessage[] = [];
  for (let i = 0; i < list.length; i++) {
    const m = list[i];
    const at = `${listKey}[${i}]`;
    if (!isRecord(m)) return { error: `${at} must be an object, got ${describe(m)}` };
    if (!(roleKey in m)) return { error: `${at} has no "${roleKey}"` };
    const given = m[roleKey];
    const role = typeof given !== 'string' ? undefined : kind === 'chat' ? (CHAT_ROLES as readonly string[]).includes(given) ? (given as ChatRole) : undefined : SHAREGPT_ROLES[given];
    if (!role) return { error: `${at}: "${roleKey}" is ${JSON.stringify(given)}, expected one of ${accepted}` };
    if (!(contentKey in m)) return { error: `${at} (${given}) has no "${contentKey}"` };
    const content = m[contentKey];
    if (typeof content !== 'string') return { error: `${at} (${given}): "${contentKey}" must be a string, got ${describe(content)}` };
    const { [roleKey]: _role, [contentKey]: _content, ...rest } = m;
    messages.push({ ...rest, role, content });
  }
  if (!messages.some((m) => m.role === 'assistant')) {
    return { error: `"${listKey}" has no ${kind === 'chat' ? 'assistant' : '"gpt"'} message: there is nothing to train on` };
  }
  let tools = record.tools;
  if (typeof tools === 'string') {
    try {
      tools = JSON.parse(tools);
    } catch {
      return { error: '"tools" is a string but not JSON' };
    }
  }
  if (tools !== undefined && tools !== null && !Array.isArray(tools)) return { error: `"tools" must be an array of tool schemas, got ${describe(tools)}` };
  return { messages, kind, ...(tools ? { tools } : {}) };
}

/**
 * Reads the chat records of one file with one template, asked for at the first chat record
 * (a file without chats never needs one). Without a template source it uses the default.
 */
export class ChatReader {
  private template: ChatTemplate | undefined;

  constructor(private readonly templateOf?: () => ChatTemplate) {}

  /** Which template the file's chats were rendered with; undefined when it had none. */
  get origin(): ChatTemplateOrigin | undefined {
    return this.template?.origin;
  }

  /** A chat record as an example (its template's text, the assistant's parts trained on), or what is wrong with it. */
  example(record: Record<string, unknown>): { example: Example; kind: ChatKind } | { error: string } {
    const read = chatMessages(record);
    if ('error' in read) return read;
    const template = this.resolve();
    let segments;
    try {
      segments = template.segments(read.messages, read.tools);
    } catch (e) {
      return { error: `the chat template could not render this conversation: ${(e as Error).message}` };
    }
    if (!segments.some((s) => s.train)) return { error: 'the chat template renders no assistant text for this conversation: there is nothing to train on' };
    return { example: Object.assign(segments, { templated: true as const }), kind: read.kind };
  }

  private resolve(): ChatTemplate {
    if (!this.template) {
      try {
        this.template = this.templateOf ? this.templateOf() : new ChatTemplate(DEFAULT_CHAT_TEMPLATE, { origin: 'default', file: 'the default ChatML template' });
      } catch (e) {
        throw new ChatTemplateError((e as Error).message);
      }
    }
    return this.template;
  }
}
