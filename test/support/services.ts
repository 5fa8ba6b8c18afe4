/**
 * Access to the real services started by scripts/run-tests.ts, isolated per test file:
 * a fresh migrated database, a unique Redis key prefix, a unique Temporal task queue.
 */
import crypto from 'node:crypto';
import pg from 'pg';
import { createPool, type Pool } from '../../src/db/pool';
import { migrate } from '../../src/db/migrate';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run tests through \`npm test\` or \`node --import tsx scripts/run-tests.ts <file>\``);
  }
  return value;
}

export const pgAdminUrl = () => required('SENDONCE_TEST_PG_ADMIN_URL');
export const redisUrl = () => required('SENDONCE_TEST_REDIS_URL');
export const temporalAddress = () => required('SENDONCE_TEST_TEMPORAL_ADDRESS');
export const testTmpDir = () => required('SENDONCE_TEST_TMP');

/** A short unique suffix for names (databases, task queues, schedule ids, key prefixes). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(5).toString('hex')}`;
}

export interface TestDatabase {
  url: string;
  pool: Pool;
  /** Drops the database; keeps it (and says where) when KEEP_TEST_DB is set, to inspect a failure. */
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const name = uniqueName(prefix).toLowerCase();
  const admin = new pg.Client({ connectionString: pgAdminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(pgAdminUrl());
  url.pathname = `/${name}`;
  await migrate(url.toString());
  const pool = createPool(url.toString());
  return {
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      if (process.env.KEEP_TEST_DB) {
        console.log(`kept test database ${url.toString()}`);
        return;
      }
      const c = new pg.Client({ connectionString: pgAdminUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Poll `check` until it returns a truthy value or the deadline passes (never fixed sleeps). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
