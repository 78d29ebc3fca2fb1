// "Or try a sample": one button per shipped sample dataset. A chosen sample is read exactly as
// a dropped file; a sample that cannot be fetched says so in an alert and changes nothing.
import { useState } from 'react';
import { fetchSampleDataset, SAMPLE_DATASETS, type SampleDataset } from '../sample-datasets';
import { isBusy, useActions, useStudio } from '../store';

export default function SampleDatasets() {
  const busy = useStudio(isBusy);
  const { chooseDatasetFile } = useActions();
  // Fetch state is this component's own: nothing else depends on it.
  const [fetching, setFetching] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const choose = async (sample: SampleDataset) => {
    setFailure(null);
    setFetching(sample.file);
    try {
      chooseDatasetFile(await fetchSampleDataset(sample));
    } catch (e) {
      setFailure((e as Error).message);
    } finally {
      setFetching(null);
    }
  };

  return (
    <div className="sample-datasets" role="group" aria-labelledby="sample-datasets-title">
      <p id="sample-datasets-title" className="small">Or try a sample:</p>
      <ul>
        {SAMPLE_DATASETS.map((s) => (
          <li key={s.file}>
            <button type="button" onClick={() => void choose(s)} disabled={busy || fetching !== null} aria-describedby={`sample-${s.file}-note`}>
              {s.label}
            </button>{' '}
            <span id={`sample-${s.file}-note`} className="muted small">
              {s.note}
            </span>
          </li>
        ))}
      </ul>
      {failure && <p role="alert">{failure}</p>}
    </div>
  );
}
