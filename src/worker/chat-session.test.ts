// Chat data through the worker session: the loaded model's chat template (none, chat_template.jinja
// beside the config from a folder or a zip, or tokenizer_config.json's) is the one a chat file is
// rendered with, the summary says which, "train on the prompt too" trains every turn, a template
// that does not parse refuses chat files only, and exports keep chat_template.jinja. Built-in
// models are fetched from a real HTTP server that answers a missing file with its HTML page, as
// the page's own server does.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_TEMPLATE_FILE, DEFAULT_CHAT_TEMPLATE, modelChatTemplate } from '../data/chat-template';
import { prepareDataset } from '../data/dataset';
import { loadTokenizer } from '../tokenize/tokenizer';
import { unzipFiles, zipFiles } from '../io/zip';
import type { FromWorker, TrainConfig } from './protocol';
import { httpModelSource, StudioSession } from './session';

const publicModels = new URL('../../public/models/', import.meta.url);
const tinyBytes = (file: string) => new Uint8Array(readFileSync(new URL(`tiny-gpt2/${file}`, publicModels)));
const TINY_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json'];
const tinyFolder = (): Record<string, Uint8Array> => Object.fromEntries(TINY_FILES.map((f) => [f, tinyBytes(f)]));
const asFiles = (folder: Record<string, Uint8Array>) => Object.entries(folder).map(([name, bytes]) => new File([new Uint8Array(bytes)], name));
const TRAIN: TrainConfig = { steps: 1, epochs: 1, batchSize: 2, sequenceLength: 160, learningRate: 1e-3, warmupSteps: 0, weightDecay: 0.01, maxGradNorm: 1, evalFraction: 0.1, evalEvery: 0, seed: 3 };

const CHATS = Array.from({ length: 6 }, (_, i) =>
  JSON.stringify({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: `Count to ${i}.` }, { role: 'assistant', content: Array.from({ length: i + 1 }, (_, k) => k).join(' ') }] }),
).join('\n');

/** A template of the model's own: "### role" headers, the reply marked for training. */
const MODEL_TEMPLATE = "{% for m in messages %}### {{ m['role'] }}\n{% if m['role'] == 'assistant' %}{% generation %}{{ m['content'] }}{{ eos_token }}{% endgeneration %}{% else %}{{ m['content'] }}\n{% endif %}{% endfor %}";

/** What the session must report as untrained: the file prepared with the model's tokenizer and `template`. */
function expectedUntrained(template: string | undefined, sequenceLength = TRAIN.sequenceLength): number {
  const config = JSON.parse(new TextDecoder().decode(tinyBytes('tokenizer_config.json')));
  const tok = loadTokenizer(JSON.parse(new TextDecoder().decode(tinyBytes('tokenizer.json'))), config);
  const chatTemplate = () => modelChatTemplate('m', config, template);
  return prepareDataset('chat.jsonl', CHATS, tok, { sequenceLength, evalFraction: 0.1, seed: 1, chatTemplate }).summary.untrainedTokens!;
}

let server: Server;
let baseUrl: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  // Serves public/models like a single-page app's server: a missing file gets the HTML page, status 200.
  server = createServer((req, res) => {
    try {
      const bytes = readFileSync(new URL(`.${decodeURIComponent(req.url ?? '/')}`, publicModels));
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
    } catch {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><html><body>PEFT Studio</body></html>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no server address');
  baseUrl = `http://127.0.0.1:${address.port}/`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function session() {
  const events: FromWorker[] = [];
  const s = new StudioSession((m) => events.push(m), { source: httpModelSource(baseUrl) });
  await s.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: baseUrl });
  const last = <T extends FromWorker['type']>(type: T) => events.filter((e) => e.type === type).at(-1) as Extract<FromWorker, { type: T }> | undefined;
  const errors = () => events.filter((e) => e.type === 'error');
  return { s, last, errors };
}

const chatFile = () => new File([CHATS], 'chat.jsonl');

describe('chat data in the session', () => {
  it('a built-in model has no template: chats are rendered with the default ChatML, the reply alone trained on, and train', async () => {
    const { s, last, errors } = await session();
    await s.handle({ type: 'loadModel', id: 'tiny-gpt2' });
    expect(errors()).toEqual([]);
    await s.handle({ type: 'loadDataset', file: chatFile(), sequenceLength: TRAIN.sequenceLength, evalFraction: 0.1, seed: 1 });
    const d = last('datasetLoaded')!.dataset;
    expect(d).toMatchObject({ kind: 'chat', chatTemplate: 'default', completionOnly: true, examples: 6, trainExamples: 5, evalExamples: 1 });
    expect(d.untrainedTokens).toBe(expectedUntrained(undefined));
    expect(d.preview[0]).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nCount to 0.<|im_end|>\n<|im_start|>assistant\n0<|im_end|>\n');
    await s.handle({ type: 'train', methodId: 'lora', config: {}, train: TRAIN });
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished', step: 1 });
    // Every turn trained on: no token left out, and no eos added either (the count of tokens stays).
    await s.handle({ type: 'loadDataset', file: chatFile(), sequenceLength: TRAIN.sequenceLength, evalFraction: 0.1, seed: 1, wholeText: true });
    expect(last('datasetLoaded')!.dataset).toMatchObject({ kind: 'chat', completionOnly: false, untrainedTokens: 0, tokens: d.tokens });
    expect(errors()).toEqual([]);
    s.current.adapter?.dispose();
    s.current.model?.dispose();
  });

  it("a folder's chat_template.jinja (from its files or a zip) renders the chats, and a merged export keeps it", async () => {
    const { s, last, errors } = await session();
    const jinja = new TextEncoder().encode(MODEL_TEMPLATE);
    const folder = { ...tinyFolder(), [CHAT_TEMPLATE_FILE]: jinja };
    for (const files of [asFiles(folder), [new File([new Uint8Array(zipFiles(folder))], 'tiny-chat.zip')]]) {
      await s.handle({ type: 'loadModelFiles', files, name: 'tiny-chat' });
      await s.handle({ type: 'loadDataset', file: chatFile(), sequenceLength: TRAIN.sequenceLength, evalFraction: 0.1, seed: 1 });
      const d = last('datasetLoaded')!.dataset;
      expect(d).toMatchObject({ kind: 'chat', chatTemplate: 'model' });
      expect(d.preview[0]).toBe('### system\nBe brief.\n### user\nCount to 0.\n### assistant\n0<|endoftext|>');
      expect(d.untrainedTokens).toBe(expectedUntrained(MODEL_TEMPLATE));
      expect(d.untrainedTokens).not.toBe(expectedUntrained(undefined));
    }
    await s.handle({ type: 'train', methodId: 'lora', config: {}, train: TRAIN });
    await s.handle({ type: 'exportMerged' });
    const merged = unzipFiles(last('exported')!.bytes, 'merged.zip');
    expect(merged[CHAT_TEMPLATE_FILE]).toEqual(jinja);
    await s.handle({ type: 'train', methodId: 'full-finetune', config: {}, train: TRAIN });
    await s.handle({ type: 'export', output: 'model' });
    const checkpoint = unzipFiles(last('exported')!.bytes, 'full.zip');
    expect(checkpoint[CHAT_TEMPLATE_FILE]).toEqual(jinja);
    expect(errors()).toEqual([]);
    s.current.adapter?.dispose();
    s.current.fineTuned?.dispose();
    s.current.model?.dispose();
  });

  it("tokenizer_config.json's chat_template is read when there is no chat_template.jinja", async () => {
    const { s, last } = await session();
    const config = JSON.parse(new TextDecoder().decode(tinyBytes('tokenizer_config.json')));
    const folder = { ...tinyFolder(), 'tokenizer_config.json': new TextEncoder().encode(JSON.stringify({ ...config, chat_template: [{ name: 'default', template: MODEL_TEMPLATE }] })) };
    await s.handle({ type: 'loadModelFiles', files: asFiles(folder), name: 'tiny-config-template' });
    await s.handle({ type: 'loadDataset', file: chatFile(), sequenceLength: TRAIN.sequenceLength, evalFraction: 0.1, seed: 1 });
    expect(last('datasetLoaded')!.dataset).toMatchObject({ chatTemplate: 'model', untrainedTokens: expectedUntrained(MODEL_TEMPLATE) });
    s.current.model?.dispose();
  });

  it('a chat template that does not parse refuses chat files by name, and the model and plain text still load', async () => {
    const { s, last, errors } = await session();
    const folder = { ...tinyFolder(), [CHAT_TEMPLATE_FILE]: new TextEncoder().encode('{% for m in messages %}{{ m.content }') };
    await s.handle({ type: 'loadModelFiles', files: asFiles(folder), name: 'bad-template' });
    expect(last('modelLoaded')!.model.id).toBe('bad-template');
    await s.handle({ type: 'loadDataset', file: new File(['{"text": "plain"}\n{"text": "text"}'], 'plain.jsonl'), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    expect(last('datasetLoaded')!.dataset.fileName).toBe('plain.jsonl');
    await s.handle({ type: 'loadDataset', file: chatFile(), sequenceLength: 32, evalFraction: 0.1, seed: 1 });
    expect(last('datasetRejected')!.message).toMatch(/^chat\.jsonl: bad-template\/chat_template\.jinja: the chat template could not be read \(/);
    // The plain dataset stays loaded.
    expect(last('datasetLoaded')!.dataset.fileName).toBe('plain.jsonl');
    expect(errors()).toEqual([]);
    s.current.model?.dispose();
  });

  it('the default template is the one built in: the same as giving it as the model\'s', () => {
    expect(expectedUntrained(DEFAULT_CHAT_TEMPLATE)).toBe(expectedUntrained(undefined));
  });
});
