// A Parquet dataset loaded into the worker's session: read by row group with progress in rows,
// a ClassLabel column's names kept in the file's order through training to the exported
// classifier's id2label, and a file that is not Parquet refused by name with the loaded dataset kept.
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { unzipFiles } from '../io/zip';
import type { FromWorker, TrainConfig } from './protocol';
import { StudioSession } from './session';
import { publicModelSource as source } from './testing';

const fixture = (name: string) => new File([readFileSync(new URL(`../data/fixtures/parquet/${name}`, import.meta.url))], name);

const TRAIN: TrainConfig = { steps: 2, epochs: 1, batchSize: 4, sequenceLength: 16, learningRate: 1e-2, warmupSteps: 0, weightDecay: 0, maxGradNorm: 1, evalFraction: 0.2, evalEvery: 2, seed: 1 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('StudioSession with a Parquet dataset', () => {
  it('reads a labelled Parquet file by rows, keeps its ClassLabel order into the export, and keeps it when a non-Parquet file is dropped', async () => {
    const events: FromWorker[] = [];
    const all = <T extends FromWorker['type']>(type: T) => events.filter((e) => e.type === type) as Extract<FromWorker, { type: T }>[];
    const last = <T extends FromWorker['type']>(type: T) => all(type).at(-1);
    const session = new StudioSession((m) => events.push(m), { source });
    await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
    await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });

    await session.handle({ type: 'loadDataset', file: fixture('sentiment.parquet'), sequenceLength: 16, evalFraction: 0.2, seed: 1 });
    const reading = all('datasetProgress').filter((p) => p.phase === 'reading');
    expect(reading.at(0)).toMatchObject({ fileName: 'sentiment.parquet', done: 0, total: 6 });
    expect(reading.at(-1)).toMatchObject({ done: 6, total: 6 });
    const summary = last('datasetLoaded')!.dataset;
    expect(summary.format).toBe('parquet');
    expect(summary.classification).toMatchObject({ labels: ['positive', 'negative'], counts: [2, 2], columns: { text: 'text', label: 'label' } });
    expect(summary.rejected).toEqual({
      count: 2,
      rows: [
        { line: 3, message: '"text" is empty' },
        { line: 6, message: '"label": label -1 is not one of the 2 ClassLabel ids' },
      ],
      unit: 'row',
    });
    await session.handle({ type: 'exportRejected' });
    expect(last('rejectedRows')).toMatchObject({ fileName: 'sentiment.rejected.jsonl' });
    expect(new TextDecoder().decode(last('rejectedRows')!.bytes)).toBe('{"text":"","label":0}\n{"text":"No label here.","label":-1}\n');

    await session.handle({ type: 'loadDataset', file: new File(['{"text": "hello"}\n'], 'notes.parquet'), sequenceLength: 16, evalFraction: 0.2, seed: 1 });
    expect(last('datasetRejected')).toMatchObject({ fileName: 'notes.parquet', message: expect.stringMatching(/^notes\.parquet: not a readable Parquet file/) });

    // The dataset loaded before trains on, and its classifier's ids are the file's.
    await session.handle({ type: 'train', methodId: 'full-finetune', config: {}, train: TRAIN });
    expect(all('error')).toEqual([]);
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished' });
    await session.handle({ type: 'export', output: 'model' });
    const exported = last('exported')!;
    const config = JSON.parse(new TextDecoder().decode(unzipFiles(exported.bytes, exported.fileName)['config.json']));
    expect(config).toMatchObject({ id2label: { 0: 'positive', 1: 'negative' }, label2id: { positive: 0, negative: 1 } });
  });
});
