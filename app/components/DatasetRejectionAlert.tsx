// A refused dataset file: the message and each issue with its line. The previously loaded
// dataset (if any) stays loaded and usable.
import { useStudio } from '../store';

export default function DatasetRejectionAlert() {
  const rejection = useStudio((s) => s.datasetRejection);
  const keptName = useStudio((s) => s.dataset?.fileName);
  if (!rejection) return null;
  return (
    <div role="alert" className="alert alert-error dataset-rejection">
      <p>
        <strong>{rejection.fileName} was not loaded:</strong> {rejection.message}
      </p>
      {rejection.issues.length > 0 && (
        <ul className="issues">
          {rejection.issues.map((issue, i) => (
            <li key={i}>
              <span className="issue-line">{/\.parquet$/i.test(rejection.fileName) ? 'Row' : 'Line'} {issue.line}:</span> {issue.message}
            </li>
          ))}
        </ul>
      )}
      {keptName && <p className="small">Still using {keptName}.</p>}
    </div>
  );
}
