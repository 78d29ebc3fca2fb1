// The distilled student as a complete Hugging Face checkpoint, and its measured speed-up.
//
// The checkpoint is what the teacher's model class's `save_pretrained` would write for the
// student (GPT2LMHeadModel's for GPT-2, BertForMaskedLM's for BERT, …), written by the studio's
// one checkpoint writer (src/export/checkpoint.ts): the teacher's config.json at the student's
// depth (n_layer for GPT-2, num_hidden_layers for BERT and RoBERTa, n_layers for DistilBERT), the
// student's state dict (a tied head left out, as transformers saves tied weights), and the
// teacher folder's tokenizer files unchanged, since the student shares the teacher's vocabulary.
// The same folder loads back into the studio as a base model.
import * as tf from '@tensorflow/tfjs';
import { checkpointFiles, stateDict } from '../export/checkpoint';
import type { LoadedModel } from '../models/types';
import type { ExportedFiles } from '../peft/types';
import type { Student } from './student';

/**
 * `teacherFiles` is the teacher's folder as loaded (name → bytes); the tokenizer files among
 * them are copied, its config.json and weights are not (the student has its own). A teacher
 * folder without tokenizer.json is refused.
 */
export async function exportStudent(student: Student, teacherFiles: Record<string, Uint8Array>): Promise<ExportedFiles> {
  if (!teacherFiles['tokenizer.json']) throw new Error('the teacher folder has no tokenizer.json to ship with the student');
  // The student's config.json as planStudent wrote it: the teacher's, at the student's depth.
  const config = new TextEncoder().encode(JSON.stringify(student.info.config.raw, null, 2) + '\n');
  const weights = await stateDict(student.info, (name) => student.weights.get(name));
  return checkpointFiles(student.info.name, config, weights, teacherFiles);
}

export interface Speedup {
  /** Median wall time of one forward pass, ms. */
  teacherMs: number;
  studentMs: number;
  /** teacherMs / studentMs. */
  speedup: number;
  runs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Forward time of the student against the teacher on the same batch, as the median of `runs`
 * timed passes each, after one untimed pass each (kernel compilation, buffer allocation).
 * Teacher and student alternate so a slow spell of the machine hits both alike. Each pass ends
 * with an awaited read of a single number that depends on all logits, so the time covers the
 * whole computation on asynchronous backends (webgpu) without timing a large readback.
 */
export async function studentSpeedup(
  teacher: LoadedModel,
  student: LoadedModel,
  ids: Int32Array,
  batch: number,
  length: number,
  runs = 5,
  now: () => number = () => performance.now(),
): Promise<Speedup> {
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a positive integer, got ${runs}`);
  const once = async (model: LoadedModel): Promise<number> => {
    const t0 = now();
    const s = tf.tidy(() => tf.sum(model.forward(tf.tensor2d(ids, [batch, length], 'int32')).logits));
    await s.data();
    s.dispose();
    return now() - t0;
  };
  await once(teacher);
  await once(student);
  const tt: number[] = [];
  const st: number[] = [];
  for (let i = 0; i < runs; i++) {
    tt.push(await once(teacher));
    st.push(await once(student));
  }
  const teacherMs = median(tt);
  const studentMs = median(st);
  return { teacherMs, studentMs, speedup: teacherMs / studentMs, runs };
}
