// The dataset slice: the loaded dataset, the loadDataset requests still unanswered, and the
// file the worker refused. Answers are matched to requests by file name.
import type { FromWorker } from '../../../src/worker/protocol';
import { formatInt } from '../../format';
import type { DatasetRequest, StudioData } from '../state';

export type DatasetMessage = Extract<FromWorker, { type: 'datasetLoaded' | 'datasetRejected' | 'datasetProgress' | 'rejectedRows' }>;

const PHASE_LABELS = { reading: 'Reading', tokenizing: 'Tokenizing' } as const;

/** The queued dataset request an answer for `fileName` belongs to (oldest match, else oldest). */
function answeredRequest(queue: DatasetRequest[], fileName: string, sequenceLength?: number): number {
  let i = queue.findIndex((r) => r.file.name === fileName && (sequenceLength === undefined || r.sequenceLength === sequenceLength));
  if (i < 0) i = queue.findIndex((r) => r.file.name === fileName);
  return i;
}

function without<T>(list: T[], i: number): T[] {
  return i < 0 ? list : [...list.slice(0, i), ...list.slice(i + 1)];
}

export function reduceDataset(s: StudioData, msg: DatasetMessage): StudioData {
  switch (msg.type) {
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
        datasetProgress: null,
        announcement: `Dataset loaded: ${d.fileName} · ${d.rejected ? `kept ${formatInt(d.examples)} rows, rejected ${formatInt(d.rejected.count)} · ` : ''}${formatInt(d.examples)} examples (${formatInt(d.trainExamples)} train / ${formatInt(d.evalExamples)} held out) · ${formatInt(d.tokens)} tokens in ${formatInt(d.trainRows + d.evalRows)} rows${d.duplicates ? ` · ${formatInt(d.duplicates)} duplicates dropped` : ''}${d.completionOnly ? ` · ${formatInt(d.untrainedTokens ?? 0)} prompt tokens not trained on` : ''}`,
      };
    }

    case 'datasetProgress': {
      // The live region hears when a phase starts; the bar shows every step of it.
      const started = s.datasetProgress?.phase !== msg.phase || s.datasetProgress.fileName !== msg.fileName;
      return {
        ...s,
        datasetProgress: { fileName: msg.fileName, phase: msg.phase, done: msg.done, total: msg.total },
        announcement: started ? `${PHASE_LABELS[msg.phase]} ${msg.fileName}…` : s.announcement,
      };
    }

    case 'rejectedRows':
      return { ...s, announcement: `Saved the rejected rows as ${msg.fileName}` };

    case 'datasetRejected': {
      const i = answeredRequest(s.datasetQueue, msg.fileName);
      const file = s.datasetQueue[i]?.file;
      return {
        ...s,
        datasetProgress: null,
        datasetQueue: without(s.datasetQueue, i),
        datasetRejection: { fileName: msg.fileName, message: msg.message, issues: msg.issues, ...(file ? { file } : {}) },
      };
    }
  }
}

/** A loadDataset request failed: its context ("Loading <file name>") names it; otherwise the oldest is dropped. */
export function datasetRequestFailed(s: StudioData, context: string): StudioData {
  const named = s.datasetQueue.findIndex((r) => context.includes(r.file.name));
  return { ...s, datasetQueue: without(s.datasetQueue, named >= 0 ? named : 0), datasetProgress: null };
}
