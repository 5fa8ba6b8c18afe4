/**
 * One repetition of one scenario: its own database (migrated, claim log installed, users seeded), its own SMTP
 * sink, task queue and lock key prefix, and real worker processes (src/worker.ts, configured by env exactly as
 * in production, jobs from scripts/chaos/jobs.ts). close() stops everything it started, also after a failure.
 */
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { createPool, type Pool } from '../../src/db/pool';
import type { JobDefinition } from '../../src/jobs/types';
import { idempotencyKey } from '../../src/sends/key';
import type { RunSummary } from '../../src/contract';
import { createDatabase, dropDatabase, uniqueName } from '../../devkit/databases';
import { startBatchRun } from '../../devkit/runs';
import { seedUsers, userEmails, type SeededUser } from '../../devkit/seed';
import { startSmtpSink, type SmtpSink } from '../../devkit/smtp-sink';
import { StopStack } from '../../devkit/stop-stack';
import { deploymentNameFor, startWorkerProcess, workerEnv, type WorkerProcess } from '../../devkit/worker-process';
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
  /** The Worker Deployment its workers join (one per world: promoting a version touches no other world). */
  deploymentName: string;
  keyPrefix: string;
  users: SeededUser[];
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

export async function createWorld(services: ChaosServices, job: JobDefinition, recipients: number): Promise<World> {
  const dbName = uniqueName('chaos');
  const databaseUrl = await createDatabase(services.adminUrl, dbName);
  const pool = createPool(databaseUrl, 5);
  const stops = new StopStack();
  stops.push('database', async () => {
    await pool.end();
    if (!process.env.CHAOS_KEEP_DB) await dropDatabase(services.adminUrl, dbName);
  });
  try {
    await installClaimLog(pool);
    const users = await seedUsers(pool, userEmails(recipients, 'chaos.example.com'));
    const sink = await stops.started('smtp sink', startSmtpSink());
    const connection = await Connection.connect({ address: services.temporalAddress });
    stops.push('temporal connection', () => connection.close());
    const client = new Client({ connection });
    return buildWorld({ services, job, pool, databaseUrl, sink, client, users, stops });
  } catch (err) {
    await stops.stopAll();
    throw err;
  }
}

type WorldParts = Pick<World, 'services' | 'job' | 'pool' | 'databaseUrl' | 'sink' | 'client' | 'users'> & { stops: StopStack };

function buildWorld(parts: WorldParts): World {
  const { stops, ...shared } = parts;
  const client = parts.client;
  const taskQueue = uniqueName('chaos-tq');
  const keyPrefix = `${uniqueName('chaos')}:`;
  const workers: WorkerProcess[] = [];
  const handles: WorkflowHandle[] = [];
  let closed = false;
  const world: World = {
    ...shared,
    taskQueue,
    deploymentName: deploymentNameFor(taskQueue),
    keyPrefix,
    workers,
    notes: [],
    async startWorker(extraEnv = {}) {
      // A scenario that timed out may still be running: it must not start processes nobody will stop.
      if (closed) throw new Error('this repetition is over');
      const worker = await startWorkerProcess({ ...chaosWorkerEnv(parts, taskQueue, keyPrefix), ...extraEnv });
      workers.push(worker);
      return worker;
    },
    async startRun(opts = {}) {
      const handle = await startBatchRun(client, {
        taskQueue: opts.taskQueue ?? taskQueue,
        jobName: parts.job.name,
        scheduledAt: opts.scheduledAt ?? CHAOS_SCHEDULED_AT,
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
      await stops.stopAll();
    },
  };
  return world;
}

/** A production worker's environment, with test-sized timeouts (jobs.ts explains the retry bounds). */
function chaosWorkerEnv(parts: WorldParts, taskQueue: string, keyPrefix: string): Record<string, string> {
  return workerEnv({
    databaseUrl: parts.databaseUrl,
    redisUrl: parts.services.redisUrl,
    temporalAddress: parts.services.temporalAddress,
    smtpHost: parts.sink.host,
    smtpPort: parts.sink.port,
    taskQueue,
    lockKeyPrefix: keyPrefix,
    smtpSocketTimeoutMs: 2_000,
    sendAttemptTimeoutMs: 4_000,
    bundlePath: parts.services.bundlePath,
    jobsModule: JOBS_MODULE,
    // The window keeper off: these scenarios' window (2026-11-20) is long past its deadline, and `settle` plays the
    // next tick itself. The one-tick-per-window scenarios turn it on, with today's window (one-tick-windows.ts).
    extra: { LOCK_TTL_MS: '30000', SHUTDOWN_GRACE_MS: '2000', WINDOW_KEEPER_INTERVAL_MS: '0' },
  });
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
