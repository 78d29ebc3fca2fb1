// Distillation as one of the studio's run kinds: a fresh student, built from every other layer
// of the loaded model (the teacher, frozen), trains on DistilBERT's three-term loss, whose LM
// term is the teacher's own objective (masked LM for BERT-family teachers, causal LM for
// decoders). The teacher's held-out loss on that objective is the reference the student's is
// drawn against; after the run both forwards are timed on this backend; the student exports as
// a complete checkpoint that loads back as a base model.
import type { RunKind, Trained } from '../train/run-kind';
import { distillDefaults, distillFields, distillSpec, validateDistillConfig, type DistillConfig } from './distiller';
import { exportStudent, studentSpeedup } from './export';
import { distillationUnsupported, initStudent, planStudent, type Student } from './student';
import { objectiveFor } from '../train/objective';
import { evaluate } from '../train/trainer';
import { checkEmbeddingGradients } from '../backend/wasm-kernels';

/** The id distillation goes by in the Method select and in run messages; no PEFT method has it. */
export const DISTILL_ID = 'distill';

/** A trained student, with the teacher it learns from. */
export type TrainedStudent = Trained & { student: Student };

export const distillation: RunKind<DistillConfig> = {
  id: DISTILL_ID,
  label: 'Distillation (DistilBERT)',
  summary:
    'Trains a smaller student (every other layer of this model) to match its soft predictions, the data and its hidden states; exports a full checkpoint to load as a base model.',
  paper: { title: 'DistilBERT, a distilled version of BERT (Sanh et al., 2019)', url: 'https://arxiv.org/abs/1910.01108' },
  output: 'student',
  comparable: false,
  fields: distillFields,
  defaults: distillDefaults,
  unsupported: distillationUnsupported,
  validate: validateDistillConfig,
  positionsUsed: () => 0,
  plan: (info, c) => {
    const p = planStudent(info, c.student_layers);
    return { output: 'student', teacherParams: p.teacherParams, studentParams: p.studentParams, compression: p.compression, teacherLayers: p.teacherLayers };
  },
  create: (teacher, c, seed, ctx): TrainedStudent => {
    // Fail before the first step with a message, not inside the backward pass with a kernel name.
    checkEmbeddingGradients();
    // Before the student is allocated: a masked LM whose tokenizer has no mask token is refused here.
    const objective = objectiveFor(teacher.info, ctx.tokenizer, seed);
    const student = initStudent(teacher, c.student_layers);
    return {
      output: 'student',
      student,
      names: student.info.params.map((p) => p.name),
      mergeable: false,
      spec: (evalBatches) => distillSpec(teacher, student, c, evalBatches, objective),
      reference: async (evalBatches) => ({ label: 'Teacher held-out loss', evalLoss: await evaluate(teacher, {}, evalBatches, objective) }),
      forwardSpeed: async (batch) => {
        const s = await studentSpeedup(teacher, student, batch.ids, batch.batch, batch.length);
        return { baseMs: s.teacherMs, trainedMs: s.studentMs, ratio: s.speedup };
      },
      generator: () => ({ model: student, hooks: {} }),
      exportFiles: () => exportStudent(student, ctx.baseFiles),
      dispose: () => student.dispose(),
    };
  },
};
