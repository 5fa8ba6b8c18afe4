/**
 * One repetition of one scenario: its own database (migrated, claim log installed, users seeded), its own SMTP
 * sink, task queue and lock key prefix, and real worker processes (src/worker.ts, configured by env exactly as
 * in production, jobs from scripts/chaos/jobs.ts). close() stops everything it started, also after a failure.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import pg from 'pg';
import { migrate } from '../../src/db/migrate';
import { createPool, type Pool } from '../../src/db/pool';
import type { JobDefinition } from '../../src/jobs/types';
import { idempotencyKey } from '../../src/sends/key';
import type { RunSummary } from '../../src/contract';
import { startSmtpSink, type SmtpSink } from '../../test/support/smtp-sink';
import { startWorkerProcess, type WorkerProcess } from '../../test/support/worker-process';
import { installClaimLog } from './claim-log';
import { sleep, type ChaosServices } from './stack';

const JOBS_MODULE = path.resolve(__dirname, 'jobs.ts');

export interface World {
  services: ChaosServices;
  job: JobDefinition;
  pool: Pool;
  databaseUrl: string;
  sink: SmtpSink;
  client: Client;
  taskQueue: string;
  keyPrefix: string;
  users: Array<{ id: string; email: string }>;
  workers: WorkerProcess[];
  /** Said in the report: follow-up ticks, what the fault hit, anything a reader should know. */
  notes: string[];
  startWorker(extraEnv?: Record<string, string>): Promise<WorkerProcess>;
  startRun(opts?: { scheduledAt?: string; taskQueue?: string }): Promise<WorkflowHandle>;
  /** The run's summary; waits through a Temporal outage (the client reconnects). */
  result(handle: WorkflowHandle, timeoutMs?: number): Promise<RunSummary>;
  expectedKeys(windows: readonly string[]): string[];
  /** SIGCONT and gracefully stop every worker: in-flight attempts finish before the invariants are read. */
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

export const unique = (prefix: string) => `${prefix}-${crypto.randomBytes(4).toString('hex')}`;

async function createDatabase(services: ChaosServices, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: services.adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = services.urlFor(name);
  await migrate(url);
  return url;
}

async function dropDatabase(services: ChaosServices, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: services.adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

async function seed(pool: Pool, n: number): Promise<Array<{ id: string; email: string }>> {
  const emails = Array.from({ length: n }, (_, i) => `user${i + 1}@chaos.example.com`);
  const { rows } = await pool.query<{ id: string; email: string }>(
    `INSERT INTO users (email, name) SELECT e, 'User ' || ord FROM unnest($1::text[]) WITH ORDINALITY AS t(e, ord)
     RETURNING id::text AS id, email`,
    [emails],
  );
  return rows;
}

export async function createWorld(services: ChaosServices, job: JobDefinition, recipients: number): Promise<World> {
  const dbName = unique('chaos').replace(/-/g, '_');
  const databaseUrl = await createDatabase(services, dbName);
  const pool = createPool(databaseUrl, 5);
  const cleanups: Array<() => Promise<unknown>> = [async () => {
    await pool.end();
    if (!process.env.CHAOS_KEEP_DB) await dropDatabase(services, dbName);
  }];
  try {
    await installClaimLog(pool);
    const users = await seed(pool, recipients);
    const sink = await startSmtpSink();
    cleanups.push(() => sink.close());
    const connection = await Connection.connect({ address: services.temporalAddress });
    cleanups.push(() => connection.close());
    const client = new Client({ connection });
    return buildWorld({ services, job, pool, databaseUrl, sink, client, users, cleanups });
  } catch (err) {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    throw err;
  }
}

type WorldParts = Pick<World, 'services' | 'job' | 'pool' | 'databaseUrl' | 'sink' | 'client' | 'users'> & { cleanups: Array<() => Promise<unknown>> };

function buildWorld(parts: WorldParts): World {
  const { cleanups, ...shared } = parts;
  const client = parts.client;
  const taskQueue = unique('chaos-tq');
  const keyPrefix = `${unique('chaos')}:`;
  const workers: WorkerProcess[] = [];
  const handles: WorkflowHandle[] = [];
  let closed = false;
  const world: World = {
    ...shared,
    taskQueue,
    keyPrefix,
    workers,
    notes: [],
    async startWorker(extraEnv = {}) {
      // A scenario that timed out may still be running: it must not start processes nobody will stop.
      if (closed) throw new Error('this repetition is over');
      const worker = await startWorkerProcess({ ...workerEnv(parts, taskQueue, keyPrefix), ...extraEnv });
      workers.push(worker);
      return worker;
    },
    async startRun(opts = {}) {
      const handle = await client.workflow.start('batchWorkflow', {
        taskQueue: opts.taskQueue ?? taskQueue,
        workflowId: unique(`${parts.job.name}-run`),
        args: [{ jobName: parts.job.name, scheduledAt: opts.scheduledAt ?? CHAOS_SCHEDULED_AT }],
      });
      handles.push(handle);
      return handle;
    },
    result: (handle, timeoutMs = 180_000) => resultThroughOutages(handle, timeoutMs),
    expectedKeys: (windows) => parts.users.flatMap((u) => windows.map((w) => idempotencyKey(parts.job.template, u.id, w))),
    async stopWorkers() {
      for (const w of workers) {
        w.child.kill('SIGCONT'); // a stopped process would not act on SIGTERM
        await w.stop().catch(() => undefined);
      }
    },
    async close() {
      closed = true;
      await world.stopWorkers();
      for (const h of handles) await h.terminate('chaos repetition over').catch(() => undefined);
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    },
  };
  return world;
}

/** A production worker's environment, with test-sized timeouts (jobs.ts explains the retry bounds). */
function workerEnv(parts: WorldParts, taskQueue: string, keyPrefix: string): Record<string, string> {
  return {
    DATABASE_URL: parts.databaseUrl,
    REDIS_URL: parts.services.redisUrl,
    LOCK_KEY_PREFIX: keyPrefix,
    TASK_QUEUE: taskQueue,
    TEMPORAL_ADDRESS: parts.services.temporalAddress,
    SMTP_HOST: parts.sink.host,
    SMTP_PORT: String(parts.sink.port),
    SMTP_SOCKET_TIMEOUT_MS: '2000',
    SEND_ATTEMPT_TIMEOUT_MS: '4000',
    LOCK_TTL_MS: '30000',
    SHUTDOWN_GRACE_MS: '2000',
    SENDONCE_JOBS_MODULE: JOBS_MODULE,
    WORKFLOW_BUNDLE_PATH: parts.services.bundlePath,
  };
}

/** The nominal time of every scenario's run unless it says otherwise: window 2026-11-20 (daily, UTC). */
export const CHAOS_SCHEDULED_AT = '2026-11-20T10:00:00Z';
export const CHAOS_WINDOW = '2026-11-20';

async function resultThroughOutages(handle: WorkflowHandle, timeoutMs: number): Promise<RunSummary> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await handle.result()) as RunSummary;
    } catch (err) {
      const name = (err as Error).name;
      // A failed or terminated workflow is an answer; a lost connection is not.
      if (name === 'WorkflowFailedError' || Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}
