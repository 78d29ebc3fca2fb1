// `npm run bench:methods`: every PEFT method on the built-in English model and the same small
// English text (tests/fixtures/lighthouse-keeper.txt, not in the model's training data),
// trained one after another through the worker session's "compare" exactly as the page runs
// it, on the tfjs wasm backend in Node. Prints the table the "Compare methods" view shows.
import { readFileSync } from 'node:fs';
import { METHODS } from '../src/peft/registry';
import type { CompareRunResult, FromWorker, TrainConfig } from '../src/worker/protocol';
import { StudioSession } from '../src/worker/session';

const args = process.argv.slice(2);
const steps = Number(args.find((a) => a.startsWith('--steps='))?.slice(8) ?? 40);
const modelId = args.find((a) => a.startsWith('--model='))?.slice(8) ?? 'studio-gpt2-en';
const publicModels = new URL('../public/models/', import.meta.url);
const source = async (id: string, file: string) => new Uint8Array(readFileSync(new URL(`${id}/${file}`, publicModels)));

const train: TrainConfig = {
  steps,
  epochs: 1,
  batchSize: 4,
  sequenceLength: 128,
  learningRate: 3e-3,
  warmupSteps: 4,
  weightDecay: 0.01,
  maxGradNorm: 1,
  evalFraction: 0.2,
  evalEvery: steps,
  seed: 7,
};

const results: CompareRunResult[] = [];
let initialEval: number | undefined;
const session = new StudioSession(
  (m: FromWorker) => {
    if (m.type === 'compareRunEnded') results.push(m);
    if (m.type === 'eval' && m.point.step === 0) initialEval ??= m.point.evalLoss;
    if (m.type === 'error') console.error(`error: ${m.context}: ${m.message}`);
  },
  { source },
);
await session.handle({ type: 'init', backend: 'wasm', modelsBaseUrl: 'http://unused/' });
await session.handle({ type: 'loadModel', id: modelId });
const text = readFileSync(new URL('../tests/fixtures/lighthouse-keeper.txt', import.meta.url));
await session.handle({ type: 'loadDataset', file: new File([text], 'lighthouse-keeper.txt'), sequenceLength: train.sequenceLength, evalFraction: train.evalFraction, seed: train.seed });
const runs = METHODS.map((m) => ({ methodId: m.id, config: {} }));
console.log(`${modelId}, ${steps} steps × batch ${train.batchSize} × ${train.sequenceLength} tokens, lr ${train.learningRate}, each method at its defaults, wasm backend in Node`);
await session.handle({ type: 'compare', runs, train });

const label = (id: string) => METHODS.find((m) => m.id === id)!.label;
console.log(`held-out loss before training: ${initialEval?.toFixed(4)} nats/token`);
console.log('| method | trainable params | final held-out loss | tokens/s | adapter zip (bytes) | wall s |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(`| ${label(r.methodId)} | ${r.trainable.toLocaleString('en-US')} | ${r.finalEvalLoss?.toFixed(4) ?? '—'} | ${r.tokensPerSecond.toFixed(0)} | ${r.adapterBytes.toLocaleString('en-US')} | ${(r.wallMs / 1000).toFixed(1)} |`);
}
