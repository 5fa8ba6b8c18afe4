/**
 * `npm run replay:record`: record the histories the replay test replays (test/replay/histories/*.json). Starts a
 * private stack (embedded Postgres, redis-server, Temporal dev server, an SMTP sink), runs a real worker with the
 * production wiring (openResources, createWorker), drives every scenario of scenarios.ts to its ending, and writes
 * each run's history (every run of a continue-as-new chain). Everything it starts is stopped, also on failure.
 *
 * Re-record ONLY when a workflow change is meant to be incompatible with runs in flight — that is, when it is
 * released as a new Worker Deployment version (the default) and the old version drains (docs/safe-deploys.md).
 * A change that must keep old runs working (versioning off, or a fix for the running version) must pass the
 * replay test WITHOUT re-recording: guard it with patched().
 *
 * Usage: node --import tsx scripts/replay/record.ts [scenario…]   (default: all)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createWorker, installRuntimeLogger, openResources } from '../../src/worker';
import { bundleWorkflows } from '../../src/workflow-bundle';
import { createDatabase } from '../../devkit/databases';
import { seedUsers, userEmails } from '../../devkit/seed';
import { startEmbeddedPostgres } from '../../devkit/services/postgres';
import { freePort } from '../../devkit/services/ports';
import { startRedisServer } from '../../devkit/services/redis';
import { startTemporalDevServer } from '../../devkit/services/temporal';
import { startSmtpSink } from '../../devkit/smtp-sink';
import { allStarted, StopStack } from '../../devkit/stop-stack';
import { historyToStored } from '../../test/replay/stored-history';
import { SCENARIOS, type World } from './scenarios';

export const HISTORIES_DIR = path.resolve(__dirname, '../../test/replay/histories');
const say = (m: string) => process.stdout.write(`[record] ${m}\n`);

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const unknown = only.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const stops = new StopStack();
  try {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sendonce-replay-'));
    fs.chmodSync(tmp, 0o755); // the embedded Postgres runs as the `postgres` user when we are root
    stops.push('temp dir', () => fs.rmSync(tmp, { recursive: true, force: true }));
    const [pg, redis, temporal, sink] = await allStarted([
      stops.started('postgres', startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port: await freePort(), unsafeFast: true })),
      stops.started('redis', startRedisServer(await freePort())),
      stops.started('temporal', startTemporalDevServer({ port: await freePort() })),
      stops.started('smtp sink', startSmtpSink()),
    ]);
    const smtpAuth = { user: 'recorder', pass: 'recorder-password' };
    sink.requireAuth(smtpAuth);
    const databaseUrl = await createDatabase(pg.adminUrl, 'replay');
    const config = loadConfig({
      DATABASE_URL: databaseUrl, REDIS_URL: redis.url, LOCK_KEY_PREFIX: 'replay:', LOCK_TTL_MS: '3000',
      SMTP_HOST: '127.0.0.1', SMTP_PORT: String(sink.port), SMTP_USER: smtpAuth.user, SMTP_PASSWORD: smtpAuth.pass,
      SMTP_SOCKET_TIMEOUT_MS: '2000', SEND_ATTEMPT_TIMEOUT_MS: '5000', TASK_QUEUE: 'replay',
      SENDONCE_JOBS_MODULE: path.join(__dirname, 'jobs.ts'),
    });
    const logger = createLogger(process.env.RECORD_LOG_LEVEL ?? 'silent');
    installRuntimeLogger(logger);
    const resources = await openResources(config, logger);
    stops.push('connections', () => resources.close());
    await seedUsers(resources.activities.pool, userEmails(24, 'replay.example'));
    const native = await NativeConnection.connect({ address: temporal.address });
    const worker = await createWorker({ connection: native, namespace: 'default', taskQueue: 'replay', activities: resources.activities, workflowBundle: await bundleWorkflows({ warnings: false }) });
    const running = worker.run();
    stops.push('worker', async () => {
      worker.shutdown();
      await running;
      await native.close();
    });
    const connection = await Connection.connect({ address: temporal.address });
    stops.push('client', () => connection.close());
    const client = new Client({ connection });
    const world: World = { client, taskQueue: 'replay', pool: resources.activities.pool, redis: resources.activities.rateLimitRedis!, keyPrefix: 'replay:', sink, jobs: resources.jobs, smtpAuth };
    fs.mkdirSync(HISTORIES_DIR, { recursive: true });
    for (const scenario of SCENARIOS.filter((s) => only.length === 0 || only.includes(s.name))) {
      const { workflowId, firstRunId } = await scenario.run(world);
      const runs = await chainHistories(client, workflowId, firstRunId);
      const file = path.join(HISTORIES_DIR, `${scenario.name}.json`);
      fs.writeFileSync(file, JSON.stringify({ scenario: scenario.name, workflowId, recordedAt: new Date().toISOString(), runs }, null, 1) + '\n');
      say(`${scenario.name}: ${runs.length} run(s), ${runs.reduce((n, r) => n + (r.events?.length ?? 0), 0)} events → ${path.relative(process.cwd(), file)}`);
    }
  } finally {
    await stops.stopAll();
  }
}

/** Every run's history of a continue-as-new chain, first to last. */
async function chainHistories(client: Client, workflowId: string, firstRunId: string): Promise<Array<{ events?: unknown[] | null }>> {
  const runs = [];
  for (let runId: string | null | undefined = firstRunId; runId; ) {
    const history: temporal.api.history.v1.IHistory = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.push(historyToStored(history));
    const last: temporal.api.history.v1.IHistoryEvent | undefined = history.events?.[history.events.length - 1];
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return runs;
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(`record: ${err.stack ?? err.message}`);
      process.exit(1);
    },
  );
}
