// The reducer: pure, FromWorker → next data, each message handed to the slice of its area.
// Follow-up messages to the worker are sent by the `receive` action, not from here.
import type { FromWorker } from '../../src/worker/protocol';
import { reduceCompare } from './slices/compare';
import { reduceDataset } from './slices/dataset';
import { reduceError } from './slices/errors';
import { reduceGenerate } from './slices/generate';
import { reduceModel } from './slices/model';
import { reduceRun } from './slices/run';
import type { StudioData } from './state';

export function reduce(s: StudioData, msg: FromWorker): StudioData {
  switch (msg.type) {
    case 'backend':
    case 'methods':
    case 'modelLoaded':
    case 'planned':
    case 'plannedAll':
      return reduceModel(s, msg);

    case 'datasetLoaded':
    case 'datasetRejected':
    case 'datasetProgress':
    case 'rejectedRows':
      return reduceDataset(s, msg);

    case 'trainingStarted':
    case 'progress':
    case 'stepDone':
    case 'stopping':
    case 'evaluating':
    case 'eval':
    case 'trainingEnded':
    case 'referenceEval':
    case 'speedup':
    case 'exported':
    case 'adapterImported':
    case 'verified':
      return reduceRun(s, msg);

    case 'compareStarted':
    case 'compareRunEnded':
    case 'compareEnded':
      return reduceCompare(s, msg);

    case 'generated':
      return reduceGenerate(s, msg);

    case 'error':
      return reduceError(s, msg);

    default: {
      // Every FromWorker type has a case above; a new one fails to compile here.
      const unhandled: never = msg;
      return unhandled;
    }
  }
}
