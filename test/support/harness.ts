/**
 * A real sendonce worker inside the test process, for one test or test file: its own database (migrated; kept
 * when a test fails, devkit/test-database.ts), Redis key prefix, task queue and SMTP sink, connected to the
 * Temporal dev server npm test shares. Nothing is mocked.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { Redis } from 'ioredis';
import type { ActivityDeps } from '../../src/activities';
import { createJobRegistry, type JobDefinition, type SendRetryOptions } from '../../src/jobs';
import { createLogger, type Logger } from '../../src/logger';
import { createJobLock, createLockRedisClient, type LockBackend } from '../../src/lock';
import { createSmtpTransport } from '../../src/delivery';
import type { UnsubscribeSettings } from '../../src/suppressions';
import { templates as defaultTemplates, type EmailTemplate } from '../../src/templates';
import { dailyDigest } from '../../devkit/demo/daily-digest';
import { createWorker, type SendonceWorker } from '../../src/worker';
import { bundleWorkflows } from '../../src/workflow-bundle';
import { uniqueName } from '../../devkit/databases';
import { seedUsers } from '../../devkit/seed';
import { redisUrl, temporalAddress } from '../../devkit/shared-services';
import { startSmtpSink, type SmtpSink } from '../../devkit/smtp-sink';
import { createTestDatabase, type TestDatabase } from '../../devkit/test-database';

let bundle: Promise<{ code: string }> | undefined;
/** Bundle the workflows once per test process (webpack takes seconds). */
export function workflowBundle(): Promise<{ code: string }> {
  bundle ??= bundleWorkflows({ warnings: false });
  return bundle;
}

/** A demo-shaped job with a unique name and test-sized retry bounds. */
export function testJob(overrides: Partial<JobDefinition> = {}, retry: Partial<SendRetryOptions> = {}): JobDefinition {
  return {
    ...dailyDigest,
    name: uniqueName('job').replace(/_/g, '-'),
    retry: {
      maximumAttempts: 3,
      initialIntervalMs: 200,
      backoffCoefficient: 2,
      maximumIntervalMs: 1_000,
      attemptTimeoutMs: 5_000,
      totalTimeoutMs: 60_000,
      ...retry,
    },
    ...overrides,
  };
}

export interface HarnessOptions {
  jobs: JobDefinition[];
  /** Templates besides the built-in ones (a jobs module's own). */
  templates?: Record<string, EmailTemplate>;
  lockBackend?: LockBackend;
  lockTtlMs?: number;
  lockUnavailable?: 'skip' | 'fail';
  smtpSocketTimeoutMs?: number;
  /** Use this sink instead of starting one (e.g. shared by two workers). */
  sink?: SmtpSink;
  db?: TestDatabase;
  taskQueue?: string;
  logger?: Logger;
  /** The lock's Redis (e.g. a private redis-server a test stops); default: the shared one. */
  redisUrl?: string;
  /** The activities' clock (rate-limit buckets, unsubscribe link expiry); default the real one. */
  clock?: () => Date;
  /** One-click unsubscribe links on recurring emails (UNSUBSCRIBE_* of a real worker); default none. */
  unsubscribe?: UnsubscribeSettings;
}

export interface Harness {
  db: TestDatabase;
  sink: SmtpSink;
  client: Client;
  taskQueue: string;
  redis: Redis;
  deps: ActivityDeps;
  keyPrefix: string;
  /** Start (or restart) the in-process worker. */
  startWorker(): Promise<SendonceWorker>;
  stopWorker(): Promise<void>;
  /** Insert demo users; returns their ids. */
  seedUsers(emails: string[]): Promise<string[]>;
  close(): Promise<void>;
}

let runtimeInstalled = false;
/** Keep the SDK's own INFO chatter out of test output; warnings and errors still show. */
export function quietTemporalRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  quietTemporalRuntime();
  // First, before anything is started: a job definition the registry refuses must not leave servers running.
  const jobs = createJobRegistry(options.jobs, { ...defaultTemplates, ...options.templates });
  const db = options.db ?? (await createTestDatabase());
  const sink = options.sink ?? (await startSmtpSink());
  const connection = await Connection.connect({ address: temporalAddress() });
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: temporalAddress() });
  const taskQueue = options.taskQueue ?? uniqueName('tq');
  const keyPrefix = `${uniqueName('t')}:`;
  const redis = createLockRedisClient(options.redisUrl ?? redisUrl());
  const delivery = createSmtpTransport({
    host: sink.host,
    port: sink.port,
    secure: false,
    maxConnections: 5,
    socketTimeoutMs: options.smtpSocketTimeoutMs ?? 3_000,
  });
  const logger = options.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const deps: ActivityDeps = {
    pool: db.pool,
    lock: createJobLock(options.lockBackend ?? 'redis', { pool: db.pool, redis, keyPrefix }),
    delivery,
    jobs,
    logger,
    mailFrom: 'sendonce test <noreply@sendonce.test>',
    messageIdDomain: 'sendonce.test',
    lockTtlMs: options.lockTtlMs ?? 10_000,
    lockUnavailable: options.lockUnavailable ?? 'skip',
    rateLimitRedis: redis,
    redisKeyPrefix: keyPrefix,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.unsubscribe ? { unsubscribe: options.unsubscribe } : {}),
  };
  let worker: SendonceWorker | undefined;
  let running: Promise<void> | undefined;
  const harness: Harness = {
    db,
    sink,
    client,
    taskQueue,
    redis,
    deps,
    keyPrefix,
    async startWorker() {
      worker = await createWorker({
        connection: nativeConnection,
        namespace: 'default',
        taskQueue,
        activities: deps,
        workflowBundle: await workflowBundle(),
        shutdownGraceTime: '5s',
      });
      running = worker.run();
      return worker;
    },
    async stopWorker() {
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      worker = undefined;
      running = undefined;
    },
    async seedUsers(emails) {
      return (await seedUsers(db.pool, emails)).map((u) => u.id);
    },
    async close() {
      await harness.stopWorker();
      await delivery.close();
      redis.disconnect();
      await nativeConnection.close();
      await connection.close();
      if (!options.sink) await sink.close();
      if (!options.db) await db.drop();
    },
  };
  return harness;
}

