/**
 * The services a chaos run injects faults into, all on 127.0.0.1 and all private to the run: Postgres that can
 * crash (devkit/services/postgres.ts, pg_ctl mode), a redis-server without persistence that can be killed and
 * restarted on its port, and a Temporal dev server on a SQLite file that can be killed and restarted without
 * losing its workflows. `npm test`'s smoke test builds the same ChaosServices from the shared test services,
 * without the faults.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeWorkflowBundle } from '../../src/workflow-bundle';
import { ONE_MORE_ACTIVITY_PER_PAGE, writeVariantBundle } from '../../devkit/variant-bundle';
import { startRestartablePostgres } from '../../devkit/services/postgres';
import { freePort } from '../../devkit/services/ports';
import { killChild } from '../../devkit/services/processes';
import { startRedisServer, type RedisServerHandle } from '../../devkit/services/redis';
import { startTemporalDevServer, type TemporalDevServerHandle } from '../../devkit/services/temporal';
import { allStarted, StopStack } from '../../devkit/stop-stack';

/** Faults on the services themselves; absent when the services are shared (npm test). */
export interface ServiceFaults {
  /** `pg_ctl -m immediate stop`, wait `downMs`, start again on the same port. */
  restartPostgres(downMs: number): Promise<void>;
  /** SIGKILL redis-server (no persistence: every key is gone). */
  killRedis(): Promise<void>;
  startRedis(): Promise<void>;
  /** SIGKILL the Temporal dev server, wait `downMs`, start it again on the same port and SQLite file. */
  restartTemporal(downMs: number): Promise<void>;
}

export interface ChaosServices {
  /** postgres:// URL of the maintenance database (each repetition creates its own database). */
  adminUrl: string;
  redisUrl: string;
  temporalAddress: string;
  /** Prebuilt workflow bundle the worker processes load (WORKFLOW_BUNDLE_PATH). */
  bundlePath: string;
  /** "Version 2" for the deploy scenarios: the bundle with one more activity per page (devkit/variant-bundle.ts). */
  variantBundlePath?: string;
  faults?: ServiceFaults;
}

export interface ChaosStack extends ChaosServices {
  faults: ServiceFaults;
  /** At stop(), move Postgres' data directory (stopped cleanly) to `dest` instead of deleting it. */
  keepDatabaseIn(dest: string): void;
  stop(): Promise<void>;
}

export async function startChaosStack(log: (line: string) => void): Promise<ChaosStack> {
  const stops = new StopStack({ onError: (_name, err) => log(`stop failed: ${err.message}`) });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sendonce-chaos-'));
  fs.chmodSync(tmp, 0o755); // the postgres user must reach its data directory inside
  let keepDatabaseIn: string | undefined;
  // Pushed first, so it runs last: Postgres has stopped by then and its data directory is consistent.
  stops.push('temp dir', () => {
    if (keepDatabaseIn) moveDirectory(path.join(tmp, 'pg'), keepDatabaseIn);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  try {
    const [pgPort, redisPort, temporalPort] = [await freePort(), await freePort(), await freePort()];
    const dbFilename = path.join(tmp, 'temporal.db');
    // The faults replace the Redis and Temporal processes: these own whichever one is current, and stop it.
    const redis = restartable(() => startRedisServer(redisPort));
    const temporal = restartable(() => startTemporalDevServer({ port: temporalPort, dbFilename }));
    stops.push('redis', () => redis.stop());
    stops.push('temporal', () => temporal.stop());
    // Started together; each one that did start is stopped again even when another one failed to.
    const [pg, , , bundlePath, variantBundlePath] = await allStarted([
      stops.started('postgres', startRestartablePostgres(path.join(tmp, 'pg'), pgPort)),
      redis.start(),
      temporal.start(),
      writeWorkflowBundle(path.join(tmp, 'workflow-bundle.js')),
      writeVariantBundle(path.join(tmp, 'workflow-bundle-v2.js'), [ONE_MORE_ACTIVITY_PER_PAGE]),
    ]);
    log(`postgres 127.0.0.1:${pgPort} (pg_ctl, ${pg.dataDir}); redis 127.0.0.1:${redisPort}; temporal 127.0.0.1:${temporalPort} (${dbFilename})`);
    const faults: ServiceFaults = {
      async restartPostgres(downMs) {
        await pg.stopImmediate();
        await sleep(downMs);
        await pg.start();
      },
      killRedis: () => redis.kill(),
      startRedis: () => redis.start(),
      async restartTemporal(downMs) {
        await temporal.kill();
        await sleep(downMs);
        await temporal.start();
      },
    };
    return {
      adminUrl: pg.adminUrl,
      redisUrl: `redis://127.0.0.1:${redisPort}`,
      temporalAddress: `127.0.0.1:${temporalPort}`,
      bundlePath,
      variantBundlePath,
      faults,
      keepDatabaseIn: (dest) => void (keepDatabaseIn = dest),
      stop: () => stops.stopAll(),
    };
  } catch (err) {
    await stops.stopAll();
    throw err;
  }
}

/** A service process that a fault can SIGKILL and start again on the same port (and, for Temporal, SQLite file). */
function restartable(startProcess: () => Promise<RedisServerHandle | TemporalDevServerHandle>) {
  let current: RedisServerHandle | TemporalDevServerHandle | undefined;
  return {
    async start(): Promise<void> {
      current ??= await startProcess();
    },
    async kill(): Promise<void> {
      const handle = current;
      current = undefined;
      if (handle) await killChild(handle.process);
    },
    async stop(): Promise<void> {
      await current?.stop();
    },
  };
}

/** rename(2) keeps the files' owner (the `postgres` user, as root); across file systems, a copy has to do. */
function moveDirectory(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  try {
    fs.renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    fs.cpSync(from, to, { recursive: true, preserveTimestamps: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
