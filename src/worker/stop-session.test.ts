// The worker's messages while a run trains and stops, in Node on the cpu backend with the
// built-in model's real files: a `stepDone` for every step ahead of the batched losses, a stop
// answered at once with what the run still finishes, then its final evaluation, which a skip
// ends without a held-out loss, leaving Export available and no tensor behind.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FromWorker, TrainConfig } from './protocol';
import { StudioSession } from './session';
import { publicModelSource as source } from './testing';


const TRAIN: TrainConfig = {
  steps: 40,
  epochs: 1,
  batchSize: 2,
  sequenceLength: 32,
  learningRate: 1e-3,
  warmupSteps: 1,
  weightDecay: 0.01,
  maxGradNorm: 1,
  evalFraction: 0.2,
  evalEvery: 0,
  seed: 3,
};

const lines = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ text: `Line ${i}: the cat sat on the mat.` })).join('\n');

/** A session with tiny-gpt2 and a dataset loaded; `react` sees every message as it is sent. */
async function loaded(react: (m: FromWorker, session: StudioSession) => void = () => {}) {
  const events: FromWorker[] = [];
  const session: StudioSession = new StudioSession(
    (m) => {
      events.push(m);
      react(m, session);
    },
    { source },
  );
  await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
  await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
  await session.handle({ type: 'loadDataset', file: new File([lines(20)], 'd.jsonl'), sequenceLength: 32, evalFraction: 0.2, seed: 1 });
  return { session, events };
}

/** The run's messages from trainingStarted on, as type (and step or phase) in order. */
function trace(events: FromWorker[]): string[] {
  const from = events.findIndex((e) => e.type === 'trainingStarted');
  return events.slice(from).flatMap((e) => {
    switch (e.type) {
      case 'stepDone':
        return [`step ${e.point.step}`];
      case 'progress':
        return [`losses ${e.points.map((p) => p.step).join(',')}`];
      case 'eval':
        return [`eval ${e.point.step}`];
      case 'stopping':
        return [`stopping ${e.phase} ${e.step}`];
      case 'trainingEnded':
        return [`ended ${e.reason} ${e.step}`];
      default:
        return [];
    }
  });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('StudioSession: feedback while training and stopping', () => {
  it('reports every step before the losses that are read back four at a time', async () => {
    const { session, events } = await loaded();
    await session.handle({ type: 'train', methodId: 'lora', config: {}, train: { ...TRAIN, steps: 6 } });
    expect(trace(events)).toEqual(['eval 0', 'step 1', 'step 2', 'step 3', 'step 4', 'losses 1,2,3,4', 'step 5', 'step 6', 'losses 5,6', 'eval 6', 'ended finished 6']);
    const stepped = events.flatMap((e) => (e.type === 'stepDone' ? [e.point] : []));
    for (const p of stepped) {
      expect(p.totalSteps).toBe(6);
      expect(p.tokens).toBeGreaterThan(0);
      expect(p.tokensPerSecond).toBeGreaterThan(0);
      expect(Number.isFinite(p.tokensPerSecond)).toBe(true);
    }
    expect(stepped.at(-1)!.etaMs).toBe(0);
    // Each evaluation reports its held-out batches as they start, in order, the first before step 1.
    const evaluating = events.flatMap((e) => (e.type === 'evaluating' ? [e] : []));
    const batches = evaluating[0].batches;
    expect(batches).toBeGreaterThan(1);
    const expected = [0, 6].flatMap((step) => Array.from({ length: batches }, (_, i) => ({ type: 'evaluating', step, batch: i + 1, batches })));
    expect(evaluating).toEqual(expected);
    expect(events.indexOf(evaluating[batches - 1])).toBeLessThan(events.findIndex((e) => e.type === 'stepDone'));
    session.current.adapter?.dispose();
    session.current.model?.dispose();
  });

  it('says at once what a stop waits for, then the final evaluation, which a skip ends with no held-out loss and no tensor left', async () => {
    const { session, events } = await loaded((m, s) => {
      // Stop when the second step is reported; skip the evaluation as soon as it is announced.
      if (m.type === 'stepDone' && m.point.step === 2) void s.enqueue({ type: 'stop' });
      if (m.type === 'stopping' && m.phase === 'evaluating') void s.enqueue({ type: 'skipEvaluation' });
    });
    await session.handle({ type: 'train', methodId: 'lora', config: {}, train: TRAIN });
    expect(trace(events)).toEqual(['eval 0', 'step 1', 'step 2', 'stopping finishing 2', 'losses 1,2', 'stopping evaluating 2', 'ended stopped 2']);
    const tensors = session.current.tensors;

    // What was trained exports as soon as the run has ended.
    await session.handle({ type: 'export' });
    expect(events.at(-1)).toMatchObject({ type: 'exported', fileName: 'tiny-gpt2-lora.zip' });

    // The same run again (its adapter replaces this one) leaves the same tensors.
    events.length = 0;
    await session.handle({ type: 'train', methodId: 'lora', config: {}, train: TRAIN });
    expect(trace(events)).toEqual(['eval 0', 'step 1', 'step 2', 'stopping finishing 2', 'losses 1,2', 'stopping evaluating 2', 'ended stopped 2']);
    expect(session.current.tensors).toBe(tensors);
    session.current.adapter?.dispose();
    session.current.model?.dispose();
  });

  it('a stop sent while the run still waits in the queue ends it before its first step; the next run trains', async () => {
    const { session, events } = await loaded();
    const queued = session.enqueue({ type: 'train', methodId: 'lora', config: {}, train: TRAIN });
    await session.enqueue({ type: 'stop' });
    await queued;
    expect(trace(events)).toEqual(['stopping finishing 0', 'ended stopped 0']);

    events.length = 0;
    await session.enqueue({ type: 'train', methodId: 'lora', config: {}, train: { ...TRAIN, steps: 2 } });
    expect(trace(events)).toEqual(['eval 0', 'step 1', 'step 2', 'losses 1,2', 'eval 2', 'ended finished 2']);
    session.current.adapter?.dispose();
    session.current.model?.dispose();
  });

  it('without a skip, the stop ends with the final evaluation at the step it stopped at', async () => {
    const { session, events } = await loaded((m, s) => {
      if (m.type === 'stepDone' && m.point.step === 3) void s.enqueue({ type: 'stop' });
    });
    await session.handle({ type: 'train', methodId: 'lora', config: {}, train: TRAIN });
    expect(trace(events)).toEqual(['eval 0', 'step 1', 'step 2', 'step 3', 'stopping finishing 3', 'losses 1,2,3', 'stopping evaluating 3', 'eval 3', 'ended stopped 3']);
    session.current.adapter?.dispose();
    session.current.model?.dispose();
  });
});
