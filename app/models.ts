// Base models the page offers. The worker resolves `id` to a folder under models/.
// Add an entry here when a model folder is added to public/models/.

export interface ModelOption {
  id: string;
  /** Display name in the "Base model" select. */
  name: string;
  /** One line shown under the select. */
  note?: string;
}

export const MODELS: readonly ModelOption[] = [
  {
    id: 'studio-gpt2-en',
    name: 'Studio GPT-2 English (built in)',
    note: 'A 2.7M-parameter GPT-2 pretrained in this repository on Moby-Dick and the State of the Union addresses (1.23 nats per byte held out): it writes English-like text, so fine-tuning visibly changes what it writes.',
  },
  {
    id: 'studio-bert-en',
    name: 'Studio BERT English (built in, masked LM)',
    note: 'A 2.8M-parameter BERT masked LM pretrained in this repository on the same text (6.79 nats per masked token held out, no better yet than token frequencies alone): for masked-LM fine-tuning; it cannot generate text.',
  },
  {
    id: 'tiny-gpt2',
    name: 'Tiny GPT-2 (built in)',
    note: 'A 4-layer GPT-2 over bytes, randomly initialised: small enough to fine-tune on a software GPU; for trying the studio and its tests.',
  },
];

export const DEFAULT_MODEL_ID = MODELS[0].id;

export function modelOption(id: string | null | undefined): ModelOption | undefined {
  return MODELS.find((m) => m.id === id);
}
