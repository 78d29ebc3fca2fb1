// The loaded dataset's rows that did not read: how many, the first few with their line and
// reason, and a download of all of them as they were in the dropped file, to fix and drop again.
import type { RejectionSummary } from '../../src/data/parse';
import { formatInt } from '../format';
import { useActions } from '../store';

export default function DatasetRejectedRows({ rejected, kept }: { rejected: RejectionSummary; kept: number }) {
  const { downloadRejectedRows } = useActions();
  const { count, rows } = rejected;
  return (
    <div className="dataset-rejected" role="group" aria-labelledby="dataset-rejected-heading">
      <h3 id="dataset-rejected-heading">
        {formatInt(count)} row{count === 1 ? '' : 's'} rejected
      </h3>
      <p className="small" data-testid="dataset-kept">
        Kept {formatInt(kept)} row{kept === 1 ? '' : 's'}, rejected {formatInt(count)}: the rejected rows are left out of training.
      </p>
      <table className="rejected-rows">
        <caption className="small">{rows.length < count ? `The first ${formatInt(rows.length)} of ${formatInt(count)} rejected rows` : 'Rejected rows'}</caption>
        <thead>
          <tr>
            <th scope="col">{rejected.unit === 'row' ? 'Row' : 'Line'}</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.line}>
              <td>{r.line}</td>
              <td>{r.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={downloadRejectedRows}>
        Download rejected rows
      </button>
    </div>
  );
}
