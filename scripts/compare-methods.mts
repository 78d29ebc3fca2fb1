// `npm run bench:methods`: every method that trains on the loaded model (the PEFT methods and
// full fine-tuning), trained one after another through the worker session's "compare" exactly
// as the page runs it, on the tfjs wasm backend in Node. Prints the table the "Compare methods"
// view shows.
//
// By default: the built-in English GPT-2 on a small English text (tests/fixtures/
// lighthouse-keeper.txt, not in the model's training data), scored by held-out loss.
// `--model=studio-bert-en --dataset=public/datasets/spam-ham.csv` is the PEFT papers' setting: a
// pretrained BERT with a classification head on a labelled set, scored by held-out accuracy and
// macro-F1 beside full fine-tuning's, with each method's trainable share.
// Other flags: --steps=N, --batch=N, --seq=N, --lr=X, --methods=id,id (default: all that apply).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { RUN_KINDS } from '../src/train/registry';
import type { CompareRunResult, FromWorker, TrainConfig } from '../src/worker/protocol';
import { StudioSession } from '../src/worker/session';

const args = process.argv.slice(2);
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const steps = Number(flag('steps') ?? 40);
const modelId = flag('model') ?? 'studio-gpt2-en';
const datasetPath = flag('dataset') ?? new URL('../tests/fixtures/lighthouse-keeper.txt', import.meta.url).pathname;
const publicModels = new URL('../public/models/', import.meta.url);
const source = async (id: string, file: string) => new Uint8Array(readFileSync(new URL(`${id}/${file}`, publicModels)));

const train: TrainConfig = {
  steps,
  epochs: 1,
  batchSize: Number(flag('batch') ?? 4),
  sequenceLength: Number(flag('seq') ?? 128),
  learningRate: Number(flag('lr') ?? 3e-3),
  warmupSteps: Math.min(4, steps),
  weightDecay: 0.01,
  maxGradNorm: 1,
  evalFraction: 0.2,
  evalEvery: steps,
  seed: 7,
};

const results: CompareRunResult[] = [];
let initial: { evalLoss: number; accuracy?: number } | undefined;
let labels: string[] | undefined;
const session = new StudioSession(
  (m: FromWorker) => {
    if (m.type === 'compareRunEnded') {
      results.push(m);
      console.error(`${m.methodId}: ${m.finalClassification ? `accuracy ${(100 * m.finalClassification.accuracy).toFixed(1)}%` : `held-out loss ${m.finalEvalLoss?.toFixed(4)}`} (${(m.wallMs / 1000).toFixed(0)} s)`);
    }
    if (m.type === 'eval' && m.point.step === 0) initial ??= { evalLoss: m.point.evalLoss, accuracy: m.point.classification?.accuracy };
    if (m.type === 'datasetLoaded') labels = m.dataset.classification?.labels;
    if (m.type === 'error') console.error(`error: ${m.context}: ${m.message}`);
  },
  { source },
);
await session.handle({ type: 'init', backend: 'wasm', modelsBaseUrl: 'http://unused/' });
await session.handle({ type: 'loadModel', id: modelId });
const name = basename(datasetPath);
await session.handle({ type: 'loadDataset', file: new File([readFileSync(datasetPath)], name), sequenceLength: train.sequenceLength, evalFraction: train.evalFraction, seed: train.seed });

const chosen = flag('methods')?.split(',');
const info = session.current.model!.info;
const kinds = RUN_KINDS.filter((k) => k.comparable && (chosen ? chosen.includes(k.id) : true)).filter((k) => {
  const why = k.unsupported(info);
  if (why) console.error(`${k.label} left out: ${why}`);
  return !why;
});
await session.handle({ type: 'compare', runs: kinds.map((k) => ({ methodId: k.id, config: {} })), train });

const label = (id: string) => RUN_KINDS.find((k) => k.id === id)!.label;
const classifier = results.some((r) => r.finalClassification);
console.log(
  `${modelId} on ${name}${labels ? ` (labels ${labels.join(', ')})` : ''}: ${steps} steps × batch ${train.batchSize} × ${train.sequenceLength} tokens, lr ${train.learningRate}, ` +
    `${train.evalFraction * 100}% held out, each method at its defaults, wasm backend in Node`,
);
console.log(
  classifier
    ? `before training (a fresh head): held-out loss ${initial?.evalLoss.toFixed(4)}, accuracy ${((initial?.accuracy ?? NaN) * 100).toFixed(1)}%`
    : `held-out loss before training: ${initial?.evalLoss.toFixed(4)} nats/token`,
);
const share = (r: CompareRunResult) => `${((100 * r.trainable) / r.total).toFixed(4)}%`;
const wall = (r: CompareRunResult) => (r.wallMs / 1000).toFixed(1);
if (classifier) {
  console.log('| method | trainable params | trainable share | held-out accuracy | macro-F1 | held-out loss | tokens/s | export (bytes) | wall s |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const c = r.finalClassification;
    console.log(
      `| ${label(r.methodId)} | ${r.trainable.toLocaleString('en-US')} | ${share(r)} | ${c ? `${(100 * c.accuracy).toFixed(1)}%` : '—'} | ${c ? c.macroF1.toFixed(3) : '—'} | ${r.finalEvalLoss?.toFixed(4) ?? '—'} | ${r.tokensPerSecond.toFixed(0)} | ${r.adapterBytes.toLocaleString('en-US')} | ${wall(r)} |`,
    );
  }
} else {
  console.log('| method | trainable params | trainable share | final held-out loss | tokens/s | export (bytes) | wall s |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${label(r.methodId)} | ${r.trainable.toLocaleString('en-US')} | ${share(r)} | ${r.finalEvalLoss?.toFixed(4) ?? '—'} | ${r.tokensPerSecond.toFixed(0)} | ${r.adapterBytes.toLocaleString('en-US')} | ${wall(r)} |`);
  }
}
