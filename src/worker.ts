/**
 * The worker process: validates config, connects Postgres, the lock store, SMTP and Temporal, applies
 * migrations, and runs the batch workflow and its activities on TASK_QUEUE. Several worker processes on one
 * task queue share the load with no other change. SIGTERM/SIGINT: stop polling, let in-flight activities
 * finish (bounded by SHUTDOWN_GRACE_MS), then close everything in reverse order of creation (src/shutdown.ts).
 * Optional: Prometheus metrics on METRICS_PORT (src/metrics.ts), /healthz and /readyz on HEALTH_PORT
 * (src/health.ts), the one-click unsubscribe endpoint on UNSUBSCRIBE_PORT (src/suppressions/http.ts), a prebuilt workflow bundle (WORKFLOW_BUNDLE_PATH), payload encryption (src/codec.ts).
 */
import fs from 'node:fs';
import { DefaultLogger, Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import type { ActivityDeps } from './activities';
import { loadConfig, redactConfig, type Config } from './config';
import { unsubscribeSettings } from './suppressions/settings';
import { migrate } from './db/migrate';
import { createPool } from './db/pool';
import { loadJobRegistry, type JobRegistry } from './jobs';
import { startHealthServer } from './health';
import { createLogger, type Logger } from './logger';
import { createAppMetrics, noMetrics, RUN_DURATION_BUCKETS, RUN_DURATION_METRIC, type AppMetrics } from './metrics';
import { startReaper } from './runs/reaper';
import { startWindowKeeper, type FollowUpPolicy } from './windows';
import { buildIdOf, joinDeployment, startDeploymentWatch, type VersioningSettings } from './worker-versioning';
import { createWorker, workflowBundleCode, type SendonceWorker } from './sendonce-worker';
import { closeInOrder, handleTerminationSignals, type CloseStep } from './shutdown';
import { createJobLock, createLockRedisClient } from './lock';
import { createSmtpTransport } from './delivery';
import { serveUnsubscribe } from './suppressions/serve';
import { connectWorker, temporalTarget } from './temporal-connection';
import { checkSearchAttributes } from './visibility';

export { createWorker, workflowBundleCode, WORKFLOWS_PATH, type CreateWorkerOptions, type SendonceWorker } from './sendonce-worker';

/** The deployment version this worker joins (WORKER_VERSIONING), its build ID by default the bundle's hash. */
export function versioningFrom(config: Config, bundleCode: string): VersioningSettings | undefined {
  if (!config.WORKER_VERSIONING) return undefined;
  return { deploymentName: config.DEPLOYMENT_NAME, buildId: config.BUILD_ID ?? buildIdOf(bundleCode), promote: config.DEPLOY_PROMOTE };
}

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

/**
 * The periodic reaper of a worker process: closes the rows of runs that ended without saying so (terminated, timed
 * out) and frees their locks, every `intervalMs` (REAPER_INTERVAL_MS; 0 = off, runs still reap at their start).
 */
export function startRunReaper(deps: ActivityDeps, client: Client, intervalMs: number): { stop(): Promise<void> } | undefined {
  if (!intervalMs) return undefined;
  return startReaper({ ...deps, metrics: deps.metrics ?? noMetrics }, client, intervalMs);
}

/** WINDOW_FOLLOW_UP_*: how follow-up runs of unfinished windows are spaced and bounded. */
export function followUpPolicy(config: Pick<Config, 'WINDOW_FOLLOW_UP_DELAY_MS' | 'WINDOW_FOLLOW_UP_MAX_DELAY_MS' | 'WINDOW_FOLLOW_UPS'>): FollowUpPolicy {
  return { firstDelayMs: config.WINDOW_FOLLOW_UP_DELAY_MS, maxDelayMs: config.WINDOW_FOLLOW_UP_MAX_DELAY_MS, maxFollowUps: config.WINDOW_FOLLOW_UPS };
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
    const delivery = createSmtpTransport({
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
    closers.push({ name: 'delivery', close: () => delivery.close() });
    return {
      config,
      logger,
      jobs,
      activities: {
        pool,
        lock,
        delivery,
        jobs,
        logger,
        mailFrom: config.MAIL_FROM,
        messageIdDomain: config.MESSAGE_ID_DOMAIN,
        lockTtlMs: config.LOCK_TTL_MS,
        ...(redis ? { rateLimitRedis: redis, redisKeyPrefix: config.LOCK_KEY_PREFIX } : {}),
        lockUnavailable: config.LOCK_UNAVAILABLE,
        retryDefaults: { attemptTimeoutMs: config.SEND_ATTEMPT_TIMEOUT_MS },
        maxConcurrentSends: config.SMTP_MAX_CONNECTIONS,
        unsubscribe: unsubscribeSettings(config),
        followUps: followUpPolicy(config),
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

/** Exit code of the process: 0 after a requested stop that drained; 1 when the worker failed or its drain was cut. */
async function main(): Promise<number> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, undefined, { recipientAddresses: config.LOG_RECIPIENT_ADDRESSES });
  let worker: SendonceWorker | undefined;
  // Installed before anything slow (bundle, migrations, Temporal connection): a stop during start-up has nothing to
  // drain and exits at once. Installed later, a container's PID 1 (which ignores signals it has no handler for)
  // sat out the whole stop grace period and was SIGKILLed (npm run rehearse: "SIGTERM during start-up").
  handleTerminationSignals(logger, {
    graceful: () => (worker ? worker.shutdown() : process.exit(0)),
  });
  installRuntimeLogger(logger, { metricsPort: config.METRICS_PORT });
  logger.info({ config: redactConfig(config) }, 'worker_starting');
  const workflowBundle = await workflowBundleCode(config.WORKFLOW_BUNDLE_PATH);
  const versioning = versioningFrom(config, workflowBundle.code);
  const resources = await openResources(config, logger, createAppMetrics(Runtime.instance().metricMeter));
  const health = config.HEALTH_PORT
    ? await startHealthServer(config.HEALTH_PORT, { workerState: () => worker?.getState() ?? 'INITIALIZED', pool: resources.activities.pool })
    : undefined;
  const unsubscribe = await serveUnsubscribe(resources);
  const target = temporalTarget();
  const connection = await connectWorker(target);
  const client = new Client({ connection, namespace: target.namespace });
  if (!(await checkSearchAttributes(client, target.namespace))) {
    logger.warn({ namespace: target.namespace }, 'search_attributes_not_checked_no_permission_to_list_them');
  }
  const reaper = startRunReaper(resources.activities, client, config.REAPER_INTERVAL_MS);
  const keeper = config.WINDOW_KEEPER_INTERVAL_MS
    ? startWindowKeeper({ ...resources.activities, metrics: resources.activities.metrics ?? noMetrics, client, taskQueue: config.TASK_QUEUE, policy: followUpPolicy(config) }, config.WINDOW_KEEPER_INTERVAL_MS)
    : undefined;
  const watch = versioning && config.DEPLOY_WATCH_INTERVAL_MS
    ? startDeploymentWatch({ client, logger, versioning, report: (d, current) => resources.activities.metrics?.workerVersionCurrent(d, current) }, config.DEPLOY_WATCH_INTERVAL_MS)
    : undefined;
  worker = await createWorker({
    connection,
    namespace: target.namespace,
    taskQueue: config.TASK_QUEUE,
    activities: resources.activities,
    shutdownGraceTime: config.SHUTDOWN_GRACE_MS,
    shutdownForceTime: config.SHUTDOWN_GRACE_MS + 10_000,
    chunksPerWorker: config.CHUNKS_PER_WORKER,
    workflowBundle,
    ...(versioning ? { versioning } : {}),
    ...(target.dataConverter ? { dataConverter: target.dataConverter } : {}),
  });
  logger.info(
    {
      taskQueue: config.TASK_QUEUE, namespace: target.namespace, metricsPort: config.METRICS_PORT, healthPort: config.HEALTH_PORT,
      unsubscribePort: unsubscribe?.port, encryptedPayloads: Boolean(target.dataConverter),
      deploymentName: versioning?.deploymentName, buildId: versioning?.buildId ?? 'unversioned',
    },
    'worker_started',
  );
  const started = Date.now();
  let exitCode = 0;
  try {
    const running = worker.run();
    // Once polling, the server knows the version: apply DEPLOY_PROMOTE (src/worker-versioning/join.ts).
    if (versioning) void joinDeployment(client, versioning, logger).catch((err: Error) => logger.error({ err: err.message }, 'worker_version_join_failed'));
    await running;
    logger.info({ step: 'worker', durationMs: Date.now() - started }, 'worker_closed');
  } catch (err) {
    // A fatal worker error, or grace and force time exceeded: close the rest anyway (unfinished sends end `unknown`,
    // not resent), then exit non-zero so `restart: on-failure`, systemd and Kubernetes see a failure, not "done".
    exitCode = 1;
    logger.error({ step: 'worker', durationMs: Date.now() - started, err: (err as Error).message }, 'worker_close_failed');
  }
  const steps: CloseStep[] = [
    ...(keeper ? [{ name: 'window_keeper', close: () => keeper.stop() }] : []),
    ...(watch ? [{ name: 'deployment_watch', close: () => watch.stop() }] : []),
    ...(reaper ? [{ name: 'reaper', close: () => reaper.stop() }] : []),
    { name: 'temporal_connection', close: () => connection.close() },
  ];
  if (health) steps.push({ name: 'health_server', close: () => health.close() });
  if (unsubscribe) steps.push({ name: 'unsubscribe_server', close: () => unsubscribe.close() });
  await closeInOrder([...steps, ...resources.closeSteps()], logger);
  logger.info({ exitCode }, 'worker_stopped');
  return exitCode;
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  }, (err: Error) => {
    // One clear line for a bad configuration or an unreachable dependency, then a non-zero exit.
    process.stderr.write(`sendonce worker: ${err.message}\n`);
    process.exit(1);
  });
}
