// The page's one polite live region: step and loss while training, and other status changes.
import { useStudio } from '../store';

export default function StatusLine() {
  const text = useStudio((s) => s.announcement);
  return (
    <p role="status" aria-live="polite" className="status-line">
      {text}
    </p>
  );
}
