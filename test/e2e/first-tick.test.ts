/**
 * Issue 2: a real schedule on the dev server fires the batch workflow, which emails every seeded recipient
 * exactly once through a real SMTP server; a backfilled tick from a past day computes that day's window.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { scheduleIdFor, upsertSchedule } from '../../src/schedule';
import type { RunSummary } from '../../src/contract';
import { userEmails } from '../../devkit/seed';
import { uniqueName } from '../../devkit/databases';
import { startHarness, testJob, type Harness } from '../support/harness';
import { eventually } from '../support/eventually';

const job = testJob({ schedule: { every: '1h', catchupWindow: '1m', maxRunDuration: '10m' } });
let h: Harness;
const idPrefix = uniqueName('e2e');

before(async () => {
  h = await startHarness({ jobs: [job] });
  await h.startWorker();
});
after(async () => {
  await h.client.schedule.getHandle(scheduleIdFor(job.name, idPrefix)).delete().catch(() => undefined);
  await h.close();
});

/** Wait for the schedule's newest action to appear and return its workflow's result. */
async function resultOfAction(index: number): Promise<RunSummary> {
  const handle = h.client.schedule.getHandle(scheduleIdFor(job.name, idPrefix));
  const action = await eventually(async () => (await handle.describe()).info.recentActions[index], `schedule action #${index}`);
  return h.client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId).result();
}

test('a triggered tick emails every seeded recipient exactly once, and the counts match the sink', async () => {
  const addresses = userEmails(12);
  await h.seedUsers(addresses);
  const handle = await upsertSchedule(h.client, job, { taskQueue: h.taskQueue, idPrefix });
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
  const summary = await resultOfAction(0);

  assert.equal(summary.outcome, 'completed');
  assert.equal(summary.skipped, false);
  assert.equal(summary.counts.processed, addresses.length);
  assert.equal(summary.counts.sent, addresses.length);
  assert.equal(h.sink.count, summary.counts.sent, 'sink count equals sent');
  for (const address of addresses) {
    const got = h.sink.messagesTo(address);
    assert.equal(got.length, 1, `${address} got exactly one email`);
    assert.equal(got[0]!.subject, `Your daily digest for ${summary.window}`);
    assert.match(got[0]!.text ?? '', /^Hi User \d+,/);
    assert.match(got[0]!.html ?? '', /<b>\d{4}-\d{2}-\d{2}<\/b>/);
  }
  // The workflow result carries ids and counts only, never an address.
  assert.doesNotMatch(JSON.stringify(summary), /@example\.com/);
  const run = await h.db.pool.query('SELECT outcome, sent FROM sendonce.job_runs WHERE run_id = $1', [summary.runId]);
  assert.deepEqual(run.rows[0], { outcome: 'completed', sent: addresses.length });
});

test('a backfilled tick from a past day uses that day\'s window, not the worker clock', async () => {
  const handle = h.client.schedule.getHandle(scheduleIdFor(job.name, idPrefix));
  const before = (await handle.describe()).info.recentActions.length;
  const tick = new Date('2026-03-14T09:00:00Z');
  await handle.backfill({ start: tick, end: new Date(tick.getTime() + 1000), overlap: ScheduleOverlapPolicy.BUFFER_ALL });
  const summary = await resultOfAction(before);
  assert.equal(summary.scheduledAt, tick.toISOString());
  assert.equal(summary.window, '2026-03-14');
  assert.equal(summary.outcome, 'completed');
  // A new window: every recipient gets that day's digest once more.
  const forThatDay = h.sink.messages().filter((m) => m.subject === 'Your daily digest for 2026-03-14');
  assert.equal(forThatDay.length, summary.counts.sent);
});
