// How far the worker has got reading a dropped dataset: bytes of the file read (rows, for a
// Parquet file, which is decoded by row group), then examples tokenized. The live region hears when each phase starts (the store announces it).
import { formatInt } from '../format';
import { useStudio } from '../store';

const MB = 1024 * 1024;

export default function DatasetProgressBar() {
  const p = useStudio((s) => s.datasetProgress);
  if (!p) return null;
  const what =
    p.phase === 'reading' && /\.parquet$/i.test(p.fileName)
      ? `Reading ${p.fileName}: ${formatInt(p.done)} of ${formatInt(p.total)} rows`
      : p.phase === 'reading'
      ? `Reading ${p.fileName}: ${(p.done / MB).toFixed(1)} of ${(p.total / MB).toFixed(1)} MB`
      : `Tokenizing ${p.fileName}: ${formatInt(p.done)} of ${formatInt(p.total)} examples`;
  return (
    <div className="dataset-progress">
      <label htmlFor="dataset-progress" className="small">
        {what}
      </label>
      <progress id="dataset-progress" max={Math.max(p.total, 1)} value={p.done} />
    </div>
  );
}
