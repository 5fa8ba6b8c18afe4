/**
 * Issue 8, scaling and metrics: two real worker processes (configured only through the environment, as two
 * containers would be) on ONE task queue deliver one batch of 300 recipients: every recipient gets exactly
 * one email, both workers take part, and the Prometheus endpoints — scraped while the run is in flight —
 * show the counters moving and, summed over both workers, equal the run summary at the end.
 * Also: /healthz and /readyz, and the lock-skip counter.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { createLockRedisClient } from '../../src/lock';
import { uniqueName } from '../../devkit/databases';
import { startBatchRun } from '../../devkit/runs';
import { seedUsers, userEmails } from '../../devkit/seed';
import { redisUrl } from '../../devkit/shared-services';
import { startSmtpSink, type SmtpSink } from '../../devkit/smtp-sink';
import { createTestDatabase, type TestDatabase } from '../../devkit/test-database';
import { startWorkerProcess, type WorkerProcess } from '../../devkit/worker-process';
import { eventually } from '../support/eventually';
import { scrape, temporalClient, workerEnv } from '../support/production';

const N = 300;
let db: TestDatabase;
let sink: SmtpSink;
let client: Client;
const workers: Array<{ proc: WorkerProcess; metricsPort: string; healthPort: string }> = [];
const taskQueue = uniqueName('tq-scale');
const lockKeyPrefix = `${uniqueName('scale')}:`;

before(async () => {
  db = await createTestDatabase('scale');
  sink = await startSmtpSink();
  // A server that takes a moment per message, so the run lasts long enough to be scraped mid-flight.
  sink.onData(() => ({ delayMs: 40 }));
  client = await temporalClient();
  await seedUsers(db.pool, userEmails(N, 'scale.example'));
  for (let i = 0; i < 2; i++) {
    // The built-in daily-digest with its defaults (chunks of 100, 400 in flight): the run's three chunks go to both
    // workers because each takes at most CHUNKS_PER_WORKER (2) at a time (issue 13.6).
    const env = await workerEnv({ databaseUrl: db.url, smtpPort: sink.port, taskQueue, lockKeyPrefix });
    workers.push({ proc: await startWorkerProcess(env), metricsPort: env.METRICS_PORT, healthPort: env.HEALTH_PORT });
  }
});

after(async () => {
  for (const w of workers) await w.proc.stop();
  await client?.connection.close();
  await sink?.close();
  await db?.drop();
});

/** One daily-digest run on the two workers' queue, at the current time (as a schedule tick now would). */
const startRun = () => startBatchRun(client, { taskQueue, jobName: 'daily-digest', workflowExecutionTimeout: '5m' });

const sumOver = async (name: string, labels?: Record<string, string>) =>
  (await Promise.all(workers.map((w) => scrape(w.metricsPort)))).reduce((n, s) => n + s.total(name, labels), 0);

test('health: /healthz is up and /readyz is ready (worker RUNNING, Postgres answers) on both workers', async () => {
  for (const w of workers) {
    const live = await fetch(`http://127.0.0.1:${w.healthPort}/healthz`);
    assert.equal(live.status, 200);
    const ready = await fetch(`http://127.0.0.1:${w.healthPort}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, worker: 'RUNNING', database: 'ok' });
  }
});

test('two workers on one task queue: one batch, every recipient once, counters move mid-run and match the summary', async () => {
  const handle = await startRun();

  // Mid-run: some but not all sent, as seen by the metrics endpoints.
  const midRun = await eventually(async () => {
    const sent = await sumOver('sendonce_emails_sent');
    return sent > 0 && sent < N ? sent : undefined;
  }, 'the sent counter to move during the run', 60_000);
  const later = await eventually(async () => {
    const sent = await sumOver('sendonce_emails_sent');
    return sent > midRun ? sent : undefined;
  }, 'the sent counter to keep moving', 60_000);
  assert.ok(later > midRun);

  const summary = await handle.result();
  assert.equal(summary.outcome, 'completed');
  assert.deepEqual({ ...summary.counts, retries: 0 }, { ...summary.counts, retries: 0, sent: N }, JSON.stringify(summary.counts));
  assert.equal(summary.counts.processed, N);
  assert.equal(summary.counts.sent, N);

  // At the sink: every recipient exactly once, no duplicate Message-ID.
  assert.equal(sink.count, N);
  for (const address of userEmails(N, 'scale.example')) assert.equal(sink.messagesTo(address).length, 1, address);
  assert.ok([...sink.countByMessageId().values()].every((n) => n === 1), 'no Message-ID twice');

  // Both workers did part of the work (the task queue spread it), and the totals equal the summary.
  const perWorker = await Promise.all(workers.map(async (w) => (await scrape(w.metricsPort)).total('sendonce_emails_sent')));
  assert.ok(perWorker.every((n) => n > 0), `both workers sent some: ${perWorker.join(' + ')}`);
  await eventually(async () => (await sumOver('sendonce_runs', { outcome: 'completed' })) === 1, 'the run counter');
  assert.equal(await sumOver('sendonce_emails_sent'), summary.counts.sent);
  assert.equal(await sumOver('sendonce_emails_deduped'), summary.counts.deduped);
  assert.equal(await sumOver('sendonce_emails_dead'), summary.counts.dead);
  assert.equal(await sumOver('sendonce_emails_unknown'), summary.counts.unknown);
  assert.equal(await sumOver('sendonce_emails_retries'), summary.counts.retries);
  assert.equal(await sumOver('sendonce_run_duration_seconds_count'), 1);

  // The Temporal runtime's own metrics are on the same endpoint.
  const one = await scrape(workers[0]!.metricsPort);
  assert.match(one.text, /^temporal_\w+/m, 'Temporal SDK metrics exported');
  assert.match(one.text, /^temporal_activity_execution_latency\w*\{/m);
});

test('the next run in the same window sends nothing new: the deduped counter equals the summary', async () => {
  const before = await sumOver('sendonce_emails_deduped');
  const summary = await (await startRun()).result();
  assert.equal(summary.counts.sent, 0);
  assert.equal(summary.counts.deduped, N);
  assert.equal((await sumOver('sendonce_emails_deduped')) - before, N);
  assert.equal(sink.count, N, 'still one email per recipient');
});

test('a run that finds the job lock held is skipped and counted as a lock skip', async () => {
  const redisKey = `${lockKeyPrefix}job:daily-digest:lock`;
  const redis = createLockRedisClient(redisUrl());
  await redis.connect();
  try {
    await redis.set(redisKey, 'someone-else', 'PX', 60_000);
    const summary = await (await startRun()).result();
    assert.equal(summary.outcome, 'skipped');
    assert.equal(summary.reason, 'locked_unknown_holder', 'no run recorded that token (issue 18.4)');
    assert.equal(await sumOver('sendonce_lock_skips', { reason: 'locked' }), 1, 'the metric has one label for every lock held elsewhere');
    assert.equal(await sumOver('sendonce_runs', { outcome: 'skipped' }), 1);
  } finally {
    await redis.del(redisKey);
    redis.disconnect();
  }
});
