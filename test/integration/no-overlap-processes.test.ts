/**
 * Issue 4 with real worker processes (src/worker.ts as a child, configured by env): a worker killed while it
 * holds the lock blocks the job only until the lock's TTL; a worker paused past its TTL (SIGSTOP) finds, when it
 * resumes, that a newer holder took over and that its claims are refused by the fence — nobody gets two emails.
 * The second holder is the in-process harness worker on its own task queue, same database and lock key prefix.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { createLogger } from '../../src/logger';
import type { RunSummary } from '../../src/contract';
import { userEmails } from '../../devkit/seed';
import { startBatchRun } from '../../devkit/runs';
import { redisUrl, temporalAddress } from '../../devkit/shared-services';
import { uniqueName } from '../../devkit/databases';
import { startWorkerProcess, type WorkerProcess } from '../../devkit/worker-process';
import { startHarness, testJob, type Harness } from '../support/harness';
import { eventually } from '../support/eventually';
import { DEMO_JOBS_MODULE } from '../../devkit/demo/jobs';

type LogLine = Record<string, unknown>;
const JOB = 'daily-digest'; // the worker process runs the demo's jobs (SENDONCE_JOBS_MODULE below)
const SCHEDULED_AT = '2026-05-04T09:00:00.000Z';
const LOCK_TTL_MS = 3_000;
const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

/** The harness worker ("B") for job daily-digest, logs captured; plus a worker process ("A") on another queue. */
async function setUp(): Promise<{ h: Harness; logs: LogLine[]; a: WorkerProcess; queueA: string }> {
  const logs: LogLine[] = [];
  const logger = createLogger('info', { write: (s: string) => void logs.push(JSON.parse(s)) });
  const h = await startHarness({ jobs: [testJob({ name: JOB })], logger });
  cleanups.push(() => h.close());
  await h.startWorker();
  await h.redis.connect(); // lazy, no offline queue: connect before the test reads the lock key directly
  const queueA = uniqueName('tq-a');
  const a = await startWorkerProcess({
    DATABASE_URL: h.db.url,
    REDIS_URL: redisUrl(),
    TEMPORAL_ADDRESS: temporalAddress(),
    TASK_QUEUE: queueA,
    SMTP_HOST: h.sink.host,
    SMTP_PORT: String(h.sink.port),
    LOCK_BACKEND: 'redis',
    LOCK_KEY_PREFIX: h.keyPrefix,
    // The demo's daily digest (devkit/demo): the image's built-in registry has only the one-off notices.
    SENDONCE_JOBS_MODULE: DEMO_JOBS_MODULE,
    LOCK_TTL_MS: String(LOCK_TTL_MS),
    SEND_ATTEMPT_TIMEOUT_MS: '5000',
    SMTP_SOCKET_TIMEOUT_MS: '4000',
  });
  cleanups.push(async () => {
    a.child.kill('SIGCONT'); // a stopped process would not act on SIGTERM
    await a.stop();
  });
  return { h, logs, a, queueA };
}

async function startRun(h: Harness, taskQueue: string): Promise<WorkflowHandle> {
  const handle = await startBatchRun(h.client, { taskQueue, jobName: JOB, scheduledAt: SCHEDULED_AT });
  cleanups.push(() => handle.terminate('test over'));
  return handle;
}

const lockKey = (h: Harness) => `${h.keyPrefix}job:${JOB}:lock`;
const lockGone = async (h: Harness) => (await h.redis.exists(lockKey(h))) === 0;
/** Claims some attempt still holds (a dead or paused worker's claims keep their lease until it ends). */
const liveClaims = async (h: Harness) =>
  Number((await h.db.pool.query(`SELECT count(*) FROM sendonce.email_sends WHERE state = 'claimed' AND lease_until > now()`)).rows[0].count);

/** At most once: nobody has two messages, and every key recorded `sent` has exactly one at the sink. */
async function assertAtMostOnce(h: Harness, addresses: string[]): Promise<Map<string, string | null>> {
  for (const address of addresses) assert.ok(h.sink.messagesTo(address).length <= 1, `${address} got at most one email`);
  for (const [id, n] of h.sink.countByMessageId()) assert.equal(n, 1, `Message-ID ${id} accepted once`);
  const { rows } = await h.db.pool.query<{ email: string; state: string | null }>(
    'SELECT u.email, s.state FROM users u LEFT JOIN sendonce.email_sends s ON s.recipient_id = u.id::text',
  );
  for (const row of rows) if (row.state === 'sent') assert.equal(h.sink.messagesTo(row.email).length, 1, `${row.email} is sent`);
  return new Map(rows.map((r) => [r.email, r.state]));
}

test('a worker killed while it holds the lock: runs are skipped as locked until the TTL, then a new run acquires and sends', async () => {
  const { h, logs, a, queueA } = await setUp();
  const addresses = userEmails(60);
  await h.seedUsers(addresses);
  h.sink.onData(() => ({ delayMs: 100 }));
  await startRun(h, queueA);
  const acquired = await a.waitForLog('job_lock_acquired');
  a.child.kill('SIGKILL');
  await a.exited;
  const deadHolder = await h.redis.get(lockKey(h));
  assert.ok(deadHolder, "the killed worker's lock outlives it");

  const second = (await (await startRun(h, h.taskQueue)).result()) as RunSummary;
  if ((await h.redis.get(lockKey(h))) === deadHolder) {
    // The dead worker's lock was there before and after the second run: the second run cannot have had it.
    assert.equal(second.outcome, 'skipped');
    assert.equal(second.reason, 'locked');
    assert.equal(second.counts.sent, 0);
    assert.ok(logs.some((l) => l.msg === 'job_skipped_locked' && l.runId === second.runId));
  } else {
    assert.ok(second.outcome === 'completed' || second.reason === 'locked', `second run: ${JSON.stringify(second)}`);
  }

  // Nobody renews it: the lock ends with its TTL, and once the dead worker's claims have expired a new run sends.
  await eventually(() => lockGone(h), 'the dead worker lock to expire', 3 * LOCK_TTL_MS);
  await eventually(async () => (await liveClaims(h)) === 0, 'the dead worker claims to expire', 15_000);
  const third = (await (await startRun(h, h.taskQueue)).result()) as RunSummary;
  assert.equal(third.outcome, 'completed');
  assert.ok(third.fence! > Number(acquired.fence), 'a newer fence');
  assert.ok(third.counts.sent > 0, 'the new run sends');
  const states = await assertAtMostOnce(h, addresses);
  // Every recipient is accounted for: sent, or `unknown` (a claim the killed worker may have sent before dying).
  for (const [email, state] of states) assert.ok(state === 'sent' || state === 'unknown', `${email}: ${state}`);
  assert.equal(third.counts.sent + third.counts.unknown + third.counts.deduped, addresses.length);
});

test('a worker paused past its TTL: a newer holder sends, and when it resumes its claims are refused by the fence', async (t) => {
  const { h, logs, a, queueA } = await setUp();
  const addresses = userEmails(150); // more than one run's 50 sends in flight: some are left for B after the pause
  await h.seedUsers(addresses);
  h.sink.onData(() => ({ delayMs: 100 }));
  const runA = await startRun(h, queueA);
  const fenceA = Number((await a.waitForLog('job_lock_acquired')).fence);
  await eventually(async () => h.sink.count >= 10, 'A sending', 30_000);
  a.child.kill('SIGSTOP');

  // A cannot renew while stopped: its lock expires, then its claims' leases; A has not finished.
  await eventually(() => lockGone(h), 'A lock to expire while A is paused', 3 * LOCK_TTL_MS);
  await eventually(async () => (await liveClaims(h)) === 0, 'A claims to expire', 15_000);
  assert.ok(h.sink.count < addresses.length, 'A was paused mid-run');

  const runB = await startRun(h, h.taskQueue);
  const b = (await runB.result()) as RunSummary;
  assert.equal(b.outcome, 'completed');
  assert.ok(b.fence! > fenceA, `B's fence ${b.fence} is newer than A's ${fenceA}`);
  assert.ok(b.counts.sent > 0, 'B sends');
  assert.ok(logs.some((l) => l.msg === 'job_lock_acquired' && l.runId === b.runId));
  const fromB = h.sink.messages().filter((m) => m.mailFrom === 'noreply@sendonce.test');
  assert.equal(fromB.length, b.counts.sent, "B's sends went through");
  const resumedAt = (await h.db.pool.query<{ now: Date }>('SELECT now()')).rows[0]!.now;

  const sinkBeforeResume = h.sink.count;
  a.child.kill('SIGCONT');
  const summaryA = (await runA.result()) as RunSummary;
  assert.equal(summaryA.outcome, 'lock_lost');
  assert.equal(summaryA.fence, fenceA);
  // A's sends after the pause carried its old fence and were refused; none was claimed.
  await a.waitForLog('claim_refused_stale_fence', (l) => l.fence === fenceA, 10_000);
  const { rows } = await h.db.pool.query(
    'SELECT count(*)::int AS n FROM sendonce.email_sends WHERE fence = $1 AND (created_at > $2 OR (attempts > 1 AND updated_at > $2))',
    [fenceA, resumedAt],
  );
  assert.equal(rows[0].n, 0, 'no claim with A’s fence after it resumed');
  const states = await assertAtMostOnce(h, addresses);
  t.diagnostic(`A fence ${fenceA}: ${summaryA.counts.sent} sent; B fence ${b.fence}: ${JSON.stringify(b.counts)}; sink ${sinkBeforeResume} before A resumed, ${h.sink.count} after`);
  const sentRowsB = await h.db.pool.query(`SELECT count(*)::int AS n FROM sendonce.email_sends WHERE fence = $1 AND state = 'sent'`, [b.fence]);
  assert.equal(sentRowsB.rows[0].n, b.counts.sent);
  // Recipients without an email are exactly the claims A held when it was paused (B recorded them `unknown`).
  for (const [email, state] of states) {
    if (h.sink.messagesTo(email).length === 0) assert.equal(state, 'unknown', `${email} has no email, so its key is unknown`);
  }
});
