// #/work-orders/<id> : one work order's facts, labels, progress, dependencies and dependents with
// their states, batch, last error, lineage, payload and checkpoint on request, timeline and raw
// events, with Cancel and Resubmit behind a confirmation step. A refresh reads the view (so the
// progress bar and the states of related work follow); the timeline (and the raw events, while
// open) only when the version has moved.

import { api, query } from './api.js';
import {
  TERMINAL,
  batchLink,
  duration,
  empty,
  errorBox,
  fill,
  h,
  listHref,
  progressBar,
  stateBadge,
  time,
  workOrderLink,
} from './dom.js';

export function create(route, ctx) {
  const id = route.id;
  const path = '/api/work-orders/' + encodeURIComponent(id);
  let view = null;
  let timelineVersion = null;
  let eventsVersion = null;
  let confirming = false;

  const badge = h('span', { class: 'title-state' });
  const actions = h('div', { class: 'actions', 'aria-label': 'Actions' });
  const actionResult = h('div', { class: 'action-result', 'aria-live': 'polite' });
  const facts = h('div', { class: 'card-body' });
  const lineage = h('div', { class: 'card-body' });
  const lastError = h('div', { class: 'card-body' });
  const progress = h('div', { class: 'card-body progress-body' });
  const dependencies = h('div', { class: 'card-body' });
  const checkpointBody = h('div', { class: 'checkpoint-body' });
  const checkpointButton = h(
    'button',
    { type: 'button', class: 'show-checkpoint', hidden: true, on: { click: showCheckpoint } },
    'Show checkpoint',
  );
  const payloadBody = h('div', { class: 'payload-body' });
  const payloadButton = h(
    'button',
    { type: 'button', on: { click: showPayload } },
    'Show payload and result',
  );
  const timeline = h('div', { class: 'card-body' });
  const events = h('div', { class: 'events-body' });
  const eventsBlock = h(
    'details',
    { class: 'raw-events' },
    h('summary', {}, 'Raw events (audit log, oldest first)'),
    events,
  );
  eventsBlock.addEventListener('toggle', () => {
    if (eventsBlock.open) {
      eventsVersion = null;
      loadEvents().catch((e) => fill(events, errorBox(e)));
    }
  });

  const el = h(
    'div',
    { class: 'work-order' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/work-orders' }, 'Work orders'), ' / '),
    h('h1', {}, 'Work order ', h('code', { class: 'id' }, id), ' ', badge),
    actions,
    actionResult,
    h(
      'div',
      { class: 'grid' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'wo-facts' },
        h('h2', { id: 'wo-facts' }, 'Spec and state'),
        facts,
      ),
      h(
        'div',
        { class: 'stack' },
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'wo-progress' },
          h('h2', { id: 'wo-progress' }, 'Progress'),
          progress,
        ),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'wo-error' },
          h('h2', { id: 'wo-error' }, 'Last error'),
          lastError,
        ),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'wo-dependencies' },
          h('h2', { id: 'wo-dependencies' }, 'Dependencies and batch'),
          dependencies,
        ),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'wo-lineage' },
          h('h2', { id: 'wo-lineage' }, 'Resubmissions'),
          lineage,
        ),
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'wo-payload' },
          h('h2', { id: 'wo-payload' }, 'Payload, result and checkpoint'),
          h(
            'div',
            { class: 'card-body' },
            h('p', { class: 'muted' }, 'Shown only on request, with the token.'),
            h('div', { class: 'buttons' }, payloadButton, checkpointButton),
            payloadBody,
            checkpointBody,
          ),
        ),
      ),
      h(
        'section',
        { class: 'card wide', 'aria-labelledby': 'wo-timeline' },
        h('h2', { id: 'wo-timeline' }, 'Timeline'),
        timeline,
      ),
      h('section', { class: 'card wide', 'aria-label': 'Raw events' }, eventsBlock),
    ),
  );

  async function refresh() {
    let v;
    try {
      v = await api(path);
    } catch (e) {
      if (e.status !== 401) {
        fill(facts, errorBox(e));
      }
      throw e;
    }
    view = v;
    render(v);
    const work = [];
    if (v.version !== timelineVersion) {
      work.push(loadTimeline(v.version));
    }
    if (eventsBlock.open && v.version !== eventsVersion) {
      work.push(loadEvents(v.version));
    }
    await Promise.all(work);
  }

  function render(v) {
    fill(badge, stateBadge(v.state));
    if (!confirming) {
      renderActions(v);
    }
    const attempts = v.maxAttempts ? `${v.attempt} of ${v.maxAttempts}` : String(v.attempt);
    const rows = [
      ['ID', h('code', {}, v.id)],
      ['Queue', h('a', { href: listHref({ queue: v.queue }) }, v.queue)],
      ['Type', v.type],
      ['State', stateBadge(v.state)],
      ['Attempt', attempts],
      ['Priority', String(v.priority)],
      ['Version', String(v.version)],
      ['Submitted', time(v.submittedAt)],
      ['Updated', time(v.updatedAt)],
      ['Available from', time(v.availableAt)],
      v.nextAttemptAt ? ['Next attempt', time(v.nextAttemptAt)] : null,
      v.leaseOwner ? ['Lease owner', h('code', {}, v.leaseOwner)] : null,
      v.leaseExpiresAt ? ['Lease expires', time(v.leaseExpiresAt)] : null,
      v.timeoutSeconds !== undefined ? ['Timeout', duration(v.timeoutSeconds)] : null,
      v.resources
        ? ['Resources', `${v.resources.slots} slot(s), ${v.resources.memoryMb} MB`]
        : null,
      v.cancellationRequested ? ['Cancellation requested', v.cancellationRequested] : null,
      ['Result', v.hasResult ? 'yes' : 'none'],
      ['Checkpoint', h('span', { class: 'has-checkpoint' }, v.hasCheckpoint ? 'recorded' : 'none')],
      [
        'Labels',
        v.labels && Object.keys(v.labels).length
          ? h(
              'span',
              { class: 'labels' },
              Object.entries(v.labels).map(([k, val]) =>
                h(
                  'a',
                  { class: 'label', href: listHref({ label: `${k}:${val}` }) },
                  `${k}: ${val}`,
                ),
              ),
            )
          : h('span', { class: 'muted' }, 'none'),
      ],
    ].filter(Boolean);
    fill(
      facts,
      h(
        'dl',
        { class: 'facts' },
        rows.map(([k, val]) => [h('dt', {}, k), h('dd', {}, val)]),
      ),
    );

    checkpointButton.hidden = !v.hasCheckpoint;
    if (v.progress) {
      fill(
        progress,
        progressBar(v.progress),
        h(
          'p',
          { class: 'muted' },
          TERMINAL.has(v.state) ? 'Last reported ' : 'Reported ',
          time(v.progress.reportedAt),
          '; kept with the lease renewal, so it may lag a few seconds.',
        ),
      );
    } else {
      fill(progress, empty(TERMINAL.has(v.state) ? 'None was reported.' : 'None reported yet.'));
    }
    renderDependencies(v);

    if (v.lastError) {
      fill(
        lastError,
        h(
          'p',
          {},
          h('code', { class: 'error-code' }, v.lastError.code),
          ' ',
          h('span', { class: 'muted' }, v.lastError.retryable ? 'retryable' : 'not retryable'),
          ' · ',
          h('a', { href: listHref({ errorCode: v.lastError.code }) }, 'all with this code'),
        ),
        h('pre', { class: 'message' }, v.lastError.message || '(no message)'),
      );
    } else {
      fill(lastError, empty('None.'));
    }

    const from = v.resubmittedFrom;
    const as = Array.isArray(v.resubmittedAs) ? v.resubmittedAs : [];
    fill(
      lineage,
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Resubmitted from'),
        h(
          'dd',
          { class: 'resubmitted-from' },
          from ? workOrderLink(from) : h('span', { class: 'muted' }, '—'),
        ),
        h('dt', {}, 'Resubmitted as'),
        h(
          'dd',
          { class: 'resubmitted-as' },
          as.length
            ? h(
                'ul',
                { class: 'plain' },
                as.map((x) => h('li', {}, workOrderLink(x))),
              )
            : h('span', { class: 'muted' }, '—'),
        ),
      ),
    );
  }

  function renderDependencies(v) {
    const states = v.relatedStates || {};
    const related = (ids, total, cls) => {
      if (ids.length === 0) {
        return h('span', { class: 'muted' }, '—');
      }
      const shown = ids.slice(0, RELATED_SHOWN);
      const more = Math.max(total, ids.length) - shown.length;
      return h(
        'ul',
        { class: ['plain', 'related', cls] },
        shown.map((x) =>
          h(
            'li',
            { dataset: { id: x, state: states[x] || '' } },
            workOrderLink(x),
            states[x] ? stateBadge(states[x]) : null,
          ),
        ),
        more > 0 ? h('li', { class: 'muted' }, `… and ${more} more`) : null,
      );
    };
    const deps = Array.isArray(v.dependencies) ? v.dependencies : [];
    const dependents = Array.isArray(v.dependents) ? v.dependents : [];
    fill(
      dependencies,
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Waits for'),
        h(
          'dd',
          { class: 'dependencies' },
          related(deps, v.dependencyCount || 0, 'dependency-list'),
        ),
        deps.length
          ? [
              h('dt', {}, 'If one fails'),
              h(
                'dd',
                { class: 'on-failure' },
                v.onDependencyFailure === 'RUN'
                  ? 'it runs anyway, once all have ended'
                  : 'it is cancelled (DEPENDENCY_FAILED)',
              ),
            ]
          : null,
        h('dt', {}, 'Needed by'),
        h(
          'dd',
          { class: 'dependents' },
          related(dependents, v.dependentCount || 0, 'dependent-list'),
        ),
        h('dt', {}, 'Batch'),
        h(
          'dd',
          { class: 'batch' },
          v.batch ? batchLink(v.batch) : h('span', { class: 'muted' }, '—'),
        ),
      ),
    );
  }

  function renderActions(v) {
    const buttons = [];
    if (!TERMINAL.has(v.state)) {
      buttons.push(
        h('button', { type: 'button', class: 'danger', on: { click: confirmCancel } }, 'Cancel…'),
      );
    }
    if (v.state === 'FAILED' || v.state === 'CANCELLED') {
      buttons.push(
        h(
          'button',
          { type: 'button', class: 'primary', on: { click: confirmResubmit } },
          'Resubmit…',
        ),
      );
    }
    fill(actions, buttons);
  }

  function confirmation(question, extra, confirmLabel, confirmClass, run) {
    confirming = true;
    const back = h('button', { type: 'button', on: { click: done } }, 'Back');
    const go = h('button', { type: 'button', class: confirmClass }, confirmLabel);
    go.addEventListener('click', async () => {
      go.disabled = true;
      back.disabled = true;
      try {
        await run();
      } catch (e) {
        fill(actionResult, errorBox(e));
      } finally {
        done();
        ctx.refresh();
      }
    });
    fill(
      actions,
      h(
        'div',
        { class: 'confirm', role: 'group', 'aria-label': 'Confirm' },
        h('p', {}, question),
        extra,
        h('div', { class: 'buttons' }, go, back),
      ),
    );
    back.focus();
  }

  function done() {
    confirming = false;
    if (view) {
      renderActions(view);
    }
  }

  function confirmCancel() {
    const reason = h('input', {
      type: 'text',
      id: 'cancel-reason',
      maxlength: 500,
      placeholder: 'optional',
      autocomplete: 'off',
    });
    confirmation(
      'Cancel this work order? A running attempt is stopped.',
      h('div', { class: 'field' }, h('label', { for: 'cancel-reason' }, 'Reason'), reason),
      'Cancel work order',
      'danger',
      async () => {
        const r = reason.value.trim();
        const answer = await api(path + '/cancel', {
          method: 'POST',
          body: r ? { reason: r } : undefined,
        });
        fill(
          actionResult,
          h(
            'p',
            { class: 'ok' },
            answer.cancelled
              ? 'Cancelled' + (answer.state ? ' (now ' + answer.state + ')' : '') + '.'
              : 'Not cancelled' + (answer.state ? ': it is ' + answer.state : '') + '.',
          ),
        );
      },
    );
  }

  function confirmResubmit() {
    confirmation(
      'Resubmit as a new work order with the same spec? This one stays as it is.',
      null,
      'Resubmit',
      'primary',
      async () => {
        const answer = await api(path + '/resubmit', { method: 'POST' });
        // Resubmitting is once per work order: a repeat answers with the first resubmission.
        fill(
          actionResult,
          h(
            'p',
            { class: 'ok' },
            answer.created === false ? 'Already resubmitted as ' : 'Resubmitted as ',
            workOrderLink(answer.id),
            '.',
          ),
        );
      },
    );
  }

  async function showPayload() {
    payloadButton.disabled = true;
    try {
      const v = await api(path + query({ include: 'payload,result' }));
      const parts = [h('h3', {}, 'Payload'), h('pre', { class: 'json payload' }, json(v.payload))];
      if ('result' in v) {
        parts.push(h('h3', {}, 'Result'), h('pre', { class: 'json result' }, json(v.result)));
      }
      fill(payloadBody, parts);
    } catch (e) {
      fill(payloadBody, errorBox(e, 'Refused (' + e.status + ')'));
    } finally {
      payloadButton.disabled = false;
    }
  }

  async function showCheckpoint() {
    checkpointButton.disabled = true;
    try {
      const v = await api(path + query({ include: 'checkpoint' }));
      fill(
        checkpointBody,
        h('h3', {}, 'Checkpoint'),
        h('pre', { class: 'json checkpoint' }, json(v.checkpoint)),
      );
    } catch (e) {
      fill(checkpointBody, errorBox(e, 'Refused (' + e.status + ')'));
    } finally {
      checkpointButton.disabled = false;
    }
  }

  async function loadTimeline(version) {
    const t = await api(path + '/timeline');
    timelineVersion = version;
    const inState = Object.entries(t.secondsInState || {})
      .map(([st, sec]) => `${st.toLowerCase().replace('_', ' ')} ${duration(sec)}`)
      .join(' · ');
    fill(
      timeline,
      h(
        'p',
        { class: 'muted' },
        `Total ${duration(t.totalSeconds)}`,
        inState ? ' — ' + inState : '',
      ),
      h(
        'div',
        { class: 'scroll' },
        h(
          'table',
          { class: 'timeline' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              [
                '#',
                'Event',
                'From',
                'To',
                'Attempt',
                'Recorded',
                '+ previous',
                'since submit',
                'Detail',
              ].map((x) => h('th', { scope: 'col' }, x)),
            ),
          ),
          h(
            'tbody',
            {},
            (t.steps || []).map((st, i) =>
              h(
                'tr',
                { dataset: { type: st.type } },
                h('td', { class: 'num' }, String(i + 1)),
                h('td', {}, st.type),
                h('td', {}, st.from ? stateBadge(st.from) : ''),
                h('td', {}, stateBadge(st.to)),
                h('td', { class: 'num' }, String(st.attempt)),
                h('td', {}, time(st.recordedAt)),
                h('td', { class: 'num' }, duration(st.sincePreviousSeconds)),
                h('td', { class: 'num' }, duration(st.sinceSubmittedSeconds)),
                h('td', { class: 'detail' }, stepDetail(st)),
              ),
            ),
          ),
        ),
      ),
    );
  }

  async function loadEvents(version) {
    const data = await api('/api/audit' + query({ workOrder: id, order: 'oldest', limit: 500 }));
    eventsVersion = version === undefined ? view && view.version : version;
    const list = data.events || [];
    fill(
      events,
      list.length
        ? h('pre', { class: 'json' }, list.map((e) => JSON.stringify(e)).join('\n'))
        : empty('No events.'),
      data.nextCursor ? h('p', { class: 'muted' }, 'The first 500 events are shown.') : null,
    );
  }

  return { el, refresh, title: 'Work order ' + id };
}

/** How many dependencies, and dependents, the page links to. */
const RELATED_SHOWN = 50;

function stepDetail(st) {
  const out = [];
  if (st.dependency) {
    out.push('dependency ', workOrderLink(st.dependency), ' ended ', st.dependencyState || '');
  }
  if (st.dependencyCount) {
    out.push(`waits for ${st.dependencyCount} work order${st.dependencyCount === 1 ? '' : 's'}`);
  }
  if (st.batch) {
    out.push(out.length ? ' · batch ' : 'batch ', batchLink(st.batch));
  }
  if (st.checkpointAttempt) {
    out.push(`checkpoint of attempt ${st.checkpointAttempt}`);
  }
  if (st.code) {
    out.push(h('code', {}, st.code), ' ');
  }
  if (st.error) {
    out.push(h('code', {}, st.error.code), ' ', st.error.message || '');
  }
  if (st.decision) {
    out.push(' ', h('span', { class: 'muted' }, st.decision));
  }
  if (st.retryAt) {
    out.push(' retry at ', time(st.retryAt));
  }
  if (st.owner) {
    out.push('by ', h('code', {}, st.owner));
  }
  if (st.sandboxId) {
    out.push('sandbox ', h('code', {}, st.sandboxId));
  }
  if (st.reason) {
    out.push(st.reason);
  }
  if (st.resubmittedFrom) {
    out.push('resubmitted from ', workOrderLink(st.resubmittedFrom));
  }
  return out;
}

function json(value) {
  return value === undefined ? '(none)' : JSON.stringify(value, null, 2);
}
