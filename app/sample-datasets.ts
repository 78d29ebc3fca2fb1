// Sample datasets the page offers one click away. Each is a static file under public/datasets/
// (built by a script in scripts/, with its licence beside it); choosing one fetches it from the
// page's own origin and hands it on exactly as a dropped file is.

export interface SampleDataset {
  /** The file under public/datasets/, also the name the dataset is shown with. */
  file: string;
  /** The button's text. */
  label: string;
  /** One line on what it holds and where it comes from. */
  note: string;
  type: string;
}

export const SAMPLE_DATASETS: readonly SampleDataset[] = [
  {
    file: 'spam-ham.csv',
    label: 'Spam or ham (1000 labelled e-mails)',
    note: 'SpamAssassin public corpus, 500 spam and 500 ham, subject and start of each message (PDDL / CC0).',
    type: 'text/csv',
  },
  {
    file: 'held-out-english.jsonl',
    label: 'English prose (15 long documents)',
    note: 'The end of Moby-Dick and four State of the Union addresses, which the built-in models never saw in pretraining (public domain).',
    type: 'application/jsonl',
  },
  {
    file: 'instructions.jsonl',
    label: 'Instructions (48 Alpaca-style tasks)',
    note: 'Short tasks with instruction, input and output, written for PEFT Studio (CC0); the output alone is trained on.',
    type: 'application/jsonl',
  },
  {
    file: 'chat.jsonl',
    label: 'Chat (28 conversations)',
    note: 'User and assistant turns, some with a system message, written for PEFT Studio (CC0); the assistant turns alone are trained on.',
    type: 'application/jsonl',
  },
];

/** The sample's bytes as a File, fetched from this page's own static files. */
export async function fetchSampleDataset(sample: SampleDataset, baseUrl = import.meta.env.BASE_URL): Promise<File> {
  const url = `${baseUrl}datasets/${sample.file}`;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Could not fetch the sample ${sample.file}: ${response.status} ${response.statusText}`.trim());
  return new File([await response.blob()], sample.file, { type: sample.type });
}
