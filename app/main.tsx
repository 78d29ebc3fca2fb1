// Entry: start the worker (it gets `init` first), wire the store to it, mount the page.
import { StrictMode, startTransition } from 'react';
import { createRoot } from 'react-dom/client';
import App from './App';
import { saveBytes } from './download';
import { createPageStore } from './store';
import { backendFromSearch } from './url';
import { startWorkerClient } from './worker-client';
import './styles.css';

// An inline icon, so the browser does not ask the server for /favicon.ico.
if (!document.querySelector('link[rel~="icon"]')) {
  const icon = document.createElement('link');
  icon.rel = 'icon';
  icon.href =
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%233b5bdb'/%3E%3Cpath d='M3 12l3-4 3 2 4-6' stroke='white' stroke-width='1.6' fill='none'/%3E%3C/svg%3E";
  document.head.append(icon);
}

const backend = backendFromSearch(window.location.search);

const client = startWorkerClient({
  backend,
  modelsBaseUrl: new URL('models/', document.baseURI).href,
  onMessage: (msg) => store.getState().receive(msg),
  onFailure: (message) => store.getState().receive({ type: 'error', context: 'worker', message }),
});

const store = createPageStore({ send: client.post, save: saveBytes, requestedBackend: backend });
store.getState().boot();

// Rendered as a transition, so building the page's first tree yields to the browser every few
// milliseconds instead of running as one long task.
const root = createRoot(document.getElementById('root')!);
startTransition(() =>
  root.render(
    <StrictMode>
      <App />
    </StrictMode>,
  ),
);
