/**
 * Issue 4: runs of one job never overlap, on both lock backends. Two runs at once → one sends, the other is
 * skipped as 'locked'; a run longer than three TTLs keeps its lock by renewing it; a finished run leaves no lock
 * and nobody else's token can touch a held one; a stale fence is refused at claim time; a Redis that is down at
 * tick time skips the run (fail closed) and the next run after the restart sends.
 * Worker processes killed or paused while holding the lock: no-overlap-processes.test.ts.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { ScheduleOverlapPolicy, type WorkflowHandle } from '@temporalio/client';
import { createActivities } from '../../src/activities';
import { claim, type ClaimRequest } from '../../src/sends';
import { createLogger } from '../../src/logger';
import type { LockBackend } from '../../src/lock';
import { recordRunStart } from '../../src/runs/records';
import { upsertSchedule } from '../../src/schedule';
import type { RunSummary } from '../../src/contract';
import { freePort } from '../../devkit/services/ports';
import { startRedisServer } from '../../devkit/services/redis';
import { userEmails } from '../../devkit/seed';
import { startBatchRun, type BatchRunHandle } from '../../devkit/runs';
import { uniqueName } from '../../devkit/databases';
import { startHarness, testJob, type Harness, type HarnessOptions } from '../support/harness';
import { eventually } from '../support/eventually';

type LogLine = Record<string, unknown>;
const SCHEDULED_AT = '2026-05-04T09:00:00.000Z';
const RENEWAL_TTL_MS = 2_000;

/** A harness with its worker running and its log lines captured in memory; closed afterwards, whatever happens. */
async function withHarness(options: Omit<HarnessOptions, 'logger'>, fn: (h: Harness, logs: LogLine[]) => Promise<void>): Promise<void> {
  const logs: LogLine[] = [];
  const h = await startHarness({ ...options, logger: createLogger('info', { write: (s: string) => void logs.push(JSON.parse(s)) }) });
  try {
    await h.startWorker();
    await fn(h, logs);
  } finally {
    await h.close();
  }
}

function startRun(h: Harness, jobName: string): Promise<BatchRunHandle> {
  return startBatchRun(h.client, { taskQueue: h.taskQueue, jobName, scheduledAt: SCHEDULED_AT });
}
const runToEnd = async (h: Harness, jobName: string): Promise<RunSummary> => (await startRun(h, jobName)).result();

/** Is the lock held at all (by anyone)? The Redis key, or the lease row. */
async function lockExists(h: Harness, backend: LockBackend, jobName: string): Promise<boolean> {
  if (backend === 'redis') return (await h.redis.exists(`${h.keyPrefix}job:${jobName}:lock`)) === 1;
  return (await h.db.pool.query('SELECT 1 FROM sendonce.job_leases WHERE job_name = $1', [jobName])).rowCount === 1;
}

function assertEachGotOne(h: Harness, addresses: string[]): void {
  for (const address of addresses) assert.equal(h.sink.messagesTo(address).length, 1, `${address} got exactly one email`);
  assert.equal(h.sink.count, addresses.length, 'no extra messages at the sink');
}

/** renewLock activities that completed in a run's history so far. */
async function renewals(handle: WorkflowHandle): Promise<number> {
  const { events } = await handle.fetchHistory();
  const renewIds = new Set(
    (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'renewLock').map((e) => String(e.eventId)),
  );
  return (events ?? []).filter((e) => renewIds.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId))).length;
}

for (const backend of ['redis', 'postgres'] as const) {
  describe(`no overlap: ${backend} lock`, () => {
    test('two schedule runs triggered at once (ALLOW_ALL): one sends to everyone, the other is skipped as locked', async () => {
      const job = testJob({ schedule: { every: '1h', catchupWindow: '1m', maxRunDuration: '10m' }, maxInFlight: 2 });
      await withHarness({ jobs: [job], lockBackend: backend }, async (h, logs) => {
        const addresses = userEmails(24);
        await h.seedUsers(addresses);
        // ~5 s of sending, so the second trigger lands mid-run even on a loaded machine (with ~2 s, a CI run saw the
        // second run start after the first had finished: both completed, no overlap to refuse).
        h.sink.onData(() => ({ delayMs: 400 }));
        const schedule = await upsertSchedule(h.client, job, { taskQueue: h.taskQueue, idPrefix: uniqueName('overlap') });
        try {
          await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
          const first = await eventually(async () => (await schedule.describe()).info.recentActions[0], 'the first action');
          await eventually(async () => logs.some((l) => l.msg === 'job_lock_acquired') && h.sink.count > 0, 'the first run sending');
          // The schedule names a run after its tick's whole second: trigger the second one in a later second.
          await eventually(async () => Math.floor(Date.now() / 1000) > Math.floor(first.scheduledAt.getTime() / 1000), 'the next second');
          await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
          const actions = await eventually(async () => {
            const recent = (await schedule.describe()).info.recentActions;
            return recent.length >= 2 && recent;
          }, 'the second action');
          const results = await Promise.all(
            actions.map((a) => h.client.workflow.getHandle(a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId).result() as Promise<RunSummary>),
          );
          assert.deepEqual(results.map((r) => r.outcome).sort(), ['completed', 'skipped'], JSON.stringify(results));
          const winner = results.find((r) => r.outcome === 'completed')!;
          const loser = results.find((r) => r.outcome === 'skipped')!;
          assert.equal(loser.skipped, true);
          assert.equal(loser.reason, 'locked');
          assert.equal(loser.counts.sent, 0);
          assert.equal(loser.counts.processed, 0);
          assert.ok(logs.some((l) => l.msg === 'job_skipped_locked' && l.runId === loser.runId), 'the worker logged job_skipped_locked');
          assert.equal(winner.counts.sent, addresses.length);
          assertEachGotOne(h, addresses);
        } finally {
          await schedule.delete().catch(() => undefined);
        }
      });
    });

    test('a run three TTLs long keeps its lock by renewing it; a run started meanwhile is skipped as locked', async () => {
      const job = testJob({ maxInFlight: 1 });
      await withHarness({ jobs: [job], lockBackend: backend, lockTtlMs: RENEWAL_TTL_MS }, async (h) => {
        const addresses = userEmails(28);
        await h.seedUsers(addresses);
        h.sink.onData(() => ({ delayMs: 250 })); // one at a time: ≥ 7 s, more than three TTLs
        const first = await startRun(h, job.name);
        // Three renewals: the run has outlived its original TTL, so the lock is held only because it was renewed.
        await eventually(async () => (await renewals(first)) >= 3, 'three lock renewals', 30_000);
        assert.ok(h.sink.count < addresses.length, 'the first run is still sending');
        const second = await runToEnd(h, job.name);
        assert.equal(second.outcome, 'skipped');
        assert.equal(second.reason, 'locked');
        assert.equal(second.counts.sent, 0);
        const summary = (await first.result()) as RunSummary;
        assert.equal(summary.outcome, 'completed', 'every renewal succeeded (a failed one ends the run as lock_lost)');
        assert.equal(summary.counts.sent, addresses.length);
        const { rows } = await h.db.pool.query<{ duration_ms: number }>('SELECT duration_ms FROM sendonce.job_runs WHERE run_id = $1', [summary.runId]);
        assert.ok(rows[0]!.duration_ms >= 3 * RENEWAL_TTL_MS, `the run took ${rows[0]!.duration_ms} ms, at least three TTLs`);
        assertEachGotOne(h, addresses);
        assert.equal(await lockExists(h, backend, job.name), false, 'released at the end');
      });
    });

    test('a finished run leaves no lock; concurrent acquisitions have one winner; a foreign token cannot release or extend', async () => {
      const job = testJob();
      await withHarness({ jobs: [job], lockBackend: backend }, async (h, logs) => {
        await h.seedUsers(userEmails(3));
        const summary = await runToEnd(h, job.name);
        assert.equal(summary.outcome, 'completed');
        assert.equal(summary.counts.sent, 3);
        assert.equal(await lockExists(h, backend, job.name), false, 'the lock is gone after a completed run');

        const activities = createActivities(h.deps);
        // Two runs as they exist when they reach the lock: with their job_runs rows (the winner records its token there).
        for (const runId of ['a', 'b']) await recordRunStart(h.db.pool, { runId, workflowId: runId, jobName: job.name, scheduledAt: new Date(), window: 'w' });
        const results = await Promise.all(['a', 'b'].map((runId) => activities.acquireLock({ jobName: job.name, runId, ttlMs: 30_000 })));
        const winners = results.filter((r) => r.acquired);
        assert.equal(winners.length, 1, JSON.stringify(results));
        assert.deepEqual(results.find((r) => !r.acquired), { acquired: false, reason: 'locked' });
        assert.ok(logs.some((l) => l.msg === 'job_skipped_locked'));
        const holder = winners[0]!;
        assert.ok(holder.acquired);
        assert.deepEqual(await Promise.all([h.deps.lock.acquire(job.name, 30_000), h.deps.lock.acquire(job.name, 30_000)]), [null, null]);

        const foreign = crypto.randomUUID();
        assert.equal(await h.deps.lock.release(job.name, foreign), false, 'a foreign token cannot release');
        assert.equal(await h.deps.lock.extend(job.name, foreign, 60_000), false, 'a foreign token cannot extend');
        assert.equal(await lockExists(h, backend, job.name), true, "the holder's lock is intact");
        assert.equal(await h.deps.lock.acquire(job.name, 30_000), null);
        assert.equal(await activities.releaseLock({ jobName: job.name, token: holder.token }), true);
        assert.equal(await lockExists(h, backend, job.name), false);
      });
    });

    test('claims: a fence older than the newest acquisition is refused, the newest goes through', async () => {
      const job = testJob();
      await withHarness({ jobs: [job], lockBackend: backend }, async (h) => {
        const old = await h.deps.lock.acquire(job.name, 300);
        assert.ok(old);
        // The old holder never renews: after its TTL a new acquisition takes a newer fence.
        const current = await eventually(() => h.deps.lock.acquire(job.name, 30_000), 'the old lock to expire', 5_000);
        assert.ok(current.fence > old.fence);
        const request = (key: string, fence: number): ClaimRequest => ({
          key, jobName: job.name, template: job.template, recipientId: key, window: '2026-05-04', fence,
          runId: `run-${fence}`, messageId: `<${key}@sendonce.test>`, leaseMs: 5_000, maximumAttempts: 3, resendUnknownOnce: false,
        });
        assert.deepEqual(await claim(h.db.pool, request('k1', old.fence)), { kind: 'fenced' }, 'a new key, stale fence');
        assert.equal((await claim(h.db.pool, request('k1', current.fence))).kind, 'claimed');
        assert.deepEqual(await claim(h.db.pool, request('k1', old.fence)), { kind: 'fenced' }, 'an existing key, stale fence');
        const { rows } = await h.db.pool.query('SELECT fence::int AS fence FROM sendonce.email_sends');
        assert.deepEqual(rows, [{ fence: current.fence }], 'no row was written with the stale fence');
        await h.deps.lock.release(job.name, current.token);
      });
    });
  });
}

test('redis down at tick time: the run is skipped as lock_unavailable and sends nothing; after a restart the next run sends', async () => {
  const port = await freePort();
  let redis = await startRedisServer(port);
  const job = testJob();
  try {
    await withHarness({ jobs: [job], lockBackend: 'redis', redisUrl: redis.url }, async (h, logs) => {
      const addresses = userEmails(5);
      await h.seedUsers(addresses);
      await h.redis.connect(); // lazy client: connect first, so Redis dies under a connected worker
      assert.equal(await h.redis.ping(), 'PONG');
      await redis.stop();
      const skipped = await runToEnd(h, job.name);
      assert.equal(skipped.outcome, 'skipped');
      assert.equal(skipped.reason, 'lock_unavailable');
      assert.equal(skipped.counts.sent, 0);
      assert.equal(h.sink.count, 0, 'nothing was sent');
      assert.equal((await h.db.pool.query('SELECT 1 FROM sendonce.email_sends')).rowCount, 0, 'nothing was claimed');
      assert.ok(logs.some((l) => l.msg === 'job_skipped_lock_unavailable' && l.runId === skipped.runId));

      redis = await startRedisServer(port);
      await eventually(async () => (await h.redis.ping()) === 'PONG', 'the lock client to reconnect', 15_000);
      const next = await runToEnd(h, job.name);
      assert.equal(next.outcome, 'completed');
      assert.equal(next.counts.sent, addresses.length);
      assertEachGotOne(h, addresses);
    });
  } finally {
    await redis.stop();
  }
});
