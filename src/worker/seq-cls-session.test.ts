// The session with a labelled dataset: the label set in the summary, the head in the plan, a
// classifier trained with held-out metrics at each evaluation, a column chosen by the person,
// distillation refused, a rejected file leaving the labelled dataset in place, methods compared
// as classifiers, full fine-tuning exporting a sequence-classification checkpoint, and BitFit and
// Houlsby classifiers exported in their own formats with the head, their import refused.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../io/safetensors';
import { unzipFiles } from '../io/zip';
import type { FromWorker, TrainConfig } from './protocol';
import { DISTILL_ID } from '../distill/run';
import { StudioSession } from './session';
import { publicModelSource as source } from './testing';


const TRAIN: TrainConfig = { steps: 2, epochs: 1, batchSize: 4, sequenceLength: 16, learningRate: 1e-2, warmupSteps: 0, weightDecay: 0, maxGradNorm: 1, evalFraction: 0.2, evalEvery: 2, seed: 1 };
const CSV = ['text,title,label', ...Array.from({ length: 10 }, (_, i) => `${i % 2 ? 'yes' : 'no'} ${i},t${i},${i % 2 ? 'b' : 'a'}`)].join('\n');

/** A session on the cpu backend with tiny-gpt2 loaded, and what it has said so far. */
async function tinySession() {
  const events: FromWorker[] = [];
  const all = <T extends FromWorker['type']>(type: T) => events.filter((e) => e.type === type) as Extract<FromWorker, { type: T }>[];
  const last = <T extends FromWorker['type']>(type: T) => all(type).at(-1);
  const session = new StudioSession((m) => events.push(m), { source });
  await session.handle({ type: 'init', backend: 'cpu', modelsBaseUrl: 'http://unused/' });
  await session.handle({ type: 'loadModel', id: 'tiny-gpt2' });
  return { events, all, last, session };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('StudioSession with a labelled dataset', () => {
  it('shows the labels, counts the head, trains a classifier with held-out metrics, and refuses distillation', async () => {
    const { events, last, session } = await tinySession();
    const d = last('modelLoaded')!.model.hiddenSize;
    await session.handle({ type: 'plan', methodId: 'lora', config: { r: '4', target_modules: ['c_attn'] } });
    const lmPlan = last('planned')!.plan as { trainable: number; total: number };

    await session.handle({ type: 'loadDataset', file: new File([CSV], 'labels.csv'), sequenceLength: 16, evalFraction: 0.2, seed: 1 });
    const summary = last('datasetLoaded')!.dataset;
    expect(summary.classification).toMatchObject({ labels: ['a', 'b'], counts: [5, 5], evalCounts: [1, 1], columns: { text: 'text', label: 'label' } });
    expect(summary.preview[0]).toBe('a: no 0');

    // The score head (2 labels × d, no bias) trains with LoRA and is counted as PEFT counts modules to save.
    await session.handle({ type: 'plan', methodId: 'lora', config: { r: '4', target_modules: ['c_attn'] } });
    expect(last('planned')!.plan).toMatchObject({ trainable: lmPlan.trainable + 2 * d, total: lmPlan.total + 2 * d });

    const before = tf.memory().numTensors;
    await session.handle({ type: 'train', methodId: 'lora', config: { r: '4', target_modules: ['c_attn'] }, train: TRAIN });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished' });
    const evals = events.flatMap((e) => (e.type === 'eval' ? [e.point] : []));
    expect(evals.map((e) => e.step)).toEqual([0, 2]);
    for (const e of evals) {
      expect(e.classification!.examples).toBe(2);
      expect(e.classification!.confusion.flat().reduce((a, b) => a + b, 0)).toBe(2);
      expect(Number.isFinite(e.evalLoss)).toBe(true);
    }
    // What stays held is the adapter and its head: 4 LoRA pairs and the score weight.
    expect(tf.memory().numTensors - before).toBe(4 * 2 + 1);

    await session.handle({ type: 'train', methodId: DISTILL_ID, config: {}, train: TRAIN });
    expect(last('error')!.message).toMatch(/trains a model on text; a labelled dataset trains a classifier with a PEFT method/);

    // The person picks another text column; a broken file then leaves that dataset loaded.
    await session.handle({ type: 'loadDataset', file: new File([CSV], 'labels.csv'), sequenceLength: 16, evalFraction: 0.2, seed: 1, columns: { text: 'title' } });
    expect(last('datasetLoaded')!.dataset.preview[0]).toBe('a: t0');
    await session.handle({ type: 'loadDataset', file: new File(['text,label\n,a\n,b\n'], 'broken.csv'), sequenceLength: 16, evalFraction: 0.2, seed: 1 });
    expect(last('datasetRejected')).toMatchObject({ fileName: 'broken.csv', issues: [{ line: 2, message: '"text" is empty' }, { line: 3, message: '"text" is empty' }] });
    await session.handle({ type: 'plan', methodId: 'lora', config: { r: '4', target_modules: ['c_attn'] } });
    expect(last('planned')!.plan).toMatchObject({ trainable: lmPlan.trainable + 2 * d });
  });

  it('compares methods as classifiers: each row has the held-out accuracy and macro-F1 of its last evaluation and the head in its counts', async () => {
    const { events, all, session } = await tinySession();
    await session.handle({ type: 'loadDataset', file: new File([CSV], 'labels.csv'), sequenceLength: 16, evalFraction: 0.2, seed: 1 });
    const runs = [
      { methodId: 'lora', config: { r: '4', target_modules: ['c_attn'] } },
      { methodId: 'prompt-tuning', config: { num_virtual_tokens: '4' } },
    ];
    const planned: { trainable: number; total: number }[] = [];
    for (const r of runs) {
      await session.handle({ type: 'plan', ...r });
      planned.push(all('planned').at(-1)!.plan as { trainable: number; total: number });
    }
    await session.handle({ type: 'compare', runs, train: TRAIN });
    expect(all('error')).toEqual([]);
    const results = all('compareRunEnded');
    expect(results.map((r) => r.methodId)).toEqual(['lora', 'prompt-tuning']);
    const starts = events.flatMap((e, i) => (e.type === 'trainingStarted' ? [i] : []));
    results.forEach((r, k) => {
      const evals = events.slice(starts[k], starts[k + 1] ?? events.length).flatMap((e) => (e.type === 'eval' ? [e.point] : []));
      const final = evals.at(-1)!;
      expect(final.step).toBe(2);
      expect(r.finalClassification).toEqual({ accuracy: final.classification!.accuracy, macroF1: final.classification!.macroF1 });
      expect(r.finalEvalLoss).toBe(final.evalLoss);
      // The counts the page's budget shows for the same settings: the method's and the head's.
      expect({ trainable: r.trainable, total: r.total }).toEqual({ trainable: planned[k].trainable, total: planned[k].total });
    });
  });

  it('fully fine-tunes a classifier: the plan counts the body and the head, evaluations report the labels, and the export is a sequence-classification checkpoint', async () => {
    const { events, last, session } = await tinySession();
    const { hiddenSize: d, totalParams } = last('modelLoaded')!.model;
    await session.handle({ type: 'loadDataset', file: new File([CSV], 'labels.csv'), sequenceLength: 16, evalFraction: 0.2, seed: 1 });

    // GPT-2's head is tied to wte, so the body is every parameter; the score head adds 2 × d.
    await session.handle({ type: 'plan', methodId: 'full-finetune', config: {} });
    expect(last('planned')!.plan).toMatchObject({ output: 'model', trainable: totalParams + 2 * d, total: totalParams + 2 * d, percent: 100 });
    await session.handle({ type: 'planAll', configs: {} });
    expect(last('plannedAll')!.plans.find((p) => p.methodId === 'full-finetune')).toMatchObject({ trainable: totalParams + 2 * d, total: totalParams + 2 * d });

    await session.handle({ type: 'train', methodId: 'full-finetune', config: {}, train: TRAIN });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    expect(last('trainingStarted')).toMatchObject({ methodId: 'full-finetune', output: 'model', mergeable: false });
    expect(last('trainingEnded')).toMatchObject({ reason: 'finished' });
    const evals = events.flatMap((e) => (e.type === 'eval' ? [e.point] : []));
    expect(evals.map((e) => e.step)).toEqual([0, 2]);
    for (const e of evals) expect(e.classification!.confusion.flat().reduce((a, b) => a + b, 0)).toBe(2);

    await session.handle({ type: 'export', output: 'model' });
    const exported = last('exported')!;
    expect(exported.fileName).toBe('tiny-gpt2-full-finetune-classifier.zip');
    const files = unzipFiles(exported.bytes, exported.fileName);
    expect(JSON.parse(new TextDecoder().decode(files['config.json']))).toMatchObject({ architectures: ['GPT2ForSequenceClassification'], id2label: { 0: 'a', 1: 'b' }, label2id: { a: 0, b: 1 } });
    expect(readSafetensors(files['model.safetensors'], 'model.safetensors').tensors.get('score.weight')?.shape).toEqual([2, d]);
  });
});

describe('StudioSession: BitFit and Houlsby classifiers', () => {
  it('export with the head in their own formats; importing such an export is refused by name and the classifier stays', async () => {
    const { events, last, session } = await tinySession();
    const d = last('modelLoaded')!.model.hiddenSize;
    await session.handle({ type: 'loadDataset', file: new File([CSV], 'labels.csv'), sequenceLength: 16, evalFraction: 0.2, seed: 1 });

    const cases = [
      { methodId: 'bitfit', config: { trainable_biases: 'attention' }, fileName: 'tiny-gpt2-bitfit-classifier.zip', message: /^x\.zip: bitfit_config\.json: "task_type" is "SEQ_CLS": these biases were trained with a GPT2ForSequenceClassification head, which the studio does not import/ },
      { methodId: 'houlsby', config: { reduction_factor: 16 }, fileName: 'tiny-gpt2-houlsby-classifier.zip', message: /^x\.zip: head_config\.json: this adapter was saved with a GPT2ForSequenceClassification head, which the studio does not import/ },
    ];
    for (const c of cases) {
      await session.handle({ type: 'train', methodId: c.methodId, config: c.config, train: TRAIN });
      expect(events.filter((e) => e.type === 'error' && e.request !== 'importAdapter'), c.methodId).toEqual([]);
      await session.handle({ type: 'export' });
      const exported = last('exported')!;
      expect(exported.fileName).toBe(c.fileName);
      const files = unzipFiles(exported.bytes, exported.fileName);
      const weights = c.methodId === 'bitfit' ? files['bitfit_model.safetensors'] : files['model_head.safetensors'];
      expect(readSafetensors(weights).tensors.get('score.weight')!.shape, c.methodId).toEqual([2, d]);

      const tensors = tf.memory().numTensors;
      await session.handle({ type: 'importAdapter', file: new File([new Uint8Array(exported.bytes)], 'x.zip') });
      expect(last('error')).toMatchObject({ context: 'Importing an adapter', request: 'importAdapter', message: expect.stringMatching(c.message) });
      expect(tf.memory().numTensors).toBe(tensors);
      // The trained classifier is still the session's: it exports the same bytes.
      await session.handle({ type: 'export' });
      expect(Array.from(last('exported')!.bytes)).toEqual(Array.from(exported.bytes));
    }
    expect(events.filter((e) => e.type === 'adapterImported')).toEqual([]);
  });
});
