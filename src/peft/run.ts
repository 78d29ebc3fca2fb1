// A PEFT method as one of the studio's run kinds: its variables train on the base model's
// objective (causal LM for a decoder, masked LM for an encoder: src/train/objective.ts) while
// the base model stays frozen; the adapter it leaves exports in its method's format and, for
// methods that can, merges into the base weights.
import { withClassifierHead } from '../export/seq-cls';
import { classifierPlan, SequenceClassifier } from '../models/classifier';
import type { LoadedModel } from '../models/types';
import { classifierSpec } from '../train/classification';
import { objectiveFor, type LmObjective } from '../train/objective';
import type { RunKind, Trained } from '../train/run-kind';
import { adapterSpec } from '../train/trainer';
import type { Adapter, PeftMethod } from './types';

/**
 * The adapter a PEFT run trained or an import rebuilt, on the model it was made for. A run's
 * adapter trains on `objective`; an imported one has none and is not trained further (a run
 * always starts a fresh adapter).
 */
export function trainedAdapter(model: LoadedModel, adapter: Adapter, names: string[], objective?: LmObjective): Trained & { adapter: Adapter } {
  return {
    output: 'adapter',
    adapter,
    names,
    mergeable: typeof adapter.mergedWeights === 'function',
    spec: (evalBatches) => {
      if (!objective) throw new Error('an imported adapter is not trained further; train a new one');
      return adapterSpec(model, adapter, evalBatches, objective);
    },
    generator: () => ({ model, hooks: adapter.hooks(false) }),
    exportFiles: () => adapter.exportFiles(),
    mergedWeights: adapter.mergedWeights ? () => adapter.mergedWeights!() : undefined,
    dispose: () => adapter.dispose(),
  };
}

/**
 * A PEFT adapter trained with a sequence-classification head on the labels' cross-entropy
 * (`labels`: their names by id). It exports in the method's own format when that has a place
 * for the head (Adapter.exportWithHead), otherwise as PEFT saves a SEQ_CLS adapter
 * (src/export/seq-cls.ts); it is not merged into the base weights, whose checkpoint has no head.
 */
export function trainedClassifier(model: LoadedModel, adapter: Adapter, head: SequenceClassifier, labels: string[], names: string[], methodLabel: string): Trained & { adapter: Adapter; head: SequenceClassifier } {
  return {
    output: 'adapter',
    adapter,
    head,
    names: [...names, ...head.params.map((p) => p.name)],
    mergeable: false,
    spec: (evalBatches) => classifierSpec(model, adapter, head, evalBatches),
    generator: () => ({ model, hooks: adapter.hooks(false) }),
    exportFiles: async () => (adapter.exportWithHead ? adapter.exportWithHead(head, labels) : withClassifierHead(await adapter.exportFiles(), head, methodLabel)),
    dispose: () => {
      adapter.dispose();
      head.dispose();
    },
  };
}

/**
 * The tensors' names as the plan lists them; every method's plan lists the adapter's variables
 * in the same order. Should a method ever order them differently, they are named by position.
 */
function variableNames(method: PeftMethod<any>, model: LoadedModel, config: Record<string, unknown>, adapter: Adapter, classifier = false): string[] {
  const planned = method.plan(model.info, config, { classifier }).tensors;
  const vars = adapter.variables;
  const sameOrder = planned.length === vars.length && planned.every((p, i) => p.shape.join() === vars[i].shape.join());
  return sameOrder ? planned.map((p) => p.name) : vars.map((v, i) => `tensor ${i + 1} [${v.shape.join(', ')}]`);
}

export function peftRun(method: PeftMethod<any>): RunKind<Record<string, unknown>> {
  return {
    id: method.id,
    label: method.label,
    summary: method.summary,
    paper: method.paper,
    output: 'adapter',
    comparable: true,
    fields: (info) => method.fields(info),
    defaults: (info) => method.defaults(info),
    unsupported: (info) => method.unsupported?.(info),
    validate: (info, c) => method.validate(info, c),
    positionsUsed: (c) => method.positionsUsed?.(c) ?? 0,
    plan: (info, c, classification) => {
      const p = method.plan(info, c, { classifier: classification !== undefined });
      if (!classification) return { output: 'adapter', ...p };
      // The head trains and is saved with the adapter: print_trainable_parameters counts
      // modules to save as trainable, and in the total.
      const head = classifierPlan(info, classification.numLabels);
      return { output: 'adapter', trainable: p.trainable + head.size, total: p.total + head.size, tensors: [...p.tensors, ...head.tensors] };
    },
    create: (model, c, seed, ctx) => {
      if (ctx.classification) {
        const adapter = method.create(model, c, seed, { tokenizer: ctx.tokenizer, classifier: true });
        try {
          const head = SequenceClassifier.seeded(model.info, ctx.classification.labels.length, ctx.classification.padId, seed);
          return trainedClassifier(model, adapter, head, ctx.classification.labels, variableNames(method, model, c, adapter, true), method.label);
        } catch (e) {
          adapter.dispose();
          throw e;
        }
      }
      // First, so a model the objective cannot train (a masked LM whose tokenizer has no mask
      // token) is refused before anything is allocated.
      const objective = objectiveFor(model.info, ctx.tokenizer, seed);
      const adapter = method.create(model, c, seed, { tokenizer: ctx.tokenizer });
      return trainedAdapter(model, adapter, variableNames(method, model, c, adapter), objective);
    },
  };
}
