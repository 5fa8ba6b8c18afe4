/**
 * The services a chaos run injects faults into, all on 127.0.0.1 and all private to the run: Postgres that can
 * crash (postgres.ts), a redis-server without persistence that can be killed and restarted on its port, and a
 * Temporal dev server on a SQLite file that can be killed and restarted without losing its workflows.
 * `npm test`'s smoke test builds the same ChaosServices from the shared test services, without the faults.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeWorkflowBundle } from '../bundle-workflows';
import { freePort } from '../../devkit/services/ports';
import { startRedisServer, type RedisServerHandle } from '../../devkit/services/redis';
import { startTemporalDevServer, type TemporalDevServerHandle } from '../../devkit/services/temporal';
import { startRestartablePostgres } from './postgres';

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
  urlFor(database: string): string;
  redisUrl: string;
  temporalAddress: string;
  /** Prebuilt workflow bundle the worker processes load (WORKFLOW_BUNDLE_PATH). */
  bundlePath: string;
  faults?: ServiceFaults;
}

export interface ChaosStack extends ChaosServices {
  faults: ServiceFaults;
  stop(): Promise<void>;
}

export async function startChaosStack(log: (line: string) => void): Promise<ChaosStack> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sendonce-chaos-'));
  fs.chmodSync(tmp, 0o755); // the postgres user must reach its data directory inside
  const stoppers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch((err: Error) => log(`stop failed: ${err.message}`));
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const [pgPort, redisPort, temporalPort] = [await freePort(), await freePort(), await freePort()];
    const dbFilename = path.join(tmp, 'temporal.db');
    // Started together; each one that did start is stopped again even when another one failed to.
    const track = <T extends { stop(): Promise<void> }>(p: Promise<T>) => p.then((h) => (stoppers.push(() => h.stop()), h));
    const started = [
      track(startRestartablePostgres(path.join(tmp, 'pg'), pgPort)),
      track(startRedisServer(redisPort)),
      track(startTemporalDevServer({ port: temporalPort, dbFilename })),
      writeWorkflowBundle(path.join(tmp, 'workflow-bundle.js')),
    ] as const;
    await Promise.allSettled(started);
    const [pg, firstRedis, firstTemporal, bundlePath] = await Promise.all(started);
    stoppers.length = 0; // from here on, restartable() owns the Redis and Temporal processes
    const services = restartable({ redis: firstRedis, temporal: firstTemporal, redisPort, temporalPort, dbFilename });
    stoppers.push(() => pg.stop(), services.stop);
    log(`postgres 127.0.0.1:${pgPort} (pg_ctl, ${path.join(tmp, 'pg')}); redis 127.0.0.1:${redisPort}; temporal 127.0.0.1:${temporalPort} (${dbFilename})`);
    const faults: ServiceFaults = {
      async restartPostgres(downMs) {
        await pg.stopImmediate();
        await sleep(downMs);
        await pg.start();
      },
      ...services.faults,
    };
    return {
      adminUrl: pg.adminUrl,
      urlFor: pg.urlFor,
      redisUrl: `redis://127.0.0.1:${redisPort}`,
      temporalAddress: `127.0.0.1:${temporalPort}`,
      bundlePath,
      faults,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface RestartableParts {
  redis: RedisServerHandle;
  temporal: TemporalDevServerHandle;
  redisPort: number;
  temporalPort: number;
  dbFilename: string;
}

/** Redis and Temporal faults: kill the current process, start a new one on the same port (and SQLite file). */
function restartable(parts: RestartableParts) {
  let redis: RedisServerHandle | undefined = parts.redis;
  let temporal = parts.temporal;
  const kill = async (child: ChildProcess) => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  const faults: Omit<ServiceFaults, 'restartPostgres'> = {
    async killRedis() {
      const r = redis;
      redis = undefined;
      if (r) await kill(r.process);
    },
    async startRedis() {
      redis ??= await startRedisServer(parts.redisPort);
    },
    async restartTemporal(downMs) {
      await kill(temporal.process);
      await sleep(downMs);
      temporal = await startTemporalDevServer({ port: parts.temporalPort, dbFilename: parts.dbFilename });
    },
  };
  const stop = async () => {
    await redis?.stop();
    await temporal.stop();
  };
  return { faults, stop };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
