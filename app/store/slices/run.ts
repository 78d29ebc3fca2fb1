// The run slice: a run of any method from start to end (a comparison's runs too, whose
// held-out points also go to its curves), what the worker holds for each output after it,
// importing and exporting, and "Check against CPU".
import type { FromWorker, RunOutput } from '../../../src/worker/protocol';
import { formatInt, formatLoss } from '../../format';
import { addEval, addProgress } from '../../loss-series';
import { evaluatingLine, isCompareActive, isRunActive, methodLabel, speedupLine, stepLine, stoppingLine } from '../selectors';
import { IDLE_RUN, type StudioData } from '../state';

export type RunMessage = Extract<
  FromWorker,
  { type: 'trainingStarted' | 'progress' | 'stepDone' | 'stopping' | 'evaluating' | 'eval' | 'trainingEnded' | 'referenceEval' | 'speedup' | 'exported' | 'adapterImported' | 'verified' }
>;

/** What the announcement calls each export. */
const EXPORTED: Record<RunOutput | 'merged', string> = { adapter: 'Adapter', model: 'Fine-tuned model', student: 'Student', merged: 'Merged model' };

export function reduceRun(s: StudioData, msg: RunMessage): StudioData {
  switch (msg.type) {
    case 'trainingStarted': {
      const comparing = isCompareActive(s.compare.status);
      const stopping = s.run.status === 'stopping' || s.compare.status === 'stopping';
      const position = s.compare.methodIds.indexOf(msg.methodId) + 1;
      return {
        ...s,
        run: { ...IDLE_RUN, status: stopping ? 'stopping' : 'running', methodId: msg.methodId, output: msg.output, mergeable: msg.mergeable, totalSteps: msg.totalSteps },
        // What the worker held for this output is being replaced; the other output's stays.
        held: { ...s.held, [msg.output]: null },
        savedFileName: null,
        // The trained side's text was written by the adapter or fine-tuned model being replaced.
        generation: msg.output !== 'student' ? { ...s.generation, adapter: null } : s.generation,
        compare: comparing ? { ...s.compare, current: msg.methodId, curves: { ...s.compare.curves, [msg.methodId]: [] } } : s.compare,
        announcement: comparing
          ? `Comparing ${position}/${s.compare.methodIds.length}: ${methodLabel(s, msg.methodId)} training started, ${formatInt(msg.totalSteps)} steps`
          : `Training started: ${formatInt(msg.totalSteps)} steps`,
      };
    }

    case 'progress': {
      if (msg.points.length === 0) return s;
      const latest = msg.points[msg.points.length - 1];
      const status = s.run.status === 'starting' || s.run.status === 'idle' ? 'running' : s.run.status;
      return {
        ...s,
        run: {
          ...s.run,
          status,
          totalSteps: latest.totalSteps,
          latest,
          lossRows: addProgress(s.run.lossRows, msg.points),
        },
        announcement: stepLine(latest),
      };
    }

    // Every step as it finishes: the count and throughput move, the live region stays as it is
    // (it hears the losses as they are read back, and the run's phases).
    case 'stepDone': {
      const status = s.run.status === 'starting' || s.run.status === 'idle' ? 'running' : s.run.status;
      return { ...s, run: { ...s.run, status, totalSteps: msg.point.totalSteps, stepped: msg.point, evaluating: null } };
    }

    // Each held-out batch as it starts. The live region hears only that the evaluation before
    // the first step began (all a person waits for then); later ones would talk over the losses.
    case 'evaluating': {
      if (!isRunActive(s.run.status)) return s;
      const run = { ...s.run, evaluating: { step: msg.step, batch: msg.batch, batches: msg.batches } };
      const announced = msg.batch === 1 && msg.step === 0 && run.status !== 'stopping' ? { announcement: evaluatingLine(run.evaluating, false) } : {};
      return { ...s, run, ...announced };
    }

    case 'stopping': {
      if (!isRunActive(s.run.status)) return s;
      const run = { ...s.run, status: 'stopping' as const, stopping: { phase: msg.phase, step: msg.step } };
      return { ...s, run, announcement: stoppingLine(run) };
    }

    case 'eval': {
      s = { ...s, run: { ...s.run, evaluating: null } };
      const id = s.compare.current;
      const compare =
        isCompareActive(s.compare.status) && id !== null ? { ...s.compare, curves: { ...s.compare.curves, [id]: [...(s.compare.curves[id] ?? []), msg.point] } } : s.compare;
      const m = msg.point.classification;
      const announced = m ? { announcement: `Held-out accuracy ${formatAccuracy(m.accuracy)}, macro-F1 ${formatMacroF1(m.macroF1)} at step ${msg.point.step}` } : {};
      return { ...s, run: { ...s.run, lastEval: msg.point, lossRows: addEval(s.run.lossRows, msg.point) }, compare, ...announced };
    }

    case 'trainingEnded': {
      const total = s.run.totalSteps;
      const lossText = s.run.latest ? ` · loss ${formatLoss(s.run.latest.loss)}` : '';
      const announcement =
        msg.reason === 'finished'
          ? `Training finished at step ${msg.step}/${total}${lossText}`
          : msg.reason === 'stopped'
            ? `Training stopped at step ${msg.step}/${total}${lossText}${s.run.skipRequested ? ' · final evaluation skipped' : ''}`
            : `Training failed at step ${msg.step}: ${msg.message ?? 'unknown error'}`;
      return {
        ...s,
        run: { ...s.run, status: msg.reason, endStep: msg.step, endMessage: msg.message, evaluating: null },
        // A run that failed before its first step left nothing; otherwise the worker holds what it trained.
        held:
          s.run.methodId !== null && (msg.reason !== 'failed' || msg.step > 0)
            ? { ...s.held, [s.run.output]: { methodId: s.run.methodId, mergeable: s.run.mergeable } }
            : s.held,
        announcement,
      };
    }

    case 'referenceEval':
      return { ...s, run: { ...s.run, reference: { label: msg.label, evalLoss: msg.evalLoss } } };

    case 'speedup': {
      const speedup = { baseMs: msg.baseMs, trainedMs: msg.trainedMs, ratio: msg.ratio };
      return { ...s, run: { ...s.run, speedup }, announcement: speedupLine(speedup) };
    }

    case 'exported':
      return {
        ...s,
        exportPending: false,
        savedFileName: msg.fileName,
        announcement: `${EXPORTED[s.exportKind]} exported as ${msg.fileName}`,
      };

    case 'adapterImported':
      return {
        ...s,
        importPending: false,
        held: {
          ...s.held,
          adapter: { methodId: msg.methodId, mergeable: msg.mergeable, imported: { fileName: msg.fileName, methodId: msg.methodId, trainable: msg.trainable, notice: msg.notice } },
        },
        savedFileName: null,
        // Text the previous adapter wrote no longer describes the one the worker holds.
        generation: { ...s.generation, adapter: null },
        announcement: `Imported ${msg.fileName}: ${methodLabel(s, msg.methodId)} adapter · ${formatInt(msg.trainable)} parameters${msg.notice ? `. ${msg.notice}` : ''}`,
      };

    case 'verified': {
      const r = msg.report;
      const method = methodLabel(s, r.methodId);
      return {
        ...s,
        parity: { status: 'done', report: r },
        announcement: r.failure ? `Check against CPU failed for ${method}: ${r.failure}` : `Check against CPU passed for ${method}: ${r.steps} steps match the CPU reference`,
      };
    }
  }
}

/** Ends the active run, if any, as failed at its latest step. */
export function runFailed(s: StudioData, message: string): StudioData {
  if (!isRunActive(s.run.status)) return s;
  return {
    ...s,
    run: { ...s.run, status: 'failed', endStep: s.run.latest?.step ?? 0, endMessage: message },
    announcement: `Training failed: ${message}`,
  };
}

export function exportFailed(s: StudioData): StudioData {
  return { ...s, exportPending: false };
}

/** An import failed: the worker keeps the adapter it had. */
export function importFailed(s: StudioData): StudioData {
  return { ...s, importPending: false };
}

/** The worker refused "Check against CPU": the panel and the live region say why. */
export function parityFailed(s: StudioData, message: string): StudioData {
  return { ...s, parity: { status: 'failed', report: null, message }, announcement: `Check against CPU could not run: ${message}` };
}

/** A check still running when the worker itself failed ends as failed. */
export function parityInterrupted(s: StudioData, message: string): StudioData {
  return s.parity.status === 'running' ? { ...s, parity: { status: 'failed', report: null, message } } : s;
}

/** Held-out accuracy as a percentage with one decimal: "87.5%". */
export function formatAccuracy(accuracy: number): string {
  return `${(100 * accuracy).toFixed(1)}%`;
}

/** Macro-F1 to three decimals: "0.857". */
export function formatMacroF1(f1: number): string {
  return f1.toFixed(3);
}
