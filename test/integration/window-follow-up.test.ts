/**
 * No window left behind (src/windows/): a daily job ticks once a day, so "the next tick sends the rest" is false
 * for it. A run that stops early must be followed up — by the workers' keeper, without a person and without
 * another tick — until its window is complete, or its deadline passes and the rest is recorded expired (a state
 * and a count, never sent late). Real worker process (with its keeper), its own redis-server, Temporal, Postgres
 * and the test SMTP sink; counted at the sink.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { Redis } from 'ioredis';
import { uniqueName } from '../../devkit/databases';
import { startBatchRun } from '../../devkit/runs';
import { seedUsers, userEmails } from '../../devkit/seed';
import { freePort } from '../../devkit/services/ports';
import { startRedisServer, type RedisServerHandle } from '../../devkit/services/redis';
import { startSmtpSink, type SmtpSink } from '../../devkit/smtp-sink';
import { createTestDatabase, type TestDatabase } from '../../devkit/test-database';
import { startWorkerProcess, type WorkerProcess } from '../../devkit/worker-process';
import type { WindowRow } from '../../src/api';
import { windowFor } from '../../src/window';
import { getWindow } from '../../src/windows';
import { runSendonce } from '../support/cli';
import { eventually } from '../support/eventually';
import { scrape, temporalClient, workerEnv } from '../support/production';

const JOBS_MODULE = path.join(__dirname, '../fixtures/window-jobs.ts');
const N = 600;
let db: TestDatabase;
let sink: SmtpSink;
let redisPort: number;
let redisServer: RedisServerHandle | undefined;
let client: Client;
let worker: WorkerProcess | undefined;
let env: Awaited<ReturnType<typeof workerEnv>>;
const taskQueue = uniqueName('tq-windows');

before(async () => {
  db = await createTestDatabase('windows');
  sink = await startSmtpSink();
  redisPort = await freePort();
  redisServer = await startRedisServer(redisPort);
  await seedUsers(db.pool, userEmails(N, 'windows.example'));
  env = await workerEnv({ databaseUrl: db.url, smtpPort: sink.port, taskQueue, lockKeyPrefix: `${uniqueName('windows')}:` });
  worker = await startWorkerProcess({
    ...env,
    REDIS_URL: redisServer.url,
    SENDONCE_JOBS_MODULE: JOBS_MODULE,
    LOCK_TTL_MS: '3000',
    SMTP_MAX_CONNECTIONS: '2',
    REAPER_INTERVAL_MS: '1000',
    // The keeper on, quick: a follow-up 2 s after a run stops early, 4 s after the next, …
    WINDOW_KEEPER_INTERVAL_MS: '1000',
    WINDOW_FOLLOW_UP_DELAY_MS: '2000',
    WINDOW_FOLLOW_UP_MAX_DELAY_MS: '8000',
  });
  client = await temporalClient();
});

after(async () => {
  await worker?.stop();
  await redisServer?.stop();
  await sink?.close();
  await db?.drop();
});

const cli = (args: string[]) => runSendonce(args, { DATABASE_URL: db.url, SENDONCE_JOBS_MODULE: JOBS_MODULE });

/** The window's state, read directly (for polling: the figures a person reads are checked through the CLI, ledger()). */
async function stateOf(jobName: string, window: string): Promise<string | undefined> {
  return (await getWindow(db.pool, jobName, window))?.state;
}

/** The window's row as `sendonce windows --json` prints it. */
async function ledger(jobName: string, window: string): Promise<WindowRow> {
  const out = await cli(['windows', '--job', jobName, '--json']);
  assert.equal(out.code, 0, out.stderr);
  const row = (JSON.parse(out.stdout) as WindowRow[]).find((w) => w.window === window);
  assert.ok(row, `no ledger row for ${jobName} ${window}: ${out.stdout}`);
  return row;
}

test('daily job, lock lost at ~30 %: a follow-up run sends the rest, with no other tick, each recipient once', async (t) => {
  const scheduledAt = new Date();
  const window = windowFor(scheduledAt, { granularity: 'daily', timezone: 'UTC' });
  const midnight = new Date(`${window}T00:00:00Z`).getTime() + 86_400_000;
  if (midnight - scheduledAt.getTime() < 5 * 60_000) return t.skip('less than 5 minutes of the UTC day left: the window would end mid-test');
  sink.onData(() => ({ delayMs: 30 })); // ~10 s for the 600: long enough to pull Redis away at ~30 %

  const handle = await startBatchRun(client, { taskQueue, jobName: 'daily', scheduledAt: scheduledAt.toISOString(), workflowExecutionTimeout: '5m' });
  await eventually(async () => sink.count >= N * 0.3, 'the run to reach ~30 %', 60_000);
  await redisServer!.stop(); // the lock key goes with it (no persistence)
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  redisServer = await startRedisServer(redisPort);

  const first = await handle.result();
  assert.equal(first.outcome, 'lock_lost', JSON.stringify(first));
  assert.ok(first.counts.sent < N, `the first run sent everyone (${first.counts.sent}): nothing left for a follow-up to show`);

  await eventually(async () => new Set(sink.messages().flatMap((m) => m.envelopeRcpt)).size === N, `all ${N} recipients at the sink`, 180_000);
  await eventually(async () => (await stateOf('daily', window)) === 'complete', 'the window to be complete', 30_000);
  sink.onData(undefined);

  const perRecipient = new Map<string, number>();
  for (const m of sink.messages()) for (const r of m.envelopeRcpt) perRecipient.set(r, (perRecipient.get(r) ?? 0) + 1);
  assert.deepEqual([...perRecipient.values()].filter((n) => n > 1), [], 'somebody got two');
  const row = await ledger('daily', window);
  assert.ok(row.followUps >= 1, `follow-ups: ${row.followUps}`);
  const { rows } = await db.pool.query<{ workflow_id: string; outcome: string; sent: number }>(
    `SELECT workflow_id, outcome, sent FROM sendonce.job_runs WHERE job_name = 'daily' AND window_key = $1 ORDER BY started_at`,
    [window],
  );
  assert.equal(rows[0]!.outcome, 'lock_lost');
  assert.ok(rows.slice(1).every((r) => r.workflow_id.includes('-follow-up-')), JSON.stringify(rows));
  assert.equal(rows.at(-1)!.outcome, 'completed');
  assert.equal(rows.reduce((sum, r) => sum + r.sent, 0), N, `the runs' sent counts: ${JSON.stringify(rows)}`);
});

test('deadline passed mid-run: the run stops at it, the rest is recorded expired (count in `sendonce windows` and the metric)', async () => {
  sink.clear();
  sink.onData(() => ({ delayMs: 100 })); // 600 at 2 × 10/s: far longer than the window's 12 s
  const scheduledAt = new Date();
  const window = windowFor(scheduledAt, { granularity: 'daily', timezone: 'UTC' });
  const deadline = scheduledAt.getTime() + 12_000;

  const summary = await (await startBatchRun(client, { taskQueue, jobName: 'short-lived', scheduledAt: scheduledAt.toISOString(), workflowExecutionTimeout: '5m' })).result();
  assert.deepEqual([summary.outcome, summary.reason], ['stopped', 'window_deadline'], JSON.stringify(summary));
  await eventually(async () => (await stateOf('short-lived', window)) === 'expired', 'the window to be expired', 60_000);
  sink.onData(undefined);

  const sent = new Set(sink.messages().flatMap((m) => m.envelopeRcpt)).size;
  const row = await ledger('short-lived', window);
  assert.ok(sent > 0 && sent < N, `sent ${sent}`);
  assert.equal(row.expired, N - sent, `expired ${row.expired}, sent ${sent} of ${N}`);
  // Never sent late: the last message began before the deadline (it may end one SMTP reply after it).
  const last = Math.max(...sink.messages().map((m) => m.receivedAt.getTime()));
  assert.ok(last <= deadline + 2_000, `a message arrived ${last - deadline} ms after the deadline`);
  // Who: the ids, and they are exactly the ones without a sent row.
  const who = await cli(['windows', 'expired', '--job', 'short-lived', '--window', window, '--json']);
  assert.equal((JSON.parse(who.stdout) as string[]).length, N - sent);
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM sendonce.window_expired_recipients x JOIN sendonce.email_sends s
        ON s.job_name = x.job_name AND s.window_key = x.window_key AND s.recipient_id = x.recipient_id
      WHERE x.job_name = 'short-lived' AND s.state IN ('sent', 'claimed', 'unknown', 'dead')`,
  );
  assert.equal(rows[0]!.n, 0, 'a recipient is both expired and sent');
  const metrics = await scrape(env.METRICS_PORT);
  assert.equal(metrics.total('sendonce_window_recipients_expired', { sendonce_job: 'short-lived' }), N - sent);

  // A later run of the window (a backfill, a direct start) sends nothing: skipped window_expired.
  const again = await (await startBatchRun(client, { taskQueue, jobName: 'short-lived', scheduledAt: scheduledAt.toISOString() })).result();
  assert.deepEqual([again.outcome, again.reason], ['skipped', 'window_expired']);
  assert.equal(new Set(sink.messages().flatMap((m) => m.envelopeRcpt)).size, sent);

  // Finishing it by hand needs a new deadline, and says so.
  const refused = await cli(['windows', 'finish', '--job', 'short-lived', '--window', window]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /expired .*give --deadline/);
  const unknown = await cli(['windows', 'expire', '--job', 'short-lived', '--window', '1999-01-01']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /no window '1999-01-01'/);
});

/** The day after today plus `n` (UTC): a window of its own whose deadline is ahead. */
function dayAhead(n: number): { scheduledAt: string; window: string } {
  const day = new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
  return { scheduledAt: `${day}T09:00:00.000Z`, window: day };
}

/** Recipients the sink holds a message for in `window` (each message carries its key, email:{template}:{id}:{window}). */
function recipientsIn(window: string): string[] {
  return sink.messages().filter((m) => new RegExp(`^X-Sendonce-Key:[ \\t]*\\S+:${window}\\s*$`, 'im').test(m.rawHeaders)).flatMap((m) => m.envelopeRcpt);
}

/** A run of the window `dayAhead(n)` on a slow sink, once it has sent 100 of it. */
async function runSendingMidWindow(n: number) {
  sink.onData(() => ({ delayMs: 20 }));
  const tick = dayAhead(n);
  const handle = await startBatchRun(client, { taskQueue, jobName: 'daily', scheduledAt: tick.scheduledAt });
  await eventually(async () => recipientsIn(tick.window).length >= 100, 'the run to be sending', 60_000);
  return { ...tick, handle };
}

/** The same, cancelled: its window incomplete, the sink fast again. */
async function cancelledMidWindow(n: number): Promise<{ scheduledAt: string; window: string }> {
  const { handle, ...tick } = await runSendingMidWindow(n);
  await handle.cancel();
  await eventually(async () => (await stateOf('daily', tick.window)) === 'incomplete', 'the window to be incomplete', 30_000);
  sink.onData(undefined);
  return tick;
}

async function completedByFollowUps(window: string): Promise<void> {
  await eventually(async () => (await stateOf('daily', window)) === 'complete', `window ${window} to be complete`, 120_000);
  const got = recipientsIn(window);
  assert.equal(new Set(got).size, N, `recipients of ${window} at the sink`);
  assert.equal(got.length, N, 'somebody got two');
}

test('a window whose only tick was skipped (lock held elsewhere) is sent by a follow-up once the lock is free', async () => {
  sink.onData(undefined);
  const { scheduledAt, window } = dayAhead(1);
  const admin = new Redis(redisServer!.url);
  const lockKey = `${env.LOCK_KEY_PREFIX}job:daily:lock`;
  try {
    await admin.set(lockKey, 'someone-else', 'PX', 60_000);
    const skipped = await (await startBatchRun(client, { taskQueue, jobName: 'daily', scheduledAt })).result();
    assert.equal(skipped.outcome, 'skipped');
    await eventually(async () => (await stateOf('daily', window)) === 'incomplete', 'the window to be incomplete', 20_000);
    await admin.del(lockKey);
  } finally {
    admin.disconnect();
  }
  await completedByFollowUps(window);
});

test('a terminated run: the reaper closes it and a follow-up sends the rest', async () => {
  const { window, handle } = await runSendingMidWindow(2);
  await handle.terminate('test: terminated mid-run');
  await eventually(async () => {
    const row = await getWindow(db.pool, 'daily', window);
    return row?.reason === 'terminated: closed_by_reaper' || row?.state === 'complete';
  }, 'the reaper to mark the window', 30_000);
  await completedByFollowUps(window);
  sink.onData(undefined);
});

test('a cancelled run waits for a person; `sendonce windows finish` sends the rest', async () => {
  const { window } = await cancelledMidWindow(3);
  const row = await ledger('daily', window);
  assert.deepEqual([row.reason, row.nextFollowUpAt], ['cancelled', null], 'a cancel is not followed up by itself');
  const before = recipientsIn(window).length;
  await new Promise((resolve) => setTimeout(resolve, 5_000)); // several keeper rounds
  assert.equal(recipientsIn(window).length, before, 'nothing was sent after the cancel');
  assert.equal((await ledger('daily', window)).followUps, 0);

  const finish = await cli(['windows', 'finish', '--job', 'daily', '--window', window]);
  assert.equal(finish.code, 0, finish.stderr);
  await completedByFollowUps(window);
});

test('`sendonce windows expire` gives up on a window: the rest is recorded expired, and its next run sends nothing', async () => {
  const { scheduledAt, window } = await cancelledMidWindow(4);
  const expire = await cli(['windows', 'expire', '--job', 'daily', '--window', window]);
  assert.equal(expire.code, 0, expire.stderr);
  await eventually(async () => (await stateOf('daily', window)) === 'expired', 'the keeper to expire the window', 30_000);
  const sent = recipientsIn(window).length;
  assert.equal((await ledger('daily', window)).expired, N - sent, `sent ${sent}`);
  const again = await (await startBatchRun(client, { taskQueue, jobName: 'daily', scheduledAt })).result();
  assert.deepEqual([again.outcome, again.reason, recipientsIn(window).length], ['skipped', 'window_expired', sent]);
});
