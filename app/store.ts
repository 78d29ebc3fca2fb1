// The page's one store: every piece of page state, the intents that post ToWorker messages,
// and the reducer that folds FromWorker messages in. No tensors, no DOM: numbers and Files.
import { useStore } from 'zustand';
import { createStore, type StoreApi } from 'zustand/vanilla';
import type {
  BackendName,
  BackendReport,
  CompareRunResult,
  DatasetIssue,
  DatasetSummary,
  EvalPoint,
  FromWorker,
  MethodPlanEntry,
  MethodSummary,
  ModelSummary,
  PlanSummary,
  ProgressPoint,
  RunEnd,
  ToWorker,
  TrainConfig,
  ParityReport,
} from '../src/worker/protocol';
import { DISTILL_ID } from '../src/worker/protocol';
import { formatInt, formatLoss } from './format';
import { GENERATE_DEFAULTS, validateGenerateInputs, type GenerateField, type GenerateInputs } from './generate-form';
import { addEval, addProgress, type LossRow } from './loss-series';
import { buildMethodConfig, formFromDefaults, mergeForm, type MethodConfigResult, type MethodForm, type MethodFormValue } from './method-form';
import { DEFAULT_MODEL_ID, modelOption } from './models';
import {
  EVAL_FRACTION,
  TRAIN_DEFAULTS,
  trainFieldValue,
  validateTrainInputs,
  type TrainField,
  type TrainInputs,
} from './train-form';

export type RunStatus = 'idle' | 'starting' | 'running' | 'stopping' | RunEnd;

/** A loadDataset request as sent: the File and the settings it was tokenized with. */
export interface DatasetRequest {
  file: File;
  sequenceLength: number;
  seed: number;
}

export interface DatasetRejection {
  fileName: string;
  message: string;
  issues: DatasetIssue[];
}

export interface RunState {
  status: RunStatus;
  /** The method being (or last) trained. */
  methodId: string | null;
  totalSteps: number;
  latest: ProgressPoint | null;
  lastEval: EvalPoint | null;
  lossRows: LossRow[];
  /** The step the run ended at, and the worker's message (failures). */
  endStep: number;
  endMessage?: string;
  /** Distillation: the teacher's held-out loss, the reference the student's is drawn against. */
  teacherEvalLoss: number | null;
  /** Distillation: student vs teacher forward time, measured in the worker after the run. */
  speedup: StudentSpeedup | null;
}

export interface StudentSpeedup {
  teacherMs: number;
  studentMs: number;
  /** teacherMs / studentMs. */
  ratio: number;
}

/** What the worker counted for a distillation student at the form's settings. */
export interface DistillPlan {
  teacherParams: number;
  studentParams: number;
  compression: number;
  teacherLayers: number[];
}

/** One side of the comparison: the text generated so far. */
export interface GenerationOutput {
  /** The new text only (the prompt is not repeated). */
  text: string;
  done: boolean;
  /** Set when the worker failed this generation. */
  error?: string;
}

export interface GenerationState {
  /** The Generate panel's fields as typed. */
  inputs: GenerateInputs;
  /** The latest request's id (0: none yet); answers for older ids are ignored. */
  requestId: number;
  base: GenerationOutput | null;
  /** Null when the latest request had no adapter to compare (or the adapter changed since). */
  adapter: GenerationOutput | null;
}

export type CompareStatus = 'idle' | 'starting' | 'running' | 'stopping' | 'finished' | 'stopped' | 'failed';

/** "Compare methods": what is ticked, and the comparison running or last run. */
export interface CompareState {
  status: CompareStatus;
  /** Methods ticked for the next comparison, in the methods' order. */
  selected: string[];
  /** The comparison's methods, in run order. */
  methodIds: string[];
  /** The method training now. */
  current: string | null;
  totalSteps: number;
  /** One per run that ended (finished or failed), in order. */
  results: CompareRunResult[];
  /** Held-out loss points per method, as they arrived. */
  curves: Record<string, EvalPoint[]>;
  /** Why the comparison failed. */
  message?: string;
}

export const IDLE_COMPARE: CompareState = { status: 'idle', selected: [], methodIds: [], current: null, totalSteps: 0, results: [], curves: {} };

/** Where the worker's adapter came from, when it was imported. */
export interface ImportedAdapter {
  fileName: string;
  methodId: string;
  trainable: number;
  /** What the method says about the imported adapter, e.g. that it is a fixed prompt now. */
  notice?: string;
}

/** What the "Base model" select's value starts with for a model loaded from disk (built-in ids never do). */
export const DISK_MODEL_PREFIX = 'disk:';

/** A model loaded from the person's disk in this page: listed under "Base model", so it can be chosen again. */
export interface DiskModel {
  /** The select's value: DISK_MODEL_PREFIX + the worker's id for it. */
  key: string;
  name: string;
  /** The files it was loaded from (references to the person's files; nothing is uploaded). */
  files: File[];
  /** The folder they were chosen from, when they were. */
  folder?: string;
}

/** The "Base model" select's value for a loaded model: built-in ids as they are, disk models prefixed. */
export function modelKey(m: Pick<ModelSummary, 'id' | 'source'>): string {
  return m.source === 'disk' ? `${DISK_MODEL_PREFIX}${m.id}` : m.id;
}

/** How the page names a loaded model. */
export function modelDisplayName(m: Pick<ModelSummary, 'id' | 'name' | 'source'>): string {
  return m.source === 'disk' ? `${m.name} (from disk)` : (modelOption(m.id)?.name ?? m.name);
}

export interface StudioData {
  /** `?backend=` as the page asked for it (undefined: the worker chooses). */
  requestedBackend?: BackendName;
  backend: BackendReport | null;
  /** Why no backend could start (every one failed, or the forced one did). */
  backendFailure: string | null;

  /** The model chosen in the "Base model" select. */
  modelId: string;
  modelLoading: boolean;
  /** Chosen before the worker reported its backend; loadModel is sent once it has. */
  modelQueued: boolean;
  /** The model the worker has loaded. */
  model: ModelSummary | null;
  /** Models loaded from disk so far, in the order first loaded. */
  diskModels: DiskModel[];
  /** Files sent with loadModelFiles and not yet answered. */
  diskPending: { files: File[]; folder?: string } | null;

  methods: MethodSummary[];
  /** Distillation's entry in the Method select, after the PEFT methods (null: the model cannot be a teacher). */
  distillMethod: MethodSummary | null;
  methodId: string | null;
  /** The hyperparameter form's values as typed (numbers as text). */
  methodForm: MethodForm;
  /** The forms of the other methods the person has chosen before, kept as they left them. */
  methodForms: Record<string, MethodForm>;
  plan: PlanSummary | null;
  planPending: boolean;
  planError: string | null;
  /** Counts for distillation's student, shown instead of the parameter budget. */
  distillPlan: DistillPlan | null;
  /** Every method's counts at its current settings (the "Trainable parameters by method" chart). */
  allPlans: MethodPlanEntry[];
  allPlansPending: boolean;

  dataset: DatasetSummary | null;
  /** The request behind `dataset` (its File is re-sent when Sequence length or Seed change). */
  datasetRequest: DatasetRequest | null;
  /** Sent and not yet answered, oldest first (the worker answers in order). */
  datasetQueue: DatasetRequest[];
  /** Chosen before a model was loaded; sent once one is. */
  datasetWaiting: File | null;
  datasetRejection: DatasetRejection | null;

  trainInputs: TrainInputs;

  run: RunState;
  /** The worker holds a trained (or training-started) adapter that can be exported. */
  adapterReady: boolean;
  /** The worker's adapter can be folded into the base weights ("Export merged model"). */
  adapterMergeable: boolean;
  /** The worker holds a distilled student ("Export student"). */
  studentReady: boolean;
  /** Set while the worker's adapter is one imported from a file. */
  importedAdapter: ImportedAdapter | null;
  importPending: boolean;
  exportPending: boolean;
  /** What the pending export writes. */
  exportKind: 'adapter' | 'merged' | 'student';
  savedFileName: string | null;

  compare: CompareState;

  /** "Check against CPU": the last backend parity check and whether one is running. */
  parity: ParityState;

  generation: GenerationState;

  /** The one polite live region's text. */
  announcement: string;
  error: { context: string; message: string } | null;
}

export interface ParityState {
  status: 'idle' | 'running' | 'done' | 'failed';
  report: ParityReport | null;
  /** Why the check could not run (status 'failed'). */
  message?: string;
}

/** Training steps "Check against CPU" compares: one step exactly, ten for the trajectory. */
export const PARITY_STEPS = 10;

export interface StudioActions {
  /** Loads the default model; call once after the worker is created (it has been sent `init`). */
  boot(): void;
  selectModel(id: string): void;
  /** Sends a model folder's files (or one .zip of it) to the worker to become the base model. */
  loadModelFromDisk(files: File[], folder?: string): void;
  selectMethod(id: string): void;
  setMethodField(key: string, value: MethodFormValue): void;
  chooseDatasetFile(file: File): void;
  setTrainField(key: TrainField, text: string): void;
  startTraining(): void;
  stopTraining(): void;
  exportAdapter(): void;
  /** A full Hugging Face checkpoint with the adapter merged in (adapters that support it). */
  exportMergedModel(): void;
  /** Sends a zipped adapter folder to the worker to replace its adapter. */
  importAdapterFile(file: File): void;
  /** Ticks or unticks a method for "Compare methods". */
  toggleCompareMethod(id: string, on: boolean): void;
  /** Trains every ticked method in turn with the current settings. */
  startCompare(): void;
  /** Runs the chosen method's first training steps here and on the CPU reference, and compares them. */
  checkBackend(): void;
  setGenerateField(key: GenerateField | 'prompt', text: string): void;
  /** Continues the prompt with the base model and, when there is one, with the adapter (same seed). */
  generate(): void;
  dismissError(): void;
  /** Folds a worker message into the state and runs its follow-ups. */
  receive(msg: FromWorker): void;
}

export type StudioState = StudioData & StudioActions;

export const NO_GENERATION: Omit<GenerationState, 'inputs'> = { requestId: 0, base: null, adapter: null };

export const IDLE_RUN: RunState = {
  status: 'idle',
  methodId: null,
  totalSteps: 0,
  latest: null,
  lastEval: null,
  lossRows: [],
  endStep: 0,
  teacherEvalLoss: null,
  speedup: null,
};

export function initialData(requestedBackend?: BackendName): StudioData {
  return {
    requestedBackend,
    backend: null,
    backendFailure: null,
    modelId: DEFAULT_MODEL_ID,
    modelLoading: false,
    modelQueued: false,
    model: null,
    diskModels: [],
    diskPending: null,
    methods: [],
    distillMethod: null,
    methodId: null,
    methodForm: {},
    methodForms: {},
    plan: null,
    planPending: false,
    planError: null,
    distillPlan: null,
    allPlans: [],
    allPlansPending: false,
    dataset: null,
    datasetRequest: null,
    datasetQueue: [],
    datasetWaiting: null,
    datasetRejection: null,
    trainInputs: { ...TRAIN_DEFAULTS },
    run: IDLE_RUN,
    adapterReady: false,
    adapterMergeable: false,
    studentReady: false,
    importedAdapter: null,
    importPending: false,
    exportPending: false,
    exportKind: 'adapter',
    savedFileName: null,
    compare: IDLE_COMPARE,
    parity: { status: 'idle', report: null },
    generation: { inputs: { ...GENERATE_DEFAULTS }, ...NO_GENERATION },
    announcement: '',
    error: null,
  };
}

// ---------------------------------------------------------------------------------------------
// Derived values (pure; safe to use as zustand selectors when they return primitives)

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

export function selectedMethod(s: Pick<StudioData, 'methods' | 'distillMethod' | 'methodId'>): MethodSummary | undefined {
  return s.methods.find((m) => m.id === s.methodId) ?? (s.distillMethod?.id === s.methodId ? s.distillMethod : undefined) ?? undefined;
}

/** Distillation is chosen in the Method select. */
export function isDistillSelected(s: Pick<StudioData, 'methods' | 'distillMethod' | 'methodId'>): boolean {
  return s.methodId === DISTILL_ID && s.distillMethod !== null && !s.methods.some((m) => m.id === DISTILL_ID);
}

/** What "Export" saves for the chosen method: the adapter, or the distilled student. */
export function exportTarget(s: StudioData): 'adapter' | 'student' {
  return isDistillSelected(s) ? 'student' : 'adapter';
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
  for (const m of s.methods) {
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

export function trainLimits(s: StudioData) {
  return { maxSequenceLength: s.model?.nPositions };
}

export function trainValidation(s: StudioData) {
  return validateTrainInputs(s.trainInputs, trainLimits(s));
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

/** Why "Start training" is disabled, or null when it is enabled. */
export function startBlocker(s: StudioData): string | null {
  if (s.parity.status === 'running') return 'A backend check is in progress.';
  if (isBusy(s)) return isCompareActive(s.compare.status) ? 'A comparison is in progress.' : 'A run is in progress.';
  if (!s.model || s.modelLoading) return 'Waiting for the base model to load.';
  const m = selectedMethod(s);
  if (!m) return 'Choose a method.';
  if (m.unsupported) return `${m.label} cannot be used with this model: ${m.unsupported}`;
  if (!methodConfig(s)?.valid) return 'Fix the method settings marked above.';
  if (!s.dataset) return s.datasetQueue.length > 0 ? 'Reading the dataset…' : 'Load a dataset to start.';
  if (!trainValidation(s).config) return 'Fix the training settings marked above.';
  if (s.datasetQueue.length > 0 || datasetStale(s)) return 'Re-reading the dataset with the new settings…';
  if (s.exportPending) return 'Exporting…';
  if (s.importPending) return 'Importing an adapter…';
  if (isGenerating(s)) return 'Waiting for text generation to finish.';
  return null;
}

export function canStart(s: StudioData): boolean {
  return startBlocker(s) === null;
}

/** Why "Compare methods" is disabled, or null when it is enabled. */
export function compareBlocker(s: StudioData): string | null {
  if (s.parity.status === 'running') return 'A backend check is in progress.';
  if (isBusy(s)) return isCompareActive(s.compare.status) ? 'A comparison is in progress.' : 'A run is in progress.';
  if (!s.model || s.modelLoading) return 'Waiting for the base model to load.';
  const chosen = s.methods.filter((m) => s.compare.selected.includes(m.id) && !m.unsupported);
  if (chosen.length < 2) return 'Tick at least two methods to compare.';
  const invalid = chosen.find((m) => !configFor(s, m).valid);
  if (invalid) return `Fix the settings of ${invalid.label} (choose it under Method to edit them).`;
  if (!s.dataset) return s.datasetQueue.length > 0 ? 'Reading the dataset…' : 'Load a dataset to compare.';
  if (!trainValidation(s).config) return 'Fix the training settings marked above.';
  if (s.datasetQueue.length > 0 || datasetStale(s)) return 'Re-reading the dataset with the new settings…';
  if (s.exportPending) return 'Exporting…';
  if (s.importPending) return 'Importing an adapter…';
  if (isGenerating(s)) return 'Waiting for text generation to finish.';
  return null;
}

export function canCompare(s: StudioData): boolean {
  return compareBlocker(s) === null;
}

export function canStop(s: StudioData): boolean {
  return s.run.status === 'starting' || s.run.status === 'running' || s.compare.status === 'starting' || s.compare.status === 'running';
}

export function canExport(s: StudioData): boolean {
  const ready = exportTarget(s) === 'student' ? s.studentReady : s.adapterReady;
  return ready && !isBusy(s) && !s.exportPending && !s.importPending;
}

export function canExportMerged(s: StudioData): boolean {
  return s.adapterReady && s.adapterMergeable && !isBusy(s) && !s.exportPending && !s.importPending;
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

function methodLabel(s: StudioData, id: string): string {
  return s.methods.find((m) => m.id === id)?.label ?? (s.distillMethod?.id === id ? s.distillMethod.label : id);
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
  if (isGenerating(s)) return 'Generating…';
  if (!generateValidation(s).settings) return 'Fix the generation settings marked above.';
  return null;
}

export function canGenerate(s: StudioData): boolean {
  return generateBlocker(s) === null;
}

/** What the live region says once every side of a generation has finished. */
function generationEndLine(g: GenerationState): string {
  const failed = [g.base, g.adapter].find((o) => o?.error);
  return failed ? `Generation failed: ${failed.error}` : 'Generation finished';
}

/** Marks the oldest unfinished side failed: the worker answers requests in the order sent. */
function failGeneration(s: StudioData, message: string, all = false): StudioData {
  if (!isGenerating(s)) return s;
  const g = s.generation;
  const fail = (o: GenerationOutput | null) => (o && !o.done ? { ...o, done: true, error: message } : o);
  let next: GenerationState;
  if (all) next = { ...g, base: fail(g.base), adapter: fail(g.adapter) };
  else if (g.base && !g.base.done) next = { ...g, base: fail(g.base) };
  else next = { ...g, adapter: fail(g.adapter) };
  const out = { ...s, generation: next };
  return isGenerating(out) ? out : { ...out, announcement: generationEndLine(next) };
}

/** "Student forward: 1.85× faster than the teacher (measured here)". */
export function speedupLine(sp: StudentSpeedup): string {
  // On a tiny model the measured ratio can come out below 1; say so rather than "0.9× faster".
  const what = sp.ratio >= 1 ? `${sp.ratio.toFixed(2)}× faster` : `${(1 / sp.ratio).toFixed(2)}× slower`;
  return `Student forward: ${what} than the teacher (measured here)`;
}

/** The status line during training: `Step 12/50 · loss 3.41`. */
export function stepLine(p: Pick<ProgressPoint, 'step' | 'totalSteps' | 'loss'>): string {
  return `Step ${p.step}/${p.totalSteps} · loss ${formatLoss(p.loss)}`;
}

type ErrorTopic = 'verify' | 'backend' | 'dataset' | 'export' | 'plan' | 'planAll' | 'import' | 'compare' | 'train' | 'model' | 'generate' | 'worker' | 'other';

/** The part of the page an error belongs to, when the worker says which request failed. */
const REQUEST_TOPIC: Record<ToWorker['type'], ErrorTopic> = {
  init: 'backend',
  loadModel: 'model',
  loadModelFiles: 'model',
  loadDataset: 'dataset',
  plan: 'plan',
  train: 'train',
  stop: 'train',
  export: 'export',
  exportMerged: 'export',
  planAll: 'planAll',
  importAdapter: 'import',
  compare: 'compare',
  planDistill: 'plan',
  distill: 'train',
  exportStudent: 'export',
  generate: 'generate',
  verify: 'verify',
};

/**
 * What an `error` message's context refers to. The worker writes contexts as sentences
 * ("Loading model tiny-gpt2", "Loading data.jsonl", "Counting parameters", "Training",
 * "Stopping", "Exporting the adapter", "Starting the compute backend", "Generating text with
 * the base model"); ToWorker type names
 * ("loadDataset", "plan") are understood too.
 */
export function errorTopic(context: string): ErrorTopic {
  const c = context.trim().toLowerCase();
  if (c === 'worker' || c.startsWith('training worker')) return 'worker';
  if (c.includes('backend') || c === 'init') return 'backend';
  if (c.includes('dataset')) return 'dataset';
  if (c.includes('export')) return 'export';
  if (c.startsWith('import')) return 'import';
  if (c.startsWith('compar')) return 'compare';
  if (c.startsWith('generat')) return 'generate';
  if (c === 'planall' || c.includes('every method')) return 'planAll';
  if (c.includes('plan') || c.includes('counting parameters')) return 'plan';
  if (c.startsWith('train') || c.includes('training') || c.startsWith('stop') || c.startsWith('distil')) return 'train';
  if (c.includes('model')) return 'model';
  if (c.startsWith('loading ')) return 'dataset'; // "Loading <file name>"
  return 'other';
}

/** The queued dataset request an answer for `fileName` belongs to (oldest match, else oldest). */
function answeredRequest(queue: DatasetRequest[], fileName: string, sequenceLength?: number): number {
  let i = queue.findIndex((r) => r.file.name === fileName && (sequenceLength === undefined || r.sequenceLength === sequenceLength));
  if (i < 0) i = queue.findIndex((r) => r.file.name === fileName);
  return i;
}

function without<T>(list: T[], i: number): T[] {
  return i < 0 ? list : [...list.slice(0, i), ...list.slice(i + 1)];
}

// ---------------------------------------------------------------------------------------------
// The reducer: pure, FromWorker → next data. Follow-up messages are sent by `receive`.

export function reduce(s: StudioData, msg: FromWorker): StudioData {
  switch (msg.type) {
    case 'backend':
      return { ...s, backend: msg.report };

    case 'methods': {
      const methods = msg.methods;
      const distillMethod = msg.distillation && !methods.some((m) => m.id === msg.distillation!.id) ? msg.distillation : null;
      // Everything the Method select offers: the PEFT methods, then distillation.
      const offered = distillMethod ? [...methods, distillMethod] : methods;
      const current = offered.find((m) => m.id === s.methodId && !m.unsupported);
      const chosen = current ?? methods.find((m) => !m.unsupported) ?? undefined;
      const same = chosen !== undefined && chosen.id === s.methodId;
      // Other methods' edits are kept wherever they still fit the (new model's) fields.
      const methodForms: Record<string, MethodForm> = {};
      for (const m of offered) {
        const prev = m.id === s.methodId ? s.methodForm : s.methodForms[m.id];
        if (prev && m.id !== chosen?.id) methodForms[m.id] = mergeForm(m.fields, m.defaults, prev);
      }
      const usable = new Set(methods.filter((m) => !m.unsupported).map((m) => m.id));
      return {
        ...s,
        methods,
        distillMethod,
        distillPlan: same ? s.distillPlan : null,
        methodId: chosen?.id ?? null,
        methodForm: chosen ? mergeForm(chosen.fields, chosen.defaults, same ? s.methodForm : s.methodForms[chosen.id]) : {},
        methodForms,
        plan: same ? s.plan : null,
        planError: same ? s.planError : null,
        allPlans: s.allPlans.filter((p) => methods.some((m) => m.id === p.methodId)),
        compare: { ...s.compare, selected: s.compare.selected.filter((id) => usable.has(id)) },
      };
    }

    case 'modelLoaded': {
      const key = modelKey(msg.model);
      // A model from disk always replaces the worker's adapter, even under the same name.
      const changed = msg.model.source === 'disk' || (s.model ? modelKey(s.model) : null) !== key;
      const pending = msg.model.source === 'disk' ? s.diskPending : null;
      const entry: DiskModel | undefined = pending ? { key, name: msg.model.name, files: pending.files, folder: pending.folder } : undefined;
      const diskModels = !entry ? s.diskModels : s.diskModels.some((d) => d.key === key) ? s.diskModels.map((d) => (d.key === key ? entry : d)) : [...s.diskModels, entry];
      return {
        ...s,
        model: msg.model,
        modelId: key,
        modelLoading: false,
        diskModels,
        diskPending: null,
        plan: changed ? null : s.plan,
        allPlans: changed ? [] : s.allPlans,
        adapterReady: changed ? false : s.adapterReady,
        adapterMergeable: changed ? false : s.adapterMergeable,
        // The worker lets the student go with its teacher.
        studentReady: changed ? false : s.studentReady,
        distillPlan: changed ? null : s.distillPlan,
        // Its form's limits (student layers) were the old model's: wait for the new `methods`
        // rather than plan the old settings against the new teacher.
        distillMethod: changed ? null : s.distillMethod,
        importedAdapter: changed ? null : s.importedAdapter,
        // Results measured on another model would be compared with nothing on this one.
        compare: changed ? { ...IDLE_COMPARE, selected: s.compare.selected } : s.compare,
        // Text from another model (and its adapter, now gone) would mislead.
        generation: changed ? { ...s.generation, ...NO_GENERATION, requestId: s.generation.requestId } : s.generation,
        announcement: `Model loaded: ${modelDisplayName(msg.model)} · ${formatInt(msg.model.totalParams)} parameters`,
      };
    }

    case 'planned':
      if (msg.plan.methodId !== s.methodId) return s; // an answer for a method no longer chosen
      return { ...s, plan: msg.plan, planPending: false, planError: null };

    case 'distillPlanned': {
      if (!isDistillSelected(s)) return s; // an answer for a method no longer chosen
      const { type: _type, ...plan } = msg;
      return { ...s, distillPlan: plan, planPending: false, planError: null };
    }

    case 'teacherEval':
      return { ...s, run: { ...s.run, teacherEvalLoss: msg.evalLoss } };

    case 'speedup': {
      const speedup = { teacherMs: msg.teacherMs, studentMs: msg.studentMs, ratio: msg.ratio };
      return { ...s, run: { ...s.run, speedup }, announcement: speedupLine(speedup) };
    }

    case 'plannedAll':
      return { ...s, allPlans: msg.plans, allPlansPending: false };

    case 'datasetLoaded': {
      // Answers are matched by file name: the worker also re-reads the dataset on its own
      // (after a model change, or for a run's sequence length), and those have no request.
      const d = msg.dataset;
      const i = answeredRequest(s.datasetQueue, d.fileName, d.sequenceLength);
      const request = i >= 0 ? s.datasetQueue[i] : s.datasetRequest;
      return {
        ...s,
        dataset: d,
        datasetRequest: request ? { ...request, sequenceLength: d.sequenceLength } : null,
        datasetQueue: without(s.datasetQueue, i),
        datasetRejection: null,
        announcement: `Dataset loaded: ${d.fileName} · ${formatInt(d.examples)} examples (${formatInt(d.trainExamples)} train / ${formatInt(d.evalExamples)} held out) · ${formatInt(d.tokens)} tokens`,
      };
    }

    case 'datasetRejected':
      return {
        ...s,
        datasetQueue: without(s.datasetQueue, answeredRequest(s.datasetQueue, msg.fileName)),
        datasetRejection: { fileName: msg.fileName, message: msg.message, issues: msg.issues },
      };

    case 'trainingStarted': {
      const comparing = isCompareActive(s.compare.status);
      const stopping = s.run.status === 'stopping' || s.compare.status === 'stopping';
      const position = s.compare.methodIds.indexOf(msg.methodId) + 1;
      if (msg.methodId === DISTILL_ID && !comparing) {
        // A student replaces the previous student; the worker's adapter is untouched.
        return {
          ...s,
          run: { ...IDLE_RUN, status: stopping ? 'stopping' : 'running', methodId: msg.methodId, totalSteps: msg.totalSteps },
          studentReady: false,
          savedFileName: null,
          announcement: `Distillation started: ${formatInt(msg.totalSteps)} steps`,
        };
      }
      return {
        ...s,
        run: { ...IDLE_RUN, status: stopping ? 'stopping' : 'running', methodId: msg.methodId, totalSteps: msg.totalSteps },
        adapterReady: false,
        adapterMergeable: msg.mergeable,
        importedAdapter: null,
        savedFileName: null,
        // The adapter that wrote this text is being replaced.
        generation: { ...s.generation, adapter: null },
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

    case 'eval': {
      const id = s.compare.current;
      const compare =
        isCompareActive(s.compare.status) && id !== null ? { ...s.compare, curves: { ...s.compare.curves, [id]: [...(s.compare.curves[id] ?? []), msg.point] } } : s.compare;
      return { ...s, run: { ...s.run, lastEval: msg.point, lossRows: addEval(s.run.lossRows, msg.point) }, compare };
    }

    case 'trainingEnded': {
      const total = s.run.totalSteps;
      const lossText = s.run.latest ? ` · loss ${formatLoss(s.run.latest.loss)}` : '';
      const announcement =
        msg.reason === 'finished'
          ? `Training finished at step ${msg.step}/${total}${lossText}`
          : msg.reason === 'stopped'
            ? `Training stopped at step ${msg.step}/${total}${lossText}`
            : `Training failed at step ${msg.step}: ${msg.message ?? 'unknown error'}`;
      return {
        ...s,
        run: { ...s.run, status: msg.reason, endStep: msg.step, endMessage: msg.message },
        ...(s.run.methodId === DISTILL_ID && !isCompareActive(s.compare.status)
          ? { studentReady: msg.reason !== 'failed' || msg.step > 0 }
          : { adapterReady: msg.reason !== 'failed' || msg.step > 0 }),
        announcement,
      };
    }

    case 'exported':
      return {
        ...s,
        exportPending: false,
        savedFileName: msg.fileName,
        announcement: `${s.exportKind === 'merged' ? 'Merged model' : s.exportKind === 'student' ? 'Student' : 'Adapter'} exported as ${msg.fileName}`,
      };

    case 'adapterImported':
      return {
        ...s,
        importPending: false,
        adapterReady: true,
        adapterMergeable: msg.mergeable,
        importedAdapter: { fileName: msg.fileName, methodId: msg.methodId, trainable: msg.trainable, notice: msg.notice },
        savedFileName: null,
        // Text the previous adapter wrote no longer describes the one the worker holds.
        generation: { ...s.generation, adapter: null },
        announcement: `Imported ${msg.fileName}: ${methodLabel(s, msg.methodId)} adapter · ${formatInt(msg.trainable)} parameters${msg.notice ? `. ${msg.notice}` : ''}`,
      };

    case 'compareStarted':
      return {
        ...s,
        compare: {
          ...s.compare,
          status: s.compare.status === 'stopping' ? 'stopping' : 'running',
          methodIds: msg.methodIds,
          totalSteps: msg.totalSteps,
          results: [],
          curves: {},
          current: null,
        },
        announcement: `Comparing ${msg.methodIds.length} methods (${msg.methodIds.map((id) => methodLabel(s, id)).join(', ')}), ${formatInt(msg.totalSteps)} steps each`,
      };

    case 'compareRunEnded': {
      const { type: _type, ...result } = msg;
      const results = [...s.compare.results, result];
      const loss = result.reason === 'failed' ? `failed at step ${result.step}` : result.finalEvalLoss === null ? 'no held-out loss' : `held-out loss ${formatLoss(result.finalEvalLoss)}`;
      return {
        ...s,
        compare: { ...s.compare, results },
        announcement: `${methodLabel(s, result.methodId)}: ${loss} (${results.length}/${s.compare.methodIds.length} done)`,
      };
    }

    case 'compareEnded': {
      const n = s.compare.methodIds.length;
      return {
        ...s,
        compare: { ...s.compare, status: msg.reason, current: null },
        announcement:
          msg.reason === 'finished' ? `Comparison finished: ${formatInt(msg.completed)} methods` : `Comparison stopped after ${formatInt(msg.completed)} of ${formatInt(n)} methods`,
      };
    }

    case 'verified': {
      const r = msg.report;
      const method = methodLabel(s, r.methodId);
      return {
        ...s,
        parity: { status: 'done', report: r },
        announcement: r.failure ? `Check against CPU failed for ${method}: ${r.failure}` : `Check against CPU passed for ${method}: ${r.steps} steps match the CPU reference`,
      };
    }

    case 'generated': {
      const g = s.generation;
      const side = msg.withAdapter ? 'adapter' : 'base';
      const current = g[side];
      // An answer to an earlier request, or for a side that was cleared or has failed.
      if (msg.requestId !== g.requestId || !current || current.done) return s;
      const next: GenerationState = { ...g, [side]: { text: msg.text, done: msg.done } };
      const out = { ...s, generation: next };
      return msg.done && !isGenerating(out) ? { ...out, announcement: generationEndLine(next) } : out;
    }

    case 'error': {
      const next: StudioData = { ...s, error: { context: msg.context, message: msg.message } };
      const namesQueuedFile = /^loading /i.test(msg.context) && s.datasetQueue.some((r) => msg.context.includes(r.file.name));
      const topic = msg.request ? REQUEST_TOPIC[msg.request] : namesQueuedFile ? 'dataset' : errorTopic(msg.context);
      switch (topic) {
        case 'dataset': {
          // "Loading <file name>": drop that request; otherwise the oldest.
          const named = s.datasetQueue.findIndex((r) => msg.context.includes(r.file.name));
          next.datasetQueue = without(s.datasetQueue, named >= 0 ? named : 0);
          break;
        }
        case 'backend':
          next.modelLoading = false;
          next.modelQueued = false;
          if (!s.backend) next.backendFailure = msg.message;
          break;
        case 'export':
          next.exportPending = false;
          break;
        case 'import':
          next.importPending = false;
          break;
        case 'planAll':
          next.allPlansPending = false;
          break;
        case 'generate':
          return failGeneration(next, msg.message);
        case 'verify':
          next.parity = { status: 'failed', report: null, message: msg.message };
          next.announcement = `Check against CPU could not run: ${msg.message}`;
          break;
        case 'plan':
          next.planPending = false;
          next.planError = msg.message;
          next.plan = null;
          break;
        case 'model':
          // The worker keeps the model it had: the select shows that one again.
          next.modelLoading = false;
          next.diskPending = null;
          if (s.model) next.modelId = modelKey(s.model);
          break;
        case 'train':
        case 'compare':
        case 'worker':
          if (topic === 'worker') {
            next.modelLoading = false;
            next.modelQueued = false;
            next.planPending = false;
            next.allPlansPending = false;
            next.exportPending = false;
            next.importPending = false;
            next.datasetQueue = [];
            Object.assign(next, failGeneration(next, msg.message, true));
          }
          if (isRunActive(s.run.status)) {
            next.run = { ...s.run, status: 'failed', endStep: s.run.latest?.step ?? 0, endMessage: msg.message };
            next.announcement = `Training failed: ${msg.message}`;
          }
          if (topic === 'worker' && s.parity.status === 'running') next.parity = { status: 'failed', report: null, message: msg.message };
          if (isCompareActive(s.compare.status)) {
            next.compare = { ...s.compare, status: 'failed', current: null, message: msg.message };
            next.announcement = `Comparison failed: ${msg.message}`;
          }
          break;
        default:
          break;
      }
      return next;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The store

export interface StudioDeps {
  /** Posts a message to the worker. */
  send(msg: ToWorker): void;
  /** Saves exported bytes as a download. */
  save(fileName: string, bytes: Uint8Array): void;
  requestedBackend?: BackendName;
  /** Quiet time after Sequence length / Seed edits before the dataset is re-read. */
  datasetReloadDelayMs?: number;
}

export function createStudioStore(deps: StudioDeps): StoreApi<StudioState> {
  const reloadDelay = deps.datasetReloadDelayMs ?? 400;
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;

  return createStore<StudioState>()((set, get) => {
    const cancelReload = () => {
      if (reloadTimer !== undefined) clearTimeout(reloadTimer);
      reloadTimer = undefined;
    };

    const sendDataset = (file: File) => {
      cancelReload();
      const s = get();
      const sequenceLength =
        trainFieldValue(s.trainInputs, 'sequenceLength', trainLimits(s)) ??
        s.datasetRequest?.sequenceLength ??
        Number(TRAIN_DEFAULTS.sequenceLength);
      const seed = trainFieldValue(s.trainInputs, 'seed') ?? s.datasetRequest?.seed ?? Number(TRAIN_DEFAULTS.seed);
      deps.send({ type: 'loadDataset', file, sequenceLength, evalFraction: EVAL_FRACTION, seed });
      set({ datasetQueue: [...s.datasetQueue, { file, sequenceLength, seed }], datasetWaiting: null });
    };

    /** Re-reads the loaded dataset when the form's settings no longer match it. */
    const reloadIfStale = () => {
      const s = get();
      if (!s.datasetRequest || s.datasetQueue.length > 0 || isBusy(s)) return;
      if (datasetStale(s)) sendDataset(s.datasetRequest.file);
    };

    const scheduleReload = () => {
      cancelReload();
      if (!get().datasetRequest) return;
      reloadTimer = setTimeout(() => {
        reloadTimer = undefined;
        reloadIfStale();
      }, reloadDelay);
    };

    const requestPlan = () => {
      const s = get();
      const m = selectedMethod(s);
      if (!s.model || s.modelLoading || !m || m.unsupported) return;
      const built = buildMethodConfig(m.fields, m.defaults, s.methodForm);
      if (!built.valid) {
        set({ planPending: false });
        return;
      }
      if (isDistillSelected(s)) deps.send({ type: 'planDistill', config: built.config });
      else deps.send({ type: 'plan', methodId: m.id, config: built.config });
      set({ planPending: true, planError: null });
    };

    /** Counts for every method at the page's settings. A method whose form is invalid is not sent: the chart shows its form error instead. */
    const requestAllPlans = () => {
      const s = get();
      if (!s.model || s.modelLoading || s.methods.length === 0) return;
      const configs: Record<string, Record<string, unknown>> = {};
      for (const m of s.methods) {
        if (m.unsupported) continue;
        const built = configFor(s, m);
        if (built.valid) configs[m.id] = built.config;
      }
      deps.send({ type: 'planAll', configs });
      set({ allPlansPending: true });
    };

    return {
      ...initialData(deps.requestedBackend),

      boot() {
        get().selectModel(get().modelId);
      },

      selectModel(id) {
        const s = get();
        if (isBusy(s)) return;
        if ((s.model && modelKey(s.model) === id && !s.modelLoading) || (s.modelLoading && s.modelId === id)) {
          set({ modelId: id });
          return;
        }
        if (id.startsWith(DISK_MODEL_PREFIX)) {
          // Chosen again after another model: its files are read again (the worker kept only one model).
          const disk = s.diskModels.find((d) => d.key === id);
          if (!disk || !s.backend) return;
          deps.send({ type: 'loadModelFiles', files: disk.files, name: disk.folder });
          set({ modelId: id, modelLoading: true, modelQueued: false, diskPending: { files: disk.files, folder: disk.folder }, announcement: `Loading ${disk.name} (from disk)…` });
          return;
        }
        const announcement = `Loading ${modelOption(id)?.name ?? id}…`;
        if (!s.backend) {
          // The worker starts its backend first; loadModel follows the `backend` report.
          set({ modelId: id, modelLoading: true, modelQueued: true, announcement });
          return;
        }
        deps.send({ type: 'loadModel', id });
        set({ modelId: id, modelLoading: true, modelQueued: false, announcement });
      },

      loadModelFromDisk(files, folder) {
        const s = get();
        // No files (an empty or unreadable folder) still goes to the worker, which says so.
        if (diskModelBlocker(s) !== null) return;
        deps.send({ type: 'loadModelFiles', files, name: folder });
        const what = folder ?? (files.length === 1 ? files[0].name : `${files.length} files`);
        set({ modelLoading: true, diskPending: { files, folder }, error: null, announcement: `Loading ${what} from disk…` });
      },

      selectMethod(id) {
        const s = get();
        const m = s.methods.find((x) => x.id === id) ?? (s.distillMethod?.id === id ? s.distillMethod : undefined);
        if (!m || m.unsupported || isBusy(s)) return;
        if (m.id === s.methodId) return;
        // The form being left is kept, so coming back (and the all-methods chart) finds the person's settings.
        const methodForms = s.methodId ? { ...s.methodForms, [s.methodId]: s.methodForm } : s.methodForms;
        const saved = methodForms[m.id];
        set({
          methodId: m.id,
          methodForm: saved ? mergeForm(m.fields, m.defaults, saved) : formFromDefaults(m.fields, m.defaults),
          methodForms,
          plan: null,
          distillPlan: null,
          planError: null,
        });
        requestPlan();
      },

      setMethodField(key, value) {
        if (isBusy(get())) return;
        set({ methodForm: { ...get().methodForm, [key]: value } });
        requestPlan();
        // Other methods' rows do not change, and this one's shows its form error until it is valid.
        if (methodConfig(get())?.valid && !isDistillSelected(get())) requestAllPlans();
      },

      chooseDatasetFile(file) {
        set({ datasetRejection: null });
        const s = get();
        if (!s.model || s.modelLoading) {
          set({ datasetWaiting: file, announcement: `${file.name} will be read once the model has loaded.` });
          return;
        }
        sendDataset(file);
      },

      setTrainField(key, text) {
        if (isBusy(get())) return;
        set({ trainInputs: { ...get().trainInputs, [key]: text } });
        if (key === 'sequenceLength' || key === 'seed') scheduleReload();
      },

      startTraining() {
        const s = get();
        if (!canStart(s)) return;
        const m = selectedMethod(s)!;
        const config = methodConfig(s)!.config;
        const train: TrainConfig = trainValidation(s).config!;
        if (isDistillSelected(s)) deps.send({ type: 'distill', config, train });
        else deps.send({ type: 'train', methodId: m.id, config, train });
        set({
          run: { ...IDLE_RUN, status: 'starting', methodId: m.id, totalSteps: train.steps },
          savedFileName: null,
          error: null,
          announcement: isDistillSelected(s) ? 'Starting distillation…' : `Starting ${m.label} training…`,
        });
      },

      checkBackend() {
        const s = get();
        if (parityBlocker(s) !== null) return;
        const m = selectedMethod(s)!;
        deps.send({ type: 'verify', methodId: m.id, config: methodConfig(s)!.config, train: trainValidation(s).config!, steps: PARITY_STEPS });
        set({ parity: { status: 'running', report: null }, error: null, announcement: `Checking ${m.label} on this backend against the CPU reference…` });
      },

      stopTraining() {
        const s = get();
        if (!canStop(s)) return;
        deps.send({ type: 'stop' });
        set({
          run: isRunActive(s.run.status) ? { ...s.run, status: 'stopping' } : s.run,
          compare: isCompareActive(s.compare.status) ? { ...s.compare, status: 'stopping' } : s.compare,
          announcement: 'Stopping after the current step…',
        });
      },

      exportAdapter() {
        if (!canExport(get())) return;
        if (exportTarget(get()) === 'student') {
          deps.send({ type: 'exportStudent' });
          set({ exportPending: true, exportKind: 'student', savedFileName: null });
          return;
        }
        deps.send({ type: 'export' });
        set({ exportPending: true, exportKind: 'adapter', savedFileName: null });
      },

      exportMergedModel() {
        if (!canExportMerged(get())) return;
        deps.send({ type: 'exportMerged' });
        set({ exportPending: true, exportKind: 'merged', savedFileName: null });
      },

      importAdapterFile(file) {
        if (importBlocker(get()) !== null) return;
        deps.send({ type: 'importAdapter', file });
        set({ importPending: true, error: null, announcement: `Importing ${file.name}…` });
      },

      toggleCompareMethod(id, on) {
        const s = get();
        const m = s.methods.find((x) => x.id === id);
        if (!m || m.unsupported || isBusy(s)) return;
        const chosen = new Set(s.compare.selected);
        if (on) chosen.add(id);
        else chosen.delete(id);
        set({ compare: { ...s.compare, selected: s.methods.map((x) => x.id).filter((x) => chosen.has(x)) } });
      },

      startCompare() {
        const s = get();
        if (!canCompare(s)) return;
        const chosen = s.methods.filter((m) => s.compare.selected.includes(m.id));
        const runs = chosen.map((m) => ({ methodId: m.id, config: configFor(s, m).config }));
        const train: TrainConfig = trainValidation(s).config!;
        deps.send({ type: 'compare', runs, train });
        set({
          compare: { ...s.compare, status: 'starting', methodIds: chosen.map((m) => m.id), current: null, totalSteps: train.steps, results: [], curves: {}, message: undefined },
          savedFileName: null,
          error: null,
          announcement: `Starting a comparison of ${chosen.map((m) => m.label).join(', ')}…`,
        });
      },

      setGenerateField(key, text) {
        const g = get().generation;
        set({ generation: { ...g, inputs: { ...g.inputs, [key]: text } } });
      },

      generate() {
        const s = get();
        if (!canGenerate(s)) return;
        const settings = generateValidation(s).settings!;
        const requestId = s.generation.requestId + 1;
        deps.send({ type: 'generate', requestId, ...settings, withAdapter: false });
        if (s.adapterReady) deps.send({ type: 'generate', requestId, ...settings, withAdapter: true });
        const pending: GenerationOutput = { text: '', done: false };
        set({
          generation: { ...s.generation, requestId, base: pending, adapter: s.adapterReady ? pending : null },
          announcement: 'Generating…',
        });
      },

      dismissError() {
        set({ error: null });
      },

      receive(msg) {
        const before = get();
        set(reduce(before, msg));
        switch (msg.type) {
          case 'backend': {
            const s = get();
            if (s.modelQueued) {
              deps.send({ type: 'loadModel', id: s.modelId });
              set({ modelQueued: false });
            }
            break;
          }
          case 'modelLoaded': {
            // The worker re-reads a loaded dataset for a new tokenizer itself; only a file
            // chosen before any model loaded is sent from here.
            const waiting = get().datasetWaiting;
            if (waiting) sendDataset(waiting);
            requestPlan();
            requestAllPlans();
            break;
          }
          case 'methods':
            if (before.methodId !== get().methodId || !get().plan) requestPlan();
            requestAllPlans();
            break;
          case 'datasetLoaded':
          case 'datasetRejected':
            reloadIfStale();
            break;
          case 'exported':
            deps.save(msg.fileName, msg.bytes);
            break;
          default:
            break;
        }
      },
    };
  });
}

// ---------------------------------------------------------------------------------------------
// The page's instance. main.tsx creates it, wired to the worker, before rendering.

let pageStore: StoreApi<StudioState> | undefined;

export function createPageStore(deps: StudioDeps): StoreApi<StudioState> {
  pageStore = createStudioStore(deps);
  return pageStore;
}

export function pageStudioStore(): StoreApi<StudioState> {
  if (!pageStore) throw new Error('createPageStore() has not been called.');
  return pageStore;
}

/** React hook over the page's store. Selectors must return stable values (primitives or state slices). */
export function useStudio<T>(selector: (s: StudioState) => T): T {
  return useStore(pageStudioStore(), selector);
}

/** The page's intents (stable functions; no re-render when state changes). */
export function useActions(): StudioActions {
  return pageStudioStore().getState();
}
