/**
 * Databases on a local cluster (devkit/services/postgres.ts, or the cluster npm test shares): one per test file,
 * chaos repetition or benchmark scenario, migrated like production's (src/db/migrate.ts) and given the demo's
 * tables (devkit/demo/schema.sql: the recipients of the demo job and of most tests), dropped afterwards.
 */
import crypto from 'node:crypto';
import pg from 'pg';
import { migrate } from '../src/db/migrate';
import { applyDemoSchema } from './demo/schema';

/** A short unique suffix for names (databases, task queues, schedule ids, key prefixes, workflow ids). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(5).toString('hex')}`;
}

/** The connection string of `database` on the cluster of `adminUrl` (same host, port and credentials). */
export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export interface CreateDatabaseOptions {
  /** Apply the migrations (default true). */
  migrate?: boolean;
  /** Then make the demo's tables, users and digest_items (default: when migrating). */
  demo?: boolean;
  /**
   * A database of that name already there: 'fail' (default; names are unique), 'reuse' it (npm start keeps
   * its demo data) or 'replace' it (the benchmark's fixed names start empty).
   */
  existing?: 'fail' | 'reuse' | 'replace';
}

/** Create `name` on the cluster of `adminUrl`; returns its connection string. */
export async function createDatabase(adminUrl: string, name: string, options: CreateDatabaseOptions = {}): Promise<string> {
  const existing = options.existing ?? 'fail';
  await withAdmin(adminUrl, async (admin) => {
    if (existing === 'replace') await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    if (existing === 'reuse') {
      const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount !== 0) return;
    }
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  });
  const url = databaseUrl(adminUrl, name);
  if (options.migrate ?? true) await migrate(url);
  if (options.demo ?? options.migrate ?? true) await withAdmin(url, applyDemoSchema);
  return url;
}

/** Drop `name` even while connections are still open to it (a worker that was killed, say). */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
}

async function withAdmin<T>(adminUrl: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}
