// What the worker does with each message, with no dependency on the worker global: the
// worker entry wires postMessage to it, and Node tests drive it directly with real files.
// The session owns every tensor: the base model, what runs trained, the optimiser state.
import * as tf from '@tensorflow/tfjs';
import { startBackend, type WasmFiles } from '../backend/backend';
import { DatasetError, decodeUtf8, type ReadChoice } from '../data/parse';
import { BatchSampler, evalBatches, prepareDataset, type PreparedDataset } from '../data/dataset';
import { readParquetDataset } from '../data/parquet-read';
import { readDatasetStream, rejectedFile, rejectionSummary, type DatasetRead } from '../data/read';
import type { SequenceLayout } from '../data/layout';
import { peftTypeOf } from '../export/peft-files';
import { diskModelFolder, httpModelSource, readModelWeights, type ModelFileSource } from '../io/model-folder';
import { CHAT_TEMPLATE_FILE, modelChatTemplate, type ChatTemplate } from '../data/chat-template';
import { writeSafetensors, type SafetensorsTensor } from '../io/safetensors';
import { unzipFiles, zipFiles } from '../io/zip';
import { generate, generationUnsupported } from '../models/generate';
import { buildModel, modelInfo, WEIGHTS_FILE } from '../models/load';
import { architectureOf } from '../models/registry';
import type { LoadedModel, ModelInfo } from '../models/types';
import type { Student } from '../distill/student';
import type { FineTunedModel } from '../finetune/full';
import { METHODS } from '../peft/registry';
import { trainedAdapter } from '../peft/run';
import type { Adapter } from '../peft/types';
import { endOfTextId, loadTokenizer, type TextTokenizer } from '../tokenize/tokenizer';
import { trainVariables } from '../train/trainer';
import { checkAgainstCpu, parityFailure } from '../train/parity';
import { getRunKind, RUN_KINDS } from '../train/registry';
import { checkContext, checkedConfig, type ClassificationPlan, type RunContext, type RunKind, type RunOutput, type Trained } from '../train/run-kind';
import type { SequenceClassifier } from '../models/classifier';
import type { LabelledColumns } from '../data/labelled';
import { describeSelfCheck, selfCheck } from '../train/self-check';
import type { BackendName, CompareRunResult, DatasetPhase, FromWorker, MethodPlanEntry, ModelSource, ModelSummary, PlanSummary, ToWorker, TrainConfig } from './protocol';
import { jsonObject } from '../io/json-object';

/** While generating, partial text goes to the page every this many new tokens. */
export const GENERATE_STREAM_EVERY = 4;

export { httpModelSource, type ModelFileSource } from '../io/model-folder';

function parseJson(bytes: Uint8Array, fileName: string): unknown {
  try {
    return JSON.parse(decodeUtf8(bytes, fileName));
  } catch (e) {
    throw new Error(e instanceof SyntaxError ? `${fileName}: not valid JSON (${e.message})` : (e as Error).message);
  }
}

interface LoadedDataset {
  /** Read again from the file (never kept as text) when the sequence length or the model changes. */
  file: File;
  prepared: PreparedDataset;
  /** The rows that did not read, saved as they were on request. */
  rejected: Pick<DatasetRead, 'format' | 'rejected'>;
  evalFraction: number;
  seed: number;
  /** The columns a person chose for a labelled dataset (else found by their names). */
  columns?: Partial<LabelledColumns>;
  /** Train on a prompt's tokens too, instead of the completion only. */
  wholeText?: boolean;
  /** How examples become rows, as far as the person chose. */
  layout?: Partial<SequenceLayout>;
  /** What the records were read as, and how a text file was split, as far as the person chose. */
  reading?: ReadChoice;
}

/**
 * Files of the base model's folder kept byte for byte, so a merged checkpoint ships the base's
 * own config and tokenizer: config.json unchanged, so the checkpoint loads like the base.
 */
export const BASE_FILES_KEPT = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;
/** Optional in a Hugging Face folder; kept when the base model has one. */
export const GENERATION_CONFIG = 'generation_config.json';

/** One run as `runOnce` reports it. */
interface RunOutcome {
  reason: CompareRunResult['reason'];
  step: number;
  finalEvalLoss: number | null;
  finalClassification: CompareRunResult['finalClassification'];
  tokensPerSecond: number;
}

/** Steps for a run: `steps` when set, else epochs × batches per epoch. */
export function totalSteps(cfg: TrainConfig, trainExamples: number): number {
  if (cfg.steps > 0) return cfg.steps;
  return Math.max(1, Math.ceil(trainExamples / cfg.batchSize) * Math.max(1, cfg.epochs));
}

export class StudioSession {
  private source: ModelFileSource | undefined;
  private model: LoadedModel | undefined;
  private modelId = '';
  private tokenizer: TextTokenizer | undefined;
  /** The loaded model's chat template, read when a dataset first has chats (a template that does not parse refuses only those). */
  private chatTemplate: (() => ChatTemplate) | undefined;
  private dataset: LoadedDataset | undefined;
  /**
   * What the last run of each output made (or an import rebuilt), with the id of the kind that
   * made it: a new adapter replaces the adapter, a new student the student.
   */
  private held = new Map<RunOutput, { kindId: string; trained: Trained }>();
  /** The base folder's files a merged checkpoint copies unchanged (BASE_FILES_KEPT, generation_config.json, chat_template.jinja). */
  private baseFiles: Record<string, Uint8Array> = {};
  private training = false;
  private stopRequested = false;
  /**
   * Runs (`train`, `compare`) are numbered as they arrive; a stop applies to every run asked
   * for before it, so a Stop pressed while `train` still waits in the queue is not lost.
   */
  private runsRequested = 0;
  private stoppedUpTo = 0;
  /** Set by `skipEvaluation`: the run's evaluations end at their next held-out batch. */
  private skipRequested = false;
  /** The run in progress: steps handed to the trainer so far, and whether it is evaluating. */
  private running: { dispatched: number; evaluating: boolean } | undefined;

  constructor(
    private readonly emit: (msg: FromWorker) => void,
    private readonly options: { wasmFiles?: WasmFiles; source?: ModelFileSource } = {},
  ) {
    this.source = options.source;
  }

  private queue: Promise<void> = Promise.resolve();

  /**
   * Handles messages one after another in arrival order, so answers come back in the order
   * the page asked; only `stop` and `skipEvaluation` skip the queue, since they must reach a
   * running training loop.
   */
  enqueue(msg: ToWorker): Promise<void> {
    if (msg.type === 'stop' || msg.type === 'skipEvaluation') return this.handle(msg);
    const ticket = this.ticketFor(msg);
    this.queue = this.queue.then(() => this.handle(msg, ticket));
    return this.queue;
  }

  /** The number of a run request (0 for any other message). */
  private ticketFor(msg: ToWorker): number {
    return msg.type === 'train' || msg.type === 'compare' ? ++this.runsRequested : 0;
  }

  /**
   * Handles one message; never throws: failures become `error` messages. `ticket` is the run's
   * number when it was queued; a run handled directly is numbered now.
   */
  async handle(msg: ToWorker, ticket = this.ticketFor(msg)): Promise<void> {
    try {
      switch (msg.type) {
        case 'init':
          return await this.init(msg.backend, msg.modelsBaseUrl);
        case 'loadModel':
          return await this.loadModel(msg.id);
        case 'loadModelFiles':
          return await this.loadModelFiles(msg.files, msg.name);
        case 'loadDataset':
          return await this.loadDataset(msg.file, msg.sequenceLength, msg.evalFraction, msg.seed, msg.columns, msg.wholeText, msg.layout, msg.reading);
        case 'plan':
          return this.plan(msg.methodId, msg.config);
        case 'train':
          return await this.train(msg.methodId, msg.config, msg.train, ticket);
        case 'stop':
          this.stopRequested = true;
          this.stoppedUpTo = this.runsRequested;
          // Said at once: the steps already queued finish first, or the evaluation under way.
          if (this.running) this.emit({ type: 'stopping', phase: this.running.evaluating ? 'evaluating' : 'finishing', step: this.running.dispatched });
          return;
        case 'skipEvaluation':
          this.skipRequested = true;
          return;
        case 'export':
          return await this.export(msg.output ?? 'adapter');
        case 'exportMerged':
          return await this.exportMerged();
        case 'planAll':
          return this.planAll(msg.configs);
        case 'importAdapter':
          return await this.importAdapter(msg.file);
        case 'compare':
          return await this.compare(msg.runs, msg.train, ticket);
        case 'generate':
          return await this.generate(msg);
        case 'verify':
          return await this.verify(msg.methodId, msg.config, msg.train, msg.steps);
        case 'exportRejected':
          return this.exportRejected();
      }
    } catch (e) {
      this.emit({ type: 'error', context: contextOf(msg), message: (e as Error).message ?? String(e), request: msg.type });
    }
  }

  private async init(backend: BackendName | undefined, modelsBaseUrl: string) {
    const report = await startBackend(
      backend,
      this.options.wasmFiles,
      (message) => this.emit({ type: 'error', context: 'Compute backend', message, request: 'init' }),
      async (name) => {
        const r = await selfCheck(name);
        return { failure: r.failure, summary: describeSelfCheck(r) };
      },
    );
    this.source ??= httpModelSource(modelsBaseUrl);
    this.emit({ type: 'backend', report });
  }

  private requireIdle(what: string) {
    if (this.training) throw new Error(`cannot ${what} while training runs; stop it first`);
  }

  /** A built-in model: the folder public/models/<id>/ served with the page. */
  async loadModel(id: string) {
    this.requireIdle('change the model');
    const source = this.source;
    if (!source) throw new Error('the backend is not started yet');
    await this.loadModelFrom(id, 'built-in', (file) => source(id, file));
  }

  /**
   * A model the person brought: a Hugging Face folder's files, or a .zip of the folder. The
   * folder is checked whole (every missing file named) before anything is read into tensors.
   */
  async loadModelFiles(files: File[], name?: string) {
    this.requireIdle('change the model');
    const folder = await diskModelFolder(files, name);
    await this.loadModelFrom(folder.id, 'disk', (file) => folder.source(folder.id, file));
  }

  /**
   * Loads a model folder, wherever its files come from, and makes it the session's model.
   * config.json and the tokenizer are read and checked before the weights, so an unsupported
   * architecture is refused without reading a large checkpoint. The old model, its adapter and
   * its files stay until the new one is whole: a failure anywhere leaves the session as it was.
   */
  private async loadModelFrom(id: string, origin: ModelSource, get: (file: string) => Promise<Uint8Array>) {
    const [configBytes, tokBytes, tokCfgBytes, genBytes, chatBytes] = await Promise.all([
      get('config.json'),
      get('tokenizer.json'),
      get('tokenizer_config.json'),
      // Optional: a folder without one still loads. A static server may answer a missing file
      // with its index page, so only a JSON object counts as a generation config.
      get(GENERATION_CONFIG).then(
        (bytes) => (jsonObject(bytes) ? bytes : undefined),
        () => undefined,
      ),
      // Optional too, read as generation_config.json is: transformers 5 saves a model's chat
      // template here rather than in tokenizer_config.json.
      get(CHAT_TEMPLATE_FILE).then(
        (bytes) => bytes,
        () => undefined,
      ),
    ]);
    const config = parseJson(configBytes, `${id}/config.json`);
    let info: ModelInfo;
    try {
      info = modelInfo(id, config);
    } catch (e) {
      throw new Error(`${id}: ${(e as Error).message}`);
    }
    // A causal LM's examples end with the end-of-text token; a masked LM's tokenizer closes them itself.
    const requireEos = architectureOf(info).objective === 'causal-lm';
    const tokenizerConfig = parseJson(tokCfgBytes, `${id}/tokenizer_config.json`);
    const tokenizer = loadTokenizer(parseJson(tokBytes, `${id}/tokenizer.json`), tokenizerConfig, `${id}/tokenizer.json`, { requireEos });
    const weights = await readModelWeights(get, id);
    const model = buildModel(id, config, weights.tensors, weights.fileOf);
    if (tokenizer.vocabSize > model.info.config.vocabSize) {
      model.dispose();
      throw new Error(`${id}: tokenizer has ${tokenizer.vocabSize} tokens but config.json's vocab_size is ${model.info.config.vocabSize}`);
    }
    // Only now that the new model is whole do we let go of the old one, and of what was
    // trained on it: an adapter or a student has no meaning for another base model.
    for (const { trained } of this.held.values()) trained.dispose();
    this.held.clear();
    this.model?.dispose();
    this.model = model;
    this.modelId = id;
    this.tokenizer = tokenizer;
    this.chatTemplate = chatTemplateOnce(id, tokenizerConfig as Record<string, unknown>, chatBytes);
    this.baseFiles = {
      'config.json': configBytes,
      'tokenizer.json': tokBytes,
      'tokenizer_config.json': tokCfgBytes,
      ...(genBytes ? { [GENERATION_CONFIG]: genBytes } : {}),
      ...(chatBytes ? { [CHAT_TEMPLATE_FILE]: chatBytes } : {}),
    };
    const c = model.info.config;
    const summary: ModelSummary = {
      id,
      name: id,
      source: origin,
      modelType: c.modelType,
      numLayers: c.numLayers,
      hiddenSize: c.hiddenSize,
      numHeads: c.numHeads,
      vocabSize: c.vocabSize,
      maxPositions: c.maxPositions,
      totalParams: model.info.totalParams,
    };
    const cannotGenerate = generationUnsupported(model.info);
    if (cannotGenerate) summary.cannotGenerate = cannotGenerate;
    this.emit({ type: 'modelLoaded', model: summary });
    this.emit({
      type: 'methods',
      methods: RUN_KINDS.map((k) => ({
        id: k.id,
        label: k.label,
        summary: k.summary,
        paper: k.paper,
        output: k.output,
        comparable: k.comparable,
        fields: k.fields(model.info),
        defaults: k.defaults(model.info) as Record<string, unknown>,
        unsupported: k.unsupported(model.info),
      })),
    });
    // A dataset loaded for the previous model's tokenizer is re-tokenized for this one.
    if (this.dataset) await this.loadDataset(this.dataset.file, this.dataset.prepared.summary.sequenceLength, this.dataset.evalFraction, this.dataset.seed, this.dataset.columns, this.dataset.wholeText, this.dataset.layout, this.dataset.reading);
  }

  async loadDataset(file: File, sequenceLength: number, evalFraction: number, seed: number, columns?: Partial<LabelledColumns>, wholeText?: boolean, layout?: Partial<SequenceLayout>, reading?: ReadChoice) {
    this.requireIdle('change the dataset');
    if (!this.tokenizer) throw new Error('load a base model before a dataset');
    try {
      const loaded = { file, evalFraction, seed, columns, wholeText, layout, reading };
      const { prepared, rejected } = await this.prepare(loaded, sequenceLength);
      this.dataset = { ...loaded, prepared, rejected };
      this.emit({ type: 'datasetLoaded', dataset: prepared.summary });
    } catch (e) {
      const issues = e instanceof DatasetError ? e.issues : [];
      this.emit({ type: 'datasetRejected', fileName: file.name, issues, message: (e as Error).message });
    }
  }

  plan(methodId: string, raw: Record<string, unknown>) {
    if (!this.model) throw new Error('load a base model first');
    const info = this.model.info;
    const kind = getRunKind(methodId);
    const p = kind.plan(info, checkedConfig(kind, info, raw), this.classificationPlan());
    const plan: PlanSummary = p.output === 'student' ? { methodId, ...p } : { methodId, ...p, percent: (100 * p.trainable) / p.total };
    this.emit({ type: 'planned', plan });
  }

  /**
   * Counts for every comparable kind (the PEFT methods and full fine-tuning), each at the page's settings for it (or
   * its defaults): one row per method, with the reason instead of counts where a method does not
   * apply to this model or its settings are invalid.
   */
  planAll(configs: Record<string, Record<string, unknown>>) {
    const info = this.model?.info;
    if (!info) throw new Error('load a base model first');
    for (const id of Object.keys(configs)) getRunKind(id); // an unknown id is a page bug: say so
    const plans: MethodPlanEntry[] = RUN_KINDS.filter((k) => k.comparable).map((k) => {
      const reason = k.unsupported(info);
      if (reason) return { methodId: k.id, error: reason };
      try {
        const p = k.plan(info, checkedConfig(k, info, configs[k.id] ?? {}), this.classificationPlan());
        if (p.output === 'student') throw new Error(`${k.label} trains a model of its own`);
        return { methodId: k.id, trainable: p.trainable, total: p.total, percent: (100 * p.trainable) / p.total };
      } catch (e) {
        return { methodId: k.id, error: (e as Error).message ?? String(e) };
      }
    });
    this.emit({ type: 'plannedAll', plans });
  }

  /** When the dataset is labelled, what a plan needs to count the classifier's head (RunKind.plan). */
  private classificationPlan(): ClassificationPlan | undefined {
    const labels = this.dataset?.prepared.labelled?.names;
    return labels ? { numLabels: labels.length } : undefined;
  }

  /** The run's context: the tokenizer, the base files, and the labels when the dataset is labelled. */
  private runContext(kind: RunKind<any>, prepared: PreparedDataset): RunContext {
    const labels = prepared.labelled?.names;
    if (labels && kind.output === 'student') {
      throw new Error(`${kind.label} trains a model on text; a labelled dataset trains a classifier with a PEFT method or full fine-tuning`);
    }
    return { tokenizer: this.tokenizer, baseFiles: this.baseFiles, classification: labels ? { labels, padId: this.tokenizer!.padId } : undefined };
  }

  /**
   * A dataset file read as a stream and tokenized for the loaded model, with progress reported
   * as it goes: the file's text is never held whole, only the rows read from it until they are
   * tokenized. Only a causal LM trains on the completion alone: a masked LM's objective reads
   * every label to tell real tokens from padding.
   */
  private async prepare(d: Omit<LoadedDataset, 'prepared' | 'rejected'>, sequenceLength: number): Promise<{ prepared: PreparedDataset; rejected: LoadedDataset['rejected'] }> {
    const info = this.model!.info;
    const causal = architectureOf(info).objective === 'causal-lm';
    const { name, size } = d.file;
    const progress = new DatasetProgress(name, this.emit);
    const options = { ...d.reading, chatTemplate: this.chatTemplate };
    // A Parquet file is binary: decoded by row group, never as text; its progress counts rows.
    const parquet = /\.parquet$/i.test(name);
    if (!parquet) progress.report('reading', 0, size, true);
    const read = parquet
      ? await readParquetDataset(d.file, name, d.columns, (rows, total) => progress.report('reading', rows, total, rows === 0), options)
      : await readDatasetStream(name, d.file.stream(), d.columns, (bytes) => progress.report('reading', bytes, size), options);
    const prepared = prepareDataset(name, read, this.tokenizer!, {
      sequenceLength,
      evalFraction: d.evalFraction,
      seed: d.seed,
      columns: d.columns,
      completionOnly: !d.wholeText && causal,
      layout: d.layout,
      onProgress: (done, total) => progress.report('tokenizing', done, total),
    });
    if (!causal && prepared.summary.completionOnly !== undefined) prepared.summary.completionOnlyUnsupported = `${info.name} is a masked language model: it learns from every token`;
    if (read.rejected.rows.length > 0) prepared.summary.rejected = rejectionSummary(read);
    return { prepared, rejected: { format: read.format, rejected: read.rejected } };
  }

  /** The dataset tokenized at the run's sequence length (re-read and announced when it changed). */
  private async preparedFor(cfg: TrainConfig): Promise<PreparedDataset> {
    const dataset = this.dataset!;
    if (dataset.prepared.summary.sequenceLength !== cfg.sequenceLength) {
      Object.assign(dataset, await this.prepare(dataset, cfg.sequenceLength));
      this.emit({ type: 'datasetLoaded', dataset: dataset.prepared.summary });
    }
    return dataset.prepared;
  }

  /** The loaded dataset's refused rows as a file of its format, for the person to fix. */
  exportRejected() {
    const dataset = this.dataset;
    if (!dataset) throw new Error('drop a dataset first');
    if (dataset.rejected.rejected.rows.length === 0) throw new Error(`every row of ${dataset.file.name} was read; there are no rejected rows to save`);
    const { fileName, bytes } = rejectedFile(dataset.file.name, dataset.rejected);
    this.emit({ type: 'rejectedRows', fileName, bytes });
  }

  /** A kind and its settings, checked for the loaded model and for the run's sequence length. */
  private checkedRun(methodId: string, raw: Record<string, unknown>, sequenceLength: number, prefixErrors = false): { kind: RunKind<any>; config: Record<string, unknown> } {
    const info = this.model!.info;
    const kind = getRunKind(methodId);
    const config = checkedConfig(kind, info, raw, prefixErrors);
    checkContext(kind, info, config, sequenceLength);
    return { kind, config };
  }

  private requireTrainingInputs() {
    if (!this.model || !this.tokenizer) throw new Error('load a base model first');
    if (!this.dataset) throw new Error('drop a dataset first');
  }

  async train(methodId: string, raw: Record<string, unknown>, cfg: TrainConfig, ticket = ++this.runsRequested) {
    this.requireIdle('start another run');
    this.requireTrainingInputs();
    const { kind, config } = this.checkedRun(methodId, raw, cfg.sequenceLength);
    // Busy from here, before the first await (re-reading the dataset), so messages handled meanwhile are refused.
    this.training = true;
    // A stop that arrived while this run waited in the queue still counts.
    this.stopRequested = ticket <= this.stoppedUpTo;
    this.skipRequested = false;
    try {
      await this.runOnce(kind, config, cfg, await this.preparedFor(cfg));
    } finally {
      this.training = false;
      this.running = undefined;
    }
  }

  /** Replaces what the session holds for `trained`'s output, freeing the old one. */
  private hold(kindId: string, trained: Trained) {
    const old = this.held.get(trained.output);
    this.held.set(trained.output, { kindId, trained });
    if (old && old.trained !== trained) old.trained.dispose();
  }

  /**
   * One run of any kind: what it trains is created fresh (seeded by cfg.seed) and replaces the
   * session's of the same output, trains over batches drawn in the same order for every run
   * with these settings, and reports as it goes. The caller has marked the session busy.
   */
  private async runOnce(kind: RunKind<any>, config: Record<string, unknown>, cfg: TrainConfig, prepared: PreparedDataset): Promise<RunOutcome> {
    const model = this.model!;
    const steps = totalSteps(cfg, prepared.train.length);
    const pad = this.tokenizer!.padId;
    const sampler = new BatchSampler(prepared.train, { batchSize: cfg.batchSize, sequenceLength: cfg.sequenceLength, padId: pad, seed: cfg.seed }, prepared.labelled?.train, prepared.trained?.train);
    const held = evalBatches(prepared.eval, cfg.batchSize, cfg.sequenceLength, pad, prepared.labelled?.eval, prepared.trained?.eval);

    // Created before the old one goes, so a kind that fails to allocate leaves it usable.
    const trained = kind.create(model, config, cfg.seed, this.runContext(kind, prepared));
    this.hold(kind.id, trained);
    this.emit({ type: 'trainingStarted', totalSteps: steps, methodId: kind.id, output: trained.output, mergeable: trained.mergeable });
    // Cleared when the session is idle again (train's and compare's finally).
    const running = { dispatched: 0, evaluating: false };
    this.running = running;
    // Stopped before it began (Stop pressed while it waited): it ends before its first step.
    if (this.stopRequested) this.emit({ type: 'stopping', phase: 'finishing', step: 0 });
    if (trained.reference && held.length > 0) this.emit({ type: 'referenceEval', ...(await trained.reference(held)) });
    let step = 0;
    let evalAt = { step: 0, batch: 0 };
    const rates: number[] = [];
    let finalEvalLoss: number | null = null;
    let finalClassification: RunOutcome['finalClassification'] = null;
    const result = await trainVariables(
      trained.spec(held),
      {
        totalSteps: steps,
        learningRate: cfg.learningRate,
        warmupSteps: cfg.warmupSteps,
        weightDecay: cfg.weightDecay,
        maxGradNorm: cfg.maxGradNorm,
        recompute: cfg.recompute,
        evalEvery: cfg.evalEvery,
      },
      {
        nextBatch: () => {
          running.dispatched = step + 1;
          running.evaluating = false;
          return sampler.batchAtStep(step++);
        },
        evalBatches: held,
        onProgress: (points) => {
          for (const p of points) rates.push(p.tokensPerSecond);
          this.emit({ type: 'progress', points });
        },
        onStep: (point) => this.emit({ type: 'stepDone', point }),
        onEvaluating: (atStep) => {
          running.evaluating = true;
          evalAt = { step: atStep, batch: 0 };
          if (this.stopRequested) this.emit({ type: 'stopping', phase: 'evaluating', step: atStep });
        },
        // Asked before each held-out batch once the ones before it have run: the page shows how
        // far an evaluation has got (before the first step, it is all a person waits for).
        skipEvaluation: () => {
          evalAt.batch++;
          this.emit({ type: 'evaluating', step: evalAt.step, batch: evalAt.batch, batches: held.length });
          return this.skipRequested;
        },
        onEval: (point) => {
          running.evaluating = false;
          finalEvalLoss = Number.isFinite(point.evalLoss) ? point.evalLoss : null;
          finalClassification = point.classification ? { accuracy: point.classification.accuracy, macroF1: point.classification.macroF1 } : null;
          this.emit({ type: 'eval', point });
        },
        shouldStop: () => this.stopRequested,
      },
    );
    this.running = undefined;
    this.emit({ type: 'trainingEnded', reason: result.reason, message: result.message, step: result.step });
    // Timed here, on this backend, so the speed-up the page shows is the one this machine gives.
    if (result.reason !== 'failed' && trained.forwardSpeed) this.emit({ type: 'speedup', ...(await trained.forwardSpeed(sampler.batchAtStep(0).batch)) });
    const tokensPerSecond = rates.length ? rates.reduce((a, b) => a + b, 0) / rates.length : 0;
    return { reason: result.reason, step: result.step, finalEvalLoss, finalClassification, tokensPerSecond };
  }

  /**
   * Trains each run in turn on the same data with the same training settings and seed, and
   * reports per run what a person compares methods by. Every config is checked before the
   * first run starts. Stop ends the comparison: runs that finished keep their results, the
   * stopped one reports none. The last run's adapter stays the session's adapter.
   */
  async compare(runs: { methodId: string; config: Record<string, unknown> }[], cfg: TrainConfig, ticket = ++this.runsRequested) {
    this.requireIdle('start a comparison');
    this.requireTrainingInputs();
    if (runs.length === 0) throw new Error('choose at least one method to compare');
    const seen = new Set<string>();
    for (const r of runs) {
      const kind = getRunKind(r.methodId);
      if (!kind.comparable) throw new Error(`${kind.label} trains a model of its own; a comparison compares runs on the loaded model`);
      if (seen.has(r.methodId)) throw new Error(`${kind.label} is listed twice`);
      seen.add(r.methodId);
    }
    const info = this.model!.info;
    const checked = runs.map((r) => {
      const c = this.checkedRun(r.methodId, r.config, cfg.sequenceLength, true);
      const p = c.kind.plan(info, c.config, this.classificationPlan());
      return p.output === 'student' ? { ...c, trainable: p.studentParams, total: p.studentParams } : { ...c, trainable: p.trainable, total: p.total };
    });
    this.training = true;
    this.stopRequested = ticket <= this.stoppedUpTo;
    this.skipRequested = false;
    let completed = 0;
    let stopped = false;
    try {
      const prepared = await this.preparedFor(cfg);
      this.emit({ type: 'compareStarted', methodIds: runs.map((r) => r.methodId), totalSteps: totalSteps(cfg, prepared.train.length) });
      for (const run of checked) {
        if (this.stopRequested) {
          stopped = true;
          break;
        }
        const t0 = performance.now();
        const outcome = await this.runOnce(run.kind, run.config, cfg, prepared);
        const wallMs = performance.now() - t0;
        if (outcome.reason === 'stopped') {
          stopped = true;
          break;
        }
        // The size a person would download: the same export "Export adapter" zips.
        const { files } = await this.held.get(run.kind.output)!.trained.exportFiles();
        const adapterBytes = zipFiles(files).length;
        this.emit({ type: 'compareRunEnded', methodId: run.kind.id, trainable: run.trainable, total: run.total, wallMs, adapterBytes, ...outcome });
        completed++;
      }
    } finally {
      this.training = false;
      this.running = undefined;
    }
    this.emit({ type: 'compareEnded', reason: stopped ? 'stopped' : 'finished', completed });
  }

  /** What the session holds for `output`, or an error saying how to get one. */
  private requireHeld(output: RunOutput): { kindId: string; trained: Trained } {
    const held = this.held.get(output);
    if (!held) throw new Error(NOTHING_HELD[output]);
    return held;
  }

  async export(output: RunOutput) {
    this.requireIdle('export');
    const { baseName, files } = await this.requireHeld(output).trained.exportFiles();
    this.emit({ type: 'exported', fileName: `${baseName}.zip`, bytes: zipFiles(files) });
  }

  /**
   * A complete Hugging Face checkpoint of the base model with the adapter folded in:
   * the base's config.json and tokenizer files byte for byte, and model.safetensors written
   * from the adapter's merged weights with PyTorch's {"format": "pt"} metadata, so
   * transformers' from_pretrained loads the folder as it loads the base.
   */
  async exportMerged() {
    this.requireIdle('export');
    const { kindId, trained } = this.requireHeld('adapter');
    const label = getRunKind(kindId).label;
    if (!trained.mergedWeights) throw new Error(`a ${label} adapter cannot be merged into the base weights; export the adapter instead`);
    const weights = await trained.mergedWeights();
    const files: Record<string, Uint8Array> = {
      'config.json': this.baseFiles['config.json'],
      [WEIGHTS_FILE]: writeSafetensors(weights, { format: 'pt' }, WEIGHTS_FILE),
    };
    for (const name of [...BASE_FILES_KEPT, GENERATION_CONFIG, CHAT_TEMPLATE_FILE]) {
      if (name !== 'config.json' && this.baseFiles[name]) files[name] = this.baseFiles[name];
    }
    this.emit({ type: 'exported', fileName: `${this.modelId}-${kindId}-merged.zip`, bytes: zipFiles(files) });
  }

  /**
   * Reads a zipped adapter folder, finds the method whose files these are and rebuilds the
   * adapter on the loaded model. Only a whole adapter replaces the session's: any failure
   * leaves the current one in place and names the file and what did not match.
   */
  async importAdapter(file: File) {
    this.requireIdle('import an adapter');
    const model = this.model;
    if (!model) throw new Error('load a base model first');
    const files = unzipFiles(new Uint8Array(await file.arrayBuffer()), file.name);
    const claimed = METHODS.filter((m) => m.recognizes(files));
    if (claimed.length === 0) {
      const peftType = peftTypeOf(files);
      const names = Object.keys(files);
      throw new Error(
        peftType !== undefined
          ? `${file.name}: adapter_config.json: "peft_type" is ${JSON.stringify(peftType)}, which the studio cannot load (it reads ${METHODS.map((m) => m.label).join(', ')})`
          : `${file.name}: not an adapter the studio recognises (files: ${names.length ? names.join(', ') : 'none'}); expected an exported adapter folder with its adapter_config.json`,
      );
    }
    if (claimed.length > 1) throw new Error(`${file.name}: these files could be ${claimed.map((m) => m.label).join(' or ')}; the studio cannot tell which`);
    const method = claimed[0];
    let adapter: Adapter;
    try {
      adapter = method.load(model, files);
    } catch (e) {
      throw new Error(`${file.name}: ${(e as Error).message ?? String(e)}`);
    }
    this.hold(method.id, trainedAdapter(model, adapter, adapter.variables.map((v, i) => `tensor ${i + 1} [${v.shape.join(', ')}]`)));
    const trainable = adapter.variables.reduce((n, v) => n + v.size, 0);
    this.emit({ type: 'adapterImported', fileName: file.name, methodId: method.id, trainable, mergeable: typeof adapter.mergedWeights === 'function', notice: adapter.notice });
  }

  /**
   * Continues the prompt with the base model or with the adapter on it, streaming the new
   * text (decoded from the new ids only) every few tokens and once more when done. An empty
   * prompt starts from the end-of-text token, as GPT-2 does for unconditional text.
   */
  async generate(msg: Extract<ToWorker, { type: 'generate' }>) {
    this.requireIdle('generate text');
    const model = this.model;
    const tokenizer = this.tokenizer;
    if (!model || !tokenizer) throw new Error('load a base model first');
    const unsupported = generationUnsupported(model.info);
    if (unsupported) throw new Error(unsupported);
    const { model: generator, hooks } = msg.withAdapter ? this.requireHeld(msg.output ?? 'adapter').trained.generator() : { model, hooks: {} };
    const eosId = endOfTextId(tokenizer);
    const promptIds = msg.prompt === '' ? [eosId] : tokenizer.encode(msg.prompt);
    const { requestId, withAdapter } = msg;
    const ids: number[] = [];
    const out = await generate(
      generator,
      hooks,
      promptIds,
      { maxNewTokens: msg.maxNewTokens, temperature: msg.temperature, topK: msg.topK, seed: msg.seed, eosId },
      (id) => {
        ids.push(id);
        if (ids.length % GENERATE_STREAM_EVERY === 0) this.emit({ type: 'generated', requestId, withAdapter, text: tokenizer.decode(ids), done: false });
      },
    );
    this.emit({ type: 'generated', requestId, withAdapter, text: tokenizer.decode(out), done: true });
  }

  /**
   * Runs the same `steps` training steps of a method on this backend and on the cpu backend
   * from the same initial state on the same batches, and reports how far the loss, every
   * gradient and every updated weight are apart. The base model is rebuilt on the cpu backend
   * from this backend's own copy of its weights; what the session trained is not touched.
   */
  async verify(methodId: string, raw: Record<string, unknown>, cfg: TrainConfig, steps: number) {
    this.requireIdle('check the backend');
    this.requireTrainingInputs();
    if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a positive integer, got ${steps}`);
    const base = this.model!;
    const { kind, config } = this.checkedRun(methodId, raw, cfg.sequenceLength);
    const opts = { totalSteps: steps, learningRate: cfg.learningRate, warmupSteps: cfg.warmupSteps, weightDecay: cfg.weightDecay, maxGradNorm: cfg.maxGradNorm, recompute: cfg.recompute };
    const active = tf.getBackend() as BackendName;
    this.training = true;
    try {
      const prepared = await this.preparedFor(cfg);
      const t0 = performance.now();
      const ctx = this.runContext(kind, prepared);
      const sampler = new BatchSampler(prepared.train, { batchSize: cfg.batchSize, sequenceLength: cfg.sequenceLength, padId: this.tokenizer!.padId, seed: cfg.seed }, prepared.labelled?.train, prepared.trained?.train);
      const batches = Array.from({ length: steps }, (_, i) => sampler.batchAtStep(i).batch);
      // The base model is rebuilt on the cpu backend from this backend's copy of its weights.
      const weights = new Map<string, SafetensorsTensor>();
      for (const [name, t] of base.weights) weights.set(name, { dtype: 'F32', shape: t.shape, data: Float32Array.from((await t.data()) as Float32Array) });
      const side = (model: LoadedModel, release: () => void) => {
        const trained = kind.create(model, config, cfg.seed, ctx);
        return { spec: trained.spec([]), names: trained.names, dispose: () => (trained.dispose(), release()) };
      };
      const checks = await checkAgainstCpu(
        active,
        (backend) => {
          if (backend === active) return side(base, () => {});
          const cpuModel = buildModel(base.info.name, base.info.config.raw, weights);
          return side(cpuModel, () => cpuModel.dispose());
        },
        batches,
        opts,
      );
      this.emit({
        type: 'verified',
        report: { methodId, backend: active, steps, batchSize: cfg.batchSize, sequenceLength: cfg.sequenceLength, checks, failure: parityFailure(checks), ms: performance.now() - t0 },
      });
    } finally {
      this.training = false;
    }
  }

  /** For tests and benchmarks: the live model, adapter, fine-tuned model and student. */
  get current() {
    const adapter = this.held.get('adapter');
    return {
      model: this.model,
      adapter: (adapter?.trained as { adapter?: Adapter } | undefined)?.adapter,
      classifier: (adapter?.trained as { head?: SequenceClassifier } | undefined)?.head,
      fineTuned: this.held.get('model')?.trained as FineTunedModel | undefined,
      student: (this.held.get('student')?.trained as { student?: Student } | undefined)?.student,
      adapterMethodId: adapter?.kindId ?? '',
      modelId: this.modelId,
      tensors: tf.memory().numTensors,
    };
  }
}

/**
 * The model's chat template, built at the first call and kept (the same error every time when
 * it cannot be read): from chat_template.jinja's bytes when the folder has one, else
 * tokenizer_config.json, else the default.
 */
function chatTemplateOnce(id: string, tokenizerConfig: Record<string, unknown>, jinja: Uint8Array | undefined): () => ChatTemplate {
  let built: ChatTemplate | Error | undefined;
  return () => {
    if (built === undefined) {
      try {
        built = modelChatTemplate(id, tokenizerConfig, jinja && decodeUtf8(jinja, `${id}/${CHAT_TEMPLATE_FILE}`));
      } catch (e) {
        built = e as Error;
      }
    }
    if (built instanceof Error) throw built;
    return built;
  };
}

/** Why an export or generation has nothing to work on, per output. */
const NOTHING_HELD: Record<RunOutput, string> = {
  adapter: 'train or import an adapter first',
  model: 'fine-tune the model first',
  student: 'distil a student first',
};


function contextOf(msg: ToWorker): string {
  switch (msg.type) {
    case 'init':
      return 'Starting the compute backend';
    case 'loadModel':
      return `Loading model ${msg.id}`;
    case 'loadModelFiles':
      return msg.name ? `Loading model ${msg.name} from disk` : 'Loading a model from disk';
    case 'loadDataset':
      return `Loading ${msg.file.name}`;
    case 'plan':
      return 'Counting parameters';
    case 'train':
      return 'Training';
    case 'stop':
      return 'Stopping';
    case 'skipEvaluation':
      return 'Skipping the final evaluation';
    case 'export':
      return msg.output === 'student' ? 'Exporting the student' : msg.output === 'model' ? 'Exporting the fine-tuned model' : 'Exporting the adapter';
    case 'exportMerged':
      return 'Exporting the merged model';
    case 'planAll':
      return 'Counting parameters for every method';
    case 'importAdapter':
      return 'Importing an adapter';
    case 'compare':
      return 'Comparing methods';
    case 'generate':
      return !msg.withAdapter ? 'Generating text with the base model' : msg.output === 'model' ? 'Generating text with the fine-tuned model' : 'Generating text with the adapter';
    case 'verify':
      return 'Checking the backend against the CPU reference';
    case 'exportRejected':
      return 'Saving the rejected rows';
  }
}

/**
 * Progress of reading and tokenizing a dataset, for the page: at most one message every
 * PROGRESS_INTERVAL_MS (and at each phase's start and end), so a large file does not flood the
 * page with messages.
 */
class DatasetProgress {
  private phase: DatasetPhase | undefined;
  private last = 0;

  constructor(
    private readonly fileName: string,
    private readonly emit: (msg: FromWorker) => void,
  ) {}

  report(phase: DatasetPhase, done: number, total: number, force = false) {
    const now = performance.now();
    if (!force && phase === this.phase && now - this.last < PROGRESS_INTERVAL_MS && done < total) return;
    this.phase = phase;
    this.last = now;
    this.emit({ type: 'datasetProgress', fileName: this.fileName, phase, done, total });
  }
}

const PROGRESS_INTERVAL_MS = 100;
