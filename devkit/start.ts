/**
 * `npm start`: the whole local stack and the demo job, from nothing.
 * Starts what is not configured (Postgres unless DATABASE_URL, Redis unless REDIS_URL, the Temporal dev
 * server unless TEMPORAL_ADDRESS, a MailDev inbox unless SMTP_HOST), applies migrations, makes the demo tables (devkit/demo/) and seeds demo users,
 * serves one-click unsubscribe (unless UNSUBSCRIBE_* is set), registers the search attributes, creates the
 * schedules, runs a worker, triggers one run right away and prints where to look. It writes .sendonce/stack.json so
 * `npx sendonce …` in a second terminal finds this stack.
 * Ctrl-C stops everything it started, in reverse order; so does a failed start. State lives in .sendonce/
 * (git-ignored; SENDONCE_STATE_DIR elsewhere).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Client } from '@temporalio/client';
import { triggerSchedule } from '../src/api';
import { removeLocalStack, stateDir, writeLocalStack } from '../src/cli/local-stack';
import { loadConfig } from '../src/config';
import { createPool } from '../src/db/pool';
import { scheduleIdFor, upsertSchedule } from '../src/schedule';
import { connectClient, connectWorker, temporalTarget } from '../src/temporal-connection';
import { registerSearchAttributes } from '../src/visibility';
import { joinDeployment } from '../src/worker-versioning';
import { createWorker, installRuntimeLogger, openResources, startRunReaper, versioningFrom, workflowBundleCode } from '../src/worker';
import type { JobDefinition } from '../src/jobs';
import type { RunSummary } from '../src/contract';
import { createDatabase } from './databases';
import { DEMO_JOBS_MODULE } from './demo/jobs';
import { applyDemoSchema } from './demo/schema';
import { seedDigestItems, seedUsers, userEmails } from './seed';
import { serveUnsubscribe } from '../src/suppressions/serve';
import { startLogger } from './start-logger';
import { startEmbeddedPostgres } from './services/postgres';
import { localDataDir } from './services/postgres-install';
import { startMailInbox } from './services/mail-inbox';
import { startRedisServer } from './services/redis';
import { startTemporalDevServer } from './services/temporal';
import { StopStack } from './stop-stack';

const STATE_DIR = stateDir();
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const DEMO_USERS = 25;
/** What a worker on this stack is given, as `npx sendonce` in a second terminal should see it. */
const STACK_VARIABLES = ['DATABASE_URL', 'REDIS_URL', 'LOCK_BACKEND', 'LOCK_KEY_PREFIX', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TASK_QUEUE', 'SENDONCE_JOBS_MODULE'];

async function startLocalServices(env: NodeJS.ProcessEnv, stops: StopStack, say: (s: string) => void) {
  fs.mkdirSync(STATE_DIR, { recursive: true, mode: 0o755 });
  const urls: Record<string, string> = {};
  if (!env.DATABASE_URL) {
    const { dataDir, blockedBy } = localDataDir(STATE_DIR);
    const pg = await stops.started('postgres', startEmbeddedPostgres({ dataDir, port: port('SENDONCE_PG_PORT', 54329) }));
    // Kept between runs with its demo data; the worker applies the migrations (openResources).
    env.DATABASE_URL = await createDatabase(pg.adminUrl, 'sendonce', { existing: 'reuse', migrate: false });
    const where = blockedBy ? `${dataDir}: the postgres user cannot enter ${blockedBy}` : dataDir;
    say(`postgres     ${pg.urlFor('sendonce').replace(/:[^:@/]+@/, ':***@')} (embedded, data in ${where})`);
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
      dbFilename: `${STATE_DIR}/temporal.db`,
    }));
    env.TEMPORAL_ADDRESS = temporal.address;
    urls.temporalUi = temporal.uiUrl!;
    say(`temporal     ${temporal.address} (dev server, state in ${STATE_DIR}/temporal.db)`);
  }
  if (!env.SMTP_HOST) {
    // Messages are kept in .sendonce/mail, so the inbox still shows them after a restart.
    const smtpPort = port('SENDONCE_SMTP_PORT', 1025);
    const inbox = await stops.started('mail inbox', startMailInbox(smtpPort, port('SENDONCE_INBOX_PORT', 1080), `${STATE_DIR}/mail`));
    env.SMTP_HOST = '127.0.0.1';
    env.SMTP_PORT = String(inbox.smtpPort);
    urls.inbox = inbox.webUrl;
    say(`smtp         127.0.0.1:${inbox.smtpPort} (MailDev, nothing leaves this machine)`);
  }
  return urls;
}

/** The demo's tables (devkit/demo/schema.sql, kept if there) and, the first time, their rows. */
async function seedDemoUsers(databaseUrl: string, say: (s: string) => void): Promise<void> {
  const pool = createPool(databaseUrl, 1);
  try {
    await applyDemoSchema(pool);
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
 * If SKIP dropped the trigger because a tick is already running (e.g. a catch-up tick at start-up), wait for that run.
 */
async function runOnce(client: Client, job: JobDefinition, say: (s: string) => void): Promise<RunSummary | undefined> {
  const r = await triggerSchedule(client, { job }, undefined, 60_000);
  if (r.outcome === 'not_observed') return undefined;
  const workflowId = r.outcome === 'started' ? r.workflowId : r.runningWorkflowIds[0];
  if (!workflowId) return undefined;
  say(r.outcome === 'started' ? `run          ${workflowId} started` : `run          ${workflowId} was already running: waiting for it`);
  return client.workflow.getHandle(workflowId).result() as Promise<RunSummary>;
}

const summaryLine = (s: RunSummary) =>
  `run summary  ${s.jobName} window ${s.window}: ${s.outcome}${s.reason ? ` (${s.reason})` : ''} · processed ${s.counts.processed} · ` +
  `sent ${s.counts.sent} · deduped ${s.counts.deduped} · dead ${s.counts.dead} · unknown ${s.counts.unknown}`;

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
  stops.stopOnCrash((err) => say(`error: ${(err as Error)?.message ?? String(err)}`));
  try {
    const env = process.env;
    const urls = await startLocalServices(env, stops, say);
    configureUnsubscribe(env, say);
    // The demo's jobs (the daily digest over the demo users, and the built-in one-off notices) unless you name yours;
    // a deployment's worker has only the built-in ones by default. Written to the stack file for the CLI too.
    env.SENDONCE_JOBS_MODULE ??= DEMO_JOBS_MODULE;
    // One worker, replaced at every restart: its version becomes current as it starts, even after a code change
    // (a production release waits for `sendonce deploy promote` instead; docs/safe-deploys.md).
    env.DEPLOY_PROMOTE ??= 'always';
    const config = loadConfig(env);
    const logger = startLogger(config.LOG_LEVEL);
    installRuntimeLogger(logger);
    const resources = await openResources(config, logger);
    stops.push('connections', () => resources.close());
    const unsubscribe = await serveUnsubscribe(resources);
    if (unsubscribe) stops.push('unsubscribe endpoint', () => unsubscribe.close());
    await seedDemoUsers(config.DATABASE_URL, say);

    const target = temporalTarget(env);
    const client = await connectClient(target);
    stops.push('temporal client', () => client.connection.close());
    // Also for a state file from before the attributes existed: the dev server's flags act on a new file only.
    await registerSearchAttributes(client, target.namespace);
    const stack = { pid: process.pid, startedAt: new Date().toISOString(), urls, env: stackEnv(env, config.TASK_QUEUE, target.namespace) };
    writeLocalStack(stack);
    stops.push('stack file', () => removeLocalStack());

    const nativeConnection = await connectWorker(target);
    const workflowBundle = await workflowBundleCode(config.WORKFLOW_BUNDLE_PATH);
    const versioning = versioningFrom(config, workflowBundle.code);
    const worker = await createWorker({
      connection: nativeConnection, namespace: target.namespace, taskQueue: config.TASK_QUEUE, activities: resources.activities,
      workflowBundle, ...(versioning ? { versioning } : {}),
    });
    const running = worker.run();
    stops.push('worker', async () => { worker.shutdown(); await running; await nativeConnection.close(); });
    if (versioning) await joinDeployment(client, versioning, logger);
    const reaper = startRunReaper(resources.activities, client, config.REAPER_INTERVAL_MS);
    if (reaper) stops.push('reaper', () => reaper.stop());

    for (const job of resources.jobs.all()) {
      await upsertSchedule(client, job, { taskQueue: config.TASK_QUEUE });
      say(`schedule     ${scheduleIdFor(job.name)} (${job.schedule.cron ?? `every ${job.schedule.every ?? '5m'}`}, overlap SKIP)`);
    }
    const first = resources.jobs.all()[0]!;
    const summary = await runOnce(client, first, say);
    if (summary) say(summaryLine(summary));
    say('where to look:');
    if (urls.temporalUi) say(`  Temporal Web UI  ${urls.temporalUi}/namespaces/${target.namespace}/workflows?query=${encodeURIComponent(`SendonceJob="${first.name}"`)}`);
    if (urls.inbox) say(`  Mail inbox       ${urls.inbox}`);
    say('  In a second terminal (the CLI finds this stack through .sendonce/stack.json):');
    say('    npx sendonce runs');
    say(`    npx sendonce temporal schedule toggle --pause --schedule-id ${scheduleIdFor(first.name)} --reason "maintenance"`);
    say('the worker keeps running and the schedule keeps ticking; Ctrl-C stops everything started here.');
    await running;
  } catch (err) {
    say(`error: ${(err as Error).message}`);
    await stopAll(1);
  }
}

function stackEnv(env: NodeJS.ProcessEnv, taskQueue: string, namespace: string): Record<string, string> {
  const out: Record<string, string> = { TASK_QUEUE: taskQueue, TEMPORAL_NAMESPACE: namespace };
  for (const name of STACK_VARIABLES) if (env[name]) out[name] = env[name];
  return out;
}

void main();
