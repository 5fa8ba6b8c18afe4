/**
 * The worker process: validates config, connects Postgres, the lock store, SMTP and Temporal, applies
 * migrations, and runs the batch workflow and its activities on TASK_QUEUE. Several worker processes on one
 * task queue share the load with no other change. SIGTERM/SIGINT: stop polling, let in-flight activities
 * finish (bounded by shutdownGraceTime), then close everything in reverse order of creation.
 */
import { DefaultLogger, Runtime, Worker, type LogLevel, type LogMetadata, type WorkerOptions } from '@temporalio/worker';
import type { NativeConnection } from '@temporalio/worker';
import type { Transporter } from 'nodemailer';
import { createActivities, type ActivityDeps } from './activities';
import { loadConfig, redactConfig, type Config } from './config';
import { migrate } from './db/migrate';
import { createPool } from './db/pool';
import { createJobRegistry, type JobRegistry } from './jobs';
import { createLogger, type Logger } from './logger';
import { createJobLock, createLockRedisClient } from './lock';
import { createMailTransport } from './smtp/transport';
import { connectWorker, temporalTarget } from './temporal-connection';

export const WORKFLOWS_PATH = require.resolve('./workflows');

let runtimeInstalled = false;
/** Route the Temporal SDK's own logs (core, workflow `log`, activity `log`) into our JSON logger. Once per process. */
export function installRuntimeLogger(logger: Logger): void {
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
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } },
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
  maxConcurrentActivityTaskExecutions?: number;
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(options.activities),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 100,
    shutdownGraceTime: options.shutdownGraceTime ?? '30s',
  });
}

/** Everything a worker process owns, in creation order, so shutdown can close it in reverse. */
export interface WorkerResources {
  config: Config;
  logger: Logger;
  jobs: JobRegistry;
  activities: ActivityDeps;
  close(): Promise<void>;
}

export async function openResources(config: Config, logger: Logger): Promise<WorkerResources> {
  const jobs = createJobRegistry();
  const closers: Array<() => Promise<unknown>> = [];
  const pool = createPool(config.DATABASE_URL);
  closers.push(() => pool.end());
  try {
    await migrate(config.DATABASE_URL).catch((err: Error) => {
      throw new Error(`cannot reach or migrate DATABASE_URL: ${err.message}`);
    });
    let redis: ReturnType<typeof createLockRedisClient> | undefined;
    if (config.LOCK_BACKEND === 'redis') {
      redis = createLockRedisClient(config.REDIS_URL!);
      const r = redis;
      closers.push(() => r.quit().catch(() => r.disconnect()));
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
    });
    closers.push(async () => transport.close());
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
        lockUnavailable: config.LOCK_UNAVAILABLE,
        retryDefaults: { attemptTimeoutMs: config.SEND_ATTEMPT_TIMEOUT_MS },
      },
      async close() {
        for (const close of closers.reverse()) await close().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw err;
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  installRuntimeLogger(logger);
  logger.info({ config: redactConfig(config) }, 'worker_starting');
  const resources = await openResources(config, logger);
  const target = temporalTarget();
  const connection = await connectWorker(target);
  const worker = await createWorker({
    connection,
    namespace: target.namespace,
    taskQueue: config.TASK_QUEUE,
    activities: resources.activities,
  });
  let signals = 0;
  const onSignal = (signal: string) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'worker_exit_now');
      process.exit(130);
    }
    logger.info({ signal }, 'worker_shutting_down');
    worker.shutdown();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  logger.info({ taskQueue: config.TASK_QUEUE, namespace: target.namespace }, 'worker_started');
  await worker.run();
  await connection.close();
  await resources.close();
  logger.info('worker_stopped');
}

if (require.main === module) {
  main().catch((err: Error) => {
    // One clear line for a bad configuration or an unreachable dependency, then a non-zero exit.
    process.stderr.write(`sendonce worker: ${err.message}\n`);
    process.exit(1);
  });
}
