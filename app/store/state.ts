// The page state's shape: what the store holds (StudioData and its parts), the idle values a
// run, a comparison and a generation start from, and the data a fresh page starts with.
// Types and constants only; nothing here reads or changes state.
import type {
  BackendName,
  BackendReport,
  CompareRunResult,
  DatasetIssue,
  DatasetSummary,
  EvalPoint,
  ForwardSpeed,
  MethodPlanEntry,
  MethodSummary,
  ModelSummary,
  PlanSummary,
  ProgressPoint,
  ReferenceLoss,
  StepPoint,
  StopPhase,
  RunEnd,
  RunOutput,
  ParityReport,
  DatasetPhase,
} from '../../src/worker/protocol';
import type { LabelledColumns } from '../../src/data/labelled';
import type { SequenceLayout } from '../../src/data/layout';
import type { ReadChoice } from '../../src/data/parse';
import { GENERATE_DEFAULTS, type GenerateInputs } from '../generate-form';
import type { LossRow } from '../loss-series';
import type { MethodForm } from '../method-form';
import { DEFAULT_MODEL_ID } from '../models';
import { TRAIN_DEFAULTS, type TrainInputs } from '../train-form';

export type RunStatus = 'idle' | 'starting' | 'running' | 'stopping' | RunEnd;

/** A loadDataset request as sent: the File and the settings it was tokenized with. */
export interface DatasetRequest {
  file: File;
  sequenceLength: number;
  seed: number;
  /** A labelled file's columns as the person chose them; absent: found by their names. */
  columns?: Partial<LabelledColumns>;
  /** Instruction data trained on its prompts too, not only its completions. */
  wholeText?: boolean;
  /** How examples become rows, as far as the person chose (the rest is the data's default). */
  layout?: Partial<SequenceLayout>;
  /** What the records were read as, and how a text file was split, as the person chose. */
  reading?: ReadChoice;
}

/** How far reading the dataset file has got: bytes of the file read, or examples tokenized. */
export interface DatasetProgress {
  fileName: string;
  phase: DatasetPhase;
  done: number;
  total: number;
}

export interface DatasetRejection {
  fileName: string;
  message: string;
  issues: DatasetIssue[];
  /** The refused file, to read again another way. */
  file?: File;
}

export interface RunState {
  status: RunStatus;
  /** The method being (or last) trained. */
  methodId: string | null;
  /** What that run makes, and whether it can be merged into the base weights. */
  output: RunOutput;
  mergeable: boolean;
  totalSteps: number;
  /** The latest losses read back. */
  latest: ProgressPoint | null;
  /** The latest step the worker finished: ahead of `latest` until its loss is read back. */
  stepped: StepPoint | null;
  /** After Stop: what the worker said it still does before the run ends (null until it says). */
  stopping: { phase: StopPhase; step: number } | null;
  /** While the held-out set is evaluated: after which step, and how far (null otherwise). */
  evaluating: { step: number; batch: number; batches: number } | null;
  /** "Skip final evaluation" was pressed for this run. */
  skipRequested: boolean;
  lastEval: EvalPoint | null;
  lossRows: LossRow[];
  /** The step the run ended at, and the worker's message (failures). */
  endStep: number;
  endMessage?: string;
  /** The held-out loss the run's is drawn against, when its kind has one (distillation: the teacher's). */
  reference: ReferenceLoss | null;
  /** A run that trained a model of its own: its forward time against the base model's, measured in the worker. */
  speedup: ForwardSpeed | null;
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

/** What the worker holds for one output: the method that made it, and how. */
export interface Held {
  methodId: string;
  /** It can be folded into the base weights ("Export merged model"). */
  mergeable: boolean;
  /** Set when it was imported from a file rather than trained here. */
  imported?: ImportedAdapter;
}

export const NOTHING_HELD: Record<RunOutput, Held | null> = { adapter: null, model: null, student: null };

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

export interface StudioData {
  /** `?backend=` as the page asked for it (undefined: the worker chooses). */
  requestedBackend?: BackendName;
  backend: BackendReport | null;
  /** Why no backend could start (every one failed, or the forced one did). */
  backendFailure: string | null;

  /** The model chosen in the "Base model" select. */
  modelId: string;
  modelLoading: boolean;
  /**
   * Model loads sent to the worker and not yet answered (loaded or failed). The worker handles
   * them in order; while one is still to come after an answer, the page stays loading.
   */
  modelLoadsInFlight: number;
  /** Chosen before the worker reported its backend; loadModel is sent once it has. */
  modelQueued: boolean;
  /** The model the worker has loaded. */
  model: ModelSummary | null;
  /** Models loaded from disk so far, in the order first loaded. */
  diskModels: DiskModel[];
  /** Files sent with loadModelFiles and not yet answered. */
  diskPending: { files: File[]; folder?: string } | null;

  /** Everything the Method select offers, in its order (PEFT methods, then distillation). */
  methods: MethodSummary[];
  methodId: string | null;
  /** The hyperparameter form's values as typed (numbers as text). */
  methodForm: MethodForm;
  /** The forms of the other methods the person has chosen before, kept as they left them. */
  methodForms: Record<string, MethodForm>;
  plan: PlanSummary | null;
  planPending: boolean;
  planError: string | null;
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
  /** How files are read, as far as the person chose (the rest found from each file's content); kept from file to file. */
  datasetReading: ReadChoice;
  /** The file the worker is reading now, and how far it has got; null when none is being read. */
  datasetProgress: DatasetProgress | null;

  trainInputs: TrainInputs;
  /** Recompute each block's activations in the backward pass (TrainConfig.recompute). */
  recompute: boolean;

  run: RunState;
  /** Per output, what the worker holds and can export (null: nothing yet, or it is being replaced). */
  held: Record<RunOutput, Held | null>;
  importPending: boolean;
  exportPending: boolean;
  /** What the pending export writes. */
  exportKind: RunOutput | 'merged';
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

export const NO_GENERATION: Omit<GenerationState, 'inputs'> = { requestId: 0, base: null, adapter: null };

export const IDLE_RUN: RunState = {
  status: 'idle',
  methodId: null,
  output: 'adapter',
  mergeable: false,
  totalSteps: 0,
  latest: null,
  stepped: null,
  stopping: null,
  evaluating: null,
  skipRequested: false,
  lastEval: null,
  lossRows: [],
  endStep: 0,
  reference: null,
  speedup: null,
};

export function initialData(requestedBackend?: BackendName): StudioData {
  return {
    requestedBackend,
    backend: null,
    backendFailure: null,
    modelId: DEFAULT_MODEL_ID,
    modelLoading: false,
    modelLoadsInFlight: 0,
    modelQueued: false,
    model: null,
    diskModels: [],
    diskPending: null,
    methods: [],
    methodId: null,
    methodForm: {},
    methodForms: {},
    plan: null,
    planPending: false,
    planError: null,
    allPlans: [],
    allPlansPending: false,
    dataset: null,
    datasetRequest: null,
    datasetQueue: [],
    datasetWaiting: null,
    datasetReading: {},
    datasetRejection: null,
    datasetProgress: null,
    trainInputs: { ...TRAIN_DEFAULTS },
    recompute: false,
    run: IDLE_RUN,
    held: NOTHING_HELD,
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
