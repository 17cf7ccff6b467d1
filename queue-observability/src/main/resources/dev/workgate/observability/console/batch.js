// #/batches/<id> : where a batch stands (GET /api/batches/<id>): its counts by state, whether it
// has ended and completed, and its work orders in submission order (GET /api/work-orders?batch=,
// the first page), each linked to its page; the whole list is a link to the list view.

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

const PAGE = 100;

export function create(route) {
  const id = route.id;
  const summary = h('div', { class: 'card-body' });
  const countsEl = h('div', { class: 'state-counts', 'aria-label': 'Counts per state' });
  const members = h('div', { class: 'card-body' });
  const badge = h('span', { class: 'title-state' });

  const el = h(
    'div',
    { class: 'batch' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/work-orders' }, 'Work orders'), ' / batches /'),
    h('h1', {}, 'Batch ', h('code', { class: 'id' }, id), ' ', badge),
    countsEl,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'b-summary' },
      h('h2', { id: 'b-summary' }, 'Status'),
      summary,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'b-members' },
      h('h2', { id: 'b-members' }, 'Work orders'),
      members,
    ),
  );

  async function refresh() {
    let status;
    let page;
    try {
      [status, page] = await Promise.all([
        api('/api/batches/' + encodeURIComponent(id)),
        api('/api/work-orders' + query({ batch: id, order: 'oldest', limit: PAGE })),
      ]);
    } catch (e) {
      if (e.status !== 401) {
        fill(summary, errorBox(e));
        fill(members);
        fill(countsEl);
      }
      throw e;
    }
    render(status, page);
  }

  function render(b, page) {
    const c = b.counts || {};
    // Completed, ended with failures or cancellations, or still going.
    const [look, word] = b.completed
      ? ['completed', 'completed']
      : b.ended
        ? ['failed', 'ended, not all completed']
        : ['running', 'not ended'];
    fill(badge, h('span', { class: ['state', 'state-' + look, 'batch-state'] }, word));
    fill(
      countsEl,
      STATES.map((st) =>
        h(
          'a',
          {
            class: ['count-chip', c[st] ? null : 'zero'],
            href: listHref({ batch: id, state: st }),
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
        h('span', { class: 'n' }, count(b.workOrders)),
      ),
    );
    fill(
      summary,
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Work orders'),
        h('dd', { class: 'work-order-count' }, count(b.workOrders)),
        h('dt', {}, 'Resubmitted'),
        h(
          'dd',
          {},
          count(b.resubmitted),
          b.resubmitted ? h('span', { class: 'muted' }, ' (replaced by their resubmissions)') : '',
        ),
        h('dt', {}, 'Ended'),
        h('dd', { class: 'ended' }, b.ended ? 'yes' : 'no'),
        h('dt', {}, 'Completed'),
        h('dd', { class: 'completed' }, b.completed ? 'yes, every one' : 'no'),
      ),
    );
    const items = (page && page.items) || [];
    fill(
      members,
      items.length === 0
        ? empty('No work orders.')
        : h(
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
                  ['ID', 'Queue', 'Type', 'State', 'Progress', 'Submitted', 'Resubmitted from'].map(
                    (t) => h('th', { scope: 'col' }, t),
                  ),
                ),
              ),
              h(
                'tbody',
                {},
                items.map((v) =>
                  h(
                    'tr',
                    { dataset: { id: v.id } },
                    h('td', {}, workOrderLink(v.id)),
                    h('td', {}, v.queue),
                    h('td', {}, v.type),
                    h('td', {}, stateBadge(v.state)),
                    h(
                      'td',
                      { class: 'num' },
                      v.progress ? Math.round(v.progress.fraction * 100) + '%' : '',
                    ),
                    h('td', {}, time(v.submittedAt)),
                    h('td', {}, v.resubmittedFrom ? workOrderLink(v.resubmittedFrom) : ''),
                  ),
                ),
              ),
            ),
          ),
      page && page.nextCursor
        ? h(
            'p',
            { class: 'muted' },
            `The first ${PAGE} are shown; `,
            h('a', { href: listHref({ batch: id }) }, 'all in the list'),
            '.',
          )
        : h('p', { class: 'muted' }, h('a', { href: listHref({ batch: id }) }, 'In the list view')),
    );
  }

  return { el, refresh, title: 'Batch ' + id };
}
