/**
 * Issue 16, monitoring you can deploy: a real Prometheus (deploy/prometheus: its scrape job and alert rules)
 * scrapes two real worker processes while the test drives the events the dashboard and the alerts are about —
 * a run failed by an SMTP auth error, a dead letter (550), an unknown outcome (connection dropped after DATA),
 * transient SMTP failures with retries, a deduplicated rerun, rate-limit waits (in a run that also skips a
 * recipient suppressed for the job and one no longer eligible, so every count moves), two runs that lose their
 * lock, three ticks skipped on a held lock, then each worker going down. Every dashboard query and every alert
 * expression (read from the deployed files) must return series: a misspelled metric, a `_total` suffix the
 * Temporal exporter does not add, or a label that does not exist would return none. The alerts must fire here,
 * not just parse; promtool's unit tests (test/unit/monitoring-files.test.ts) check that they also stay quiet.
 */
import path from 'node:path';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { addSuppression } from '../../src/api';
import { loadJobRegistry } from '../../src/jobs';
import { createLockRedisClient } from '../../src/lock';
import type { RunSummary } from '../../src/contract';
import { uniqueName } from '../../devkit/databases';
import { startBatchRun } from '../../devkit/runs';
import { seedUsers, userEmails } from '../../devkit/seed';
import { redisUrl, testTmpDir } from '../../devkit/shared-services';
import { createTestDatabase, type TestDatabase } from '../../devkit/test-database';
import { eventually } from '../support/eventually';
import { startSmtpSink, type SmtpSink } from '../../devkit/smtp-sink';
import { startWorkerProcess, type WorkerProcess } from '../../devkit/worker-process';
import { temporalClient, workerEnv } from '../support/production';
import { alertExpressions, dashboardExpressions, dashboardLabelVariables } from './monitoring/expressions';
import { SCRAPE_JOB, startPrometheus, type PrometheusServer } from './monitoring/prometheus-server';
import { INELIGIBLE_IN_LIMITED } from '../fixtures/monitoring-jobs';

const JOBS_MODULE = path.join(__dirname, '../fixtures/monitoring-jobs.ts');
const N = 8;
const addresses = userEmails(N, 'monitoring.example');
const taskQueue = uniqueName('tq-monitoring');
const lockKeyPrefix = `${uniqueName('monitoring')}:`;
let db: TestDatabase;
let sink: SmtpSink;
let client: Client;
let redis: ReturnType<typeof createLockRedisClient>;
let prometheus: PrometheusServer | undefined;
const workers: Array<{ proc: WorkerProcess; target: string }> = [];
let runs = 0;
/** Every run gets its own nominal time, so its tick window (the jobs' window granularity) and keys are fresh. */
const tick = () => new Date(Date.UTC(2026, 10, 30, 12, 0, runs)).toISOString();

before(async () => {
  db = await createTestDatabase('monitoring');
  sink = await startSmtpSink();
  client = await temporalClient();
  redis = createLockRedisClient(redisUrl());
  await redis.connect();
  await seedUsers(db.pool, addresses);
  for (let i = 0; i < 2; i++) {
    const extra = {
      SENDONCE_JOBS_MODULE: JOBS_MODULE,
      // Wrong on purpose: the first run meets a server that checks them (see the first test).
      SMTP_USER: 'mailer',
      SMTP_PASSWORD: 'not-the-password',
      // Renewed every second, so a stolen lock is noticed within a run.
      LOCK_TTL_MS: '3000',
      // The window keeper on: the runs' tick windows are long past their deadline, so the windows that lost their
      // lock are expired (SendonceWindowExpired); no follow-up run starts during the test (each run is counted).
      WINDOW_KEEPER_INTERVAL_MS: '1000',
      WINDOW_FOLLOW_UP_DELAY_MS: '600000',
      // Whether each worker's version is current, every second (SendonceCurrentVersionNoPollers' gauge).
      DEPLOY_WATCH_INTERVAL_MS: '1000',
    };
    const env = await workerEnv({ databaseUrl: db.url, smtpPort: sink.port, taskQueue, lockKeyPrefix, extra });
    workers.push({ proc: await startWorkerProcess(env), target: `127.0.0.1:${env.METRICS_PORT}` });
  }
  prometheus = await startPrometheus(path.join(testTmpDir(), uniqueName('prometheus')), workers.map((w) => w.target));
});

after(async () => {
  await prometheus?.stop();
  for (const w of workers) await w.proc.stop();
  redis?.disconnect();
  await client?.connection.close();
  await sink?.close();
  await db?.drop();
});

async function run(jobName: string, scheduledAt = tick()): Promise<RunSummary> {
  runs++;
  return (await startBatchRun(client, { taskQueue, jobName, scheduledAt })).result();
}

test('a server refusing our credentials fails the run loudly (outcome failed, SmtpAuthError)', async () => {
  sink.requireAuth({ user: 'mailer', pass: 'the-password' });
  try {
    // A run-fatal error fails the workflow itself (after recording the run), so the result is that failure.
    await assert.rejects(run('digest'), (err) => err instanceof WorkflowFailedError && (err.cause as ApplicationFailure)?.type === 'SmtpAuthError');
  } finally {
    sink.requireAuth(undefined); // from now on any credentials are accepted
  }
});

let faultTick: string;
test('one run: a 550 (dead letter), a connection dropped after DATA (unknown), 451s that retries get through', async () => {
  const [dead, unknown, ...rest] = addresses;
  sink.rejectRcpt((a) => (a === dead ? { code: 550, message: '5.1.1 No such user' } : undefined));
  sink.onData((ctx) => (ctx.envelopeRcpt.includes(unknown!) ? 'store-then-drop' : 'accept'));
  // 4 recipients × 3 refusals = 12 SmtpTransientError attempts: above the SmtpErrors alert's 10.
  for (const address of rest.slice(0, 4)) sink.failTimes(address, 3, 451, '4.7.1 Try again later');
  faultTick = tick();
  try {
    const summary = await run('digest', faultTick);
    assert.equal(summary.outcome, 'completed');
    assert.deepEqual([summary.counts.dead, summary.counts.unknown, summary.counts.sent], [1, 1, N - 2], JSON.stringify(summary.counts));
    assert.ok(summary.counts.retries >= 12);
  } finally {
    sink.rejectRcpt(undefined);
    sink.onData(undefined);
  }
});

test('the same tick again sends nothing: every recipient is deduplicated', async () => {
  const summary = await run('digest', faultTick);
  assert.equal(summary.counts.deduped, N);
});

test('a job over its rate limit waits for budget and then completes; it skips a suppressed and an ineligible recipient', async () => {
  assert.ok(addresses.includes(INELIGIBLE_IN_LIMITED));
  const { rows } = await db.pool.query<{ id: string }>('SELECT id::text AS id FROM users WHERE email = $1', [addresses[0]]);
  await addSuppression(db.pool, { job: 'limited', recipientId: rows[0]!.id, jobs: loadJobRegistry(JOBS_MODULE) });
  const summary = await run('limited');
  assert.equal(summary.outcome, 'completed');
  assert.ok(summary.counts.rateLimitWaits > 0, JSON.stringify(summary.counts));
  assert.deepEqual([summary.counts.suppressed, summary.counts.ineligible, summary.counts.sent], [1, 1, N - 2], JSON.stringify(summary.counts));
});

test('twice, another holder takes the lock mid-run: the run ends lock_lost', async () => {
  const key = `${lockKeyPrefix}job:digest:lock`;
  sink.onData(() => ({ delayMs: 1500 })); // sends outlast a renewal (every second)
  try {
    for (let i = 0; i < 2; i++) {
      runs++;
      const handle = await startBatchRun(client, { taskQueue, jobName: 'digest', scheduledAt: tick() });
      await eventually(async () => (await redis.exists(key)) === 1, 'the run to take its lock', 30_000);
      await redis.set(key, 'someone-else', 'PX', 60_000);
      const summary = await handle.result();
      assert.equal(summary.outcome, 'lock_lost');
      await redis.del(key);
    }
  } finally {
    sink.onData(undefined);
  }
});

test('three ticks of a job whose lock is held elsewhere are skipped', async () => {
  const key = `${lockKeyPrefix}job:blocked:lock`;
  await redis.set(key, 'long-running-holder', 'PX', 120_000);
  for (let i = 0; i < 2; i++) assert.equal((await run('blocked')).outcome, 'skipped');
  // The third tick's window is ahead of its deadline: skipped, it stays incomplete (SendonceWindowIncomplete) — its
  // follow-up is not due within this test (WINDOW_FOLLOW_UP_DELAY_MS below) — where the windows of the others,
  // long past their deadline, are expired by the keeper (SendonceWindowExpired).
  assert.equal((await run('blocked', new Date(Date.now() + 86_400_000).toISOString())).outcome, 'skipped');
});

test('every dashboard query and every alert expression returns series from the scraped workers', async () => {
  // Wait until Prometheus has scraped both workers after the last run (the counters summed over them).
  await eventually(async () => Number((await prometheus!.query('sum(sendonce_runs)'))[0]?.value[1]) === runs, `Prometheus to see ${runs} runs`, 30_000);
  // Scraped as deployed (no honor_labels): the scrape job's `job` next to sendonce's own `sendonce_job`, and no
  // `exported_job` (what a sendonce label named `job` became).
  const scraped = await prometheus!.query('sendonce_runs');
  assert.deepEqual([...new Set(scraped.map((s) => s.metric.job))], [SCRAPE_JOB]);
  assert.deepEqual([...new Set(scraped.map((s) => s.metric.sendonce_job))].sort(), ['blocked', 'digest', 'limited']);
  assert.ok(scraped.every((s) => !('exported_job' in s.metric)), 'no exported_job');
  const workerAlerts = new Set(['SendonceWorkerDown', 'SendonceNoWorkerUp']);
  // These workers run the current version, so its alert's condition is false here: its expression without the
  // comparison must find both workers' gauge at 1 (the alert firing is npm run rehearse's scenario, and promtool's).
  const versionAlert = alertExpressions().find((a) => a.alert === 'SendonceCurrentVersionNoPollers')!;
  const versionGauge = versionAlert.expr.replace(/\s*==\s*0\s*$/, '');
  assert.notEqual(versionGauge, versionAlert.expr, 'the alert compares the gauge with 0');
  const served = await eventually(async () => {
    const r = await prometheus!.query(versionGauge);
    return r.length > 0 ? r : undefined;
  }, versionGauge, 10_000);
  assert.deepEqual(served.map((s) => s.value[1]), ['1'], 'the deployment\'s current version is served');
  assert.equal((await prometheus!.query('sendonce_worker_version_current')).length, workers.length, 'each worker says whether its version is current');
  workerAlerts.add(versionAlert.alert);
  const expressions = [...dashboardExpressions(), ...alertExpressions().filter((a) => !workerAlerts.has(a.alert))];
  const empty: string[] = [];
  for (const { source, expr } of expressions) {
    // A PromQL error throws here; an empty answer is polled briefly (the last scrape may be a second old).
    if ((await prometheus!.query(expr)).length > 0) continue;
    const series = await eventually(async () => (await prometheus!.query(expr)).length > 0, source, 5_000).catch(() => false);
    if (!series) empty.push(`${source}: ${expr}`);
  }
  assert.deepEqual(empty, [], 'expressions without series');
  // The alerts fire for the job that had the event (not for every job, not without labels).
  const firing = async (alert: string) => (await prometheus!.query(alertExpressions().find((a) => a.alert === alert)!.expr)).map((s) => s.metric);
  assert.deepEqual((await firing('SendonceNoCompletedRun')).map((m) => m.sendonce_job), ['blocked']);
  assert.deepEqual((await firing('SendonceRunsFailing')).map((m) => `${m.sendonce_job}/${m.outcome}`), ['digest/failed']);
  assert.deepEqual((await firing('SendonceSmtpErrors')).map((m) => `${m.sendonce_job}/${m.error_type}`), ['digest/SmtpTransientError']);
  for (const { metric, label } of dashboardLabelVariables()) {
    const values = await prometheus!.get<string[]>(`/api/v1/label/${label}/values?match[]=${encodeURIComponent(metric)}`);
    assert.deepEqual(values.sort(), ['blocked', 'digest', 'limited'], `dashboard variable: ${label} of ${metric}`);
  }
  // Prometheus loaded the deployed rules and evaluates them without errors.
  const groups = await prometheus!.get<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>('/api/v1/rules');
  const rules = groups.groups.flatMap((g) => g.rules);
  assert.equal(rules.length, alertExpressions().length);
  for (const rule of rules) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError}`);
});

test('a worker that stops is down for Prometheus; with both stopped, no worker is up', async () => {
  const expr = (alert: string) => alertExpressions().find((a) => a.alert === alert)!.expr;
  assert.deepEqual(await prometheus!.query(expr('SendonceNoWorkerUp')), [], 'both workers are up');
  const [first, second] = workers;
  await second!.proc.stop();
  const down = await eventually(async () => {
    const result = await prometheus!.query(expr('SendonceWorkerDown'));
    return result.length > 0 ? result : undefined;
  }, 'the stopped worker to be down', 30_000);
  assert.deepEqual(down.map((s) => [s.metric.job, s.metric.instance]), [[SCRAPE_JOB, second!.target]]);
  await first!.proc.stop();
  await eventually(async () => (await prometheus!.query(expr('SendonceNoWorkerUp'))).length === 1, 'no worker up', 30_000);
});
