// Writes the studio's language-modelling sample datasets to public/datasets/:
//   - held-out-english.jsonl: the documents both built-in models held out of pretraining (the
//     end of Moby-Dick and four State of the Union addresses, as eval.json of studio-gpt2-en
//     lists them), one JSON record per document with its `text` and `source`. Whole documents,
//     thousands of tokens each: the studio trains on them in consecutive windows. Fine-tuning on
//     text the base model never saw shows a held-out loss that means something.
//   - instructions.jsonl: short tasks in Alpaca's fields (instruction, input, output), written
//     for this repository (scripts/sample-text/instructions.ts).
//   - chat.jsonl: conversations in the role/content `messages` format, written for this
//     repository (scripts/sample-text/conversations.ts).
// `npm run make-sample-datasets`; the same bytes every run.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONVERSATIONS } from './sample-text/conversations';
import { INSTRUCTIONS } from './sample-text/instructions';

const STDLIB = new URL('../node_modules/@stdlib/', import.meta.url).pathname;
const OUT_DIR = new URL('../public/datasets/', import.meta.url).pathname;
const EVAL = new URL('../public/models/studio-gpt2-en/eval.json', import.meta.url).pathname;

export interface SampleFile {
  file: string;
  content: string;
  records: number;
}

function jsonl(records: readonly object[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** "chapter_126" → "Moby-Dick, chapter 126"; "1863_abraham_lincoln_r" → "State of the Union, 1863, Abraham Lincoln". */
function sourceName(book: 'moby_dick' | 'sotu', id: string): string {
  if (book === 'moby_dick') return `Moby-Dick, ${id.replace('_', ' ')}`;
  const { year, name } = JSON.parse(readFileSync(join(STDLIB, 'datasets-sotu/data', `${id}.json`), 'utf8')) as { year: number; name: string };
  return `State of the Union, ${year}, ${name}`;
}

/** The held-out documents, read from the pinned corpus packages, in eval.json's order. */
export function buildHeldOutEnglish(): SampleFile {
  const { heldout } = JSON.parse(readFileSync(EVAL, 'utf8')) as { heldout: { moby_dick: string[]; sotu: string[] } };
  const read = (pkg: string, id: string) => readFileSync(join(STDLIB, pkg, 'data', `${id}.txt`), 'utf8').replace(/\r\n?/g, '\n').trim();
  const records = [
    ...heldout.moby_dick.map((id) => ({ text: read('datasets-moby-dick', id), source: sourceName('moby_dick', id) })),
    ...heldout.sotu.map((id) => ({ text: read('datasets-sotu', id), source: sourceName('sotu', id) })),
  ];
  return { file: 'held-out-english.jsonl', content: jsonl(records), records: records.length };
}

export function buildInstructions(): SampleFile {
  return { file: 'instructions.jsonl', content: jsonl(INSTRUCTIONS), records: INSTRUCTIONS.length };
}

export function buildChat(): SampleFile {
  return { file: 'chat.jsonl', content: jsonl(CONVERSATIONS.map((messages) => ({ messages }))), records: CONVERSATIONS.length };
}

export function buildSampleDatasets(): SampleFile[] {
  return [buildHeldOutEnglish(), buildInstructions(), buildChat()];
}

function main() {
  mkdirSync(OUT_DIR, { recursive: true });
  for (const s of buildSampleDatasets()) {
    writeFileSync(join(OUT_DIR, s.file), s.content);
    const sha256 = createHash('sha256').update(s.content).digest('hex');
    console.log(`${s.file}: ${s.records} records, ${Buffer.byteLength(s.content)} bytes, sha256 ${sha256}`);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) main();
