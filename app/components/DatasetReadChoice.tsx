// How dropped files are read: what each record is (found from its fields unless chosen) and how
// a plain-text file is cut into examples. A change reads the file on show again that way.
import type { ReadAs, TextSplit } from '../../src/data/parse';
import { isBusy, useActions, useStudio } from '../store';

const READ_AS_LABELS: Record<ReadAs, string> = {
  text: 'Plain text ("text")',
  'prompt-completion': 'Prompt + completion',
  alpaca: 'Alpaca (instruction, input, output)',
  chat: 'Chat ("messages" or ShareGPT "conversations")',
  labelled: 'Labelled (text + label, classification)',
};

const SPLIT_LABELS: Record<TextSplit, string> = {
  paragraphs: 'Paragraphs, at blank lines',
  lines: 'One example per line',
  whole: 'The whole file as one example',
};

export default function DatasetReadChoice() {
  const busy = useStudio(isBusy);
  const reading = useStudio((s) => s.datasetReading);
  const { setDatasetReading } = useActions();
  return (
    <fieldset className="read-choice" disabled={busy}>
      <legend>Read files as</legend>
      <div className="field">
        <label htmlFor="dataset-read-as">Records (.jsonl, .json, .csv, .tsv, .parquet)</label>
        <select id="dataset-read-as" value={reading.as ?? ''} onChange={(e) => setDatasetReading({ ...reading, as: (e.target.value || undefined) as ReadAs | undefined })}>
          <option value="">Found from each record's fields</option>
          {(Object.keys(READ_AS_LABELS) as ReadAs[]).map((k) => (
            <option key={k} value={k}>
              {READ_AS_LABELS[k]}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="dataset-text-split">Plain text (.txt) examples</label>
        <select id="dataset-text-split" value={reading.split ?? ''} onChange={(e) => setDatasetReading({ ...reading, split: (e.target.value || undefined) as TextSplit | undefined })}>
          <option value="">Paragraphs at blank lines, else one per line</option>
          {(Object.keys(SPLIT_LABELS) as TextSplit[]).map((k) => (
            <option key={k} value={k}>
              {SPLIT_LABELS[k]}
            </option>
          ))}
        </select>
      </div>
    </fieldset>
  );
}
