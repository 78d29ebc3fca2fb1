import { describe, expect, it } from 'vitest';
import { parseLabelled, stratifiedSplit } from './labelled';
import { DatasetError } from './parse';

describe('parseLabelled', () => {
  it('reads a CSV with a sentence and a string label; label ids in sorted order', () => {
    const d = parseLabelled('s.csv', 'sentence,label\ngreat film,pos\nawful,neg\n"fine, really",pos\n')!;
    expect(d.columns).toEqual({ text: 'sentence', pair: undefined, label: 'label' });
    expect(d.texts).toEqual(['great film', 'awful', 'fine, really']);
    expect(d.labelNames).toEqual(['neg', 'pos']);
    expect(d.classes).toEqual([1, 0, 1]);
    expect(d.ambiguous).toBe(false);
  });

  it('reads GLUE sentence pairs from JSONL with integer labels, numerically ordered', () => {
    const lines = [
      { sentence1: 'a cat sat', sentence2: 'a cat was sitting', label: 10 },
      { sentence1: 'a dog ran', sentence2: 'nothing moved', label: 2 },
      { sentence1: 'x', sentence2: 'y', label: 10 },
    ];
    const d = parseLabelled('p.jsonl', lines.map((l) => JSON.stringify(l)).join('\n'))!;
    expect(d.columns).toEqual({ text: 'sentence1', pair: 'sentence2', label: 'label' });
    expect(d.pairs).toEqual(['a cat was sitting', 'nothing moved', 'y']);
    expect(d.labelNames).toEqual(['2', '10']);
    expect(d.classes).toEqual([1, 0, 1]);
  });

  it('is not a labelled dataset without a label column, and lets the person choose when several text columns fit', () => {
    expect(parseLabelled('t.csv', 'text\nhello\n')).toBeUndefined();
    expect(parseLabelled('t.txt', 'hello\n')).toBeUndefined();
    const tsv = 'text\tsentence\tlabels\na\tb\tx\nc\td\ty\n';
    const auto = parseLabelled('t.tsv', tsv)!;
    expect(auto.columns.text).toBe('text');
    expect(auto.ambiguous).toBe(true);
    expect(auto.textColumns).toEqual(['text', 'sentence']);
    const chosen = parseLabelled('t.tsv', tsv, { text: 'sentence' })!;
    expect(chosen.texts).toEqual(['b', 'd']);
    expect(chosen.ambiguous).toBe(false);
    expect(() => parseLabelled('t.tsv', tsv, { text: 'nope' })).toThrow(/no column "nope"/);
  });

  it('leaves a file without a label column to the language-model parser even when some of its lines are bad, and keeps a labelled one\'s good rows', () => {
    expect(parseLabelled('lm.jsonl', '{"text": "fine"}\n{"text": "broken\n{"title": "no text"}\n')).toBeUndefined();
    const d = parseLabelled('cls.jsonl', '{"text": "a", "label": "x"}\n{"text": "b\n{"text": "c", "label": "y"}\n')!;
    expect(d.texts).toEqual(['a', 'c']);
    expect(d.rejected).toHaveLength(1);
    expect(d.rejected[0]).toMatchObject({ line: 2, raw: '{"text": "b' });
    expect(d.rejected[0].message).toMatch(/^not valid JSON/);
    // The first object decides: a label column there makes the file labelled, even after broken lines.
    expect(parseLabelled('late.jsonl', 'oops\n{"text": "a", "label": 0}\n{"text": "b", "label": 1}\n')!.rejected.map((r) => r.line)).toEqual([1]);
  });

  it('refuses every bad row by itself, naming its line and field, keeps the others, and refuses a file with none or a single label', () => {
    const csv = 'text,label\nok,a\n,b\nfine,\nalso,b,extra\n"two\nlines",b\n';
    const d = parseLabelled('bad.csv', csv)!;
    expect(d.texts).toEqual(['ok', 'two\nlines']);
    expect(d.classes).toEqual([0, 1]);
    expect(d.rejected).toEqual([
      { line: 3, message: '"text" is empty', raw: ',b' },
      { line: 4, message: '"label" must be a label (a string or an integer), got an empty value', raw: 'fine,' },
      { line: 5, message: 'expected 2 fields, found 3', raw: 'also,b,extra' },
    ]);
    let error: DatasetError | undefined;
    try {
      parseLabelled('bad.csv', 'text,label\nok,a\n,b\nfine,\n');
    } catch (e) {
      error = e as DatasetError;
    }
    expect(error).toBeInstanceOf(DatasetError);
    expect(error!.message).toBe('bad.csv: every example has the label "a"; a classifier needs at least two labels (2 other rows did not read; the first, line 3: "text" is empty)');
    const jsonl = '{"text":"a","label":1.5}\n{"text":"b","label":null}\n{"text":3,"label":0}';
    expect(() => parseLabelled('b.jsonl', jsonl)).toThrow(/^b\.jsonl line 1: "label" must be a label \(a string or an integer\), got 1\.5 \(and 2 more problems\)$/);
    expect(() => parseLabelled('one.csv', 'text,label\na,x\nb,x\n')).toThrow(/every example has the label "x"; a classifier needs at least two labels/);
  });
});

describe('stratifiedSplit', () => {
  it('holds out each label in proportion, seeded, and never a whole label', () => {
    const classes = [...new Array(30).fill(0), ...new Array(10).fill(1), 2];
    const s = stratifiedSplit(classes, 3, 0.2, 7);
    const heldOf = (k: number) => s.eval.filter((i) => classes[i] === k).length;
    expect([heldOf(0), heldOf(1), heldOf(2)]).toEqual([6, 2, 0]);
    expect(s.train.length + s.eval.length).toBe(classes.length);
    expect(new Set([...s.train, ...s.eval]).size).toBe(classes.length);
    expect(stratifiedSplit(classes, 3, 0.2, 7)).toEqual(s);
    expect(stratifiedSplit(classes, 3, 0.2, 8).eval).not.toEqual(s.eval);
    // Rounding to nothing still holds one out.
    expect(stratifiedSplit([0, 1, 0, 1], 2, 0.1, 1).eval.length).toBe(1);
  });
});
