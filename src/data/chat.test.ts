// Chat records: both shapes read from files (and refused by line and field when malformed), the
// chat template rendered from each place a model keeps it, the assistant's text found with and
// without {% generation %} markers, and the labels a chat's tokens get.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { byteLevelTokenizerFiles } from '../tokenize/byte-level';
import { loadTokenizer } from '../tokenize/tokenizer';
import { wordPieceTokenizerFiles } from '../tokenize/word-piece';
import { ChatTemplate, DEFAULT_CHAT_TEMPLATE, hasGenerationMarkers, modelChatTemplate, type ChatMessage } from './chat-template';
import { IGNORE_INDEX, makeBatch, prepareDataset, tokenizeExamples } from './dataset';
import { exampleText, parseDataset, wholeTextExample, type Example } from './parse';
import { datasetRejection } from './testing';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf-8');

/** The trained and untrained texts of an example, in order. */
const parts = (e: Example) => e.map((s) => [s.train ? 'train' : 'context', s.text]);

const SYSTEM_USER_ASSISTANT: ChatMessage[] = [
  { role: 'system', content: 'S' },
  { role: 'user', content: 'U' },
  { role: 'assistant', content: 'A' },
];

// Meta's Llama 3 instruct template: no generation markers, a bos_token, content trimmed.
const LLAMA3 =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

describe('reading chat records', () => {
  it('reads "messages" records: roles and content kept, tool messages and tool_calls passed to the template', () => {
    const d = parseDataset('chat.jsonl', fixture('chat-messages.jsonl'));
    expect(d.kind).toBe('chat');
    expect(d.chatTemplate).toBe('default');
    expect(d.examples).toHaveLength(3);
    expect(d.examples.every((e) => e.templated)).toBe(true);
    expect(parts(d.examples[0])).toEqual([
      ['context', '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n'],
      ['train', 'Hello.<|im_end|>\n'],
    ]);
    expect(parts(d.examples[1])).toEqual([
      ['context', '<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n'],
      ['train', '4<|im_end|>\n'],
      ['context', '<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n'],
      ['train', '6<|im_end|>\n'],
    ]);
    // The tool's result is context, like a user turn.
    expect(parts(d.examples[2])).toEqual([
      ['context', '<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n'],
      ['train', 'Let me look.<|im_end|>\n'],
      ['context', '<|im_start|>tool\n18C, sunny<|im_end|>\n<|im_start|>assistant\n'],
      ['train', '18C and sunny.<|im_end|>\n'],
    ]);
  });

  it('reads ShareGPT "conversations": human → user, gpt → assistant, user/assistant/system as they are', () => {
    const d = parseDataset('chat.json', fixture('chat-sharegpt.json'));
    expect(d.kind).toBe('sharegpt');
    expect(parts(d.examples[0])).toEqual([
      ['context', '<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n'],
      ['train', 'Hello!<|im_end|>\n'],
    ]);
    expect(exampleText(d.examples[1])).toBe('<|im_start|>user\nName a colour.<|im_end|>\n<|im_start|>assistant\nBlue.<|im_end|>\n');
  });

  it('a file of both shapes is chat; chats beside plain texts are mixed', () => {
    const both = `${fixture('chat-messages.jsonl').split('\n')[0]}\n${JSON.stringify({ conversations: [{ from: 'human', value: 'a' }, { from: 'gpt', value: 'b' }] })}`;
    expect(parseDataset('c.jsonl', both).kind).toBe('chat');
    const mixed = parseDataset('m.jsonl', `${both}\n{"text": "plain"}`);
    expect(mixed.kind).toBe('mixed');
    expect(mixed.chatTemplate).toBe('default');
    expect(mixed.examples[2].templated).toBeUndefined();
  });

  it('keeps the chats that read and refuses malformed ones, each named by line and field', () => {
    const d = parseDataset('bad.jsonl', fixture('chat-malformed.jsonl'));
    expect(d.examples.map(exampleText)).toEqual(['<|im_start|>user\nfine<|im_end|>\n<|im_start|>assistant\nok<|im_end|>\n']);
    expect(d.rejected.map(({ line, message }) => ({ line, message }))).toEqual([
      { line: 2, message: 'messages[0] has no "role"' },
      { line: 3, message: 'messages[0] (user) has no "content"' },
      { line: 4, message: 'messages[0]: "role" is "bot", expected one of system, user, assistant, tool' },
      { line: 5, message: '"messages" is empty' },
      { line: 6, message: '"messages" has no assistant message: there is nothing to train on' },
      { line: 7, message: 'conversations[1]: "from" is "robot", expected one of human, user, gpt, assistant, system, tool' },
      { line: 8, message: '"conversations" has no "gpt" message: there is nothing to train on' },
      { line: 9, message: 'messages[0] (user): "content" must be a string, got an array' },
      { line: 10, message: '"messages" must be an array of {"role", "content"} objects, got a string' },
    ]);
  });

  it('a JSON array names the record', () => {
    const d = parseDataset('bad.json', JSON.stringify([{ messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }] }, { conversations: [] }]));
    expect(d.examples).toHaveLength(1);
    expect(d.rejected.map(({ line, message }) => ({ line, message }))).toEqual([{ line: 2, message: '"conversations" is empty' }]);
  });

  it('a conversation the template refuses is named by line with the template\'s reason', () => {
    const strict = "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System messages are not supported') }}{% endif %}{{ m['content'] }}{% endfor %}";
    const chats = [
      { messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }] },
      { messages: SYSTEM_USER_ASSISTANT },
    ].map((r) => JSON.stringify(r)).join('\n');
    const d = parseDataset('c.jsonl', chats, { chatTemplate: () => new ChatTemplate(strict, { origin: 'model', file: 'm/tokenizer_config.json' }) });
    expect(d.examples.map(exampleText)).toEqual(['ab']);
    expect(d.rejected.map(({ line, message }) => ({ line, message }))).toEqual([{ line: 2, message: 'the chat template could not render this conversation: System messages are not supported' }]);
  });

  it('a template that does not parse refuses the file once, naming the template; files without chats never read it', () => {
    const broken = () => modelChatTemplate('m', { chat_template: '{% for m in messages %}{{ m.content }' });
    const err = datasetRejection(() => parseDataset('c.jsonl', JSON.stringify({ messages: SYSTEM_USER_ASSISTANT }), { chatTemplate: broken }));
    expect(err.message).toMatch(/^c\.jsonl: m\/tokenizer_config\.json: the chat template could not be read \(/);
    expect(err.issues).toEqual([]);
    expect(parseDataset('t.jsonl', '{"text": "plain"}', { chatTemplate: broken }).examples).toHaveLength(1);
  });
});

describe('the chat template', () => {
  it('the default is ChatML with generation markers around each reply and its end-of-turn', () => {
    const t = modelChatTemplate('m', {});
    expect(t.origin).toBe('default');
    expect(t.marked).toBe(true);
    expect(hasGenerationMarkers(DEFAULT_CHAT_TEMPLATE)).toBe(true);
    expect(t.render(SYSTEM_USER_ASSISTANT)).toBe('<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n');
    expect(t.render(SYSTEM_USER_ASSISTANT.slice(0, 2), { addGenerationPrompt: true })).toBe('<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n');
  });

  it('is read from tokenizer_config.json (a string, or the list form\'s "default"), and chat_template.jinja wins over both', () => {
    const config = { chat_template: LLAMA3, bos_token: { content: '<|begin_of_text|>', special: true }, eos_token: '<|eot_id|>' };
    const fromConfig = modelChatTemplate('m', config);
    expect(fromConfig.origin).toBe('model');
    expect(fromConfig.file).toBe('m/tokenizer_config.json');
    // bos_token reaches the template as a string, from either form of the config's entry.
    expect(fromConfig.render(SYSTEM_USER_ASSISTANT.slice(1))).toBe('<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA<|eot_id|>');
    const listed = modelChatTemplate('m', { ...config, chat_template: [{ name: 'tool_use', template: 'tools' }, { name: 'default', template: '{{ messages[0].content }}!' }] });
    expect(listed.render(SYSTEM_USER_ASSISTANT)).toBe('S!');
    const jinja = modelChatTemplate('m', config, '{{ bos_token }}{{ messages | length }}');
    expect(jinja.file).toBe('m/chat_template.jinja');
    expect(jinja.render(SYSTEM_USER_ASSISTANT)).toBe('<|begin_of_text|>3');
    expect(() => modelChatTemplate('m', { chat_template: [{ name: 'tool_use', template: 'x' }] })).toThrow('m/tokenizer_config.json: "chat_template" lists templates ("tool_use") but none named "default"');
    expect(() => modelChatTemplate('m', { chat_template: 3 })).toThrow('"chat_template" must be a string or a list');
  });

  it('with markers, the segments put together are the rendered text, whatever whitespace control the tags use', () => {
    const variants = [
      DEFAULT_CHAT_TEMPLATE,
      // The same with the tags' other whitespace controls, and a tag on a line of its own.
      "{% for m in messages %}{{ m['role'] }}:\n  {% generation -%}\n   {{ m['content'] }}\n  {%- endgeneration %}\n|\n{% endfor %}",
      "{% for m in messages %}{{ m['role'] }}: {%- generation %} {{ m['content'] }} {% endgeneration -%} ;\n{% endfor %}",
    ];
    const chat: ChatMessage[] = [...SYSTEM_USER_ASSISTANT, { role: 'user', content: ' two  words ' }, { role: 'assistant', content: '\nB\n' }];
    for (const text of variants) {
      const t = new ChatTemplate(text, { origin: 'model', file: 'x' });
      expect(t.marked).toBe(true);
      expect(t.segments(chat).map((s) => s.text).join('')).toBe(t.render(chat));
    }
  });

  it('without markers, an assistant message trains on what it adds after the generation prompt (Llama 3: its trimmed content and <|eot_id|>)', () => {
    const t = modelChatTemplate('m', { chat_template: LLAMA3, bos_token: '<|begin_of_text|>' });
    expect(t.marked).toBe(false);
    const chat: ChatMessage[] = [...SYSTEM_USER_ASSISTANT, { role: 'user', content: 'V' }, { role: 'assistant', content: '  B  ' }];
    expect(parts(t.segments(chat))).toEqual([
      ['context', '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n'],
      ['train', 'A<|eot_id|>'],
      ['context', '<|start_header_id|>user<|end_header_id|>\n\nV<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n'],
      ['train', 'B<|eot_id|>'],
    ]);
  });

  it('without markers, a template that renders a conversation\'s start differently once more follows is refused', () => {
    // Numbers the turns from the end: the text of the first turn changes when a second follows.
    const t = new ChatTemplate('{% for m in messages %}{{ messages | length - loop.index0 }}{{ m.content }}{% endfor %}', { origin: 'model', file: 'm/chat_template.jinja' });
    expect(() => t.segments(SYSTEM_USER_ASSISTANT)).toThrow(/^m\/chat_template\.jinja: the chat template renders the conversation up to message 3 differently once more messages follow/);
  });
});

describe('tokens of a chat', () => {
  const files = byteLevelTokenizerFiles();
  const tok = loadTokenizer(files.tokenizer, files.tokenizerConfig);
  const jsonl = fixture('chat-messages.jsonl');

  it('only the assistant\'s bytes are trained on, and no eos is appended', () => {
    const p = prepareDataset('chat.jsonl', jsonl, tok, { sequenceLength: 512, evalFraction: 0, seed: 1 });
    const examples = parseDataset('chat.jsonl', jsonl).examples;
    expect(p.summary).toMatchObject({ kind: 'chat', chatTemplate: 'default', completionOnly: true, examples: 3, truncated: 0 });
    const batch = makeBatch(p.train, 512, tok.padId, undefined, p.trained!.train);
    let untrained = 0;
    examples.forEach((e, r) => {
      // One token per byte: a token is trained exactly when its byte lies in an assistant segment.
      const want: number[] = [];
      for (const s of e) for (const b of new TextEncoder().encode(s.text)) want.push(s.train ? b : IGNORE_INDEX);
      expect(p.train[r]).toEqual(Array.from(new TextEncoder().encode(exampleText(e))));
      expect(Array.from(batch.labels.subarray(r * 512, r * 512 + want.length))).toEqual(want);
      untrained += want.filter((l) => l === IGNORE_INDEX).length;
    });
    expect(p.summary.untrainedTokens).toBe(untrained);
    expect(p.summary.tokens).toBe(examples.reduce((n, e) => n + new TextEncoder().encode(exampleText(e)).length, 0));
  });

  it('trained on whole, every token is read and still no eos is appended', () => {
    const p = prepareDataset('chat.jsonl', jsonl, tok, { sequenceLength: 512, evalFraction: 0, seed: 1, completionOnly: false });
    expect(p.summary).toMatchObject({ completionOnly: false, untrainedTokens: 0 });
    expect(p.trained).toBeUndefined();
    const whole = parseDataset('chat.jsonl', jsonl).examples.map(wholeTextExample);
    expect(whole.every((e) => e.templated && e.length === 1 && e[0].train)).toBe(true);
    expect(p.train.map((ids) => ids.at(-1))).toEqual([10, 10, 10]); // each ends with the template's "\n"
  });

  it('a chat cut before its first reply is left out and counted', () => {
    const long = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(300) }, { role: 'assistant', content: 'y' }] });
    const p = prepareDataset('chat.jsonl', `${jsonl}\n${long}`, tok, { sequenceLength: 256, evalFraction: 0, seed: 1, layout: { long: 'keep-start', short: 'pad' } });
    expect(p.summary.nothingTrained).toBe(1);
    expect(p.train).toHaveLength(3);
  });

  it('a rendered chat gets none of the tokenizer\'s own special tokens (a BERT tokenizer adds [CLS] … [SEP] to plain text)', () => {
    const wp = wordPieceTokenizerFiles(['hello', 'world']);
    const bert = loadTokenizer(wp.tokenizer, wp.tokenizerConfig, 'tokenizer.json', { requireEos: false });
    const chat: Example = Object.assign([{ text: 'hello ', train: false }, { text: 'world', train: true }], { templated: true as const });
    const plain = tokenizeExamples([[{ text: 'hello ', train: false }, { text: 'world', train: true }]], bert, 16);
    const templated = tokenizeExamples([chat], bert, 16);
    expect(plain.ids[0]).toEqual(bert.encode('hello world'));
    expect(templated.ids[0]).toEqual(bert.encode('hello world', { addSpecialTokens: false }));
    expect(templated.ids[0]).toEqual(plain.ids[0].slice(1, -1));
    expect(Array.from(templated.trained![0]!)).toEqual([0, 1]);
  });
});
