// The console's shell: hash routes to views, the live poll, the status line and the token form.
//
// A view is {el, refresh(), update?(params), stop?()}: refresh() reads what the view shows and
// renders it in place (forms and open panels are left alone), and is called again every
// POLL_MS while the tab is visible and "Live" is on.

import { ApiError, forgetToken, onUnauthorized, setToken, token } from './api.js';
import { clock, fill } from './dom.js';
import * as overview from './overview.js';
import * as list from './list.js';
import * as workOrder from './work-order.js';
import * as failures from './failures.js';
import * as queues from './queues.js';
import * as batch from './batch.js';

const POLL_MS = 2000;

const main = document.getElementById('view');
const status = document.getElementById('status');
const updated = document.getElementById('updated');
const live = document.getElementById('live');
const tokenPanel = document.getElementById('token-panel');
const tokenForm = document.getElementById('token-form');
const tokenInput = document.getElementById('token-input');
const tokenReason = document.getElementById('token-reason');
const forget = document.getElementById('forget-token');

let current = null; // {route, view}
let refreshing = null;
let again = false;
let needToken = false;

function parseRoute(hash) {
  const raw = (hash || '').replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) {
    return { name: 'overview', module: overview, params };
  }
  if (parts[0] === 'work-orders' && parts.length === 1) {
    return { name: 'work-orders', module: list, params };
  }
  if (parts[0] === 'work-orders' && parts.length === 2) {
    return { name: 'work-order', module: workOrder, params, id: decoded(parts[1]) };
  }
  if (parts[0] === 'batches' && parts.length === 2) {
    return { name: 'batch', module: batch, params, id: decoded(parts[1]) };
  }
  if (parts[0] === 'queues' && parts.length === 1) {
    return { name: 'queues', module: queues, params };
  }
  if (parts[0] === 'failures' && parts.length === 1) {
    return { name: 'failures', module: failures, params };
  }
  return { name: 'not-found', module: null, params, path };
}

function decoded(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function setStatus(text, kind) {
  status.textContent = text;
  status.className = 'status' + (kind ? ' status-' + kind : '');
}

function markNav(name) {
  const section = name === 'work-order' || name === 'batch' ? 'work-orders' : name;
  for (const a of document.querySelectorAll('nav a[data-view]')) {
    if (a.dataset.view === section) {
      a.setAttribute('aria-current', 'page');
    } else {
      a.removeAttribute('aria-current');
    }
  }
}

function showToken(reason) {
  needToken = true;
  tokenReason.textContent =
    (token() ? 'The endpoint refused the token given: ' : 'The endpoint needs a token: ') + reason;
  tokenPanel.hidden = false;
  forget.hidden = !token();
  if (document.activeElement !== tokenInput) {
    tokenInput.focus();
  }
}

function hideToken() {
  needToken = false;
  tokenPanel.hidden = true;
}

/** Reads the current view's data; one read at a time, a request made meanwhile runs after it. */
async function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  const view = current && current.view;
  if (!view) {
    return;
  }
  refreshing = (async () => {
    try {
      await view.refresh();
      if (current && current.view === view) {
        // Routine reads go to a line that is not announced; the live status line is for news.
        updated.textContent = 'Updated ' + clock(new Date()) + (live.checked ? ' · live' : '');
        if (status.classList.contains('status-error') || status.textContent === 'Loading…') {
          setStatus('');
        }
      }
    } catch (e) {
      if (current && current.view === view) {
        if (e instanceof ApiError && e.status === 401) {
          main.hidden = true;
          setStatus('Token needed: ' + e.message, 'error');
        } else {
          setStatus('Could not load: ' + (e && e.message ? e.message : e), 'error');
        }
      }
    } finally {
      refreshing = null;
    }
    if (again) {
      again = false;
      await refresh();
    }
  })();
  return refreshing;
}

function show() {
  const route = parseRoute(location.hash);
  markNav(route.name);
  if (
    current &&
    current.route.name === route.name &&
    current.route.id === route.id &&
    current.view.update
  ) {
    current.route = route;
    current.view.update(route.params);
    refresh();
    return;
  }
  if (current && current.view.stop) {
    current.view.stop();
  }
  if (!route.module) {
    current = null;
    fill(main, notFound(route.path));
    setStatus('');
    return;
  }
  const view = route.module.create(route, { setStatus, refresh });
  current = { route, view };
  fill(main, view.el);
  main.hidden = needToken;
  document.title = view.title ? view.title + ' · Workgate' : 'Workgate';
  refresh();
}

function notFound(path) {
  const p = document.createElement('p');
  p.className = 'error';
  p.textContent = 'No such page: ' + path;
  return p;
}

onUnauthorized((error) => showToken(error.message));

tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const value = tokenInput.value.trim();
  if (!value) {
    return;
  }
  setToken(value);
  tokenInput.value = '';
  hideToken();
  forget.hidden = false;
  main.hidden = false;
  // Start the view afresh: whatever it showed was read without the token.
  current = null;
  show();
});

forget.addEventListener('click', () => {
  forgetToken();
  forget.hidden = true;
  setStatus('Token forgotten');
  refresh();
});

live.addEventListener('change', () => {
  if (live.checked) {
    setStatus('Live updates on');
    refresh();
  } else {
    setStatus('Live updates paused');
  }
});

setInterval(() => {
  if (live.checked && !needToken && document.visibilityState === 'visible') {
    refresh();
  }
}, POLL_MS);

document.addEventListener('visibilitychange', () => {
  if (live.checked && !needToken && document.visibilityState === 'visible') {
    refresh();
  }
});

window.addEventListener('hashchange', show);
forget.hidden = !token();
show();
