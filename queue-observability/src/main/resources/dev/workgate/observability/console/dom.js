// DOM building without innerHTML: every string from the endpoint (ids, labels, error messages)
// becomes a text node, so none of it is ever parsed as markup. Plus the formatting shared by views.

const SVG_NS = 'http://www.w3.org/2000/svg';

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    if (Array.isArray(child)) {
      append(el, child);
    } else if (child instanceof Node) {
      el.appendChild(child);
    } else {
      el.appendChild(document.createTextNode(String(child)));
    }
  }
}

function setProps(el, props) {
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (name === 'class') {
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (name === 'on') {
      for (const [type, fn] of Object.entries(value)) {
        el.addEventListener(type, fn);
      }
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
}

/** h('a', {href: '#/', class: 'x'}, 'text', child, [more]) */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setProps(el, props);
  append(el, children);
  return el;
}

/** Replaces el's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// The order in which states are shown: waiting (for other work orders, for a slot, for a retry),
// active, ended.
export const STATES = [
  'BLOCKED',
  'PENDING',
  'WAITING_RETRY',
  'PREPARING',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
];
export const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
export const LIVE_STATES = ['BLOCKED', 'PENDING', 'WAITING_RETRY', 'PREPARING', 'RUNNING'];

export function stateLabel(state) {
  return String(state).replace('_', ' ').toLowerCase();
}

export function stateBadge(state) {
  return h('span', { class: ['state', 'state-' + String(state).toLowerCase()] }, stateLabel(state));
}

export function statusBadge(status) {
  return h('span', { class: ['health', 'health-' + String(status).toLowerCase()] }, status);
}

function workOrderHref(id) {
  return '#/work-orders/' + encodeURIComponent(id);
}

export function workOrderLink(id) {
  return h('a', { href: workOrderHref(id), class: 'id' }, id);
}

export function batchHref(id) {
  return '#/batches/' + encodeURIComponent(id);
}

export function batchLink(id) {
  return h('a', { href: batchHref(id), class: 'id batch-link' }, id);
}

/** "paused" with who paused the queue, when and why as its tooltip. */
export function pausedBadge(pause) {
  const why = pause.reason ? ': ' + pause.reason : '';
  return h(
    'span',
    {
      class: 'badge badge-paused',
      title: `paused by ${pause.pausedBy} at ${pause.pausedAt}${why}`,
    },
    'paused',
  );
}

/** A bar of how far a running attempt got, with its fraction and message. */
export function progressBar(p) {
  const pct = Math.round(Math.max(0, Math.min(1, Number(p.fraction) || 0)) * 100);
  const bar = h('progress', { class: 'progress-bar', max: 100, value: pct });
  bar.setAttribute('aria-label', `Progress ${pct}%`);
  return h(
    'div',
    { class: 'progress' },
    bar,
    h('span', { class: 'progress-pct' }, pct + '%'),
    p.message ? h('span', { class: 'progress-message' }, p.message) : null,
  );
}

export function listHref(filters) {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== undefined && v !== null && v !== '') {
        q.append(name, v);
      }
    }
  }
  const qs = q.toString();
  return '#/work-orders' + (qs ? '?' + qs : '');
}

const pad = (n) => String(n).padStart(2, '0');

/** A local date and time, seconds included; the ISO instant as the tooltip. */
export function time(iso) {
  if (!iso) {
    return h('span', { class: 'muted' }, '—');
  }
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) {
    return h('span', {}, iso);
  }
  const text =
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return h('time', { datetime: iso, title: iso }, text);
}

export function clock(date) {
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** 0.42 -> "420 ms", 75 -> "1 m 15 s", 90000 -> "1 d 1 h". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) {
    return '—';
  }
  if (seconds < 1) {
    return Math.round(seconds * 1000) + ' ms';
  }
  if (seconds < 60) {
    return (seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)) + ' s';
  }
  const total = Math.round(seconds);
  const d = Math.floor(total / 86400);
  const hr = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (d > 0) {
    return `${d} d ${hr} h`;
  }
  if (hr > 0) {
    return `${hr} h ${m} m`;
  }
  return `${m} m ${sec} s`;
}

export function count(n) {
  return typeof n === 'number' ? n.toLocaleString('en') : '—';
}

/** A message box for an error of the endpoint (shown as text, never as markup). */
export function errorBox(error, prefix) {
  const text = (prefix ? prefix + ': ' : '') + (error && error.message ? error.message : error);
  return h('p', { class: 'error' }, text);
}

export function empty(text) {
  return h('p', { class: 'muted empty' }, text);
}
