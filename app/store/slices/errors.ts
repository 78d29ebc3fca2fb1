// The errors slice: every `error` is shown, and the request it names says which area's pending
// work it ends. An error naming no request is the worker client's own failure (the worker did
// not start, or threw outside any request): then everything pending ends.
import type { FromWorker, ToWorker } from '../../../src/worker/protocol';
import type { StudioData } from '../state';
import { compareFailed } from './compare';
import { datasetRequestFailed } from './dataset';
import { failGeneration } from './generate';
import { allPlansFailed, backendFailed, modelLoadFailed, planFailed } from './model';
import { exportFailed, importFailed, parityFailed, parityInterrupted, runFailed } from './run';

export type ErrorMessage = Extract<FromWorker, { type: 'error' }>;

type ErrorTopic = 'rejected' | 'verify' | 'backend' | 'dataset' | 'export' | 'plan' | 'planAll' | 'import' | 'compare' | 'train' | 'model' | 'generate' | 'worker';

/** The part of the page an error belongs to, by the request that failed. */
const REQUEST_TOPIC: Record<ToWorker['type'], ErrorTopic> = {
  init: 'backend',
  loadModel: 'model',
  loadModelFiles: 'model',
  loadDataset: 'dataset',
  plan: 'plan',
  train: 'train',
  stop: 'train',
  skipEvaluation: 'train',
  export: 'export',
  exportMerged: 'export',
  planAll: 'planAll',
  importAdapter: 'import',
  compare: 'compare',
  generate: 'generate',
  verify: 'verify',
  exportRejected: 'rejected',
};

/** The worker itself failed: nothing pending will be answered, and a run, check or comparison in progress has ended. */
function workerFailed(s: StudioData, message: string): StudioData {
  const freed: StudioData = {
    ...s,
    modelLoading: false,
    modelQueued: false,
    planPending: false,
    allPlansPending: false,
    exportPending: false,
    importPending: false,
    datasetQueue: [],
  };
  return compareFailed(parityInterrupted(runFailed(failGeneration(freed, message, true), message), message), message);
}

export function reduceError(s: StudioData, msg: ErrorMessage): StudioData {
  const next: StudioData = { ...s, error: { context: msg.context, message: msg.message } };
  const topic: ErrorTopic = msg.request ? REQUEST_TOPIC[msg.request] : 'worker';
  switch (topic) {
    case 'dataset':
      return datasetRequestFailed(next, msg.context);
    case 'backend':
      return backendFailed(next, msg.message);
    case 'export':
      return exportFailed(next);
    case 'import':
      return importFailed(next);
    case 'planAll':
      return allPlansFailed(next);
    case 'generate':
      return failGeneration(next, msg.message);
    case 'verify':
      return parityFailed(next, msg.message);
    case 'plan':
      return planFailed(next, msg.message);
    case 'model':
      return modelLoadFailed(next);
    case 'train':
    case 'compare':
      // A comparison's runs fail with it, whichever of the two the worker names.
      return compareFailed(runFailed(next, msg.message), msg.message);
    case 'worker':
      return workerFailed(next, msg.message);
    case 'rejected':
      return next;
  }
}
