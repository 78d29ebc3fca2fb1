// Chat data as transformers and TRL read it. On the same tokenizer files, the studio's rendering
// of a conversation equals `tokenizer.apply_chat_template(chat, tokenize=False)` (with and
// without the generation prompt, and a tool call with the tools' schema), and its prepared
// rows and labels equal those of a real SFTTrainer with assistant_only_loss=True: for the
// default ChatML template and TRL's marked Qwen2.5 template (both with {% generation %}
// markers), and for Meta's Llama 3 template, which has none (TRL swaps in its marked copy; the
// studio renders prefixes). For Qwen2.5's own
// template the two differ exactly where documented: TRL's marked copy also trains the newline
// after each "<|im_start|>assistant". The template transformers 5 saves to chat_template.jinja
// reads back the same.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHAT_TEMPLATE, modelChatTemplate, CHAT_TEMPLATE_FILE, type ChatMessage, type ChatTemplate } from '../../src/data/chat-template';
import { IGNORE_INDEX, makeBatch, prepareDataset } from '../../src/data/dataset';
import { loadTokenizer, type TextTokenizer } from '../../src/tokenize/tokenizer';
import { cleanup, HERE, REPO, runPythonSpec, tempDir } from './helpers';

interface ChatRows {
  versions: Record<string, string>;
  renders: { plain: string; prompt: string }[];
  tool_render: string;
  swapped_template: boolean;
  rows: { input_ids: number[]; labels: number[]; collated_labels: number[] }[];
}

const MAX_LENGTH = 64;
const MODEL_DIR = join(REPO, 'public/models/studio-gpt2-en');

const CHATS: ChatMessage[][] = [
  [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'What is the capital of France?' },
    { role: 'assistant', content: 'Paris.' },
  ],
  [
    { role: 'user', content: 'What is 2+2?' },
    { role: 'assistant', content: '4' },
    { role: 'user', content: 'And 3+3?' },
    { role: 'assistant', content: 'It is 6.' },
  ],
  [
    { role: 'user', content: 'Ünïcödé café?' },
    { role: 'assistant', content: ' naïve 日本語 🎉' },
  ],
  [
    { role: 'user', content: 'Weather in Paris?' },
    { role: 'assistant', content: 'Let me check.' },
    { role: 'tool', content: '18C, sunny' },
    { role: 'assistant', content: 'It is 18C and sunny.' },
  ],
  // Cut at MAX_LENGTH inside the reply.
  [
    { role: 'user', content: 'Tell me a story.' },
    { role: 'assistant', content: 'The quick brown fox jumps over the lazy dog, again and again, until the sun goes down over the quiet hills and the river.' },
  ],
  // Cut before the reply begins: dropped by both.
  [
    { role: 'user', content: 'Read this: ' + 'the cat sat on the mat and looked at the rain. '.repeat(8) },
    { role: 'assistant', content: 'Done.' },
  ],
];

/** An assistant's tool call, the tool's result and the reply, with the tool's schema given to the template. */
const TOOL_CHAT = {
  tools: [{ type: 'function', function: { name: 'weather', description: 'Get the weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
  messages: [
    { role: 'user', content: 'Weather in Paris?' },
    { role: 'assistant', content: '', tool_calls: [{ type: 'function', function: { name: 'weather', arguments: { city: 'Paris' } } }] },
    { role: 'tool', content: '18C' },
    { role: 'assistant', content: 'It is 18C.' },
  ] as ChatMessage[],
};

const JSONL = CHATS.map((messages) => JSON.stringify({ messages })).join('\n');

interface Case {
  name: string;
  /** tokenizer_config.json of the folder. */
  config: Record<string, unknown>;
  /** TRL swaps in a marked copy of this template. */
  swapped: boolean;
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf-8')) as Record<string, unknown>;
}

const fixture = (name: string) => readJson(join(HERE, 'chat-templates', name, 'tokenizer_config.json'));

const CASES: Case[] = [
  { name: 'default-chatml', config: { ...readJson(join(MODEL_DIR, 'tokenizer_config.json')), chat_template: DEFAULT_CHAT_TEMPLATE }, swapped: false },
  { name: 'qwen2.5-training', config: fixture('qwen2.5-training'), swapped: false },
  { name: 'llama3', config: fixture('llama3'), swapped: true },
  { name: 'qwen2.5', config: fixture('qwen2.5'), swapped: true },
];

/** The built-in English GPT-2's tokenizer.json with the config's special tokens added, as the model's own tokenizer has them. */
function tokenizerJson(config: Record<string, unknown>): Record<string, unknown> {
  const tok = readJson(join(MODEL_DIR, 'tokenizer.json'));
  const added = Object.entries((config.added_tokens_decoder ?? {}) as Record<string, Record<string, unknown>>)
    .filter(([id]) => Number(id) >= 2048)
    .map(([id, t]) => ({ id: Number(id), content: t.content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  return { ...tok, added_tokens: [...(tok.added_tokens as unknown[]), ...added] };
}

let work: string;
beforeAll(() => {
  work = tempDir('chat-template');
});
afterAll(() => cleanup(work));

describe.each(CASES)('chat data with the $name template equals transformers and TRL', ({ name, config, swapped }) => {
  let trl: ChatRows;
  let tok: TextTokenizer;
  let template: ChatTemplate;
  const folder = () => join(work, name);
  const saved = () => join(work, `${name}-saved`);

  beforeAll(() => {
    mkdirSync(folder(), { recursive: true });
    const tokJson = tokenizerJson(config);
    writeFileSync(join(folder(), 'tokenizer.json'), JSON.stringify(tokJson));
    writeFileSync(join(folder(), 'tokenizer_config.json'), JSON.stringify(config));
    tok = loadTokenizer(tokJson, config);
    template = modelChatTemplate(name, config);
    trl = runPythonSpec<ChatRows>('chat_template_check.py', work, name, { tokenizer_dir: folder(), model_dir: MODEL_DIR, max_length: MAX_LENGTH, chats: CHATS, tool_chat: TOOL_CHAT, save_dir: saved() });
    console.log(`${name}: TRL ${JSON.stringify(trl.versions)}`);
  });

  it('renders every chat as apply_chat_template does, with and without the generation prompt', () => {
    expect(template.origin).toBe('model');
    CHATS.forEach((chat, i) => {
      expect(template.render(chat)).toBe(trl.renders[i].plain);
      expect(template.render(chat, { addGenerationPrompt: true })).toBe(trl.renders[i].prompt);
    });
    // Tools and an assistant's tool_calls reach the template as transformers passes them (Qwen2.5 renders both).
    expect(template.render(TOOL_CHAT.messages, { tools: TOOL_CHAT.tools })).toBe(trl.tool_render);
    if (name.startsWith('qwen')) expect(trl.tool_render).toContain('<tool_call>\n{"name": "weather", "arguments": {"city": "Paris"}}\n</tool_call>');
  });

  it('reads the chat_template.jinja that transformers saves, with the same result', () => {
    const jinja = join(saved(), CHAT_TEMPLATE_FILE);
    expect(existsSync(jinja)).toBe(true);
    const savedConfig = readJson(join(saved(), 'tokenizer_config.json'));
    expect(savedConfig.chat_template).toBeUndefined();
    const fromFile = modelChatTemplate(name, savedConfig, readFileSync(jinja, 'utf-8'));
    expect(fromFile.file).toBe(`${name}/${CHAT_TEMPLATE_FILE}`);
    for (const chat of CHATS) expect(fromFile.render(chat)).toBe(template.render(chat));
  });

  it(`assistant-only labels: ${swapped ? 'TRL swaps in its marked copy of the template' : "TRL uses the template's own markers"}`, () => {
    expect(trl.swapped_template).toBe(swapped);
    // TRL's SFTTrainer without packing: one row per chat, cut at max_length keeping its start.
    const prepared = prepareDataset('chat.jsonl', JSONL, tok, { sequenceLength: MAX_LENGTH, evalFraction: 0, seed: 1, chatTemplate: () => template, layout: { long: 'keep-start', short: 'pad' } });
    // The last chat is cut before its reply in every case (the ChatML one, whose markers are
    // plain text to this tokenizer, loses one more).
    expect(trl.rows.length).toBeLessThan(CHATS.length);
    expect(prepared.summary).toMatchObject({ kind: 'chat', chatTemplate: 'model', completionOnly: true, nothingTrained: CHATS.length - trl.rows.length });
    expect(prepared.train).toHaveLength(trl.rows.length);
    const batch = makeBatch(prepared.train, MAX_LENGTH, tok.padId, undefined, prepared.trained?.train);
    let untrained = 0;
    let differ = 0;
    prepared.train.forEach((ids, r) => {
      const want = trl.rows[r];
      expect(ids, tok.decode(ids)).toEqual(want.input_ids);
      const labels = Array.from(batch.labels.subarray(r * MAX_LENGTH, r * MAX_LENGTH + ids.length));
      expect(want.collated_labels).toEqual(want.labels);
      if (name !== 'qwen2.5') expect(labels, tok.decode(ids)).toEqual(want.labels);
      else {
        // Qwen2.5 without markers: TRL's marked copy also trains the newline after each
        // "<|im_start|>assistant", which the studio leaves to the generation prompt.
        labels.forEach((l, t) => {
          if (l === want.labels[t]) return;
          expect([l, want.labels[t]]).toEqual([IGNORE_INDEX, ids[t]]);
          expect(tok.decode([ids[t]])).toBe('\n');
          expect(tok.decode(ids.slice(0, t + 1)).endsWith('<|im_start|>assistant\n')).toBe(true);
          differ++;
        });
      }
      untrained += labels.filter((l) => l === IGNORE_INDEX).length;
    });
    if (name === 'qwen2.5') expect(differ).toBe(trl.rows.reduce((n, r) => n + tok.decode(r.input_ids).split('<|im_start|>assistant\n').length - 1, 0));
    expect(prepared.summary.untrainedTokens).toBe(untrained);
    expect(prepared.summary.tokens).toBe(trl.rows.reduce((n, r) => n + r.input_ids.length, 0));
    expect(prepared.summary.truncated).toBeGreaterThanOrEqual(2);
    console.log(`${name}: ${CHATS.length} chats, ${trl.rows.length} kept by both, ${untrained} of ${prepared.summary.tokens} tokens not trained on${name === 'qwen2.5' ? `, ${differ} newline tokens TRL also trains` : ''}`);
  });
});

describe('a model without a chat template', () => {
  it('gets the default ChatML template: the same rows and labels as the ChatML case above', () => {
    const config = readJson(join(MODEL_DIR, 'tokenizer_config.json'));
    expect(config.chat_template).toBeUndefined();
    const tok = loadTokenizer(readJson(join(MODEL_DIR, 'tokenizer.json')), config);
    const none = prepareDataset('chat.jsonl', JSONL, tok, { sequenceLength: MAX_LENGTH, evalFraction: 0, seed: 1, chatTemplate: () => modelChatTemplate('studio-gpt2-en', config) });
    const given = prepareDataset('chat.jsonl', JSONL, tok, { sequenceLength: MAX_LENGTH, evalFraction: 0, seed: 1, chatTemplate: () => modelChatTemplate('m', { ...config, chat_template: DEFAULT_CHAT_TEMPLATE }) });
    expect(none.summary.chatTemplate).toBe('default');
    expect(none.train).toEqual(given.train);
    expect(none.trained).toEqual(given.trained);
  });
});
