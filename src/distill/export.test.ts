import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../io/safetensors';
import { randomGpt2 } from '../models/gpt2-init';
import { buildModel } from '../models/load';
import type { LoadedModel } from '../models/types';
import { exportStudent, studentSpeedup } from './export';
import { initStudent, type Student } from './student';

const SHAPE = { n_layer: 4, n_embd: 16, n_head: 2, n_positions: 16, vocab_size: 50 };
const ids = [
  [4, 8, 15, 16, 23, 42],
  [0, 49, 1, 2, 3, 5],
];

async function logitsOf(model: LoadedModel): Promise<number[]> {
  const out = tf.tidy(() => model.forward(tf.tensor2d(ids, [2, 6], 'int32')).logits);
  const data = Array.from(await out.data());
  out.dispose();
  return data;
}

const enc = (s: string) => new TextEncoder().encode(s);
const TEACHER_FILES = {
  'config.json': enc('{"model_type":"gpt2","n_layer":4}'),
  'model.safetensors': new Uint8Array([1, 2, 3]),
  'tokenizer.json': enc('{"tokenizer":true}'),
  'tokenizer_config.json': enc('{"model_max_length":16}'),
  'generation_config.json': enc('{"eos_token_id":0}'),
  'README.md': enc('# the teacher'),
};

let teacher: LoadedModel;
let student: Student;
beforeAll(async () => {
  await tf.setBackend('cpu');
  teacher = randomGpt2('teacher', SHAPE, 3);
  student = initStudent(teacher, 2);
  // Move the student away from its initial copy so the export shows trained values.
  tf.tidy(() => student.variables.forEach((v, i) => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.01, 'float32', i)))));
});
afterAll(() => {
  student.dispose();
  teacher.dispose();
});

describe('exportStudent', () => {
  it('writes config.json with the new depth, GPT2LMHeadModel-named weights and the tokenizer files, which load back with equal logits', async () => {
    const { baseName, files } = await exportStudent(student, TEACHER_FILES);
    expect(baseName).toBe('teacher-distilled-2L');
    expect(Object.keys(files).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    expect(files['tokenizer.json']).toBe(TEACHER_FILES['tokenizer.json']);
    expect(files['tokenizer_config.json']).toBe(TEACHER_FILES['tokenizer_config.json']);
    const config = JSON.parse(new TextDecoder().decode(files['config.json']));
    expect(config).toEqual({ ...teacher.info.config.raw, n_layer: 2 });

    const { tensors, metadata } = readSafetensors(files['model.safetensors'], 'model.safetensors');
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()].sort()).toEqual(student.info.params.map((p) => p.name).sort());
    expect(tensors.has('lm_head.weight')).toBe(false);
    for (const { name } of student.info.params) {
      expect(Array.from(tensors.get(name)!.data), name).toEqual(Array.from(await student.weights.get(name)!.data()));
    }
    // The studio loads it back as a base model computing exactly what the student computes.
    const reloaded = buildModel('reloaded', config, tensors);
    expect(await logitsOf(reloaded)).toEqual(await logitsOf(student));
    expect(await logitsOf(reloaded)).not.toEqual(await logitsOf(teacher));
    reloaded.dispose();
  });

  it('refuses a teacher folder without tokenizer.json', async () => {
    await expect(exportStudent(student, { 'config.json': enc('{}') })).rejects.toThrow(/tokenizer\.json/);
  });
});

describe('studentSpeedup', () => {
  it('reports the median of alternating timed forward passes after one untimed pass each', async () => {
    // A clock the test drives: teacher passes take 10, 30, 20 ms; student passes 4, 6, 5 ms
    // (the first pass of each is the untimed warm-up).
    const durations = [999, 999, 10, 4, 30, 6, 20, 5];
    let t = 0;
    let call = 0;
    const now = () => {
      // Every pass reads the clock twice: start, then end = start + its duration.
      const v = call % 2 === 0 ? t : (t += durations[(call - 1) / 2]);
      call++;
      return v;
    };
    const flat = Int32Array.from(ids.flat());
    const r = await studentSpeedup(teacher, student, flat, 2, 6, 3, now);
    expect(r).toEqual({ teacherMs: 20, studentMs: 5, speedup: 4, runs: 3 });
    expect(call).toBe(16);
  });
});
