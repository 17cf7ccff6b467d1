// #/ : counts by queue and state (a paused queue marked), the last hour's throughput, nodes,
// health, the oldest wait. One read per refresh: GET /api/overview.

import { api } from './api.js';
import {
  STATES,
  count,
  duration,
  empty,
  fill,
  h,
  listHref,
  pausedBadge,
  s,
  stateBadge,
  statusBadge,
  time,
  workOrderLink,
} from './dom.js';

export function create() {
  const counts = h('div', { class: 'card-body' });
  const throughput = h('div', { class: 'card-body' });
  const oldest = h('div', { class: 'card-body' });
  const nodes = h('div', { class: 'card-body' });
  const health = h('div', { class: 'card-body' });

  const card = (id, title, body, extra) =>
    h('section', { class: ['card', extra], 'aria-labelledby': id }, h('h2', { id }, title), body);

  const el = h(
    'div',
    { class: 'overview' },
    h('h1', {}, 'Overview'),
    h(
      'div',
      { class: 'grid grid-3' },
      card('ov-counts', 'Work orders by queue and state', counts, 'wide'),
      card('ov-throughput', 'Ended in the last hour', throughput, 'wide'),
      card('ov-oldest', 'Oldest pending', oldest, 'third'),
      card('ov-nodes', 'Nodes', nodes, 'two-thirds'),
      card('ov-health', 'Health', health, 'wide'),
    ),
  );

  async function refresh() {
    const data = await api('/api/overview');
    fill(counts, countsTable(data.counts || {}, data.pausedQueues || []));
    fill(throughput, throughputChart(data.throughput));
    fill(oldest, oldestPending(data.oldestPending));
    fill(nodes, nodesTable(data.nodes || []));
    fill(health, healthReport(data.health));
  }

  return { el, refresh, title: 'Overview' };
}

function countCell(n, filters, state, queue) {
  const props = { class: ['num', n ? null : 'zero'], dataset: { state, queue } };
  if (!n) {
    return h('td', props, '0');
  }
  return h('td', props, h('a', { href: listHref(filters) }, count(n)));
}

function countsTable(counts, pausedQueues) {
  const queues = { ...(counts.queues || {}) };
  const totals = counts.totals || {};
  const paused = new Map(pausedQueues.map((p) => [p.queue, p]));
  // A paused queue without work orders is listed too: its pause is news.
  for (const name of paused.keys()) {
    queues[name] = queues[name] || {};
  }
  const names = Object.keys(queues).sort();
  const sum = (row) => STATES.reduce((acc, st) => acc + (row[st] || 0), 0);
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, 'Queue'),
    STATES.map((st) => h('th', { scope: 'col', class: 'num' }, stateBadge(st))),
    h('th', { scope: 'col', class: 'num' }, 'Total'),
  );
  const rows = names.map((q) =>
    h(
      'tr',
      {
        class: paused.has(q) ? 'paused' : null,
        dataset: { queue: q, paused: String(paused.has(q)) },
      },
      h(
        'th',
        { scope: 'row' },
        h('a', { href: listHref({ queue: q }) }, q),
        paused.has(q) ? h('a', { href: '#/queues' }, pausedBadge(paused.get(q))) : null,
      ),
      STATES.map((st) => countCell(queues[q][st] || 0, { queue: q, state: st }, st, q)),
      countCell(sum(queues[q]), { queue: q }, 'TOTAL', q),
    ),
  );
  const foot = h(
    'tr',
    { class: 'totals', dataset: { queue: '*' } },
    h('th', { scope: 'row' }, 'All queues'),
    STATES.map((st) => countCell(totals[st] || 0, { state: st }, st, '*')),
    countCell(sum(totals), {}, 'TOTAL', '*'),
  );
  if (names.length === 0) {
    return [empty('No work orders yet.')];
  }
  const note =
    paused.size === 0
      ? null
      : h(
          'p',
          { class: 'paused-note' },
          `Paused: ${[...paused.values()].map(pauseText).join('; ')}. `,
          'No node claims from a paused queue until it is resumed on the ',
          h('a', { href: '#/queues' }, 'Queues'),
          ' page.',
        );
  return h(
    'div',
    { class: 'scroll' },
    note,
    h(
      'table',
      { class: 'counts' },
      h('thead', {}, head),
      h('tbody', {}, rows),
      h('tfoot', {}, foot),
    ),
  );
}

function pauseText(p) {
  return `${p.queue} (by ${p.pausedBy}${p.reason ? ': ' + p.reason : ''})`;
}

const CHART_W = 600;
const CHART_H = 120;
const AXIS = 2;

function throughputChart(t) {
  if (!t || !Array.isArray(t.buckets)) {
    return empty('No throughput figures.');
  }
  const buckets = t.buckets;
  const totals = { completed: 0, failed: 0, cancelled: 0 };
  let max = 1;
  for (const b of buckets) {
    totals.completed += b.completed || 0;
    totals.failed += b.failed || 0;
    totals.cancelled += b.cancelled || 0;
    max = Math.max(max, (b.completed || 0) + (b.failed || 0) + (b.cancelled || 0));
  }
  const n = Math.max(buckets.length, 1);
  const slot = CHART_W / n;
  const bar = Math.max(slot - 1, 1);
  const scale = (CHART_H - AXIS - 4) / max;
  const base = CHART_H - AXIS;
  const bars = buckets.map((b, i) => {
    const x = i * slot;
    let y = base;
    const parts = [];
    for (const kind of ['completed', 'failed', 'cancelled']) {
      const v = b[kind] || 0;
      if (v > 0) {
        const height = Math.max(v * scale, 1.5);
        y -= height;
        parts.push(s('rect', { class: 'bar-' + kind, x, y, width: bar, height }));
      }
    }
    const start = new Date(b.start);
    const label =
      `${start.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })}: ` +
      `${b.completed || 0} completed, ${b.failed || 0} failed, ${b.cancelled || 0} cancelled`;
    // A transparent full-height rect gives each minute a hover target and its tooltip.
    return s(
      'g',
      {},
      s('title', {}, label),
      s('rect', { class: 'bar-hit', x, y: 0, width: slot, height: base }),
      parts,
    );
  });
  const when = (iso) =>
    iso ? new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' }) : '';
  const axis = s('line', { class: 'axis', x1: 0, x2: CHART_W, y1: base + 0.5, y2: base + 0.5 });
  const summary =
    `${totals.completed} completed, ${totals.failed} failed, ${totals.cancelled} cancelled ` +
    'in the last hour';
  return [
    h(
      'p',
      { class: 'legend' },
      h(
        'span',
        { class: 'key key-completed' },
        'Completed ',
        h('strong', {}, count(totals.completed)),
      ),
      h('span', { class: 'key key-failed' }, 'Failed ', h('strong', {}, count(totals.failed))),
      h(
        'span',
        { class: 'key key-cancelled' },
        'Cancelled ',
        h('strong', {}, count(totals.cancelled)),
      ),
      h('span', { class: 'muted' }, 'per minute'),
    ),
    s(
      'svg',
      {
        class: 'chart',
        viewBox: `0 0 ${CHART_W} ${CHART_H}`,
        preserveAspectRatio: 'none',
        role: 'img',
        'aria-label': summary,
      },
      bars,
      axis,
    ),
    h(
      'p',
      { class: 'chart-axis', 'aria-hidden': 'true' },
      h('span', {}, when(t.from)),
      h('span', {}, 'peak ' + max + ' / min'),
      h('span', {}, when(t.to)),
    ),
  ];
}

function oldestPending(o) {
  if (!o) {
    return empty('Nothing is waiting.');
  }
  return h(
    'dl',
    { class: 'facts' },
    h('dt', {}, 'Waiting'),
    h('dd', { class: 'big' }, duration(o.waitSeconds)),
    h('dt', {}, 'Work order'),
    h('dd', {}, workOrderLink(o.id)),
    h('dt', {}, 'Queue'),
    h('dd', {}, o.queue),
    h('dt', {}, 'Submitted'),
    h('dd', {}, time(o.submittedAt)),
  );
}

function nodesTable(nodes) {
  if (nodes.length === 0) {
    return empty('No node has reported.');
  }
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'nodes' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Node', 'Slots', 'Memory MB', 'Pressure', 'Heartbeat', 'Version'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        nodes.map((n) =>
          h(
            'tr',
            { class: n.live === false ? 'stale' : null },
            h(
              'th',
              { scope: 'row' },
              h('span', { class: ['dot', n.live === false ? 'dot-off' : 'dot-on'] }),
              n.id,
              n.live === false ? h('span', { class: 'muted' }, ' (not live)') : null,
            ),
            h('td', { class: 'num' }, meter(n.slotsInUse, n.slots)),
            h('td', { class: 'num' }, meter(n.memoryMbInUse, n.memoryMb)),
            h(
              'td',
              {},
              h(
                'span',
                { class: ['pressure', 'pressure-' + String(n.pressure).toLowerCase()] },
                n.pressure,
              ),
            ),
            h(
              'td',
              {},
              n.heartbeatAgeSeconds === undefined ? '—' : duration(n.heartbeatAgeSeconds) + ' ago',
            ),
            h('td', {}, n.version === undefined ? '—' : String(n.version)),
          ),
        ),
      ),
    ),
  );
}

function meter(used, total) {
  const u = typeof used === 'number' ? used : 0;
  const t = typeof total === 'number' ? total : 0;
  const gauge = h('span', { class: 'gauge' }, h('span', { class: 'gauge-fill' }));
  if (t > 0) {
    gauge.firstChild.style.width = Math.min(100, (100 * u) / t).toFixed(1) + '%';
  }
  return [gauge, ` ${count(u)} / ${count(t)}`];
}

function healthReport(health) {
  if (!health) {
    return empty('No health report.');
  }
  const components = health.components || [];
  return [
    h(
      'p',
      { class: 'health-line' },
      statusBadge(health.status),
      ' checked ',
      time(health.checkedAt),
    ),
    h(
      'ul',
      { class: 'components' },
      components.map((c) =>
        h(
          'li',
          { class: 'component' },
          h('span', { class: 'component-name' }, c.name),
          statusBadge(c.status),
          (c.issues || []).length === 0
            ? null
            : h(
                'ul',
                { class: 'issues' },
                c.issues.map((i) =>
                  h(
                    'li',
                    { class: ['issue', 'severity-' + String(i.severity).toLowerCase()] },
                    h('strong', {}, i.severity),
                    ' ',
                    i.message,
                    i.recommendation
                      ? h('span', { class: 'recommendation' }, 'What to do: ', i.recommendation)
                      : null,
                  ),
                ),
              ),
        ),
      ),
    ),
  ];
}
