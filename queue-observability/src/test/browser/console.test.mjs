// The operator console in Debian's Chromium, against a real endpoint that ConsoleBrowserTest
// started over a node with a known set of work orders (WORKGATE_EXPECTED). Exits 0 when every
// check passed, 1 with the reason otherwise. Checks, in order:
//   1. the overview shows the known counts by queue and state and the last hour's throughput;
//   2. the list filtered by state FAILED (from the form, and again after a reload) shows exactly
//      the failed work orders, the counts per state agree, error-code and time filters narrow it;
//   3. a failed work order's page shows its spec, last error, timeline, raw events and payload;
//   4. a page left open follows a change made elsewhere (live polling): the running work order,
//      cancelled through the API, is shown CANCELLED with its new timeline steps, no reload;
//   5. from the failures view, "Resubmit all" per error code (after a confirmation naming how many)
//      creates linked work orders, which complete; a second try is refused for each; the pages
//      link both ways;
//   6. "Cancel live" for an error code cancels the work still retrying after that error;
//   7. Cancel and Resubmit on a work order's page, each behind its confirmation;
//   8. a chain (a, then b after a, submitted through the API): b's page shows BLOCKED and links
//      its dependency with its state; a's page shows the progress its handler reported (a bar
//      with the fraction and message, followed by the poll), b as its dependent, and its
//      checkpoint on request; once a's gate opens, both complete and the pages follow;
//   9. a batch submitted as one shows its counts and its work orders on its page, and each of
//      them links back to it;
//  10. a queue paused from the Queues page (after a confirmation asking why) keeps the work
//      submitted to it PENDING while other work runs, shows who paused it and why, is marked on
//      the overview and lists the pause in its history; resumed the same way, its work runs;
//  11. without the token the page shows the token form and no data, and the API answers 401;
//      the form then lets the user in, and "Forget token" asks again.
// No request may leave for any other origin (all are blocked and counted), and the flows that
// start with the token log no console error and throw no page error.
//
// Environment: WORKGATE_URL, WORKGATE_TOKEN, WORKGATE_SCREENSHOTS (a directory), WORKGATE_EXPECTED.

import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE = required('WORKGATE_URL');
const TOKEN = required('WORKGATE_TOKEN');
const SHOTS = required('WORKGATE_SCREENSHOTS');
const EXPECTED = JSON.parse(required('WORKGATE_EXPECTED'));
const ORIGIN = new URL(BASE).origin;
const TIMEOUT = 20_000;

const FAILED = [...EXPECTED.failed.UPSTREAM_DOWN, ...EXPECTED.failed.BAD_INPUT];
const STATES = [
  'BLOCKED',
  'PENDING',
  'WAITING_RETRY',
  'PREPARING',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
];

function required(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return v;
}

const blocked = [];
const problems = [];

async function newContext(browser, { withToken }) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    serviceWorkers: 'block',
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(TIMEOUT);
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === ORIGIN) {
      return route.continue();
    }
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  if (withToken) {
    // The token is there before the page's first call, so no expected 401 is logged.
    await context.addInitScript((t) => sessionStorage.setItem('workgate.token', t), TOKEN);
  }
  return context;
}

function watch(page, flow) {
  page.on('console', (m) => {
    if (m.type() === 'error') {
      problems.push(`${flow}: console error: ${m.text()} (${m.location().url || 'no url'})`);
    }
  });
  page.on('pageerror', (e) => problems.push(`${flow}: page error: ${e.message}`));
}

/** Polls fn until it returns without throwing and not false; rethrows its last error at timeout. */
async function eventually(what, fn, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v !== false) {
        return v;
      }
      last = new Error('not yet');
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`${what}: not so after ${timeout} ms: ${last && last.message}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function text(page, selector) {
  return (await page.locator(selector).first().textContent({ timeout: 1000 })).trim();
}

async function rowIds(page) {
  return page.$$eval('table.work-orders tbody tr[data-id]', (rows) =>
    rows.map((r) => r.dataset.id),
  );
}

function sameSet(actual, expected, what) {
  assert.deepEqual([...actual].sort(), [...expected].sort(), what);
}

async function apiGet(path, token) {
  const headers = token ? { Authorization: 'Bearer ' + token } : {};
  const r = await fetch(BASE + path, { headers });
  return { status: r.status, body: await r.json() };
}

async function apiPost(path, body) {
  const r = await fetch(BASE + path, {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + TOKEN, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

async function screenshot(page, name) {
  // Settle: no call in flight, so the picture shows drawn data.
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(SHOTS, name), fullPage: true });
}

// ---------------------------------------------------------------------------------------------

async function overview(page) {
  await page.goto(BASE + '/#/');
  for (const st of STATES) {
    const want = String(EXPECTED.totals[st] || 0);
    await eventually(`overview total ${st} = ${want}`, async () =>
      assert.equal(await text(page, `tr.totals td[data-state="${st}"]`), want),
    );
  }
  for (const [queue, states] of Object.entries(EXPECTED.queues)) {
    for (const st of STATES) {
      assert.equal(
        await text(page, `tbody tr[data-queue="${queue}"] td[data-state="${st}"]`),
        String(states[st] || 0),
        `overview ${queue} ${st}`,
      );
    }
  }
  const ended = EXPECTED.totals.COMPLETED + EXPECTED.totals.FAILED;
  await eventually('throughput counts the last hour', async () => {
    assert.equal(await text(page, '.key-completed strong'), String(EXPECTED.totals.COMPLETED));
    assert.equal(await text(page, '.key-failed strong'), String(EXPECTED.totals.FAILED));
    assert.equal(
      (await page.locator('svg.chart rect[class^="bar-"]:not(.bar-hit)').count()) > 0,
      true,
    );
  });
  assert.ok(ended > 0);
  await page.locator('.health-line .health').waitFor();
  assert.ok((await page.locator('.components .component').count()) > 0, 'health components shown');
  await page.locator('.nodes tbody tr').first().waitFor();
  await screenshot(page, 'console-overview.png');
}

async function list(page) {
  await page.goto(BASE + '/#/work-orders');
  const all = Object.values(EXPECTED.totals).reduce((a, b) => a + b, 0);
  await eventually(`the unfiltered list shows all ${all}`, async () =>
    assert.equal((await rowIds(page)).length, all),
  );
  assert.equal(await text(page, '.count-chip.total .n'), String(all));
  await screenshot(page, 'console-list.png');

  // Filter through the form: the hash keeps it, the table and the counts follow.
  await page.check('#f-state-FAILED');
  await page.click('form.filters button[type="submit"]');
  await eventually('the hash holds the filter', async () =>
    assert.match(decodeURIComponent(new URL(page.url()).hash), /state=FAILED/),
  );
  await eventually('the FAILED list is exactly the failed work orders', async () =>
    sameSet(await rowIds(page), FAILED, 'failed ids'),
  );
  assert.equal(await text(page, '.count-chip[data-state="FAILED"] .n'), String(FAILED.length));
  assert.equal(await text(page, '.count-chip.total .n'), String(FAILED.length));

  // A reload (or a shared link) shows the same list, with the form filled in.
  await page.reload();
  await eventually('after a reload, the same FAILED list', async () =>
    sameSet(await rowIds(page), FAILED, 'failed ids after reload'),
  );
  assert.equal(await page.isChecked('#f-state-FAILED'), true);

  await page.fill('#f-errorCode', 'BAD_INPUT');
  await page.click('form.filters button[type="submit"]');
  await eventually('the error-code filter narrows to BAD_INPUT', async () =>
    sameSet(await rowIds(page), EXPECTED.failed.BAD_INPUT, 'BAD_INPUT ids'),
  );

  await page.fill('#f-from', '2099-01-01T00:00');
  await page.click('form.filters button[type="submit"]');
  await eventually('nothing was submitted after 2099', async () => {
    assert.match(decodeURIComponent(new URL(page.url()).hash), /from=2099-01-01T/);
    assert.equal((await rowIds(page)).length, 0);
    assert.equal(await text(page, '.count-chip.total .n'), '0');
    assert.match(await text(page, '.list-body'), /No work order matches/);
  });

  // Back to FAILED alone; its first row leads to the work order's page.
  await page.fill('#f-from', '');
  await page.fill('#f-errorCode', '');
  await page.click('form.filters button[type="submit"]');
  await eventually('the FAILED list again', async () =>
    sameSet(await rowIds(page), FAILED, 'failed ids'),
  );
}

async function workOrderPage(page) {
  const id = EXPECTED.failed.UPSTREAM_DOWN[0];
  await page.click(`table.work-orders tr[data-id="${id}"] a`);
  await eventually('the link opens the work order', async () =>
    assert.equal(new URL(page.url()).hash, '#/work-orders/' + encodeURIComponent(id)),
  );
  await eventually('the page shows its state and last error', async () => {
    assert.equal(await text(page, 'h1 .state'), 'failed');
    assert.equal(await text(page, '.error-code'), 'UPSTREAM_DOWN');
  });
  await eventually('the timeline lists its steps', async () =>
    assert.deepEqual(
      await page.$$eval('table.timeline tbody tr', (rows) => rows.map((r) => r.dataset.type)),
      ['Submitted', 'Claimed', 'Started', 'AttemptFailed'],
    ),
  );
  assert.match(await text(page, '.facts'), /imports/);
  await page.click('details.raw-events summary');
  await eventually('the raw events are listed', async () => {
    const lines = (await text(page, '.events-body pre')).split('\n');
    assert.equal(lines.length, 4);
    assert.equal(JSON.parse(lines[0]).type, 'Submitted');
  });
  await page.click('text=Show payload and result');
  await eventually('the payload is shown on request', async () =>
    assert.match(
      await text(page, 'pre.payload'),
      new RegExp(EXPECTED.payloadText.replace('.', '\\.')),
    ),
  );
  await screenshot(page, 'console-work-order.png');
}

async function livePolling(page) {
  const id = EXPECTED.running;
  await page.goto(BASE + '/#/work-orders/' + encodeURIComponent(id));
  await eventually('the running work order is shown running', async () =>
    assert.equal(await text(page, 'h1 .state'), 'running'),
  );
  // Changed elsewhere, not through this page: only the poll can bring it.
  const r = await apiPost(`/api/work-orders/${encodeURIComponent(id)}/cancel`, {
    reason: 'from the test',
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await eventually('the open page follows to CANCELLED without a reload', async () => {
    assert.equal(await text(page, 'h1 .state'), 'cancelled');
    const steps = await page.$$eval('table.timeline tbody tr', (rows) =>
      rows.map((x) => x.dataset.type),
    );
    assert.equal(steps[steps.length - 1], 'Cancelled');
  });
}

async function bulkResubmit(page) {
  await page.goto(BASE + '/#/failures');
  const created = [];
  for (const [code, ids] of Object.entries(EXPECTED.failed)) {
    const row = page.locator(`table.groups tr[data-error-code="${code}"]`);
    await eventually(`failures group ${code} counts ${ids.length}`, async () =>
      assert.equal(
        await text(page, `table.groups tr[data-error-code="${code}"] td.num`),
        String(ids.length),
      ),
    );
    await row.locator('button.resubmit-all').click();
    const confirm = page.locator('.bulk-panel .confirm');
    await eventually(`the confirmation names ${ids.length}`, async () =>
      assert.match(
        await confirm.locator('.question').textContent(),
        new RegExp(`Resubmit ${ids.length} FAILED`),
      ),
    );
    await confirm.locator(`button:text-is("Resubmit ${ids.length}")`).click();
    await eventually(`the answer for ${code}`, async () =>
      assert.match(
        await text(page, '.bulk-panel .answer'),
        new RegExp(`Matched ${ids.length}, changed ${ids.length}\\.`),
      ),
    );
    const pairs = await page.$$eval('.bulk-panel .created li', (items) =>
      items.map((li) => [...li.querySelectorAll('a')].map((a) => a.textContent)),
    );
    sameSet(
      pairs.map((p) => p[0]),
      ids,
      `${code}: resubmitted from`,
    );
    created.push(...pairs.map(([from, id]) => ({ from, id })));
    await page.click('.bulk-panel button:text-is("Close")');
  }
  assert.equal(new Set(created.map((c) => c.id)).size, FAILED.length);

  // Every new work order is linked to its failed one, and completes.
  for (const { from, id } of created) {
    await eventually(`resubmission ${id} completes`, async () => {
      const r = await apiGet('/api/work-orders/' + encodeURIComponent(id), TOKEN);
      assert.equal(r.status, 200);
      assert.equal(r.body.resubmittedFrom, from);
      assert.equal(r.body.state, 'COMPLETED');
    });
  }

  // A second "Resubmit all" finds nothing to do: each was resubmitted already.
  const code = 'BAD_INPUT';
  await page.locator(`table.groups tr[data-error-code="${code}"] button.resubmit-all`).click();
  await eventually('the second try has nothing to do', async () =>
    assert.match(await text(page, '.bulk-panel'), /Nothing to do: none match now\./),
  );
  await page.click('.bulk-panel button:text-is("Back")');
  // Over the API too: a second bulk resubmit matches none and changes nothing.
  const again = await apiPost(
    '/api/work-orders/bulk/resubmit',
    { filter: { state: 'FAILED', errorCode: code } },
  );
  assert.equal(again.status, 200);
  assert.equal(again.body.matched, 0);
  assert.equal(again.body.changed, 0);

  // The pages link both ways; the new one is seen COMPLETED.
  const { from, id } = created[0];
  await page.goto(BASE + '/#/work-orders/' + encodeURIComponent(from));
  await page.locator(`.resubmitted-as a:text-is("${id}")`).click();
  await eventually('the resubmission page links back and is completed', async () => {
    assert.equal(await text(page, '.resubmitted-from a'), from);
    assert.equal(await text(page, 'h1 .state'), 'completed');
  });
}

async function bulkCancel(page) {
  await page.goto(BASE + '/#/failures');
  const row = page.locator('table.groups tr[data-error-code="UPSTREAM_DOWN"]');
  await row.locator('button.cancel-live').click();
  await eventually('the confirmation names the one retrying', async () =>
    assert.match(
      await text(page, '.bulk-panel .question'),
      /^Cancel 1 work order still pending, retrying or running whose last error is UPSTREAM_DOWN\?/,
    ),
  );
  await page.locator('.bulk-panel button:text-is("Cancel 1")').click();
  await eventually('the answer', async () => {
    assert.match(await text(page, '.bulk-panel .answer'), /^Matched 1, changed 1\.$/);
    assert.equal(await text(page, '.bulk-panel .cancelled li a'), EXPECTED.retrying);
  });
  const r = await apiGet('/api/work-orders/' + encodeURIComponent(EXPECTED.retrying), TOKEN);
  assert.equal(r.body.state, 'CANCELLED');
}

async function cancelAndResubmit(page) {
  const id = EXPECTED.pending[0];
  await page.goto(BASE + '/#/work-orders/' + encodeURIComponent(id));
  await eventually('the pending work order is shown pending', async () =>
    assert.equal(await text(page, 'h1 .state'), 'pending'),
  );
  await page.click('.actions button:text-is("Cancel…")');
  await page.fill('#cancel-reason', 'not needed any more');
  await page.click('.actions .confirm button:text-is("Cancel work order")');
  await eventually('cancelled from its page', async () => {
    assert.match(await text(page, '.action-result'), /Cancelled/);
    assert.equal(await text(page, 'h1 .state'), 'cancelled');
  });
  await page.click('.actions button:text-is("Resubmit…")');
  await page.click('.actions .confirm button:text-is("Resubmit")');
  const newId = await eventually('resubmitted from its page', async () => {
    const link = page.locator('.action-result a');
    return (await link.textContent({ timeout: 500 })).trim();
  });
  await eventually('the page lists the new work order', async () =>
    assert.equal(await text(page, '.resubmitted-as a'), newId),
  );
}

async function submit(spec) {
  const r = await apiPost('/api/work-orders', spec);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}

async function stateOf(id) {
  const r = await apiGet('/api/work-orders/' + encodeURIComponent(id), TOKEN);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.state;
}

async function chain(page) {
  // a reports progress and a checkpoint, then waits at its gate; b waits for a.
  const a = await submit({ type: 'gate', queue: 'reports' });
  const b = await submit({ type: 'report', queue: 'reports', after: [a] });
  await page.goto(BASE + '/#/work-orders/' + encodeURIComponent(b));
  await eventually("b's page shows it BLOCKED, waiting for a", async () => {
    assert.equal(await text(page, 'h1 .state'), 'blocked');
    assert.equal(await text(page, `.dependencies li[data-id="${a}"] a`), a);
    assert.match(await text(page, '.on-failure'), /cancelled/);
  });
  await eventually("a's state next to the link follows (running)", async () =>
    assert.equal(await text(page, `.dependencies li[data-id="${a}"] .state`), 'running'),
  );

  await page.click(`.dependencies li[data-id="${a}"] a`);
  await eventually("a's page shows the progress its handler reported", async () => {
    assert.equal(await text(page, 'h1 .state'), 'running');
    assert.equal(await text(page, '.progress-pct'), '40%');
    assert.equal(await text(page, '.progress-message'), 'step 2 of 5');
    assert.equal(await page.getAttribute('progress.progress-bar', 'value'), '40');
  });
  await eventually("a's page lists b as its dependent, blocked", async () =>
    assert.equal(await text(page, `.dependents li[data-id="${b}"] .state`), 'blocked'),
  );
  assert.equal(await text(page, '.has-checkpoint'), 'recorded');
  await page.click('button.show-checkpoint');
  await eventually('the checkpoint is shown on request', async () =>
    assert.deepEqual(JSON.parse(await text(page, 'pre.checkpoint')), { step: 2 }),
  );
  await screenshot(page, 'console-progress.png');

  // Opening the gate (a work order of its own) lets a complete, and then b run.
  await submit({ type: 'open', queue: 'reports' });
  await eventually('a completes, seen on its open page', async () =>
    assert.equal(await text(page, 'h1 .state'), 'completed'),
  );
  await page.goto(BASE + '/#/work-orders/' + encodeURIComponent(b));
  await eventually('b ran after a and completed', async () => {
    assert.equal(await text(page, 'h1 .state'), 'completed');
    assert.equal(await text(page, `.dependencies li[data-id="${a}"] .state`), 'completed');
    // The timeline is rendered by its own read, which may land after the header's.
    const steps = await page.$$eval('table.timeline tbody tr', (rows) =>
      rows.map((x) => x.dataset.type),
    );
    assert.deepEqual(steps.slice(0, 2), ['Submitted', 'DependenciesMet']);
  });
}

async function batchPage(page) {
  const r = await apiPost('/api/work-orders/batch', {
    asBatch: true,
    items: [
      { type: 'report', queue: 'reports', payload: { month: 'batch-1' } },
      { type: 'report', queue: 'reports', payload: { month: 'batch-2' } },
    ],
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const { batch, ids } = r.body;
  await page.goto(BASE + '/#/batches/' + encodeURIComponent(batch));
  await eventually('the batch page counts both completed and lists them', async () => {
    assert.equal(await text(page, '.count-chip[data-state="COMPLETED"] .n'), '2');
    assert.equal(await text(page, '.count-chip.total .n'), '2');
    assert.equal(await text(page, 'dd.ended'), 'yes');
    assert.equal(await text(page, 'h1 .batch-state'), 'completed');
    assert.deepEqual(await rowIds(page), ids);
  });
  await page.click(`table.work-orders tr[data-id="${ids[0]}"] a`);
  await eventually("a member's page links back to the batch", async () =>
    assert.equal(await text(page, 'dd.batch a'), batch),
  );
  await page.click('dd.batch a');
  await eventually('the link leads to the batch page', async () =>
    assert.equal(new URL(page.url()).hash, '#/batches/' + encodeURIComponent(batch)),
  );
}

async function pauseAndResume(page) {
  const queue = EXPECTED.pauseQueue;
  const first = await submit({ type: 'report', queue });
  await eventually(`the first work order of ${queue} runs`, async () =>
    assert.equal(await stateOf(first), 'COMPLETED'),
  );
  await page.goto(BASE + '/#/queues');
  const row = `table.queues tr[data-queue="${queue}"]`;
  await eventually(`${queue} is listed, not paused`, async () =>
    assert.equal(await page.getAttribute(row, 'data-paused', { timeout: 1000 }), 'false'),
  );
  await page.click(`${row} button.pause`);
  await page.fill('#queue-reason', 'database maintenance');
  await page.click(`.queue-panel button:text-is("Pause ${queue}")`);
  await eventually('the answer says it is paused, and the row shows who and why', async () => {
    assert.equal(await text(page, '.queue-panel .answer'), `${queue} is paused.`);
    assert.equal(await page.getAttribute(row, 'data-paused'), 'true');
    assert.equal(await text(page, `${row} .paused-by`), 'console');
    assert.equal(await text(page, `${row} .pause-reason`), 'database maintenance');
    assert.equal(await text(page, `${row} button.resume`), 'Resume…');
  });

  // Work submitted to it waits, while work submitted after it to another queue runs.
  const held = await submit({ type: 'report', queue });
  const other = await submit({ type: 'report', queue: 'reports' });
  await eventually('work in a queue that is not paused runs', async () =>
    assert.equal(await stateOf(other), 'COMPLETED'),
  );
  assert.equal(await stateOf(held), 'PENDING', 'work in the paused queue is not claimed');
  await eventually('the queues page counts it as waiting', async () =>
    assert.equal(await text(page, `${row} td.depth`), '1'),
  );
  await page.click(`${row} button.history`);
  await eventually('the history lists the pause', async () =>
    assert.match(await text(page, '.history tr[data-kind="PAUSE"]'), /console.*database/),
  );
  await screenshot(page, 'console-queues.png');

  await page.goto(BASE + '/#/');
  await eventually('the overview marks the queue paused', async () => {
    assert.equal(
      await page.getAttribute(`tbody tr[data-queue="${queue}"]`, 'data-paused', { timeout: 1000 }),
      'true',
    );
    assert.equal(await text(page, `tbody tr[data-queue="${queue}"] .badge-paused`), 'paused');
    assert.match(await text(page, '.paused-note'), new RegExp(`${queue} \\(by console`));
  });
  assert.equal(
    await page.getAttribute('tbody tr[data-queue="reports"]', 'data-paused'),
    'false',
    'only the paused queue is marked',
  );

  await page.goto(BASE + '/#/queues');
  await page.click(`${row} button.resume`);
  await page.fill('#queue-reason', 'maintenance over');
  await page.click(`.queue-panel button:text-is("Resume ${queue}")`);
  await eventually('the answer says it is resumed', async () => {
    assert.equal(await text(page, '.queue-panel .answer'), `${queue} is resumed.`);
    assert.equal(await page.getAttribute(row, 'data-paused'), 'false');
  });
  await eventually('the waiting work runs once the queue is resumed', async () =>
    assert.equal(await stateOf(held), 'COMPLETED'),
  );
}

async function withoutToken(browser) {
  // Without the header the API refuses: the console's data is not served to a page without it.
  for (const path of ['/api/overview', '/api/work-orders?state=FAILED', '/api/failures']) {
    const r = await apiGet(path, null);
    assert.equal(r.status, 401, `${path} without a token`);
    assert.equal(typeof r.body.error, 'string');
  }
  assert.equal((await apiGet('/api/overview', TOKEN)).status, 200);

  const context = await newContext(browser, { withToken: false });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`no token: page error: ${e.message}`));
  await page.goto(BASE + '/#/work-orders?state=FAILED');
  await page.locator('#token-panel').waitFor({ state: 'visible' });
  assert.equal(await page.isHidden('#view'), true, 'no view while the token is missing');
  assert.equal(await page.locator('#view table.work-orders tbody tr').count(), 0, 'no data shown');
  assert.match(await text(page, '#status'), /token/i);

  await page.fill('#token-input', TOKEN);
  await page.click('#token-form button[type="submit"]');
  await eventually('with the token, the list is shown', async () =>
    sameSet(await rowIds(page), FAILED, 'failed ids with the token'),
  );
  assert.equal(await page.evaluate(() => sessionStorage.getItem('workgate.token')), TOKEN);
  assert.equal(await page.evaluate(() => document.cookie), '');

  await page.click('#forget-token');
  await page.locator('#token-panel').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => sessionStorage.getItem('workgate.token')), null);
  await context.close();
}

// ---------------------------------------------------------------------------------------------

const checks = [
  ['overview shows the known counts', overview],
  ['the list filters by state and error code', list],
  ["a work order's page shows its timeline", workOrderPage],
  ['an open page follows changes (polling)', livePolling],
  ['bulk resubmit from the failures view', bulkResubmit],
  ['bulk cancel of live work by error code', bulkCancel],
  ['cancel and resubmit from a work order page', cancelAndResubmit],
  ['a chain: blocked work, its dependency, progress and checkpoint', chain],
  ["a batch's page", batchPage],
  ['pause and resume a queue from the console', pauseAndResume],
];

mkdirSync(SHOTS, { recursive: true });
rmSync(join(SHOTS, 'failure.png'), { force: true });
const started = Date.now();
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--no-first-run',
    '--disable-quic',
    '--disable-component-update',
    '--disable-sync',
  ],
});
let failed = null;
let passed = 0;
try {
  const context = await newContext(browser, { withToken: true });
  const page = await context.newPage();
  watch(page, 'with token');
  for (const [name, check] of checks) {
    const t0 = Date.now();
    try {
      await check(page);
    } catch (e) {
      const status = await page.textContent('#status', { timeout: 1000 }).catch(() => '?');
      failed =
        `${name}: ${e.stack || e}\n  at ${page.url()}\n  status line: ${status}` +
        (problems.length ? '\n  ' + problems.join('\n  ') : '');
      await page.screenshot({ path: join(SHOTS, 'failure.png'), fullPage: true }).catch(() => {});
      break;
    }
    passed++;
    console.log(`ok ${passed} - ${name} (${Date.now() - t0} ms)`);
  }
  await context.close();
  if (!failed) {
    const t0 = Date.now();
    try {
      await withoutToken(browser);
      passed++;
      console.log(
        `ok ${passed} - without the token, the token form and no data (${Date.now() - t0} ms)`,
      );
    } catch (e) {
      failed = `without the token: ${e.stack || e}`;
    }
  }
} finally {
  await browser.close();
}
if (!failed && blocked.length > 0) {
  failed = 'requests to other origins were attempted:\n  ' + blocked.join('\n  ');
}
if (!failed && problems.length > 0) {
  failed = 'errors in the page:\n  ' + problems.join('\n  ');
}
if (failed) {
  console.log(`not ok - ${failed}`);
  process.exit(1);
}
console.log(`console browser test: all ${passed} checks passed in ${Date.now() - started} ms`);
