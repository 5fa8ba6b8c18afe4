/**
 * Issue 13: a tick with nothing new to send is cheap. Pages whose keys are all finished are read on within one
 * fetchRecipientPage call (src/activities/fetch-recipient-page.ts), so a second tick of a window costs one page activity per
 * SCAN_AHEAD_PAGES pages instead of one per page — and still sends what is open, counts everyone and moves the
 * cursor past every page it read. The filter is only a shortcut: with it off, concurrent runs still send each key
 * once (the claim is the guarantee).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readRecipientPage, SCAN_AHEAD_PAGES } from '../../src/activities/fetch-recipient-page';
import { userEmails } from '../../devkit/seed';
import { startHarness, testJob } from '../support/harness';
import { assertCountsAddUp, assertOneEach, harnessFor, runBatch, startBatch } from '../support/never-twice';

test('a second tick of a window: one page activity for four pages, the one reopened key sent, everyone counted', async (t) => {
  const job = testJob({ pageSize: 3 });
  const h = await harnessFor(t, [job]);
  const addresses = userEmails(10);
  const ids = await h.seedUsers(addresses);
  const first = await runBatch(h, job);
  assert.equal(first.counts.sent, 10);

  const steady = await startBatch(h, job);
  const summary = await steady.result();
  assert.equal(summary.outcome, 'completed');
  assert.equal(summary.counts.sent, 0);
  assert.equal(summary.counts.deduped, 10);
  assertCountsAddUp(summary, 10);
  assert.equal(await pageActivities(steady), 1, 'pages of 3, 3, 3 and 1 recipients read in one activity');

  // A key in the second page reopened (its row gone): read on past page 1, stop at page 2 to send it.
  await h.db.pool.query('DELETE FROM sendonce.email_sends WHERE job_name = $1 AND recipient_id = $2', [job.name, ids[4]]);
  const partial = await startBatch(h, job);
  const after = await partial.result();
  assert.equal(after.counts.sent, 1);
  assert.equal(after.counts.deduped, 9);
  assertCountsAddUp(after, 10);
  assert.equal(await pageActivities(partial), 2, 'pages 1–2 (page 2 has the open key), then pages 3–4');
  assertOneEach(h, addresses.filter((_, i) => i !== 4));
  assert.equal(h.sink.messagesTo(addresses[4]!).length, 2, 'the reopened key was sent again, once');
});

test('reading on is bounded: SCAN_AHEAD_PAGES pages per call, the cursor at the last id read', async (t) => {
  const job = testJob({ pageSize: 1 });
  const h = await harnessFor(t, [job]);
  const n = SCAN_AHEAD_PAGES + 5;
  await h.seedUsers(userEmails(n));
  const first = await runBatch(h, job);
  assert.equal(first.counts.sent, n);
  const req = { jobName: job.name, runId: 'another-run', limit: 1, window: first.window, scheduledAt: first.scheduledAt };

  const one = await readRecipientPage(h.db.pool, job, { ...req, afterId: null }, { filterFinished: true });
  assert.deepEqual(one.toSend, []);
  assert.equal(one.size, 1, 'a full page: the run reads on');
  assert.equal(one.finished.deduped, SCAN_AHEAD_PAGES);
  const two = await readRecipientPage(h.db.pool, job, { ...req, afterId: one.lastId }, { filterFinished: true });
  assert.equal(two.size, 0, 'the last page was empty: nothing after it');
  assert.equal(two.finished.deduped, 5);
  const { rows } = await h.db.pool.query<{ id: string }>('SELECT max(id)::text AS id FROM users');
  assert.equal(two.lastId, rows[0]!.id, 'the cursor is the last id read, not null, though the last page was empty');
});

/** fetchRecipientPage activities a run (one workflow run, no continue-as-new here) scheduled. */
async function pageActivities(handle: Awaited<ReturnType<typeof startBatch>>): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'fetchRecipientPage').length;
}

test('with the finished-key filter off, two concurrent runs of one window (each holding its own lock) and a later one still send each key once', async (t) => {
  const job = testJob({ chunkSize: 10 });
  const a = await harnessFor(t, [job], { startWorker: false });
  // A second worker on its own task queue and lock prefix, on the same database and SMTP server: two lock holders
  // at once, as a lock lost to a Redis restart would leave; the claims (and their fences) must decide.
  const b = await startHarness({ jobs: [job], db: a.db, sink: a.sink });
  try {
    for (const h of [a, b]) {
      h.deps.filterFinishedKeys = false;
      await h.startWorker();
    }
    const addresses = userEmails(120);
    await a.seedUsers(addresses);
    a.sink.onData(() => ({ delayMs: 5 })); // long enough for the two runs to overlap
    const [one, two] = await Promise.all([runBatch(a, job), runBatch(b, job)]);
    // The later run goes to the side whose run completed: a run the other's fence stopped ends lock_lost and leaves
    // its own lock (in its own key prefix, which only this test has twice) to its TTL.
    const later = await startBatch(one.outcome === 'completed' ? a : b, job);
    const summary = await later.result();
    assert.equal(summary.outcome, 'completed', JSON.stringify({ one: one.outcome, two: two.outcome, later: summary.reason }));

    assertOneEach(a, addresses);
    assert.equal(a.sink.count, addresses.length);
    assert.equal(one.counts.sent + two.counts.sent, addresses.length, `sent ${one.counts.sent} + ${two.counts.sent}`);
    assert.equal(summary.counts.sent, 0);
    assert.equal(summary.counts.deduped, addresses.length);
    assertCountsAddUp(summary, addresses.length);
    // The filter really was off: the later run scheduled send activities for keys that were all finished.
    const events = (await later.fetchHistory()).events ?? [];
    const sends = events.filter((e) => /^send(Chunk|Email)$/.test(e.activityTaskScheduledEventAttributes?.activityType?.name ?? ''));
    assert.ok(sends.length > 0, 'no send activity was scheduled: the filter was not bypassed');
  } finally {
    await b.close();
  }
});
