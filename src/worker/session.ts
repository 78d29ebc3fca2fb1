// What the worker does with each message, with no dependency on the worker global: the
// worker entry wires postMessage to it, and Node tests drive it directly with real files.
// The session owns every tensor: the base model, the adapter, the optimiser state.
import * as tf from '@tensorflow/tfjs';
import { startBackend, type WasmFiles } from '../backend/backend';
import { DatasetError, decodeUtf8 } from '../data/parse';
import { BatchSampler, evalBatches, prepareDataset, type PreparedDataset } from '../data/dataset';
import { readSafetensors } from '../io/safetensors';
import { zipFiles } from '../io/zip';
import { generate } from '../models/generate';
import { buildModel, WEIGHTS_FILE } from '../models/load';
import type { LoadedModel } from '../models/types';
import { coerceConfig, getMethod, METHODS } from '../peft/registry';
import type { Adapter } from '../peft/types';
import { loadTokenizer, type TextTokenizer } from '../tokenize/tokenizer';
import { train } from '../train/trainer';
import type { BackendName, FromWorker, ModelSummary, ToWorker, TrainConfig } from './protocol';

/** While generating, partial text goes to the page every this many new tokens. */
export const GENERATE_STREAM_EVERY = 4;

/** Fetches one file of a model folder by name, e.g. `config.json`. */
export type ModelFileSource = (modelId: string, file: string) => Promise<Uint8Array>;

export function httpModelSource(baseUrl: string): ModelFileSource {
  return async (id, file) => {
    const url = new URL(`${id}/${file}`, baseUrl).href;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${id}/${file}: HTTP ${res.status} ${res.statusText}`.trim());
    return new Uint8Array(await res.arrayBuffer());
  };
}

function parseJson(bytes: Uint8Array, fileName: string): unknown {
  try {
    return JSON.parse(decodeUtf8(bytes, fileName));
  } catch (e) {
    throw new Error(e instanceof SyntaxError ? `${fileName}: not valid JSON (${e.message})` : (e as Error).message);
  }
}

interface LoadedDataset {
  file: File;
  text: string;
  prepared: PreparedDataset;
  evalFraction: number;
  seed: number;
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
  private dataset: LoadedDataset | undefined;
  private adapter: Adapter | undefined;
  private training = false;
  private stopRequested = false;

  constructor(
    private readonly emit: (msg: FromWorker) => void,
    private readonly options: { wasmFiles?: WasmFiles; source?: ModelFileSource } = {},
  ) {
    this.source = options.source;
  }

  private queue: Promise<void> = Promise.resolve();

  /**
   * Handles messages one after another in arrival order, so answers come back in the order
   * the page asked; only `stop` skips the queue, since it must reach a running training loop.
   */
  enqueue(msg: ToWorker): Promise<void> {
    if (msg.type === 'stop') return this.handle(msg);
    this.queue = this.queue.then(() => this.handle(msg));
    return this.queue;
  }

  /** Handles one message; never throws: failures become `error` messages. */
  async handle(msg: ToWorker): Promise<void> {
    try {
      switch (msg.type) {
        case 'init':
          return await this.init(msg.backend, msg.modelsBaseUrl);
        case 'loadModel':
          return await this.loadModel(msg.id);
        case 'loadDataset':
          return await this.loadDataset(msg.file, msg.sequenceLength, msg.evalFraction, msg.seed);
        case 'plan':
          return this.plan(msg.methodId, msg.config);
        case 'train':
          return await this.train(msg.methodId, msg.config, msg.train);
        case 'stop':
          this.stopRequested = true;
          return;
        case 'export':
          return await this.export();
        case 'generate':
          return await this.generate(msg);
      }
    } catch (e) {
      this.emit({ type: 'error', context: contextOf(msg), message: (e as Error).message ?? String(e), request: msg.type });
    }
  }

  private async init(backend: BackendName | undefined, modelsBaseUrl: string) {
    const report = await startBackend(backend, this.options.wasmFiles, (message) =>
      this.emit({ type: 'error', context: 'Compute backend', message, request: 'init' }),
    );
    this.source ??= httpModelSource(modelsBaseUrl);
    this.emit({ type: 'backend', report });
  }

  private requireIdle(what: string) {
    if (this.training) throw new Error(`cannot ${what} while training runs; stop it first`);
  }

  async loadModel(id: string) {
    this.requireIdle('change the model');
    if (!this.source) throw new Error('the backend is not started yet');
    const get = (file: string) => this.source!(id, file);
    const [configBytes, weightBytes, tokBytes, tokCfgBytes] = await Promise.all([
      get('config.json'),
      get(WEIGHTS_FILE),
      get('tokenizer.json'),
      get('tokenizer_config.json'),
    ]);
    const config = parseJson(configBytes, `${id}/config.json`);
    const tokenizer = loadTokenizer(parseJson(tokBytes, `${id}/tokenizer.json`), parseJson(tokCfgBytes, `${id}/tokenizer_config.json`), `${id}/tokenizer.json`);
    const { tensors } = readSafetensors(weightBytes, `${id}/${WEIGHTS_FILE}`);
    const model = buildModel(id, config, tensors);
    if (tokenizer.vocabSize > model.info.config.vocabSize) {
      model.dispose();
      throw new Error(`${id}: tokenizer has ${tokenizer.vocabSize} tokens but config.json's vocab_size is ${model.info.config.vocabSize}`);
    }
    // Only now that the new model is whole do we let go of the old one.
    this.adapter?.dispose();
    this.adapter = undefined;
    this.model?.dispose();
    this.model = model;
    this.modelId = id;
    this.tokenizer = tokenizer;
    const c = model.info.config;
    const summary: ModelSummary = {
      id,
      name: id,
      modelType: c.modelType,
      nLayer: c.nLayer,
      nEmbd: c.nEmbd,
      nHead: c.nHead,
      vocabSize: c.vocabSize,
      nPositions: c.nPositions,
      totalParams: model.info.totalParams,
    };
    this.emit({ type: 'modelLoaded', model: summary });
    this.emit({
      type: 'methods',
      methods: METHODS.map((m) => ({
        id: m.id,
        label: m.label,
        summary: m.summary,
        paper: m.paper,
        fields: m.fields(model.info),
        defaults: m.defaults(model.info) as Record<string, unknown>,
        unsupported: m.unsupported?.(model.info),
      })),
    });
    // A dataset loaded for the previous model's tokenizer is re-tokenized for this one.
    if (this.dataset) await this.loadDataset(this.dataset.file, this.dataset.prepared.summary.sequenceLength, this.dataset.evalFraction, this.dataset.seed);
  }

  async loadDataset(file: File, sequenceLength: number, evalFraction: number, seed: number) {
    this.requireIdle('change the dataset');
    if (!this.tokenizer) throw new Error('load a base model before a dataset');
    try {
      const text = decodeUtf8(new Uint8Array(await file.arrayBuffer()), file.name);
      const prepared = prepareDataset(file.name, text, this.tokenizer, { sequenceLength, evalFraction, seed });
      this.dataset = { file, text, prepared, evalFraction, seed };
      this.emit({ type: 'datasetLoaded', dataset: prepared.summary });
    } catch (e) {
      const issues = e instanceof DatasetError ? e.issues : [];
      this.emit({ type: 'datasetRejected', fileName: file.name, issues, message: (e as Error).message });
    }
  }

  plan(methodId: string, raw: Record<string, unknown>) {
    if (!this.model) throw new Error('load a base model first');
    const method = getMethod(methodId);
    const config = coerceConfig(method, this.model.info, raw);
    const p = method.plan(this.model.info, config);
    this.emit({ type: 'planned', plan: { methodId, trainable: p.trainable, total: p.total, percent: (100 * p.trainable) / p.total, tensors: p.tensors } });
  }

  async train(methodId: string, raw: Record<string, unknown>, cfg: TrainConfig) {
    this.requireIdle('start another run');
    const model = this.model;
    if (!model || !this.tokenizer) throw new Error('load a base model first');
    if (!this.dataset) throw new Error('drop a dataset first');
    const method = getMethod(methodId);
    const config = coerceConfig(method, model.info, raw);
    method.validate(model.info, config);
    // The sequence length may have changed since the file was dropped: tokenize for this run.
    let prepared = this.dataset.prepared;
    if (prepared.summary.sequenceLength !== cfg.sequenceLength) {
      prepared = prepareDataset(this.dataset.file.name, this.dataset.text, this.tokenizer, { sequenceLength: cfg.sequenceLength, evalFraction: this.dataset.evalFraction, seed: this.dataset.seed });
      this.dataset.prepared = prepared;
      this.emit({ type: 'datasetLoaded', dataset: prepared.summary });
    }
    const steps = totalSteps(cfg, prepared.train.length);
    const pad = this.tokenizer.padId;
    const sampler = new BatchSampler(prepared.train, { batchSize: cfg.batchSize, sequenceLength: cfg.sequenceLength, padId: pad, seed: cfg.seed });
    const held = evalBatches(prepared.eval, cfg.batchSize, cfg.sequenceLength, pad);

    this.adapter?.dispose();
    this.adapter = method.create(model, config, cfg.seed, { tokenizer: this.tokenizer });
    this.training = true;
    this.stopRequested = false;
    this.emit({ type: 'trainingStarted', totalSteps: steps, methodId });
    let step = 0;
    try {
      const result = await train(
        model,
        this.adapter,
        {
          totalSteps: steps,
          learningRate: cfg.learningRate,
          warmupSteps: cfg.warmupSteps,
          weightDecay: cfg.weightDecay,
          maxGradNorm: cfg.maxGradNorm,
          evalEvery: cfg.evalEvery,
        },
        {
          nextBatch: () => {
            const { batch, epoch } = sampler.batchAtStep(step++);
            return { batch, epoch };
          },
          evalBatches: held,
          onProgress: (points) => this.emit({ type: 'progress', points }),
          onEval: (point) => this.emit({ type: 'eval', point }),
          shouldStop: () => this.stopRequested,
        },
      );
      this.emit({ type: 'trainingEnded', reason: result.reason, message: result.message, step: result.step });
    } finally {
      this.training = false;
    }
  }

  async export() {
    this.requireIdle('export');
    if (!this.adapter) throw new Error('train or import an adapter first');
    const { baseName, files } = await this.adapter.exportFiles();
    this.emit({ type: 'exported', fileName: `${baseName}.zip`, bytes: zipFiles(files) });
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
    if (msg.withAdapter && !this.adapter) throw new Error('train or import an adapter first');
    const hooks = msg.withAdapter ? this.adapter!.hooks(false) : {};
    const promptIds = msg.prompt === '' ? [tokenizer.eosId] : tokenizer.encode(msg.prompt);
    const { requestId, withAdapter } = msg;
    const ids: number[] = [];
    const out = await generate(
      model,
      hooks,
      promptIds,
      { maxNewTokens: msg.maxNewTokens, temperature: msg.temperature, topK: msg.topK, seed: msg.seed, eosId: tokenizer.eosId },
      (id) => {
        ids.push(id);
        if (ids.length % GENERATE_STREAM_EVERY === 0) this.emit({ type: 'generated', requestId, withAdapter, text: tokenizer.decode(ids), done: false });
      },
    );
    this.emit({ type: 'generated', requestId, withAdapter, text: tokenizer.decode(out), done: true });
  }

  /** For tests and benchmarks: the live adapter and model. */
  get current() {
    return { model: this.model, adapter: this.adapter, modelId: this.modelId, tensors: tf.memory().numTensors };
  }
}

function contextOf(msg: ToWorker): string {
  switch (msg.type) {
    case 'init':
      return 'Starting the compute backend';
    case 'loadModel':
      return `Loading model ${msg.id}`;
    case 'loadDataset':
      return `Loading ${msg.file.name}`;
    case 'plan':
      return 'Counting parameters';
    case 'train':
      return 'Training';
    case 'stop':
      return 'Stopping';
    case 'export':
      return 'Exporting the adapter';
    case 'generate':
      return msg.withAdapter ? 'Generating text with the adapter' : 'Generating text with the base model';
  }
}
