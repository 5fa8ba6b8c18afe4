/**
 * Retention is enforced where a run starts, not only in the `sendonce backfill` wrapper: after a prune, every route
 * to a pruned window — a direct workflow start, an SDK schedule backfill, the Temporal CLI's `schedule backfill` —
 * sends nothing and ends `skipped` (window_past_retention). And a recurring job's "once ever" keys are never pruned,
 * so its next tick does not send them again. Real Postgres, Temporal (dev server and its CLI), SMTP sink.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { prune } from '../../src/pruning';
import { scheduleIdFor, upsertSchedule } from '../../src/schedule';
import { uniqueName } from '../../devkit/databases';
import { userEmails } from '../../devkit/seed';
import { temporalCliPath } from '../../devkit/services/tool-paths';
import { temporalAddress } from '../../devkit/shared-services';
import { eventually } from '../support/eventually';
import { testJob, type Harness } from '../support/harness';
import { harnessFor, runBatch } from '../support/never-twice';

const DAY = 86_400_000;
const OLD_TICK = '2026-08-01T10:00:00Z';

/** Every row so far is 100 days old, then pruned at 90 days. */
async function ageAndPrune(h: Harness, jobs: Parameters<typeof prune>[1]): Promise<number> {
  await h.db.pool.query(`UPDATE sendonce.email_sends SET created_at = now() - interval '100 days'`);
  await h.db.pool.query(`UPDATE sendonce.job_runs SET started_at = now() - interval '100 days'`);
  return (await prune(h.db.pool, jobs, { olderThanMs: 90 * DAY })).emailSends;
}

/** The finished runs of the old window, newest last, once there are `n` of them. */
async function oldWindowRuns(h: Harness, jobName: string, n: number) {
  const { rows } = await h.db.pool.query<{ outcome: string; reason: string | null; sent: number }>(
    `SELECT outcome, reason, sent FROM sendonce.job_runs WHERE job_name = $1 AND window_key = '2026-08-01' AND outcome <> 'running' ORDER BY started_at`,
    [jobName],
  );
  return rows.length >= n ? rows : undefined;
}

test('after a prune, a direct start, an SDK backfill and a temporal CLI backfill of the pruned window send nothing', async (t) => {
  const job = testJob();
  const h = await harnessFor(t, [job]);
  await h.seedUsers(userEmails(5, 'retention-start.test'));
  assert.equal((await runBatch(h, job, { scheduledAt: OLD_TICK })).counts.sent, 5);
  assert.equal(await ageAndPrune(h, [job]), 5, 'the old window\'s keys are gone');
  const sentBefore = h.sink.count;

  const direct = await runBatch(h, job, { scheduledAt: OLD_TICK });
  assert.deepEqual([direct.outcome, direct.reason, direct.counts.sent], ['skipped', 'window_past_retention', 0]);

  const idPrefix = uniqueName('retstart');
  const schedule = await upsertSchedule(h.client, job, { taskQueue: h.taskQueue, idPrefix, paused: true });
  t.after(() => schedule.delete().catch(() => undefined));
  await schedule.backfill({ start: new Date(OLD_TICK), end: new Date(OLD_TICK), overlap: ScheduleOverlapPolicy.BUFFER_ALL });
  await eventually(() => oldWindowRuns(h, job.name, 2), 'the SDK-backfilled run', 60_000);
  await promisify(execFile)(temporalCliPath(), [
    'schedule', 'backfill', '--schedule-id', scheduleIdFor(job.name, idPrefix), '--start-time', OLD_TICK, '--end-time', OLD_TICK,
    '--overlap-policy', 'BufferAll', '--address', temporalAddress(),
  ]);
  const runs = await eventually(() => oldWindowRuns(h, job.name, 3), 'the CLI-backfilled run', 60_000);

  // The first run's row went with the prune: these are the direct start and the two backfills.
  assert.deepEqual(runs.map((r) => [r.outcome, r.reason, r.sent]), Array(3).fill(['skipped', 'window_past_retention', 0]));
  assert.equal(h.sink.count, sentBefore, 'no route sent a pruned window again');
  assert.equal((await h.db.pool.query('SELECT 1 FROM sendonce.email_sends')).rowCount, 0, 'nothing was claimed');
});

test("a recurring job's once-ever keys outlive a prune: its next tick sends nobody a second time", async (t) => {
  const welcome = testJob({ window: { granularity: 'once', timezone: 'UTC' } });
  const h = await harnessFor(t, [welcome]);
  await h.seedUsers(userEmails(4, 'once-ever.test'));
  assert.equal((await runBatch(h, welcome, { scheduledAt: OLD_TICK })).counts.sent, 4);
  assert.equal(await ageAndPrune(h, [welcome]), 0, 'no once-ever key was pruned');
  const next = await runBatch(h, welcome, { scheduledAt: new Date().toISOString() });
  assert.deepEqual([next.outcome, next.counts.sent, next.counts.deduped], ['completed', 0, 4]);
  assert.equal(h.sink.count, 4);
});
