// The shipped text, instruction and chat samples are exactly what their script builds, the card
// in public/datasets/README.md gives their true sizes and hashes, and each parses as the studio
// reads it: the documents as plain texts, the tasks as Alpaca examples trained on the output.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDataset } from '../src/data/parse';
import { buildSampleDatasets } from './make-sample-datasets';
import { CONVERSATIONS } from './sample-text/conversations';

const datasets = new URL('../public/datasets/', import.meta.url);
const card = readFileSync(new URL('README.md', datasets), 'utf8');
const evalJson = JSON.parse(readFileSync(new URL('../public/models/studio-gpt2-en/eval.json', import.meta.url), 'utf8')) as {
  heldout: { moby_dick: string[]; sotu: string[] };
};

describe('public/datasets text, instruction and chat samples', () => {
  const built = buildSampleDatasets();

  it.each(built.map((s) => [s.file, s] as const))('%s is rebuilt byte for byte, with the record count, size and hash its card gives', (file, s) => {
    const shipped = readFileSync(new URL(file, datasets), 'utf8');
    expect(s.content).toBe(shipped);
    const sha256 = createHash('sha256').update(shipped).digest('hex');
    expect(card).toContain(`| ${file} | ${s.records} | ${Buffer.byteLength(shipped)} | \`${sha256}\` |`);
    expect(readFileSync(new URL(`LICENSE-${file.startsWith('held-out') ? 'held-out-english' : 'instructions-chat'}.md`, datasets), 'utf8')).toContain(file);
  });

  it('holds the documents the built-in models held out, whole and in order, as plain texts', () => {
    const text = readFileSync(new URL('held-out-english.jsonl', datasets), 'utf8');
    const records = text.trim().split('\n').map((l) => JSON.parse(l) as { text: string; source: string });
    expect(records).toHaveLength(evalJson.heldout.moby_dick.length + evalJson.heldout.sotu.length);
    expect(records[0].source).toBe('Moby-Dick, chapter 126');
    expect(records[0].text.startsWith('CHAPTER 126. The Life-Buoy.')).toBe(true);
    expect(records.at(-1)!.source).toBe('State of the Union, 2000, William J Clinton');
    const parsed = parseDataset('held-out-english.jsonl', text);
    expect(parsed.kind).toBe('text');
    expect(parsed.examples.map((e) => e[0].text)).toEqual(records.map((r) => r.text));
  });

  it('reads the instructions as Alpaca examples, the output alone trained on', () => {
    const parsed = parseDataset('instructions.jsonl', readFileSync(new URL('instructions.jsonl', datasets), 'utf8'));
    expect(parsed.kind).toBe('alpaca');
    expect(parsed.examples).toHaveLength(48);
    expect(parsed.examples[0]).toEqual([
      { text: expect.stringContaining('### Instruction:\nGive the plural of the word.\n\n### Input:\nwhale\n\n### Response:'), train: false },
      { text: 'whales', train: true },
    ]);
  });

  it('has conversations that alternate user and assistant after an optional system message and end with the assistant', () => {
    for (const messages of CONVERSATIONS) {
      const turns = messages[0].role === 'system' ? messages.slice(1) : messages;
      expect(turns.length % 2).toBe(0);
      turns.forEach((m, i) => expect(m.role).toBe(i % 2 === 0 ? 'user' : 'assistant'));
      for (const m of messages) expect(m.content.trim()).not.toBe('');
    }
    expect(CONVERSATIONS.some((m) => m[0].role === 'system')).toBe(true);
    expect(CONVERSATIONS.some((m) => m.filter((x) => x.role === 'assistant').length >= 3)).toBe(true);
  });
});
