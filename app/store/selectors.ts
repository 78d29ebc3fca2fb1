// Values derived from the page state: what is busy, why a button is disabled, the chosen
// method and its config, and the lines the page says about a model, a step or a speed-up.
// All pure; safe to use as zustand selectors when they return primitives.
import type { ForwardSpeed, MethodSummary, ModelSummary, ProgressPoint, RunOutput } from '../../src/worker/protocol';
import type { SequenceLayout } from '../../src/data/layout';
import { formatInt, formatLoss } from '../format';
import { validateGenerateInputs } from '../generate-form';
import { buildMethodConfig, type MethodConfigResult } from '../method-form';
import { modelOption } from '../models';
import { trainFieldValue, validateTrainInputs } from '../train-form';
import { DISK_MODEL_PREFIX, type CompareStatus, type RunState, type RunStatus, type StudioData } from './state';

/** The "Base model" select's value for a loaded model: built-in ids as they are, disk models prefixed. */
export function modelKey(m: Pick<ModelSummary, 'id' | 'source'>): string {
  return m.source === 'disk' ? `${DISK_MODEL_PREFIX}${m.id}` : m.id;
}

/** How the page names a loaded model. */
export function modelDisplayName(m: Pick<ModelSummary, 'id' | 'name' | 'source'>): string {
  return m.source === 'disk' ? `${m.name} (from disk)` : (modelOption(m.id)?.name ?? m.name);
}

export function isRunActive(status: RunStatus): boolean {
  return status === 'starting' || status === 'running' || status === 'stopping';
}

export function isCompareActive(status: CompareStatus): boolean {
  return status === 'starting' || status === 'running' || status === 'stopping';
}

/** A run, a comparison or a backend check holds the worker: settings, model and dataset stay as they are. */
export function isBusy(s: StudioData): boolean {
  return isRunActive(s.run.status) || isCompareActive(s.compare.status) || s.parity.status === 'running';
}

/** Why "Check against CPU" is unavailable, or null: it needs what a run needs. */
export function parityBlocker(s: StudioData): string | null {
  if (s.parity.status === 'running') return 'Checking…';
  return startBlocker(s);
}

export function selectedMethod(s: Pick<StudioData, 'methods' | 'methodId'>): MethodSummary | undefined {
  return s.methods.find((m) => m.id === s.methodId);
}

/** The methods a comparison and the all-methods counts cover (those that train adapters). */
export function comparableMethods(s: Pick<StudioData, 'methods'>): MethodSummary[] {
  return s.methods.filter((m) => m.comparable);
}

/** What the chosen method makes, so what "Export" saves: the adapter, or a student model. */
export function exportTarget(s: Pick<StudioData, 'methods' | 'methodId'>): RunOutput {
  return selectedMethod(s)?.output ?? 'adapter';
}

/**
 * What generates beside the base model: the fine-tuned model while full fine-tuning is chosen
 * and one is held, else the adapter when one is held; null when there is neither.
 */
export function generationTrained(s: Pick<StudioData, 'methods' | 'methodId' | 'held'>): 'adapter' | 'model' | null {
  if (exportTarget(s) === 'model' && s.held.model) return 'model';
  return s.held.adapter ? 'adapter' : null;
}

export function methodConfig(s: StudioData) {
  const m = selectedMethod(s);
  if (!m) return undefined;
  return buildMethodConfig(m.fields, m.defaults, s.methodForm);
}

/** A method's config at the page's settings for it: its form as the person left it, else its defaults. */
export function configFor(s: Pick<StudioData, 'methodId' | 'methodForm' | 'methodForms'>, m: MethodSummary): MethodConfigResult {
  const form = m.id === s.methodId ? s.methodForm : s.methodForms[m.id];
  return form ? buildMethodConfig(m.fields, m.defaults, form) : { config: { ...m.defaults }, errors: {}, valid: true };
}

/** One bar / table row of "Trainable parameters by method". */
export type MethodPlanRow = { methodId: string; label: string } & ({ trainable: number; total: number; percent: number; error?: undefined } | { error: string });

/**
 * The worker's counts for every method, in the methods' order; a method whose form on this
 * page is invalid shows that instead of counts at settings the person did not choose.
 */
export function methodPlanRows(s: Pick<StudioData, 'methods' | 'allPlans' | 'methodId' | 'methodForm' | 'methodForms'>): MethodPlanRow[] {
  const rows: MethodPlanRow[] = [];
  for (const m of comparableMethods(s)) {
    const local = m.unsupported ? undefined : configFor(s, m);
    if (local && !local.valid) {
      rows.push({ methodId: m.id, label: m.label, error: `Settings not valid: ${Object.values(local.errors)[0]}` });
      continue;
    }
    const entry = s.allPlans.find((p) => p.methodId === m.id);
    if (entry) rows.push({ ...entry, label: m.label });
  }
  return rows;
}

/**
 * The run whose training memory the chosen method's is set against, with its counts from the
 * all-methods rows: the first PEFT method (LoRA) for full fine-tuning, full fine-tuning for a
 * PEFT method. Null when there is none with counts, or the chosen method makes a student.
 */
export function memoryReference(chosen: MethodSummary | undefined, methods: MethodSummary[], rows: MethodPlanRow[]): { label: string; trainable: number; total: number } | null {
  if (!chosen || chosen.output === 'student') return null;
  const wanted = chosen.output === 'model' ? 'adapter' : 'model';
  for (const m of methods) {
    if (m.output !== wanted || !m.comparable || m.unsupported) continue;
    const row = rows.find((r) => r.methodId === m.id);
    if (row && row.error === undefined) return { label: row.label, trainable: row.trainable, total: row.total };
  }
  return null;
}

export function trainLimits(s: StudioData) {
  return { maxSequenceLength: s.model?.maxPositions };
}

export function trainValidation(s: StudioData) {
  const v = validateTrainInputs(s.trainInputs, trainLimits(s));
  return v.config ? { ...v, config: { ...v.config, recompute: s.recompute } } : v;
}

/** Whether instruction data is (or is being re-read to be) trained on its prompts too: the latest request's choice. */
export function trainsOnWholeText(s: StudioData): boolean {
  return (s.datasetQueue.at(-1) ?? s.datasetRequest)?.wholeText ?? false;
}

/** No choice made: both parts are the data's default. One object, so a component reading it keeps the same value between renders. */
const NO_LAYOUT_CHOICE: Partial<SequenceLayout> = Object.freeze({});

/** The layout the person chose, as the latest request carries it: `{}` leaves both parts to the data's default. */
export function chosenLayout(s: StudioData): Partial<SequenceLayout> {
  return (s.datasetQueue.at(-1) ?? s.datasetRequest)?.layout ?? NO_LAYOUT_CHOICE;
}

/** True when the loaded dataset was read with other settings than the form's current ones. */
export function datasetStale(s: StudioData): boolean {
  if (!s.datasetRequest || !s.dataset) return false;
  const seq = trainFieldValue(s.trainInputs, 'sequenceLength', trainLimits(s));
  const seed = trainFieldValue(s.trainInputs, 'seed');
  return (
    (seq !== undefined && seq !== s.datasetRequest.sequenceLength) ||
    (seed !== undefined && seed !== s.datasetRequest.seed)
  );
}

/**
 * Why a run of `methods` (Start training, Compare methods) cannot start, or null: the worker is
 * free, the model loaded, the methods usable (`methodsBlocker`), the dataset read at the
 * current settings and nothing else pending.
 */
function runBlocker(s: StudioData, methodsBlocker: () => string | null, noDataset: string): string | null {
  if (s.parity.status === 'running') return 'A backend check is in progress.';
  if (isBusy(s)) return isCompareActive(s.compare.status) ? 'A comparison is in progress.' : 'A run is in progress.';
  if (!s.model || s.modelLoading) return 'Waiting for the base model to load.';
  const methods = methodsBlocker();
  if (methods) return methods;
  if (!s.dataset) return s.datasetQueue.length > 0 ? 'Reading the dataset…' : noDataset;
  if (!trainValidation(s).config) return 'Fix the training settings marked above.';
  if (s.datasetQueue.length > 0 || datasetStale(s)) return 'Re-reading the dataset with the new settings…';
  if (s.exportPending) return 'Exporting…';
  if (s.importPending) return 'Importing an adapter…';
  if (isGenerating(s)) return 'Waiting for text generation to finish.';
  return null;
}

/** Why "Start training" is disabled, or null when it is enabled. */
export function startBlocker(s: StudioData): string | null {
  return runBlocker(
    s,
    () => {
      const m = selectedMethod(s);
      if (!m) return 'Choose a method.';
      if (m.unsupported) return `${m.label} cannot be used with this model: ${m.unsupported}`;
      if (!methodConfig(s)?.valid) return 'Fix the method settings marked above.';
      return null;
    },
    'Load a dataset to start.',
  );
}

export function canStart(s: StudioData): boolean {
  return startBlocker(s) === null;
}

/** Why "Compare methods" is disabled, or null when it is enabled. */
export function compareBlocker(s: StudioData): string | null {
  return runBlocker(
    s,
    () => {
      const chosen = comparableMethods(s).filter((m) => s.compare.selected.includes(m.id) && !m.unsupported);
      if (chosen.length < 2) return 'Tick at least two methods to compare.';
      const invalid = chosen.find((m) => !configFor(s, m).valid);
      return invalid ? `Fix the settings of ${invalid.label} (choose it under Method to edit them).` : null;
    },
    'Load a dataset to compare.',
  );
}

export function canCompare(s: StudioData): boolean {
  return compareBlocker(s) === null;
}

export function canStop(s: StudioData): boolean {
  return s.run.status === 'starting' || s.run.status === 'running' || s.compare.status === 'starting' || s.compare.status === 'running';
}

/**
 * "Skip final evaluation" is offered from Stop until the run ends, when the run has a held-out
 * set to evaluate on; once pressed it waits for the worker.
 */
export function canSkipEvaluation(s: StudioData): boolean {
  return s.run.status === 'stopping' && !s.run.skipRequested && (s.dataset?.evalRows ?? 0) > 0;
}

export function canExport(s: StudioData): boolean {
  return s.held[exportTarget(s)] !== null && !isBusy(s) && !s.exportPending && !s.importPending;
}

/** The worker holds an adapter that folds into the base weights. */
export function isMergeable(s: StudioData): boolean {
  return s.held.adapter?.mergeable === true;
}

export function canExportMerged(s: StudioData): boolean {
  return isMergeable(s) && !isBusy(s) && !s.exportPending && !s.importPending;
}

/** Why "Load model from disk" is unavailable, or null. */
export function diskModelBlocker(s: StudioData): string | null {
  if (isBusy(s)) return 'Available when no run is in progress.';
  if (!s.backend) return 'Waiting for the compute backend to start.';
  if (s.modelLoading) return 'Available once the model has loaded.';
  return null;
}

/** Why "Import adapter" is unavailable, or null. */
export function importBlocker(s: StudioData): string | null {
  if (isBusy(s)) return 'Available when no run is in progress.';
  if (!s.model || s.modelLoading) return 'Waiting for the base model to load.';
  if (s.importPending) return 'Importing…';
  if (s.exportPending) return 'Exporting…';
  return null;
}

/** A method's label; the id itself for a method no longer offered. */
export function methodLabel(s: Pick<StudioData, 'methods'>, id: string): string {
  return s.methods.find((m) => m.id === id)?.label ?? id;
}

/** A generate request has been sent and not every side has finished. */
export function isGenerating(s: StudioData): boolean {
  const g = s.generation;
  return (g.base !== null && !g.base.done) || (g.adapter !== null && !g.adapter.done);
}

export function generateValidation(s: StudioData) {
  return validateGenerateInputs(s.generation.inputs);
}

/** Why "Generate" is disabled, or null when it is enabled. */
export function generateBlocker(s: StudioData): string | null {
  if (isBusy(s)) return 'Generation is available when training is not running.';
  if (s.importPending) return 'Importing an adapter…';
  if (!s.model || s.modelLoading) return 'Waiting for the base model to load.';
  if (s.model.cannotGenerate) return `${s.model.cannotGenerate}.`;
  if (isGenerating(s)) return 'Generating…';
  if (!generateValidation(s).settings) return 'Fix the generation settings marked above.';
  return null;
}

export function canGenerate(s: StudioData): boolean {
  return generateBlocker(s) === null;
}

/** "Student forward: 1.85× faster than the teacher (measured here)". */
export function speedupLine(sp: ForwardSpeed): string {
  // On a tiny model the measured ratio can come out below 1; say so rather than "0.9× faster".
  const what = sp.ratio >= 1 ? `${sp.ratio.toFixed(2)}× faster` : `${(1 / sp.ratio).toFixed(2)}× slower`;
  return `Student forward: ${what} than the teacher (measured here)`;
}

/**
 * What a stopping run is waiting for: `Stopping: finishing step 12…`, then `Stopping: final
 * evaluation on the held-out set…`; `Stopping…` until the worker has said.
 */
export function stoppingLine(run: Pick<RunState, 'stopping' | 'skipRequested'> & { evaluating?: RunState['evaluating'] }, withBatch = false): string {
  if (run.skipRequested) return 'Stopping: skipping the final evaluation…';
  const st = run.stopping;
  if (!st) return 'Stopping…';
  if (st.phase === 'evaluating') {
    const ev = run.evaluating;
    const batch = withBatch && ev && ev.step === st.step ? ` (batch ${formatInt(ev.batch)} of ${formatInt(ev.batches)})` : '';
    return `Stopping: final evaluation on the held-out set${batch}…`;
  }
  return st.step > 0 ? `Stopping: finishing step ${st.step}…` : 'Stopping before the first step…';
}

/**
 * An evaluation in progress: `Measuring the held-out loss before training: batch 3 of 10`, or
 * `… at step 20: …`; without the batch (`withBatch` false) for the live region, which hears it once.
 */
export function evaluatingLine(ev: { step: number; batch: number; batches: number }, withBatch = true): string {
  const when = ev.step === 0 ? 'before training' : `at step ${formatInt(ev.step)}`;
  if (withBatch) return `Measuring the held-out loss ${when}: batch ${formatInt(ev.batch)} of ${formatInt(ev.batches)}`;
  return `Measuring the held-out loss ${when} (${formatInt(ev.batches)} batch${ev.batches === 1 ? '' : 'es'})…`;
}

/** The status line during training: `Step 12/50 · loss 3.41`. */
export function stepLine(p: Pick<ProgressPoint, 'step' | 'totalSteps' | 'loss'>): string {
  return `Step ${p.step}/${p.totalSteps} · loss ${formatLoss(p.loss)}`;
}
