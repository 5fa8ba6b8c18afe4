/**
 * `npm start`: the whole local stack and the demo job, from nothing.
 * Starts what is not configured (Postgres unless DATABASE_URL, Redis unless REDIS_URL, the Temporal dev
 * server unless TEMPORAL_ADDRESS, a MailDev inbox unless SMTP_HOST), applies migrations, seeds demo users,
 * serves one-click unsubscribe (unless UNSUBSCRIBE_* is set), creates the schedules, runs a worker, triggers one
 * run right away and prints where to look.
 * Ctrl-C stops everything it started, in reverse order. State lives in .sendonce/ (git-ignored).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { createPool } from '../src/db/pool';
import { createLogger, type Logger } from '../src/logger';
import { scheduleIdFor, upsertSchedule } from '../src/schedule';
import { connectClient, connectWorker, temporalTarget } from '../src/temporal-connection';
import { createWorker, installRuntimeLogger, openResources, startRunReaper } from '../src/worker';
import type { RunSummary } from '../src/contract';
import { createDatabase } from './databases';
import { seedDigestItems, seedUsers, userEmails } from './seed';
import { serveUnsubscribe } from '../src/suppressions/serve';
import { startEmbeddedPostgres } from './services/postgres';
import { startMailInbox } from './services/mail-inbox';
import { startRedisServer } from './services/redis';
import { startTemporalDevServer } from './services/temporal';
import { StopStack } from './stop-stack';

const STATE_DIR = path.resolve(__dirname, '..', '.sendonce');
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const DEMO_USERS = 25;

async function startLocalServices(env: NodeJS.ProcessEnv, stops: StopStack, say: (s: string) => void) {
  fs.mkdirSync(STATE_DIR, { recursive: true, mode: 0o755 });
  const urls: Record<string, string> = {};
  if (!env.DATABASE_URL) {
    const dataDir = path.join(STATE_DIR, 'postgres');
    const pg = await stops.started('postgres', startEmbeddedPostgres({ dataDir, port: port('SENDONCE_PG_PORT', 54329) }));
    // Kept between runs with its demo data; the worker applies the migrations (openResources).
    env.DATABASE_URL = await createDatabase(pg.adminUrl, 'sendonce', { existing: 'reuse', migrate: false });
    say(`postgres     ${pg.urlFor('sendonce').replace(/:[^:@/]+@/, ':***@')} (embedded, data in .sendonce/postgres)`);
  }
  if (!env.REDIS_URL && env.LOCK_BACKEND !== 'postgres') {
    const redis = await stops.started('redis', startRedisServer(port('SENDONCE_REDIS_PORT', 63790)));
    env.REDIS_URL = redis.url;
    say(`redis        ${redis.url}`);
  }
  if (!env.TEMPORAL_ADDRESS) {
    const temporal = await stops.started('temporal', startTemporalDevServer({
      port: port('SENDONCE_TEMPORAL_PORT', 7233),
      uiPort: port('SENDONCE_TEMPORAL_UI_PORT', 8233),
      dbFilename: path.join(STATE_DIR, 'temporal.db'),
    }));
    env.TEMPORAL_ADDRESS = temporal.address;
    urls.temporalUi = temporal.uiUrl!;
    say(`temporal     ${temporal.address} (dev server, state in .sendonce/temporal.db)`);
  }
  if (!env.SMTP_HOST) {
    // Messages are kept in .sendonce/mail, so the inbox still shows them after a restart.
    const smtpPort = port('SENDONCE_SMTP_PORT', 1025);
    const inbox = await stops.started('mail inbox', startMailInbox(smtpPort, port('SENDONCE_INBOX_PORT', 1080), path.join(STATE_DIR, 'mail')));
    env.SMTP_HOST = '127.0.0.1';
    env.SMTP_PORT = String(inbox.smtpPort);
    urls.inbox = inbox.webUrl;
    say(`smtp         127.0.0.1:${inbox.smtpPort} (MailDev, nothing leaves this machine)`);
  }
  return urls;
}

async function seedDemoUsers(databaseUrl: string, say: (s: string) => void): Promise<void> {
  const pool = createPool(databaseUrl, 1);
  try {
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    if (rows[0]!.n > 0) return;
    const users = await seedUsers(pool, userEmails(DEMO_USERS, 'example.com', 2), 'Demo User ');
    await seedDigestItems(pool, users.map((u) => u.id));
    say(`seeded ${DEMO_USERS} demo users with digest items`);
  } finally {
    await pool.end();
  }
}

/**
 * One-click unsubscribe on this machine (unless configured): the endpoint on 127.0.0.1, signed with a secret kept in
 * .sendonce/ so links in the inbox keep working across restarts. Set UNSUBSCRIBE_* to use your own.
 */
function configureUnsubscribe(env: NodeJS.ProcessEnv, say: (s: string) => void): void {
  if (env.UNSUBSCRIBE_URL || env.UNSUBSCRIBE_SECRET || env.UNSUBSCRIBE_SECRET_FILE) return;
  const secretFile = path.join(STATE_DIR, 'unsubscribe-secret');
  if (!fs.existsSync(secretFile)) fs.writeFileSync(secretFile, crypto.randomBytes(32).toString('base64'), { mode: 0o600 });
  const unsubscribePort = port('SENDONCE_UNSUBSCRIBE_PORT', 8089);
  env.UNSUBSCRIBE_SECRET_FILE = secretFile;
  env.UNSUBSCRIBE_PORT = String(unsubscribePort);
  env.UNSUBSCRIBE_URL = `http://127.0.0.1:${unsubscribePort}/unsubscribe`;
  say(`unsubscribe  ${env.UNSUBSCRIBE_URL} (one-click, RFC 8058; secret in .sendonce/unsubscribe-secret)`);
}

/**
 * Trigger one run now (overlap SKIP, explicitly: the TS default would be ALLOW_ALL) and wait for its result.
 * If SKIP dropped the trigger because a tick is already running (e.g. a catch-up tick at start-up), report
 * that run instead.
 */
async function runOnce(client: Client, scheduleId: string, logger: Logger): Promise<RunSummary | undefined> {
  const handle = client.schedule.getHandle(scheduleId);
  const before = (await handle.describe()).info;
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const info = (await handle.describe()).info;
    const started = info.recentActions.length > before.recentActions.length;
    const skipped = info.numActionsSkippedOverlap > before.numActionsSkippedOverlap;
    const action = started || skipped ? info.recentActions[info.recentActions.length - 1] : undefined;
    if (action) {
      if (skipped) logger.info({ scheduleId }, 'trigger_skipped_run_in_progress_reporting_it_instead');
      const wf = action.action.workflow;
      return client.workflow.getHandle(wf.workflowId, wf.firstExecutionRunId).result() as Promise<RunSummary>;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  logger.warn({ scheduleId }, 'trigger_not_observed_within_60s');
  return undefined;
}

async function main(): Promise<void> {
  const say = (s: string) => process.stderr.write(`[sendonce] ${s}\n`);
  const stops = new StopStack({
    onStopping: (name) => say(`stopping ${name}`),
    onError: (name, err) => say(`could not stop ${name}: ${err.message}`),
  });
  const stopAll = async (code: number) => {
    if (stops.closing) process.exit(code); // a second Ctrl-C: do not wait any longer
    await stops.stopAll();
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  try {
    const env = process.env;
    const urls = await startLocalServices(env, stops, say);
    configureUnsubscribe(env, say);
    const config = loadConfig(env);
    const logger = createLogger(config.LOG_LEVEL);
    installRuntimeLogger(logger);
    const resources = await openResources(config, logger);
    stops.push('connections', () => resources.close());
    const unsubscribe = await serveUnsubscribe(resources);
    if (unsubscribe) stops.push('unsubscribe endpoint', () => unsubscribe.close());
    await seedDemoUsers(config.DATABASE_URL, say);

    const target = temporalTarget(env);
    const client = await connectClient(target);
    stops.push('temporal client', () => client.connection.close());
    const nativeConnection = await connectWorker(target);
    const worker = await createWorker({
      connection: nativeConnection,
      namespace: target.namespace,
      taskQueue: config.TASK_QUEUE,
      activities: resources.activities,
    });
    const running = worker.run();
    stops.push('worker', async () => { worker.shutdown(); await running; await nativeConnection.close(); });
    const reaper = startRunReaper(resources.activities, client, config.REAPER_INTERVAL_MS);
    if (reaper) stops.push('reaper', () => reaper.stop());

    for (const job of resources.jobs.all()) {
      await upsertSchedule(client, job, { taskQueue: config.TASK_QUEUE });
      say(`schedule     ${scheduleIdFor(job.name)} (${job.schedule.cron ?? `every ${job.schedule.every ?? '5m'}`}, overlap SKIP)`);
    }
    const first = resources.jobs.all()[0]!;
    say(`triggering one run of ${first.name} now…`);
    const summary = await runOnce(client, scheduleIdFor(first.name), logger);
    if (summary) say(`run summary: ${JSON.stringify({ runId: summary.runId, jobName: summary.jobName, window: summary.window, outcome: summary.outcome, ...summary.counts })}`);
    say('where to look:');
    if (urls.temporalUi) say(`  Temporal Web UI  ${urls.temporalUi}/namespaces/${target.namespace}/schedules/${scheduleIdFor(first.name)}`);
    if (urls.inbox) say(`  Mail inbox       ${urls.inbox}`);
    say(`  Pause            temporal schedule toggle --pause --schedule-id ${scheduleIdFor(first.name)} --reason "maintenance"${env.TEMPORAL_ADDRESS ? ` --address ${env.TEMPORAL_ADDRESS}` : ''}`);
    say('the worker keeps running and the schedule keeps ticking; Ctrl-C stops everything started here.');
    await running;
  } catch (err) {
    say(`error: ${(err as Error).message}`);
    await stopAll(1);
  }
}

void main();
