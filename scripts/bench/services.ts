/**
 * The benchmark's own services on free loopback ports: one embedded Postgres (with pg_stat_statements, to count
 * statements per email), one redis-server, one Temporal dev server. Everything started here is stopped by
 * stopAll() — also on Ctrl-C, SIGTERM and uncaught errors (see main.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDatabase } from '../../devkit/databases';
import { seedUsers as insertUsers, userEmails } from '../../devkit/seed';
import { startEmbeddedPostgres } from '../../devkit/services/postgres';
import { freePort } from '../../devkit/services/ports';
import { startRedisServer, type RedisServerHandle } from '../../devkit/services/redis';
import { startTemporalDevServer, type TemporalDevServerHandle } from '../../devkit/services/temporal';
import { allStarted, StopStack } from '../../devkit/stop-stack';

export interface Stack {
  tmp: string;
  pgPort: number;
  pgAdminUrl: string;
  pgUrl(db: string): string;
  /** postmaster pid (its children are found through /proc). */
  pgPid(): number;
  redis: RedisServerHandle;
  temporal: TemporalDevServerHandle;
  /** A fresh migrated database (replacing one of that name). */
  createDatabase(name: string): Promise<string>;
}

/** Everything this process starts (services, child processes, connections): main.ts stops it all, newest first. */
export const stops = new StopStack();

export async function startStack(log: (m: string) => void): Promise<Stack> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sendonce-bench-'));
  fs.chmodSync(tmp, 0o755); // embedded Postgres runs as the `postgres` user when we are root
  stops.push('temp dir', () => fs.rmSync(tmp, { recursive: true, force: true }));
  const [pgPort, redisPort, temporalPort] = [await freePort(), await freePort(), await freePort()];
  log(`starting postgres :${pgPort}, redis :${redisPort}, temporal :${temporalPort}`);
  const [postgres, redis, temporal] = await allStarted([
    // Same settings as the test cluster (scripts/run-tests.ts, unsafeFast), plus pg_stat_statements.
    stops.started('postgres', startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port: pgPort, unsafeFast: true, statementStats: true })),
    stops.started('redis', startRedisServer(redisPort)),
    stops.started('temporal', startTemporalDevServer({ port: temporalPort })),
  ]);
  return {
    tmp,
    pgPort,
    pgAdminUrl: postgres.adminUrl,
    pgUrl: postgres.urlFor,
    pgPid: postgres.pid,
    redis,
    temporal,
    createDatabase: (name) => createDatabase(postgres.adminUrl, name, { existing: 'replace' }),
  };
}

/** `n` demo users (ids 1..n, all opted in), as the daily-digest job reads them. */
export async function seedUsers(url: string, n: number): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('TRUNCATE users RESTART IDENTITY');
    await insertUsers(c, userEmails(n));
    await c.query('VACUUM ANALYZE users');
  } finally {
    await c.end();
  }
}

/** Forget every send, dead letter and run (fences stay: they only grow), so the next run starts clean. */
export async function resetSends(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('TRUNCATE email_sends, dead_letters, unknown_resolutions, job_runs');
    await c.query('VACUUM ANALYZE email_sends');
  } finally {
    await c.end();
  }
}

/** Make exactly the first `n` users eligible (digest_opt_in), for a run over n recipients. */
export async function eligible(url: string, n: number): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('UPDATE users SET digest_opt_in = (id <= $1) WHERE digest_opt_in IS DISTINCT FROM (id <= $1)', [n]);
    await c.query('VACUUM ANALYZE users');
  } finally {
    await c.end();
  }
}
