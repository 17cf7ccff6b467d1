// #/failures : FAILED work grouped by last error code (GET /api/failures), each group with a link
// to its list and two bulk actions behind a confirmation that first says how many it will touch:
// resubmit the group's FAILED work, or cancel the work still live (pending, retrying, running)
// whose last error has the same code.

import { api, query } from './api.js';
import { LIVE_STATES, count, empty, errorBox, fill, h, listHref, workOrderLink } from './dom.js';

export function create(route, ctx) {
  const groupsEl = h('div', { class: 'card-body' });
  const panel = h('div', { class: 'bulk-panel', 'aria-live': 'polite' });

  const el = h(
    'div',
    { class: 'failures' },
    h('h1', {}, 'Failures'),
    h(
      'p',
      { class: 'muted' },
      'Work orders that ended FAILED, grouped by the code of their last error, largest group first.',
    ),
    panel,
    h('section', { class: 'card', 'aria-label': 'Failure groups' }, groupsEl),
  );

  async function refresh() {
    let data;
    try {
      data = await api('/api/failures');
    } catch (e) {
      if (e.status !== 401) {
        fill(groupsEl, errorBox(e));
      }
      throw e;
    }
    const groups = data.groups || [];
    if (groups.length === 0) {
      fill(groupsEl, empty('No failed work orders.'));
      return;
    }
    fill(
      groupsEl,
      h(
        'div',
        { class: 'scroll' },
        h(
          'table',
          { class: 'groups' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Error code'),
              h('th', { scope: 'col', class: 'num' }, 'Failed'),
              h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
            ),
          ),
          h(
            'tbody',
            {},
            groups.map((g) =>
              h(
                'tr',
                { dataset: { errorCode: g.errorCode } },
                h('th', { scope: 'row' }, h('code', {}, g.errorCode)),
                h(
                  'td',
                  { class: 'num' },
                  h(
                    'a',
                    { href: listHref({ state: 'FAILED', errorCode: g.errorCode }) },
                    count(g.count),
                  ),
                ),
                h(
                  'td',
                  {},
                  h(
                    'div',
                    { class: 'row-actions' },
                    h('a', { href: listHref({ state: 'FAILED', errorCode: g.errorCode }) }, 'List'),
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'resubmit-all',
                        on: { click: () => confirmResubmit(g.errorCode) },
                      },
                      'Resubmit all…',
                    ),
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'cancel-live',
                        on: { click: () => confirmCancel(g.errorCode) },
                      },
                      'Cancel live…',
                    ),
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  /** Counts first, then asks; runs the action on confirmation and shows its answer. */
  async function confirmBulk({
    title,
    countFilter,
    countOf,
    question,
    confirmLabel,
    confirmClass,
    run,
  }) {
    fill(panel, h('p', { class: 'muted' }, 'Counting…'));
    let n;
    try {
      const counts = await api('/api/work-orders/counts' + query(countFilter));
      n = countOf(counts);
    } catch (e) {
      fill(panel, errorBox(e));
      return;
    }
    const back = h('button', { type: 'button', on: { click: () => fill(panel) } }, 'Back');
    if (n === 0) {
      fill(
        panel,
        h(
          'div',
          { class: 'confirm' },
          h('h2', {}, title),
          h('p', {}, 'Nothing to do: none match now.'),
          h('div', { class: 'buttons' }, back),
        ),
      );
      back.focus();
      return;
    }
    const go = h('button', { type: 'button', class: confirmClass }, confirmLabel(n));
    go.addEventListener('click', async () => {
      go.disabled = true;
      back.disabled = true;
      try {
        const answer = await run();
        fill(panel, outcome(title, answer));
      } catch (e) {
        fill(
          panel,
          h(
            'div',
            { class: 'confirm' },
            h('h2', {}, title),
            errorBox(e),
            h('div', { class: 'buttons' }, dismiss()),
          ),
        );
      }
      ctx.refresh();
    });
    fill(
      panel,
      h(
        'div',
        { class: 'confirm', role: 'group', 'aria-label': title },
        h('h2', {}, title),
        h('p', { class: 'question' }, question(n)),
        h('div', { class: 'buttons' }, go, back),
      ),
    );
    back.focus();
  }

  function dismiss() {
    return h('button', { type: 'button', on: { click: () => fill(panel) } }, 'Close');
  }

  function outcome(title, a) {
    const created = a.created || [];
    const cancelled = a.cancelled || [];
    const refused = a.refused || [];
    return h(
      'div',
      { class: 'confirm done' },
      h('h2', {}, title),
      h(
        'p',
        { class: 'answer' },
        `Matched ${count(a.matched)}, changed ${count(a.changed)}`,
        refused.length ? `, refused ${count(refused.length)}` : '',
        '.',
        a.more ? ' More match than one call takes: run it again for the rest.' : '',
      ),
      created.length
        ? h(
            'details',
            { class: 'created' },
            h('summary', {}, `New work orders (${created.length})`),
            h(
              'ul',
              { class: 'plain' },
              created.map((c) => h('li', {}, workOrderLink(c.from), ' → ', workOrderLink(c.id))),
            ),
          )
        : null,
      cancelled.length
        ? h(
            'details',
            { class: 'cancelled' },
            h('summary', {}, `Cancelled (${cancelled.length})`),
            h(
              'ul',
              { class: 'plain' },
              cancelled.map((x) => h('li', {}, workOrderLink(x))),
            ),
          )
        : null,
      refused.length
        ? h(
            'div',
            { class: 'refused' },
            h('h3', {}, 'Refused'),
            h(
              'ul',
              { class: 'plain' },
              refused.map((r) => h('li', {}, workOrderLink(r.id), ': ', r.reason)),
            ),
          )
        : null,
      h('div', { class: 'buttons' }, dismiss()),
    );
  }

  function confirmResubmit(errorCode) {
    return confirmBulk({
      title: `Resubmit ${errorCode}`,
      countFilter: { state: 'FAILED', errorCode, notResubmitted: 'true' },
      countOf: (c) => (c.counts && c.counts.FAILED) || 0,
      question: (n) =>
        `Resubmit ${n} FAILED work order${n === 1 ? '' : 's'} whose last error is ${errorCode}` +
        ' and that were not resubmitted yet? Each gets a new work order with the same spec; the' +
        ' failed ones stay as they are.',
      confirmLabel: (n) => `Resubmit ${n}`,
      confirmClass: 'primary',
      run: () =>
        api('/api/work-orders/bulk/resubmit', {
          method: 'POST',
          body: { filter: { state: 'FAILED', errorCode } },
        }),
    });
  }

  function confirmCancel(errorCode) {
    return confirmBulk({
      title: `Cancel live ${errorCode}`,
      countFilter: { state: LIVE_STATES.join(','), errorCode },
      countOf: (c) => c.total || 0,
      question: (n) =>
        `Cancel ${n} work order${n === 1 ? '' : 's'} still pending, retrying or running ` +
        `whose last error is ${errorCode}?`,
      confirmLabel: (n) => `Cancel ${n}`,
      confirmClass: 'danger',
      run: () =>
        api('/api/work-orders/bulk/cancel', {
          method: 'POST',
          body: {
            filter: { errorCode },
            reason: `cancelled from the console: last error ${errorCode}`,
          },
        }),
    });
  }

  return { el, refresh, title: 'Failures' };
}
