// The page's one store: every piece of page state, the intents that post ToWorker messages,
// and the reducer that folds FromWorker messages in. No tensors, no DOM: numbers and Files.
// This module makes the store and the page's instance of it, and is what components import.
import { useStore } from 'zustand';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { createActions, type StudioActions, type StudioDeps, type StudioState } from './actions';
import { initialData } from './state';

export * from './state';
export * from './selectors';
export { reduce } from './reducer';
export type { StudioActions, StudioDeps, StudioState } from './actions';

export function createStudioStore(deps: StudioDeps): StoreApi<StudioState> {
  return createStore<StudioState>()((set, get) => ({
    ...initialData(deps.requestedBackend),
    ...createActions(deps, set, get),
  }));
}

// ---------------------------------------------------------------------------------------------
// The page's instance. main.tsx creates it, wired to the worker, before rendering.

let pageStore: StoreApi<StudioState> | undefined;

export function createPageStore(deps: StudioDeps): StoreApi<StudioState> {
  pageStore = createStudioStore(deps);
  return pageStore;
}

export function pageStudioStore(): StoreApi<StudioState> {
  if (!pageStore) throw new Error('createPageStore() has not been called.');
  return pageStore;
}

/** React hook over the page's store. Selectors must return stable values (primitives or state slices). */
export function useStudio<T>(selector: (s: StudioState) => T): T {
  return useStore(pageStudioStore(), selector);
}

/** The page's intents (stable functions; no re-render when state changes). */
export function useActions(): StudioActions {
  return pageStudioStore().getState();
}
