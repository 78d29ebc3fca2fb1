// The loaded dataset: how its records were read (and, for chats, with which chat template),
// counts, how examples became rows (and the choice of windows or cuts, packing or padding), the
// examples' token lengths, the tokens instruction and chat data do not train on (and the choice
// to train on them), a labelled file's columns (chosen here) and label set, and the first examples.
import type { DatasetSummary, ClassificationSummary } from '../../src/data/dataset';
import type { LongExamples, ShortExamples } from '../../src/data/layout';
import type { DatasetKind } from '../../src/data/parse';
import { formatInt } from '../format';
import DatasetRejectedRows from './DatasetRejectedRows';
import { chosenLayout, datasetStale, isBusy, trainsOnWholeText, useActions, useStudio } from '../store';
import TokenLengthChart from './TokenLengthChart';

const KIND_LABELS: Record<DatasetKind, string> = {
  text: 'plain text',
  'prompt-completion': 'prompt/completion',
  alpaca: 'Alpaca instruction',
  chat: 'chat (messages)',
  sharegpt: 'chat (ShareGPT)',
  mixed: 'mixed (text and instruction records)',
};

/** Instruction or chat data: the prompt tokens left out of the loss, and the choice to train on them too. */
function CompletionOnly({ d }: { d: DatasetSummary }) {
  const busy = useStudio(isBusy);
  const wholeText = useStudio(trainsOnWholeText);
  const { setTrainOnWholeText } = useActions();
  const untrained = d.untrainedTokens ?? 0;
  // A chat's prompt is everything but the assistant's replies: system and user turns, tool results, the template's headers.
  const chat = d.kind === 'chat' || d.kind === 'sharegpt';
  return (
    <div className="completion-only">
      {d.chatTemplate && (
        <p className="small" data-testid="chat-template">
          {d.chatTemplate === 'model' ? "Rendered with the model's chat template" : 'Rendered with the default ChatML template, the model has none'}
        </p>
      )}
      <p className="small" data-testid="untrained-tokens">
        {d.completionOnly
          ? chat
            ? `${formatInt(untrained)} prompt tokens not trained on (assistant-only loss: system and user turns and the template's headers)`
            : `${formatInt(untrained)} prompt tokens not trained on (completion-only loss)`
          : chat
            ? 'Every turn trained on (whole conversation)'
            : 'Prompt and completion both trained on (whole text)'}
        {d.completionOnlyUnsupported && <span className="muted"> — {d.completionOnlyUnsupported}</span>}
      </p>
      {d.completionOnly && d.nothingTrained !== undefined && (
        <p className="small" data-testid="nothing-trained">
          {formatInt(d.nothingTrained)} example{d.nothingTrained === 1 ? ' is' : 's are'} left out: cut at {formatInt(d.sequenceLength)} tokens before the
          {chat ? ' first assistant reply' : ' completion'} begins, {d.nothingTrained === 1 ? 'it has' : 'they have'} nothing to train on. A longer sequence length keeps them.
        </p>
      )}
      <label className="checkbox">
        <input
          type="checkbox"
          checked={wholeText || d.completionOnlyUnsupported !== undefined}
          disabled={busy || d.completionOnlyUnsupported !== undefined}
          onChange={(e) => setTrainOnWholeText(e.target.checked)}
        />
        <span>{chat ? "Train on the prompt too (every turn), not only the assistant's replies" : 'Train on the prompt too (whole text), not only the completion'}</span>
      </label>
    </div>
  );
}

const LONG_LABELS: Record<LongExamples, string> = {
  windows: 'Split into windows (every token kept)',
  'keep-start': 'Cut, keeping the start',
  'keep-end': 'Cut, keeping the end',
};

const SHORT_LABELS: Record<ShortExamples, string> = {
  pack: 'Pack end to end into full rows',
  pad: 'One example per row, padded',
};

const plural = (n: number, one: string, many = `${one}s`) => `${formatInt(n)} ${n === 1 ? one : many}`;

/** In words: how the examples became rows. */
function layoutReport(d: DatasetSummary & { layout: NonNullable<DatasetSummary['layout']> }): string {
  const rows = d.trainRows + d.evalRows;
  const kept = d.trainExamples + d.evalExamples;
  const parts: string[] = [];
  if (d.layout.short === 'pack') {
    parts.push(`${plural(kept, 'example')} packed into ${plural(rows, 'row')} of ${formatInt(d.sequenceLength)} tokens${d.layout.long === 'windows' ? ', long ones continuing from row to row' : ''}.`);
  } else {
    parts.push(`One example per row, padded to ${formatInt(d.sequenceLength)} tokens: ${plural(rows, 'row')}.`);
    if (d.windows) parts.push(`${plural(d.lengths.exceeding, 'long example')} split into ${plural(d.windows, 'window')}.`);
  }
  if (d.layout.long !== 'windows') parts.push(`${plural(d.truncated, 'example')} cut, keeping the ${d.layout.long === 'keep-start' ? 'start' : 'end'}.`);
  if (d.promptOnlyRows) parts.push(`${plural(d.promptOnlyRows, 'row')} of prompt tokens only left out (nothing to train on).`);
  return parts.join(' ');
}

/** Long examples split into windows or cut, short ones packed or padded; changing either reads the file again. */
function LayoutChoice({ d }: { d: DatasetSummary & { layout: NonNullable<DatasetSummary['layout']> } }) {
  const busy = useStudio(isBusy);
  const chosen = useStudio(chosenLayout);
  const { setSequenceLayout } = useActions();
  const long = chosen.long ?? d.layout.long;
  const short = chosen.short ?? d.layout.short;
  return (
    <fieldset className="layout-choice" disabled={busy}>
      <legend>Rows</legend>
      <div className="field">
        <label htmlFor="dataset-long-examples">Examples longer than the sequence length</label>
        <select id="dataset-long-examples" value={long} onChange={(e) => setSequenceLayout({ long: e.target.value as LongExamples })}>
          {(Object.keys(LONG_LABELS) as LongExamples[]).map((k) => (
            <option key={k} value={k}>
              {LONG_LABELS[k]}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="dataset-short-examples">Examples shorter than a row</label>
        <select id="dataset-short-examples" value={short} onChange={(e) => setSequenceLayout({ short: e.target.value as ShortExamples })}>
          {(Object.keys(SHORT_LABELS) as ShortExamples[]).map((k) => (
            <option key={k} value={k}>
              {SHORT_LABELS[k]}
              {d.layout.shortByDefault && k === d.layout.short ? ` (default for ${d.kind === 'text' ? 'plain text' : 'instruction data'})` : ''}
            </option>
          ))}
        </select>
      </div>
      <p className="small" data-testid="layout-report">
        {layoutReport(d)}
      </p>
    </fieldset>
  );
}

/**
 * Which columns hold the text, the second text of a sentence pair, and the label; changing one
 * reads the file again with that choice.
 */
function ColumnChoice({ c }: { c: ClassificationSummary }) {
  const busy = useStudio(isBusy);
  const { chooseDatasetColumns } = useActions();
  const { text, pair, label } = c.columns;
  const choose = (next: { text?: string; pair?: string; label?: string }) => {
    const chosen = { text, pair, label, ...next };
    // A column serves one role: the label's column is no text column, and a pair needs two texts.
    if (chosen.label === chosen.text) chosen.text = c.allColumns.find((h) => h !== chosen.label) ?? chosen.text;
    if (chosen.pair === chosen.text || chosen.pair === chosen.label) chosen.pair = undefined;
    chooseDatasetColumns({ text: chosen.text, pair: chosen.pair || undefined, label: chosen.label });
  };
  const options = (columns: string[]) => columns.map((h) => <option key={h} value={h}>{h}</option>);
  return (
    <fieldset className="column-choice" disabled={busy}>
      <legend>Columns</legend>
      <div className="field">
        <label htmlFor="dataset-text-column">Text column</label>
        <select id="dataset-text-column" value={text} onChange={(e) => choose({ text: e.target.value })}>
          {options(c.allColumns.filter((h) => h !== label))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="dataset-pair-column">Second text (sentence pairs)</label>
        <select id="dataset-pair-column" value={pair ?? ''} onChange={(e) => choose({ pair: e.target.value })}>
          <option value="">none</option>
          {options(c.allColumns.filter((h) => h !== label && h !== text))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="dataset-label-column">Label column</label>
        <select id="dataset-label-column" value={label} onChange={(e) => choose({ label: e.target.value })}>
          {options(c.allColumns)}
        </select>
      </div>
    </fieldset>
  );
}

export default function DatasetSummaryView() {
  const d = useStudio((s) => s.dataset);
  const stale = useStudio(datasetStale);
  if (!d) return <p className="muted">No dataset loaded yet.</p>;
  return (
    <div className="dataset-summary">
      <p className="dataset-file">
        <span className="file-name">{d.fileName}</span> <span className="badge">{d.format}</span>
        {d.kind && <span className="badge" data-testid="dataset-kind">{KIND_LABELS[d.kind]}</span>}
        {stale && <span className="badge badge-warn">re-reading with new settings…</span>}
      </p>
      <dl className="stats">
        <div>
          <dt>Examples</dt>
          <dd data-testid="dataset-examples">
            {formatInt(d.examples)}{' '}
            <span className="muted small">
              ({formatInt(d.trainExamples)} train / {formatInt(d.evalExamples)} held out)
            </span>
          </dd>
        </div>
        <div>
          <dt>Rows</dt>
          <dd data-testid="dataset-rows">
            {formatInt(d.trainRows + d.evalRows)}{' '}
            <span className="muted small">
              ({formatInt(d.trainRows)} train / {formatInt(d.evalRows)} held out)
            </span>
          </dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>{formatInt(d.tokens)}</dd>
        </div>
        <div>
          <dt>Duplicates dropped</dt>
          <dd data-testid="dataset-duplicates">{formatInt(d.duplicates)}</dd>
        </div>
        {d.layout?.long === 'windows' ? (
          <div>
            <dt>Longer than a row</dt>
            <dd data-testid="dataset-exceeding">
              {formatInt(d.lengths.exceeding)} <span className="muted small">kept whole in windows</span>
            </dd>
          </div>
        ) : (
          <div>
            <dt>Truncated</dt>
            <dd data-testid="dataset-truncated">
              {formatInt(d.truncated)} <span className="muted small">at {formatInt(d.sequenceLength)} tokens</span>
            </dd>
          </div>
        )}
      </dl>
      {d.rejected && <DatasetRejectedRows rejected={d.rejected} kept={d.examples} />}
      {d.layout && <LayoutChoice d={{ ...d, layout: d.layout }} />}
      <TokenLengthChart lengths={d.lengths} sequenceLength={d.sequenceLength} examples={d.examples - d.duplicates} />
      {d.completionOnly !== undefined && <CompletionOnly d={d} />}
      {d.classification && (
        <>
          <h3 id="dataset-labels-heading">Labels</h3>
          <p className="small">
            Text from <strong>{d.classification.columns.text}</strong>
            {d.classification.columns.pair && (
              <>
                {' '}
                and <strong>{d.classification.columns.pair}</strong> (sentence pairs)
              </>
            )}
            , label from <strong>{d.classification.columns.label}</strong>
            {d.classification.ambiguous && <span className="muted"> (other text columns: {d.classification.textColumns.filter((c) => c !== d.classification!.columns.text && c !== d.classification!.columns.pair).join(', ')})</span>}
          </p>
          <ColumnChoice c={d.classification} />
          <ul className="label-set" aria-labelledby="dataset-labels-heading">
            {d.classification.labels.map((l, k) => (
              <li key={l}>
                {l} <span className="muted small">({formatInt(d.classification!.counts[k])} examples, {formatInt(d.classification!.evalCounts[k])} held out)</span>
              </li>
            ))}
          </ul>
        </>
      )}
      {d.preview.length > 0 && (
        <>
          <h3 id="dataset-preview-heading">First examples</h3>
          <ol className="preview" aria-labelledby="dataset-preview-heading">
            {d.preview.map((text, i) => (
              <li key={i}>{text}</li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
