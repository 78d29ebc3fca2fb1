// The model slice: the compute backend, the base model (built in or from disk), the methods it
// offers and the parameter counts (the chosen method's, and every comparable method's).
import type { FromWorker } from '../../../src/worker/protocol';
import { formatInt } from '../../format';
import { mergeForm, type MethodForm } from '../../method-form';
import { modelDisplayName, modelKey } from '../selectors';
import { IDLE_COMPARE, NO_GENERATION, NOTHING_HELD, type DiskModel, type StudioData } from '../state';

export type ModelMessage = Extract<FromWorker, { type: 'backend' | 'methods' | 'modelLoaded' | 'planned' | 'plannedAll' }>;

export function reduceModel(s: StudioData, msg: ModelMessage): StudioData {
  switch (msg.type) {
    case 'backend':
      return { ...s, backend: msg.report };

    case 'methods': {
      const methods = msg.methods;
      const current = methods.find((m) => m.id === s.methodId && !m.unsupported);
      const chosen = current ?? methods.find((m) => !m.unsupported) ?? undefined;
      const same = chosen !== undefined && chosen.id === s.methodId;
      // Other methods' edits are kept wherever they still fit the (new model's) fields.
      const methodForms: Record<string, MethodForm> = {};
      for (const m of methods) {
        const prev = m.id === s.methodId ? s.methodForm : s.methodForms[m.id];
        if (prev && m.id !== chosen?.id) methodForms[m.id] = mergeForm(m.fields, m.defaults, prev);
      }
      const usable = new Set(methods.filter((m) => m.comparable && !m.unsupported).map((m) => m.id));
      return {
        ...s,
        methods,
        methodId: chosen?.id ?? null,
        methodForm: chosen ? mergeForm(chosen.fields, chosen.defaults, same ? s.methodForm : s.methodForms[chosen.id]) : {},
        methodForms,
        plan: same ? s.plan : null,
        planError: same ? s.planError : null,
        allPlans: s.allPlans.filter((p) => methods.some((m) => m.id === p.methodId)),
        compare: { ...s.compare, selected: s.compare.selected.filter((id) => usable.has(id)) },
      };
    }

    case 'modelLoaded': {
      const key = modelKey(msg.model);
      const inFlight = Math.max(0, s.modelLoadsInFlight - 1);
      // The person chose another model (or dropped a folder) while this one loaded: the worker
      // loads that one next. Until it has, the page stays loading, so nothing is counted or
      // trained with this model's settings on the next one.
      if (inFlight > 0) return { ...s, model: msg.model, modelLoadsInFlight: inFlight, plan: null, allPlans: [], held: NOTHING_HELD };
      // A model from disk always replaces what the worker trained, even under the same name.
      const changed = msg.model.source === 'disk' || (s.model ? modelKey(s.model) : null) !== key;
      const pending = msg.model.source === 'disk' ? s.diskPending : null;
      const entry: DiskModel | undefined = pending ? { key, name: msg.model.name, files: pending.files, folder: pending.folder } : undefined;
      const diskModels = !entry ? s.diskModels : s.diskModels.some((d) => d.key === key) ? s.diskModels.map((d) => (d.key === key ? entry : d)) : [...s.diskModels, entry];
      return {
        ...s,
        model: msg.model,
        modelId: key,
        modelLoading: false,
        modelLoadsInFlight: 0,
        diskModels,
        diskPending: null,
        plan: changed ? null : s.plan,
        allPlans: changed ? [] : s.allPlans,
        // The worker lets an adapter or a student go with the model it was made for.
        held: changed ? NOTHING_HELD : s.held,
        // Results measured on another model would be compared with nothing on this one.
        compare: changed ? { ...IDLE_COMPARE, selected: s.compare.selected } : s.compare,
        // Text from another model (and its adapter, now gone) would mislead.
        generation: changed ? { ...s.generation, ...NO_GENERATION, requestId: s.generation.requestId } : s.generation,
        announcement: `Model loaded: ${modelDisplayName(msg.model)} · ${formatInt(msg.model.totalParams)} parameters`,
      };
    }

    case 'planned':
      if (msg.plan.methodId !== s.methodId) return s; // an answer for a method no longer chosen
      return { ...s, plan: msg.plan, planPending: false, planError: null };

    case 'plannedAll':
      return { ...s, allPlans: msg.plans, allPlansPending: false };
  }
}

/** `init` failed: nothing loads; before any backend started, the Compute backend panel says why. */
export function backendFailed(s: StudioData, message: string): StudioData {
  return { ...s, modelLoading: false, modelLoadsInFlight: 0, modelQueued: false, ...(s.backend ? {} : { backendFailure: message }) };
}

/** A model did not load. The worker keeps the model it had: the select shows that one again. */
export function modelLoadFailed(s: StudioData): StudioData {
  const inFlight = Math.max(0, s.modelLoadsInFlight - 1);
  // An earlier load failed while a later one is still to come: that one decides.
  if (inFlight > 0) return { ...s, modelLoadsInFlight: inFlight };
  return { ...s, modelLoading: false, modelLoadsInFlight: 0, diskPending: null, ...(s.model ? { modelId: modelKey(s.model) } : {}) };
}

/** The chosen method's counts failed: the plan shows why instead. */
export function planFailed(s: StudioData, message: string): StudioData {
  return { ...s, planPending: false, planError: message, plan: null };
}

/** Every method's counts failed. */
export function allPlansFailed(s: StudioData): StudioData {
  return { ...s, allPlansPending: false };
}
