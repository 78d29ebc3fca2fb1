// The compare slice: "Compare methods" from compareStarted to compareEnded, each run's result
// as it ends. The runs themselves (progress, held-out curves) go through the run slice.
import type { FromWorker } from '../../../src/worker/protocol';
import { formatInt, formatLoss } from '../../format';
import { isCompareActive, methodLabel } from '../selectors';
import type { StudioData } from '../state';
import { formatAccuracy, formatMacroF1 } from './run';

export type CompareMessage = Extract<FromWorker, { type: 'compareStarted' | 'compareRunEnded' | 'compareEnded' }>;

export function reduceCompare(s: StudioData, msg: CompareMessage): StudioData {
  switch (msg.type) {
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
      const loss =
        result.reason === 'failed'
          ? `failed at step ${result.step}`
          : result.finalClassification
            ? `held-out accuracy ${formatAccuracy(result.finalClassification.accuracy)}, macro-F1 ${formatMacroF1(result.finalClassification.macroF1)}`
            : result.finalEvalLoss === null
              ? 'no held-out loss'
              : `held-out loss ${formatLoss(result.finalEvalLoss)}`;
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
  }
}

/** Ends the active comparison, if any, as failed; its finished rows are kept. */
export function compareFailed(s: StudioData, message: string): StudioData {
  if (!isCompareActive(s.compare.status)) return s;
  return { ...s, compare: { ...s.compare, status: 'failed', current: null, message }, announcement: `Comparison failed: ${message}` };
}
