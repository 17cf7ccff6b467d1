// #/queues : every queue with work orders or a pause (GET /api/queues): its depth and counts by
// state, whether it is paused, by whom, since when and why, with Pause… and Resume… behind a
// confirmation that asks for the reason, and a queue's log of pauses and resumes on request
// (GET /api/queues/<queue>/actions). The console pauses and resumes as the actor "console".

import { api, query } from './api.js';
import {
  STATES,
  count,
  empty,
  errorBox,
  fill,
  h,
  listHref,
  pausedBadge,
  stateBadge,
  time,
} from './dom.js';

const ACTOR = 'console';
const HISTORY = 20;

function queuePath(queue) {
  return '/api/queues/' + encodeURIComponent(queue);
}

export function create(route, ctx) {
  const tableEl = h('div', { class: 'card-body' });
  const panel = h('div', { class: 'queue-panel', 'aria-live': 'polite' });
  const historyEl = h('div', { class: 'card-body' });
  const historyCard = h(
    'section',
    { class: 'card history', 'aria-labelledby': 'q-history', hidden: true },
    h('h2', { id: 'q-history' }, 'Pauses and resumes'),
    historyEl,
  );
  let historyOf = null;
  let confirming = false;

  const el = h(
    'div',
    { class: 'queues' },
    h('h1', {}, 'Queues'),
    h(
      'p',
      { class: 'muted' },
      'A paused queue keeps its work and takes new submits, but no node claims from it until it' +
        ' is resumed; work already running finishes. Depth is the waiting work: blocked, pending' +
        ' and retrying.',
    ),
    panel,
    h('section', { class: 'card', 'aria-label': 'Queues' }, tableEl),
    historyCard,
  );

  async function refresh() {
    let data;
    try {
      data = await api('/api/queues');
    } catch (e) {
      if (e.status !== 401) {
        fill(tableEl, errorBox(e));
      }
      throw e;
    }
    renderTable(data.queues || []);
    if (historyOf !== null) {
      await loadHistory(historyOf);
    }
  }

  function renderTable(queues) {
    if (queues.length === 0) {
      fill(tableEl, empty('No queue has work orders yet.'));
      return;
    }
    fill(
      tableEl,
      h(
        'div',
        { class: 'scroll' },
        h(
          'table',
          { class: 'queues' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Queue'),
              h('th', { scope: 'col' }, 'Status'),
              h('th', { scope: 'col', class: 'num' }, 'Depth'),
              STATES.map((st) => h('th', { scope: 'col', class: 'num' }, stateBadge(st))),
              h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
            ),
          ),
          h('tbody', {}, queues.map(row)),
        ),
      ),
    );
  }

  function row(q) {
    return h(
      'tr',
      {
        class: q.paused ? 'paused' : null,
        dataset: { queue: q.queue, paused: String(Boolean(q.paused)) },
      },
      h('th', { scope: 'row' }, h('a', { href: listHref({ queue: q.queue }) }, q.queue)),
      h(
        'td',
        { class: 'pause-info' },
        q.paused
          ? [
              pausedBadge(q),
              ' by ',
              h('strong', { class: 'paused-by' }, q.pausedBy),
              ' at ',
              time(q.pausedAt),
              q.reason ? [': ', h('span', { class: 'pause-reason' }, q.reason)] : null,
            ]
          : h('span', { class: 'badge badge-active' }, 'active'),
      ),
      h('td', { class: 'num depth' }, count(q.depth)),
      STATES.map((st) => {
        const n = (q.counts && q.counts[st]) || 0;
        return h(
          'td',
          { class: ['num', n ? null : 'zero'], dataset: { state: st } },
          n ? h('a', { href: listHref({ queue: q.queue, state: st }) }, count(n)) : '0',
        );
      }),
      h(
        'td',
        {},
        h(
          'div',
          { class: 'row-actions' },
          q.paused
            ? h(
                'button',
                { type: 'button', class: 'resume primary', on: { click: () => confirm(q, false) } },
                'Resume…',
              )
            : h(
                'button',
                { type: 'button', class: 'pause danger', on: { click: () => confirm(q, true) } },
                'Pause…',
              ),
          h(
            'button',
            { type: 'button', class: 'history', on: { click: () => showHistory(q.queue) } },
            'History',
          ),
        ),
      ),
    );
  }

  function confirm(q, pause) {
    if (confirming) {
      return;
    }
    confirming = true;
    const verb = pause ? 'Pause' : 'Resume';
    const reason = h('input', {
      type: 'text',
      id: 'queue-reason',
      maxlength: 500,
      placeholder: pause ? 'e.g. the database is under maintenance' : 'optional',
      autocomplete: 'off',
    });
    const back = h('button', { type: 'button', on: { click: close } }, 'Back');
    const go = h(
      'button',
      { type: 'button', class: pause ? 'danger' : 'primary' },
      `${verb} ${q.queue}`,
    );
    go.addEventListener('click', async () => {
      go.disabled = true;
      back.disabled = true;
      const r = reason.value.trim();
      try {
        const answer = await api(queuePath(q.queue) + (pause ? '/pause' : '/resume'), {
          method: 'POST',
          body: r ? { actor: ACTOR, reason: r } : { actor: ACTOR },
        });
        fill(panel, outcome(answer));
      } catch (e) {
        fill(
          panel,
          h(
            'div',
            { class: 'confirm' },
            h('h2', {}, `${verb} ${q.queue}`),
            errorBox(e),
            h('div', { class: 'buttons' }, dismiss()),
          ),
        );
      }
      confirming = false;
      ctx.refresh();
    });
    fill(
      panel,
      h(
        'div',
        { class: 'confirm', role: 'group', 'aria-label': `${verb} ${q.queue}` },
        h('h2', {}, `${verb} ${q.queue}`),
        h(
          'p',
          { class: 'question' },
          pause
            ? `Pause ${q.queue}? No node claims work from it until it is resumed; work already` +
                ' running finishes, and submits to it still succeed.'
            : `Resume ${q.queue}? Nodes claim its waiting work again.`,
        ),
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'queue-reason' }, pause ? 'Why (recorded with the pause)' : 'Why'),
          reason,
        ),
        h('div', { class: 'buttons' }, go, back),
      ),
    );
    reason.focus();
  }

  function outcome(a) {
    const what = a.paused ? 'paused' : 'resumed';
    return h(
      'div',
      { class: 'confirm done' },
      h(
        'p',
        { class: 'answer' },
        a.changed
          ? `${a.queue} is ${what}.`
          : `${a.queue} was ${a.paused ? 'paused' : 'not paused'} already: nothing changed.`,
      ),
      h('div', { class: 'buttons' }, dismiss()),
    );
  }

  function close() {
    confirming = false;
    fill(panel);
  }

  function dismiss() {
    return h('button', { type: 'button', on: { click: close } }, 'Close');
  }

  async function showHistory(queue) {
    historyOf = queue;
    historyCard.hidden = false;
    try {
      await loadHistory(queue);
    } catch (e) {
      fill(historyEl, errorBox(e));
    }
  }

  async function loadHistory(queue) {
    const data = await api(queuePath(queue) + '/actions' + query({ limit: HISTORY }));
    const actions = data.actions || [];
    fill(
      historyEl,
      h('h3', {}, queue),
      actions.length === 0
        ? empty('Never paused.')
        : h(
            'table',
            { class: 'queue-actions' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['When', 'What', 'By', 'Why'].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              {},
              actions.map((a) =>
                h(
                  'tr',
                  { dataset: { kind: a.kind } },
                  h('td', {}, time(a.at)),
                  h('td', {}, a.kind === 'PAUSE' ? 'paused' : 'resumed'),
                  h('td', {}, a.actor),
                  h('td', { class: 'detail' }, a.reason || h('span', { class: 'muted' }, '—')),
                ),
              ),
            ),
          ),
      actions.length === HISTORY
        ? h('p', { class: 'muted' }, `The last ${HISTORY} are shown.`)
        : null,
    );
  }

  return { el, refresh, title: 'Queues' };
}
