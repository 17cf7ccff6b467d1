// #/work-orders?state=&queue=&type=&label=&errorCode=&batch=&from=&to= : the filter form, the
// counts per state for the same filter, one page of work orders. The filters live in the hash, so a
// reload or a shared link shows the same list; the page position (cursor) does not.

import { api, query } from './api.js';
import {
  STATES,
  count,
  empty,
  errorBox,
  fill,
  h,
  listHref,
  stateBadge,
  stateLabel,
  time,
  workOrderLink,
} from './dom.js';

const PAGE = 50;
const TEXT_FILTERS = [
  ['queue', 'Queue', 'e.g. default'],
  ['type', 'Type', 'e.g. render'],
  ['label', 'Label', 'key:value, …'],
  ['errorCode', 'Error code', 'e.g. TIMEOUT'],
  ['batch', 'Batch', 'batch id'],
];

/** The filters a hash's parameters name, in the API's terms. */
export function filtersOf(params) {
  const split = (values) =>
    values
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
  return {
    state: split(params.getAll('state')),
    queue: params.get('queue') || '',
    type: split(params.getAll('type')),
    label: split(params.getAll('label')),
    errorCode: params.get('errorCode') || '',
    batch: params.get('batch') || '',
    from: params.get('from') || '',
    to: params.get('to') || '',
  };
}

const pad = (n) => String(n).padStart(2, '0');

/** An ISO instant as a datetime-local input's value (local time, to the minute). */
function toLocalInput(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) {
    return '';
  }
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}`
  );
}

function fromLocalInput(value) {
  if (!value) {
    return '';
  }
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export function create(route, ctx) {
  let filters = filtersOf(route.params);
  let cursors = []; // the cursors of the pages before this one; the current is the last
  let loadedPage = null;

  const inputs = {};
  const stateBoxes = STATES.map((st) => {
    const box = h('input', { type: 'checkbox', name: 'state', value: st, id: 'f-state-' + st });
    return { st, box };
  });
  const textFields = TEXT_FILTERS.map(([name, label, placeholder]) => {
    inputs[name] = h('input', {
      type: 'text',
      id: 'f-' + name,
      name,
      placeholder,
      autocomplete: 'off',
      spellcheck: 'false',
    });
    return h('div', { class: 'field' }, h('label', { for: 'f-' + name }, label), inputs[name]);
  });
  inputs.from = h('input', { type: 'datetime-local', id: 'f-from', name: 'from' });
  inputs.to = h('input', { type: 'datetime-local', id: 'f-to', name: 'to' });

  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter work orders' },
    h(
      'fieldset',
      { class: 'states' },
      h('legend', {}, 'State'),
      stateBoxes.map(({ st, box }) =>
        h('label', { class: 'check', for: box.id }, box, stateBadge(st)),
      ),
    ),
    h(
      'div',
      { class: 'fields' },
      textFields,
      h('div', { class: 'field' }, h('label', { for: 'f-from' }, 'Submitted from'), inputs.from),
      h('div', { class: 'field' }, h('label', { for: 'f-to' }, 'Submitted before'), inputs.to),
      h(
        'div',
        { class: 'field buttons' },
        h('button', { type: 'submit', class: 'primary' }, 'Apply'),
        h('button', { type: 'button', on: { click: clear } }, 'Clear'),
      ),
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = {
      state: stateBoxes.filter(({ box }) => box.checked).map(({ st }) => st),
      queue: inputs.queue.value.trim(),
      type: inputs.type.value.trim(),
      label: inputs.label.value
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean),
      errorCode: inputs.errorCode.value.trim(),
      batch: inputs.batch.value.trim(),
      from: fromLocalInput(inputs.from.value),
      to: fromLocalInput(inputs.to.value),
    };
    if (next.state.length > 0) {
      next.state = next.state.join(',');
    }
    location.hash = listHref(next);
  });

  function clear() {
    location.hash = '#/work-orders';
  }

  function showFilters() {
    for (const { st, box } of stateBoxes) {
      box.checked = filters.state.includes(st);
    }
    inputs.queue.value = filters.queue;
    inputs.type.value = filters.type.join(', ');
    inputs.label.value = filters.label.join(', ');
    inputs.errorCode.value = filters.errorCode;
    inputs.batch.value = filters.batch;
    inputs.from.value = toLocalInput(filters.from);
    inputs.to.value = toLocalInput(filters.to);
  }

  const countsEl = h('div', { class: 'state-counts', 'aria-label': 'Counts per state' });
  const tableEl = h('div', { class: 'list-body' });
  const pager = h('div', { class: 'pager' });

  const el = h(
    'div',
    { class: 'list' },
    h('h1', {}, 'Work orders'),
    form,
    countsEl,
    tableEl,
    pager,
  );

  function apiFilters() {
    return {
      state: filters.state.join(','),
      queue: filters.queue,
      type: filters.type.join(','),
      label: filters.label,
      errorCode: filters.errorCode,
      batch: filters.batch,
      from: filters.from,
      to: filters.to,
    };
  }

  async function refresh() {
    const f = apiFilters();
    const cursor = cursors.length ? cursors[cursors.length - 1] : '';
    let counts;
    let page;
    try {
      [counts, page] = await Promise.all([
        api('/api/work-orders/counts' + query(f)),
        api('/api/work-orders' + query({ ...f, limit: PAGE, cursor })),
      ]);
    } catch (e) {
      if (e.status !== 401) {
        fill(countsEl);
        fill(tableEl, errorBox(e, e.parameter ? 'Filter ' + e.parameter : null));
        fill(pager);
      }
      throw e;
    }
    renderCounts(counts);
    loadedPage = page;
    renderPage(page);
  }

  function renderCounts(data) {
    const c = (data && data.counts) || {};
    const linkFor = (st) => listHref({ ...apiFilters(), state: st });
    fill(
      countsEl,
      STATES.map((st) =>
        h(
          'a',
          {
            class: ['count-chip', c[st] ? null : 'zero'],
            href: linkFor(st),
            dataset: { state: st },
            'aria-label': `${stateLabel(st)}: ${c[st] || 0}`,
          },
          stateBadge(st),
          h('span', { class: 'n' }, count(c[st] || 0)),
        ),
      ),
      h(
        'span',
        { class: 'count-chip total', dataset: { state: 'TOTAL' } },
        'total ',
        h('span', { class: 'n' }, count(data ? data.total : 0)),
      ),
    );
  }

  function renderPage(page) {
    const items = (page && page.items) || [];
    if (items.length === 0) {
      fill(tableEl, empty(cursors.length ? 'No more work orders.' : 'No work order matches.'));
    } else {
      fill(
        tableEl,
        h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { class: 'work-orders' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                [
                  'ID',
                  'Queue',
                  'Type',
                  'State',
                  'Attempt',
                  'Submitted',
                  'Updated',
                  'Last error',
                ].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h('tbody', {}, items.map(row)),
          ),
        ),
      );
    }
    fill(
      pager,
      cursors.length
        ? h('button', { type: 'button', on: { click: firstPage } }, '« First page')
        : null,
      h(
        'span',
        { class: 'muted' },
        `Page ${cursors.length + 1} · ${items.length} shown, newest first`,
      ),
      page && page.nextCursor
        ? h('button', { type: 'button', class: 'next', on: { click: nextPage } }, 'Next page »')
        : null,
    );
  }

  function row(v) {
    return h(
      'tr',
      { dataset: { id: v.id } },
      h('td', {}, workOrderLink(v.id)),
      h('td', {}, v.queue),
      h('td', {}, v.type),
      h('td', {}, stateBadge(v.state)),
      h(
        'td',
        { class: 'num' },
        v.maxAttempts ? `${v.attempt} / ${v.maxAttempts}` : String(v.attempt),
      ),
      h('td', {}, time(v.submittedAt)),
      h('td', {}, time(v.updatedAt)),
      h('td', {}, v.lastError ? h('code', { title: v.lastError.message }, v.lastError.code) : ''),
    );
  }

  async function nextPage() {
    if (loadedPage && loadedPage.nextCursor) {
      cursors.push(loadedPage.nextCursor);
      await reload();
    }
  }

  async function firstPage() {
    cursors = [];
    await reload();
  }

  function reload() {
    return ctx.refresh();
  }

  function update(params) {
    filters = filtersOf(params);
    cursors = [];
    showFilters();
  }

  showFilters();
  return { el, refresh, update, title: 'Work orders' };
}
