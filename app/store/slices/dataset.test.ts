// The dataset slice through the store: choosing, re-reading and rejected files.
import { describe, expect, it, vi } from 'vitest';
import { canStart, chosenLayout, datasetStale, startBlocker, trainsOnWholeText } from '..';
import { model, ready, ROWS, setup, useFakeTimersPerTest, webgpu } from '../testing';

useFakeTimersPerTest();

describe('store: dataset', () => {
  it('holds a file chosen before the model loads, then sends it', () => {
    const t = setup();
    t.store.getState().boot();
    t.receive(webgpu);
    const file = new File(['a'], 'early.txt');
    t.store.getState().chooseDatasetFile(file);
    expect(t.sent.some((m) => m.type === 'loadDataset')).toBe(false);
    t.receive({ type: 'modelLoaded', model });
    expect(t.sent).toContainEqual({ type: 'loadDataset', file, sequenceLength: 128, evalFraction: 0.1, seed: 42 });
  });

  it('reads a labelled file again with the columns the person chose, and keeps them when the sequence length changes', () => {
    const t = ready();
    const file = new File(['premise,hypothesis,gold,label\n'], 'nli.csv');
    t.store.getState().chooseDatasetFile(file);
    const classification = {
      labels: ['a', 'b'],
      counts: [5, 5],
      evalCounts: [1, 1],
      columns: { text: 'premise', pair: 'hypothesis', label: 'label' },
      textColumns: ['premise', 'hypothesis', 'gold'],
      allColumns: ['premise', 'hypothesis', 'gold', 'label'],
      ambiguous: false,
    };
    const summary = { fileName: 'nli.csv', format: 'csv' as const, examples: 10, trainExamples: 8, evalExamples: 2, tokens: 80, truncated: 0, sequenceLength: 128, preview: ['a: x'], classification, ...ROWS };
    t.receive({ type: 'datasetLoaded', dataset: summary });
    t.store.getState().chooseDatasetColumns({ text: 'premise', label: 'gold' });
    expect(t.last()).toEqual({ type: 'loadDataset', file, sequenceLength: 128, evalFraction: 0.1, seed: 42, columns: { text: 'premise', pair: '', label: 'gold' } });
    t.receive({ type: 'datasetLoaded', dataset: { ...summary, classification: { ...classification, columns: { text: 'premise', label: 'gold' } } } });
    expect(t.store.getState().datasetRequest?.columns).toEqual({ text: 'premise', pair: '', label: 'gold' });
    // A new sequence length re-reads the file with the same choice.
    t.store.getState().setTrainField('sequenceLength', '64');
    vi.advanceTimersByTime(1000);
    expect(t.last()).toEqual({ type: 'loadDataset', file, sequenceLength: 64, evalFraction: 0.1, seed: 42, columns: { text: 'premise', pair: '', label: 'gold' } });
  });

  it('reads a refused file again as the person chose, and keeps the choice for the next file', () => {
    const t = ready();
    const refused = new File(['{"q":"x"}\n'], 'odd.jsonl');
    t.store.getState().chooseDatasetFile(refused);
    t.receive({ type: 'datasetRejected', fileName: 'odd.jsonl', issues: [{ line: 1, message: 'missing "text"' }], message: 'odd.jsonl line 1: missing "text"' });
    expect(t.store.getState().datasetRejection?.file).toBe(refused);
    t.store.getState().setDatasetReading({ as: 'chat' });
    expect(t.last()).toEqual({ type: 'loadDataset', file: refused, sequenceLength: 128, evalFraction: 0.1, seed: 42, reading: { as: 'chat' } });
    expect(t.store.getState().datasetRejection).toBeNull();
    // The same choice again sends nothing; a new file is read with it.
    const sent = t.sent.length;
    t.store.getState().setDatasetReading({ as: 'chat' });
    expect(t.sent).toHaveLength(sent);
    const next = new File(['x'], 'next.jsonl');
    t.store.getState().chooseDatasetFile(next);
    expect(t.last()).toEqual({ type: 'loadDataset', file: next, sequenceLength: 128, evalFraction: 0.1, seed: 42, reading: { as: 'chat' } });
  });

  it('reads the loaded file again when the text split changes, and back to what the content shows', () => {
    const t = ready();
    const file = new File(['a\n\nb'], 'notes.txt');
    t.store.getState().chooseDatasetFile(file);
    const summary = { fileName: 'notes.txt', format: 'txt' as const, kind: 'text' as const, examples: 2, trainExamples: 1, evalExamples: 1, tokens: 4, truncated: 0, sequenceLength: 128, preview: ['a'], ...ROWS };
    t.receive({ type: 'datasetLoaded', dataset: summary });
    t.store.getState().setDatasetReading({ split: 'whole' });
    expect(t.last()).toEqual({ type: 'loadDataset', file, sequenceLength: 128, evalFraction: 0.1, seed: 42, reading: { split: 'whole' } });
    t.receive({ type: 'datasetLoaded', dataset: { ...summary, examples: 1 } });
    t.store.getState().setDatasetReading({ split: undefined });
    expect(t.last()).toEqual({ type: 'loadDataset', file, sequenceLength: 128, evalFraction: 0.1, seed: 42 });
  });

  it('reads instruction data again to train on the whole text, keeps the choice for the next file, and announces the prompt tokens left out', () => {
    const t = ready();
    const file = new File(['{"instruction":"x","output":"y"}\n'], 'alpaca.jsonl');
    t.store.getState().chooseDatasetFile(file);
    const summary = { fileName: 'alpaca.jsonl', format: 'jsonl' as const, kind: 'alpaca' as const, completionOnly: true, untrainedTokens: 1234, examples: 10, trainExamples: 9, evalExamples: 1, tokens: 2000, truncated: 0, sequenceLength: 128, preview: ['x'], ...ROWS };
    t.receive({ type: 'datasetLoaded', dataset: summary });
    expect(t.store.getState().announcement).toMatch(/ · 1,234 prompt tokens not trained on$/);
    expect(trainsOnWholeText(t.store.getState())).toBe(false);

    t.store.getState().setTrainOnWholeText(true);
    expect(t.last()).toEqual({ type: 'loadDataset', file, sequenceLength: 128, evalFraction: 0.1, seed: 42, wholeText: true });
    // The box shows the choice while the file is re-read; the same choice again sends nothing.
    expect(trainsOnWholeText(t.store.getState())).toBe(true);
    const sent = t.sent.length;
    t.store.getState().setTrainOnWholeText(true);
    expect(t.sent).toHaveLength(sent);
    t.receive({ type: 'datasetLoaded', dataset: { ...summary, completionOnly: false, untrainedTokens: 0 } });
    expect(t.store.getState().datasetRequest?.wholeText).toBe(true);
    expect(t.store.getState().announcement).not.toMatch(/not trained on/);

    const next = new File(['{"prompt":"a","completion":"b"}\n'], 'qa.jsonl');
    t.store.getState().chooseDatasetFile(next);
    expect(t.last()).toEqual({ type: 'loadDataset', file: next, sequenceLength: 128, evalFraction: 0.1, seed: 42, wholeText: true });
  });

  it('reads the file again with the layout chosen, keeps it for the next file and a new sequence length, and sends nothing for the same choice', () => {
    const t = ready();
    t.store.getState().setSequenceLayout({ long: 'keep-end' });
    expect(t.last()).toEqual({ type: 'loadDataset', file: t.file, sequenceLength: 128, evalFraction: 0.1, seed: 42, layout: { long: 'keep-end' } });
    expect(chosenLayout(t.store.getState())).toEqual({ long: 'keep-end' });
    const sent = t.sent.length;
    t.store.getState().setSequenceLayout({ long: 'keep-end' });
    expect(t.sent).toHaveLength(sent);
    t.receive({ type: 'datasetLoaded', dataset: { fileName: 'data.txt', format: 'txt', examples: 20, trainExamples: 18, evalExamples: 2, tokens: 380, truncated: 3, sequenceLength: 128, preview: ['hello'], ...ROWS } });
    t.store.getState().setSequenceLayout({ short: 'pad' });
    expect(t.last()).toMatchObject({ layout: { long: 'keep-end', short: 'pad' } });
    t.receive({ type: 'datasetLoaded', dataset: { fileName: 'data.txt', format: 'txt', examples: 20, trainExamples: 18, evalExamples: 2, tokens: 380, truncated: 3, sequenceLength: 128, preview: ['hello'], ...ROWS } });
    t.store.getState().setTrainField('sequenceLength', '64');
    vi.advanceTimersByTime(1000);
    expect(t.last()).toEqual({ type: 'loadDataset', file: t.file, sequenceLength: 64, evalFraction: 0.1, seed: 42, layout: { long: 'keep-end', short: 'pad' } });
    const next = new File(['x'], 'next.txt');
    t.store.getState().chooseDatasetFile(next);
    expect(t.last()).toMatchObject({ file: next, layout: { long: 'keep-end', short: 'pad' } });
  });

  it('keeps the previous dataset when a file is rejected', () => {
    const t = ready();
    t.store.getState().chooseDatasetFile(new File(['{'], 'bad.jsonl'));
    t.receive({ type: 'datasetRejected', fileName: 'bad.jsonl', message: 'Not JSON Lines', issues: [{ line: 1, message: 'Unexpected end of JSON' }] });
    const s = t.store.getState();
    expect(s.dataset?.fileName).toBe('data.txt');
    expect(s.datasetRequest?.file).toBe(t.file);
    expect(s.datasetRejection?.issues[0]).toEqual({ line: 1, message: 'Unexpected end of JSON' });
    expect(s.datasetQueue).toHaveLength(0);
    expect(canStart(s)).toBe(true);
  });

  it('shows how far reading has got, announces each phase once, and says how many rows were kept and rejected', () => {
    const t = ready();
    const file = new File(['{"text":"a"}\n{"text":\n'], 'partly.jsonl');
    t.store.getState().chooseDatasetFile(file);
    t.receive({ type: 'datasetProgress', fileName: 'partly.jsonl', phase: 'reading', done: 0, total: 100 });
    expect(t.store.getState().announcement).toBe('Reading partly.jsonl…');
    t.store.setState({ announcement: 'something else' });
    t.receive({ type: 'datasetProgress', fileName: 'partly.jsonl', phase: 'reading', done: 50, total: 100 });
    expect(t.store.getState().datasetProgress).toEqual({ fileName: 'partly.jsonl', phase: 'reading', done: 50, total: 100 });
    expect(t.store.getState().announcement).toBe('something else');
    t.receive({ type: 'datasetProgress', fileName: 'partly.jsonl', phase: 'tokenizing', done: 0, total: 98 });
    expect(t.store.getState().announcement).toBe('Tokenizing partly.jsonl…');
    const rejected = { count: 2, rows: [{ line: 2, message: 'not valid JSON' }, { line: 7, message: '"text" is empty' }] };
    t.receive({ type: 'datasetLoaded', dataset: { fileName: 'partly.jsonl', format: 'jsonl', examples: 98, trainExamples: 88, evalExamples: 10, tokens: 900, truncated: 0, sequenceLength: 128, preview: ['a'], rejected, duplicates: 0, trainRows: 12, evalRows: 2, lengths: { bins: [], exceeding: 0, longest: 40 } } });
    const s = t.store.getState();
    expect(s.datasetProgress).toBeNull();
    expect(s.announcement).toMatch(/^Dataset loaded: partly\.jsonl · kept 98 rows, rejected 2 · /);
    s.downloadRejectedRows();
    expect(t.last()).toEqual({ type: 'exportRejected' });
    const bytes = new TextEncoder().encode('{"text":\n');
    t.receive({ type: 'rejectedRows', fileName: 'partly.rejected.jsonl', bytes });
    expect(t.saved).toEqual([{ fileName: 'partly.rejected.jsonl', bytes }]);
    expect(t.store.getState().announcement).toBe('Saved the rejected rows as partly.rejected.jsonl');
  });

  it('frees the request when the worker answers a dataset with an error', () => {
    const t = ready();
    t.store.getState().chooseDatasetFile(new File(['x'], 'model notes.txt'));
    expect(t.store.getState().datasetQueue).toHaveLength(1);
    t.receive({ type: 'error', context: 'Loading model notes.txt', message: 'cannot change the dataset while training runs', request: 'loadDataset' });
    expect(t.store.getState().datasetQueue).toHaveLength(0);
    expect(t.store.getState().dataset?.fileName).toBe('data.txt');
  });

  it('accepts datasets the worker re-read on its own', () => {
    const t = ready();
    t.receive({
      type: 'datasetLoaded',
      dataset: { fileName: 'data.txt', format: 'txt', examples: 20, trainExamples: 18, evalExamples: 2, tokens: 410, truncated: 0, sequenceLength: 128, preview: ['hello'], ...ROWS },
    });
    const s = t.store.getState();
    expect(s.dataset?.tokens).toBe(410);
    expect(s.datasetRequest?.file).toBe(t.file);
    expect(canStart(s)).toBe(true);
  });

  it('re-reads the same File when Sequence length changes', () => {
    const t = ready();
    const n = t.sent.length;
    t.store.getState().setTrainField('sequenceLength', '6');
    t.store.getState().setTrainField('sequenceLength', '64');
    expect(datasetStale(t.store.getState())).toBe(true);
    expect(canStart(t.store.getState())).toBe(false);
    expect(t.sent).toHaveLength(n); // debounced
    vi.advanceTimersByTime(150);
    expect(t.sent).toHaveLength(n + 1);
    expect(t.last()).toEqual({ type: 'loadDataset', file: t.file, sequenceLength: 64, evalFraction: 0.1, seed: 42 });
    t.receive({
      type: 'datasetLoaded',
      dataset: { fileName: 'data.txt', format: 'txt', examples: 20, trainExamples: 18, evalExamples: 2, tokens: 380, truncated: 3, sequenceLength: 64, preview: ['hello'], ...ROWS },
    });
    expect(datasetStale(t.store.getState())).toBe(false);
    expect(canStart(t.store.getState())).toBe(true);
  });

  it('does not re-read for an invalid Sequence length', () => {
    const t = ready();
    const n = t.sent.length;
    t.store.getState().setTrainField('sequenceLength', '0');
    vi.advanceTimersByTime(500);
    expect(t.sent).toHaveLength(n);
    expect(startBlocker(t.store.getState())).toMatch(/training settings/);
  });
});
