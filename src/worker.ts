/**
 * The worker process: validates config, connects Postgres, the lock store, SMTP and Temporal, applies
 * migrations, and runs the batch workflow and its activities on TASK_QUEUE. Several worker processes on one
 * task queue share the load with no other change. SIGTERM/SIGINT: stop polling, let in-flight activities
 * finish (bounded by SHUTDOWN_GRACE_MS), then close everything in reverse order of creation (src/shutdown.ts).
 * Optional: Prometheus metrics on METRICS_PORT (src/metrics.ts), /healthz and /readyz on HEALTH_PORT
 * (src/health.ts), a prebuilt workflow bundle (WORKFLOW_BUNDLE_PATH), payload encryption (src/codec.ts).
 */
import fs from 'node:fs';
import { DefaultLogger, Runtime, Worker, type LogLevel, type LogMetadata, type WorkerOptions } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import type { Transporter } from 'nodemailer';
import { createActivities, type ActivityDeps } from './activities';
import { loadConfig, redactConfig, type Config } from './config';
import { migrate } from './db/migrate';
import { createPool } from './db/pool';
import { loadJobRegistry, type JobRegistry } from './jobs';
import { startHealthServer } from './health';
import { createLogger, type Logger } from './logger';
import { createAppMetrics, noMetrics, RUN_DURATION_BUCKETS, RUN_DURATION_METRIC, type AppMetrics } from './metrics';
import { startReaper } from './runs/reaper';
import { closeInOrder, handleTerminationSignals, type CloseStep } from './shutdown';
import { createJobLock, createLockRedisClient } from './lock';
import { createMailTransport } from './smtp/transport';
import { connectWorker, temporalTarget } from './temporal-connection';
import { checkSearchAttributes } from './visibility';
import { bundleWorkflows } from './workflow-bundle';

export const WORKFLOWS_PATH = require.resolve('./workflows');

let runtimeInstalled = false;
/**
 * The one Runtime.install of the process (it can run only once, before any connection): the SDK's own logs
 * (core, workflow `log`, activity `log`) go into our JSON logger, and with `metricsPort` the runtime serves
 * Prometheus metrics (SDK + ours, see metrics.ts) at http://0.0.0.0:<port>/metrics.
 */
export function installRuntimeLogger(logger: Logger, options: { metricsPort?: number | undefined } = {}): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error',
  };
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) => {
      const meta = (entry.meta ?? {}) as LogMetadata;
      logger[levels[entry.level]]({ ...meta, component: 'temporal' }, entry.message);
    }),
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} },
      ...(options.metricsPort
        ? {
            metrics: {
              prometheus: {
                bindAddress: `0.0.0.0:${options.metricsPort}`,
                histogramBucketOverrides: { [RUN_DURATION_METRIC]: RUN_DURATION_BUCKETS },
              },
            },
          }
        : {}),
    },
    // We handle SIGTERM/SIGINT ourselves (graceful first, immediate on the second).
    shutdownSignals: [],
  });
}

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: ActivityDeps;
  /** Prebuilt bundle (production, tests); default: bundle src/workflows at start-up. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  shutdownForceTime?: WorkerOptions['shutdownForceTime'];
  maxConcurrentActivityTaskExecutions?: number;
  /** Payload codec (encryption), when configured. */
  dataConverter?: DataConverter;
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    // Bundled here rather than by Worker.create: the SDK's bundler logs webpack's whole report as one INFO line.
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows({ warnings: false })),
    activities: createActivities(options.activities),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 100,
    // Heartbeats reach the server at most once a second (the SDK's default is 80 % of the heartbeat timeout, 48 s
    // for ours): a chunk learns within about a second that its run ended and stops claiming (send-chunk.ts).
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
    shutdownGraceTime: options.shutdownGraceTime ?? '30s',
    // After the grace time Temporal cancels activities; a send blocked in SMTP does not see that, so give up
    // waiting 10 s later at most (that send's row stays `claimed` and becomes `unknown`, never resent).
    ...(options.shutdownForceTime !== undefined ? { shutdownForceTime: options.shutdownForceTime } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
  });
}

/** `{ codePath }` of a prebuilt bundle (scripts/bundle-workflows.ts), checked now rather than at first task. */
export function prebuiltBundle(path: string | undefined): WorkerOptions['workflowBundle'] | undefined {
  if (!path) return undefined;
  if (!fs.existsSync(path)) throw new Error(`WORKFLOW_BUNDLE_PATH: no workflow bundle at ${path} (build it with scripts/bundle-workflows.ts)`);
  return { codePath: path };
}

/**
 * The periodic reaper of a worker process: closes the rows of runs that ended without saying so (terminated, timed
 * out) and frees their locks, every `intervalMs` (REAPER_INTERVAL_MS; 0 = off, runs still reap at their start).
 */
export function startRunReaper(deps: ActivityDeps, client: Client, intervalMs: number): { stop(): Promise<void> } | undefined {
  if (!intervalMs) return undefined;
  return startReaper({ ...deps, metrics: deps.metrics ?? noMetrics }, client, intervalMs);
}

/** Everything a worker process owns, in creation order, so shutdown can close it in reverse. */
export interface WorkerResources {
  config: Config;
  logger: Logger;
  jobs: JobRegistry;
  activities: ActivityDeps;
  /** Close steps in reverse order of creation (SMTP transport, Redis, Postgres pool). */
  closeSteps(): CloseStep[];
  close(): Promise<void>;
}

export async function openResources(config: Config, logger: Logger, metrics?: AppMetrics): Promise<WorkerResources> {
  const jobs = loadJobRegistry(config.SENDONCE_JOBS_MODULE);
  const closers: CloseStep[] = [];
  const pool = createPool(config.DATABASE_URL);
  closers.push({ name: 'postgres_pool', close: () => pool.end() });
  try {
    await migrate(config.DATABASE_URL).catch((err: Error) => {
      throw new Error(`cannot reach or migrate DATABASE_URL: ${err.message}`);
    });
    let redis: ReturnType<typeof createLockRedisClient> | undefined;
    // Also with LOCK_BACKEND=postgres when REDIS_URL is set: jobs' rate limits count in Redis.
    if (config.LOCK_BACKEND === 'redis' || config.REDIS_URL) {
      redis = createLockRedisClient(config.REDIS_URL!);
      const r = redis;
      closers.push({ name: 'redis', close: () => r.quit().catch(() => r.disconnect()) });
    }
    const lock = createJobLock(config.LOCK_BACKEND, { pool, redis, keyPrefix: config.LOCK_KEY_PREFIX });
    const transport: Transporter = createMailTransport({
      host: config.SMTP_HOST,
      port: config.SMTP_PORT,
      secure: config.SMTP_SECURE,
      user: config.SMTP_USER,
      password: config.SMTP_PASSWORD,
      maxConnections: config.SMTP_MAX_CONNECTIONS,
      socketTimeoutMs: config.SMTP_SOCKET_TIMEOUT_MS,
      requireTls: config.SMTP_REQUIRE_TLS,
      tlsRejectUnauthorized: config.SMTP_TLS_REJECT_UNAUTHORIZED,
      tlsCa: config.SMTP_TLS_CA_FILE ? fs.readFileSync(config.SMTP_TLS_CA_FILE, 'utf8') : undefined,
    });
    closers.push({ name: 'smtp_transport', close: () => transport.close() });
    return {
      config,
      logger,
      jobs,
      activities: {
        pool,
        lock,
        transport,
        jobs,
        logger,
        mailFrom: config.MAIL_FROM,
        messageIdDomain: config.MESSAGE_ID_DOMAIN,
        lockTtlMs: config.LOCK_TTL_MS,
        ...(redis ? { rateLimitRedis: redis, redisKeyPrefix: config.LOCK_KEY_PREFIX } : {}),
        lockUnavailable: config.LOCK_UNAVAILABLE,
        retryDefaults: { attemptTimeoutMs: config.SEND_ATTEMPT_TIMEOUT_MS },
        maxConcurrentSends: config.SMTP_MAX_CONNECTIONS,
        ...(metrics ? { metrics } : {}),
      },
      closeSteps: () => [...closers].reverse(),
      async close() {
        for (const step of [...closers].reverse()) await Promise.resolve(step.close()).catch(() => undefined);
      },
    };
  } catch (err) {
    for (const step of [...closers].reverse()) await Promise.resolve(step.close()).catch(() => undefined);
    throw err;
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, undefined, { recipientAddresses: config.LOG_RECIPIENT_ADDRESSES });
  installRuntimeLogger(logger, { metricsPort: config.METRICS_PORT });
  logger.info({ config: redactConfig(config) }, 'worker_starting');
  const workflowBundle = prebuiltBundle(config.WORKFLOW_BUNDLE_PATH);
  const resources = await openResources(config, logger, createAppMetrics(Runtime.instance().metricMeter));
  let worker: Worker | undefined;
  const health = config.HEALTH_PORT
    ? await startHealthServer(config.HEALTH_PORT, { workerState: () => worker?.getState() ?? 'INITIALIZED', pool: resources.activities.pool })
    : undefined;
  const target = temporalTarget();
  const connection = await connectWorker(target);
  handleTerminationSignals(logger, {
    graceful: () => (worker ? worker.shutdown() : process.exit(0)),
  });
  const client = new Client({ connection, namespace: target.namespace });
  if (!(await checkSearchAttributes(client, target.namespace))) {
    logger.warn({ namespace: target.namespace }, 'search_attributes_not_checked_no_permission_to_list_them');
  }
  const reaper = startRunReaper(resources.activities, client, config.REAPER_INTERVAL_MS);
  worker = await createWorker({
    connection,
    namespace: target.namespace,
    taskQueue: config.TASK_QUEUE,
    activities: resources.activities,
    shutdownGraceTime: config.SHUTDOWN_GRACE_MS,
    shutdownForceTime: config.SHUTDOWN_GRACE_MS + 10_000,
    ...(workflowBundle ? { workflowBundle } : {}),
    ...(target.dataConverter ? { dataConverter: target.dataConverter } : {}),
  });
  logger.info(
    { taskQueue: config.TASK_QUEUE, namespace: target.namespace, metricsPort: config.METRICS_PORT, healthPort: config.HEALTH_PORT, encryptedPayloads: Boolean(target.dataConverter) },
    'worker_started',
  );
  const started = Date.now();
  try {
    await worker.run();
    logger.info({ step: 'worker', durationMs: Date.now() - started }, 'worker_closed');
  } catch (err) {
    // Grace and force time exceeded: close the rest anyway; unfinished sends end `unknown`, not resent.
    logger.error({ step: 'worker', durationMs: Date.now() - started, err: (err as Error).message }, 'worker_close_failed');
  }
  const steps: CloseStep[] = [
    ...(reaper ? [{ name: 'reaper', close: () => reaper.stop() }] : []),
    { name: 'temporal_connection', close: () => connection.close() },
  ];
  if (health) steps.push({ name: 'health_server', close: () => health.close() });
  await closeInOrder([...steps, ...resources.closeSteps()], logger);
  logger.info('worker_stopped');
}

if (require.main === module) {
  main().catch((err: Error) => {
    // One clear line for a bad configuration or an unreachable dependency, then a non-zero exit.
    process.stderr.write(`sendonce worker: ${err.message}\n`);
    process.exit(1);
  });
}
