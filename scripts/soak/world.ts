/**
 * The soak's world on the chaos stack's services: its own database (migrated, the chaos claim log installed,
 * users seeded — a few of them at a domain whose mailboxes the nemesis makes bounce), one SMTP sink whose rules
 * the nemesis switches, one task queue and Worker Deployment, a supervised pool of real worker processes
 * (src/worker.ts configured by env as in production, jobs from scripts/soak/jobs.ts).
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createPool, type Pool } from '../../src/db/pool';
import { createDatabase, dropDatabase, uniqueName } from '../../devkit/databases';
import { seedUsers, userEmails, type SeededUser } from '../../devkit/seed';
import { startSmtpSink, type SmtpSink } from '../../devkit/smtp-sink';
import { StopStack } from '../../devkit/stop-stack';
import { deploymentNameFor, startWorkerProcess, workerEnv } from '../../devkit/worker-process';
import { installClaimLog } from '../chaos/claim-log';
import type { ChaosStack } from '../chaos/stack';
import { WorkerPool } from './workers';

const JOBS_MODULE = path.resolve(__dirname, 'jobs.ts');
export const BOUNCY_DOMAIN = 'bounce.soak.test';

export interface SoakWorld {
  services: ChaosStack;
  pool: Pool;
  sink: SmtpSink;
  client: Client;
  taskQueue: string;
  users: SeededUser[];
  workers: WorkerPool;
  notes: string[];
  /** Do not drop the soak's database at close() (a failed soak keeps it as evidence). */
  keepDatabase(): void;
  close(): Promise<void>;
}

export interface SoakWorldOptions {
  users: number;
  bouncyUsers: number;
  workers: number;
  log(line: string): void;
}

export async function createSoakWorld(services: ChaosStack, o: SoakWorldOptions): Promise<SoakWorld> {
  const stops = new StopStack({ onError: (name, err) => o.log(`stop ${name} failed: ${err.message}`) });
  try {
    const dbName = uniqueName('soak');
    const databaseUrl = await createDatabase(services.adminUrl, dbName);
    const pool = createPool(databaseUrl, 5);
    let keep = Boolean(process.env.SOAK_KEEP_DB);
    stops.push('database', async () => {
      await pool.end();
      if (!keep) await dropDatabase(services.adminUrl, dbName);
    });
    await installClaimLog(pool);
    const users = await seedUsers(pool, [...userEmails(o.users - o.bouncyUsers, 'soak.example.com'), ...userEmails(o.bouncyUsers, BOUNCY_DOMAIN)]);
    const sink = await stops.started('smtp sink', startSmtpSink());
    const connection = await Connection.connect({ address: services.temporalAddress });
    stops.push('temporal connection', () => connection.close());
    const client = new Client({ connection });
    const taskQueue = uniqueName('soak-tq');
    const notes: string[] = [];
    const baseEnv = workerEnv({
      databaseUrl,
      redisUrl: services.redisUrl,
      temporalAddress: services.temporalAddress,
      smtpHost: sink.host,
      smtpPort: sink.port,
      taskQueue,
      lockKeyPrefix: `${uniqueName('soak')}:`,
      smtpSocketTimeoutMs: 2_000,
      sendAttemptTimeoutMs: 4_000,
      jobsModule: JOBS_MODULE,
      // A 10 s lock: a pause of a few seconds is ridden out, a longer one loses the lock to the next tick.
      extra: {
        LOCK_TTL_MS: '10000', SHUTDOWN_GRACE_MS: '2000', REAPER_INTERVAL_MS: '5000',
        // The window keeper, quick and patient: faults come every few seconds here, so follow-ups are many.
        WINDOW_KEEPER_INTERVAL_MS: '2000', WINDOW_FOLLOW_UP_DELAY_MS: '3000', WINDOW_FOLLOW_UP_MAX_DELAY_MS: '20000', WINDOW_FOLLOW_UPS: '50',
      },
    });
    const workers = new WorkerPool({
      size: o.workers,
      bundles: [services.bundlePath, services.variantBundlePath!],
      deploymentName: deploymentNameFor(taskQueue),
      client,
      start: (env) => startWorkerProcess({ ...baseEnv, ...env }),
      note: (line) => void (notes.includes(line) || notes.push(line)),
    });
    stops.push('workers', () => workers.stopAll());
    await workers.fill();
    workers.supervise();
    const keepDatabase = () => void (keep = true);
    return { services, pool, sink, client, taskQueue, users, workers, notes, keepDatabase, close: () => stops.stopAll() };
  } catch (err) {
    await stops.stopAll();
    throw err;
  }
}
