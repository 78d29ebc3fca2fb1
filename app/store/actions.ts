// The page's intents: what each button, field and drop does to the state, the ToWorker
// messages it posts, and `receive`, which folds a FromWorker message in and sends its
// follow-ups. The pure parts (what a message does to the state, what is allowed) live in the
// reducer and the selectors; these are the parts that talk to the worker.
import type { StoreApi } from 'zustand/vanilla';
import type { BackendName, FromWorker, ToWorker, TrainConfig } from '../../src/worker/protocol';
import type { LabelledColumns } from '../../src/data/labelled';
import type { SequenceLayout } from '../../src/data/layout';
import type { ReadChoice } from '../../src/data/parse';
import type { GenerateField } from '../generate-form';
import { buildMethodConfig, formFromDefaults, mergeForm, type MethodFormValue } from '../method-form';
import { modelOption } from '../models';
import { EVAL_FRACTION, TRAIN_DEFAULTS, trainFieldValue, type TrainField } from '../train-form';
import { reduce } from './reducer';
import {
  canCompare,
  canExport,
  canExportMerged,
  canGenerate,
  canSkipEvaluation,
  canStart,
  canStop,
  comparableMethods,
  configFor,
  datasetStale,
  diskModelBlocker,
  exportTarget,
  generationTrained,
  generateValidation,
  importBlocker,
  isBusy,
  isCompareActive,
  isRunActive,
  methodConfig,
  modelKey,
  parityBlocker,
  selectedMethod,
  stoppingLine,
  trainLimits,
  chosenLayout,
  trainsOnWholeText,
  trainValidation,
} from './selectors';
import { DISK_MODEL_PREFIX, IDLE_RUN, PARITY_STEPS, type GenerationOutput, type StudioData } from './state';

export interface StudioActions {
  /** Loads the default model; call once after the worker is created (it has been sent `init`). */
  boot(): void;
  selectModel(id: string): void;
  /** Sends a model folder's files (or one .zip of it) to the worker to become the base model. */
  loadModelFromDisk(files: File[], folder?: string): void;
  selectMethod(id: string): void;
  setMethodField(key: string, value: MethodFormValue): void;
  chooseDatasetFile(file: File): void;
  /** Reads the loaded labelled file again with the text, pair and label columns the person chose. */
  chooseDatasetColumns(columns: LabelledColumns): void;
  /** Saves the loaded dataset's rejected rows as a file of its format (the worker writes it). */
  downloadRejectedRows(): void;
  /** Reads the loaded file again, training on instruction data's prompts too (or on its completions only). */
  setTrainOnWholeText(on: boolean): void;
  /** Reads the loaded file again with long examples split into windows or cut, and short ones packed or padded. */
  setSequenceLayout(choice: Partial<SequenceLayout>): void;
  /**
   * Chooses what records are read as and how text files are split (undefined: found from the
   * content), for this file and the next; the refused file on show, else the loaded one, is read again.
   */
  setDatasetReading(choice: ReadChoice): void;
  setTrainField(key: TrainField, text: string): void;
  /** Turns recomputing activations in the backward pass on or off for the next run. */
  setRecompute(on: boolean): void;
  startTraining(): void;
  stopTraining(): void;
  /** While stopping: ends the run's final evaluation early, so it ends with the held-out loss last measured. */
  skipEvaluation(): void;
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

/** The store's state: the page's data and its intents. */
export type StudioState = StudioData & StudioActions;

export interface StudioDeps {
  /** Posts a message to the worker. */
  send(msg: ToWorker): void;
  /** Saves exported bytes as a download. */
  save(fileName: string, bytes: Uint8Array): void;
  requestedBackend?: BackendName;
  /** Quiet time after Sequence length / Seed edits before the dataset is re-read. */
  datasetReloadDelayMs?: number;
}

/** The intents of one store, over its `set` and `get`. */
export function createActions(deps: StudioDeps, set: StoreApi<StudioState>['setState'], get: StoreApi<StudioState>['getState']): StudioActions {
  const reloadDelay = deps.datasetReloadDelayMs ?? 400;
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;

  const cancelReload = () => {
    if (reloadTimer !== undefined) clearTimeout(reloadTimer);
    reloadTimer = undefined;
  };

  // The choices of training on whole texts and of the layout are kept from file to file, like the other settings.
  const sendDataset = (file: File, columns?: Partial<LabelledColumns>, wholeText = get().datasetRequest?.wholeText ?? false, layout = chosenLayout(get())) => {
    cancelReload();
    const s = get();
    const sequenceLength =
      trainFieldValue(s.trainInputs, 'sequenceLength', trainLimits(s)) ??
      s.datasetRequest?.sequenceLength ??
      Number(TRAIN_DEFAULTS.sequenceLength);
    const seed = trainFieldValue(s.trainInputs, 'seed') ?? s.datasetRequest?.seed ?? Number(TRAIN_DEFAULTS.seed);
    const reading = s.datasetReading;
    const options = {
      ...(columns ? { columns } : {}),
      ...(wholeText ? { wholeText } : {}),
      ...(Object.keys(layout).length > 0 ? { layout } : {}),
      ...(reading.as || reading.split ? { reading } : {}),
    };
    deps.send({ type: 'loadDataset', file, sequenceLength, evalFraction: EVAL_FRACTION, seed, ...options });
    set({ datasetQueue: [...s.datasetQueue, { file, sequenceLength, seed, ...options }], datasetWaiting: null });
  };

  /** Re-reads the loaded dataset when the form's settings no longer match it. */
  const reloadIfStale = () => {
    const s = get();
    if (!s.datasetRequest || s.datasetQueue.length > 0 || isBusy(s)) return;
    if (datasetStale(s)) sendDataset(s.datasetRequest.file, s.datasetRequest.columns);
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
    deps.send({ type: 'plan', methodId: m.id, config: built.config });
    set({ planPending: true, planError: null });
  };

  /** Counts for every method at the page's settings. A method whose form is invalid is not sent: the chart shows its form error instead. */
  const requestAllPlans = () => {
    const s = get();
    if (!s.model || s.modelLoading || s.methods.length === 0) return;
    const configs: Record<string, Record<string, unknown>> = {};
    for (const m of comparableMethods(s)) {
      if (m.unsupported) continue;
      const built = configFor(s, m);
      if (built.valid) configs[m.id] = built.config;
    }
    deps.send({ type: 'planAll', configs });
    set({ allPlansPending: true });
  };

  return {
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
        set({ modelId: id, modelLoading: true, modelLoadsInFlight: s.modelLoadsInFlight + 1, modelQueued: false, diskPending: { files: disk.files, folder: disk.folder }, announcement: `Loading ${disk.name} (from disk)…` });
        return;
      }
      const announcement = `Loading ${modelOption(id)?.name ?? id}…`;
      if (!s.backend) {
        // The worker starts its backend first; loadModel follows the `backend` report.
        set({ modelId: id, modelLoading: true, modelQueued: true, announcement });
        return;
      }
      deps.send({ type: 'loadModel', id });
      set({ modelId: id, modelLoading: true, modelLoadsInFlight: s.modelLoadsInFlight + 1, modelQueued: false, announcement });
    },

    loadModelFromDisk(files, folder) {
      const s = get();
      // No files (an empty or unreadable folder) still goes to the worker, which says so.
      if (diskModelBlocker(s) !== null) return;
      deps.send({ type: 'loadModelFiles', files, name: folder });
      const what = folder ?? (files.length === 1 ? files[0].name : `${files.length} files`);
      set({ modelLoading: true, modelLoadsInFlight: s.modelLoadsInFlight + 1, diskPending: { files, folder }, error: null, announcement: `Loading ${what} from disk…` });
    },

    selectMethod(id) {
      const s = get();
      const m = s.methods.find((x) => x.id === id);
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
        planError: null,
      });
      requestPlan();
    },

    setMethodField(key, value) {
      if (isBusy(get())) return;
      set({ methodForm: { ...get().methodForm, [key]: value } });
      requestPlan();
      // Other methods' rows do not change, and this one's shows its form error until it is valid;
      // a method the all-methods chart leaves out changes nothing there.
      if (methodConfig(get())?.valid && selectedMethod(get())?.comparable) requestAllPlans();
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

    chooseDatasetColumns(columns) {
      const s = get();
      if (!s.datasetRequest || isBusy(s)) return;
      set({ datasetRejection: null });
      sendDataset(s.datasetRequest.file, { text: columns.text, pair: columns.pair ?? '', label: columns.label });
    },

    downloadRejectedRows() {
      if (!get().dataset?.rejected) return;
      deps.send({ type: 'exportRejected' });
    },

    setTrainOnWholeText(on) {
      const s = get();
      if (!s.datasetRequest || isBusy(s) || trainsOnWholeText(s) === on) return;
      set({ datasetRejection: null });
      sendDataset(s.datasetRequest.file, s.datasetRequest.columns, on);
    },

    setDatasetReading(choice) {
      const s = get();
      if (isBusy(s)) return;
      const reading: ReadChoice = { ...(choice.as ? { as: choice.as } : {}), ...(choice.split ? { split: choice.split } : {}) };
      if (JSON.stringify(reading) === JSON.stringify(s.datasetReading)) return;
      set({ datasetReading: reading });
      const refused = s.datasetRejection?.file;
      if (refused && s.model && !s.modelLoading) {
        set({ datasetRejection: null });
        sendDataset(refused);
      } else if (s.datasetRequest) {
        set({ datasetRejection: null });
        // Another reading may find other columns: a labelled file's chosen columns are dropped.
        sendDataset(s.datasetRequest.file);
      }
    },

    setSequenceLayout(choice) {
      const s = get();
      const layout = { ...chosenLayout(s), ...choice };
      if (!s.datasetRequest || isBusy(s) || JSON.stringify(layout) === JSON.stringify(chosenLayout(s))) return;
      set({ datasetRejection: null });
      sendDataset(s.datasetRequest.file, s.datasetRequest.columns, undefined, layout);
    },

    setTrainField(key, text) {
      if (isBusy(get())) return;
      set({ trainInputs: { ...get().trainInputs, [key]: text } });
      if (key === 'sequenceLength' || key === 'seed') scheduleReload();
    },

    setRecompute(on) {
      if (isBusy(get())) return;
      set({ recompute: on });
    },

    startTraining() {
      const s = get();
      if (!canStart(s)) return;
      const m = selectedMethod(s)!;
      const config = methodConfig(s)!.config;
      const train: TrainConfig = trainValidation(s).config!;
      deps.send({ type: 'train', methodId: m.id, config, train });
      set({
        run: { ...IDLE_RUN, status: 'starting', methodId: m.id, output: m.output, totalSteps: train.steps },
        savedFileName: null,
        error: null,
        announcement: `Starting ${m.label} training…`,
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
        announcement: stoppingLine(s.run),
      });
    },

    skipEvaluation() {
      const s = get();
      if (!canSkipEvaluation(s)) return;
      deps.send({ type: 'skipEvaluation' });
      const run = { ...s.run, skipRequested: true };
      set({ run, announcement: stoppingLine(run) });
    },

    exportAdapter() {
      if (!canExport(get())) return;
      const output = exportTarget(get());
      deps.send({ type: 'export', output });
      set({ exportPending: true, exportKind: output, savedFileName: null });
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
      const m = comparableMethods(s).find((x) => x.id === id);
      if (!m || m.unsupported || isBusy(s)) return;
      const chosen = new Set(s.compare.selected);
      if (on) chosen.add(id);
      else chosen.delete(id);
      set({ compare: { ...s.compare, selected: comparableMethods(s).map((x) => x.id).filter((x) => chosen.has(x)) } });
    },

    startCompare() {
      const s = get();
      if (!canCompare(s)) return;
      const chosen = comparableMethods(s).filter((m) => s.compare.selected.includes(m.id));
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
      const trained = generationTrained(s);
      const withAdapter = trained !== null;
      if (trained) deps.send({ type: 'generate', requestId, ...settings, withAdapter: true, ...(trained === 'model' ? { output: trained } : {}) });
      const pending: GenerationOutput = { text: '', done: false };
      set({
        generation: { ...s.generation, requestId, base: pending, adapter: withAdapter ? pending : null },
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
            set({ modelQueued: false, modelLoadsInFlight: s.modelLoadsInFlight + 1 });
          }
          break;
        }
        case 'modelLoaded': {
          // The worker re-reads a loaded dataset for a new tokenizer itself; only a file
          // chosen before any model loaded is sent from here.
          const waiting = get().datasetWaiting;
          if (waiting) sendDataset(waiting);
          // Counting waits for the `methods` that follow: the forms' limits (a student's layers,
          // a prompt's length) are the new model's only then.
          break;
        }
        case 'methods':
          if (before.methodId !== get().methodId || !get().plan) requestPlan();
          requestAllPlans();
          break;
        case 'datasetLoaded': {
          reloadIfStale();
          // A labelled dataset adds a classification head to what trains (and an unlabelled one
          // takes it away): count again when that changes.
          const labels = (d: typeof before.dataset) => d?.classification?.labels.join('\u0000') ?? null;
          if (labels(before.dataset) !== labels(get().dataset)) {
            requestPlan();
            requestAllPlans();
          }
          break;
        }
        case 'datasetRejected':
          reloadIfStale();
          break;
        case 'exported':
        case 'rejectedRows':
          deps.save(msg.fileName, msg.bytes);
          break;
        default:
          break;
      }
    },
  };
}
