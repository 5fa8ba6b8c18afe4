/**
 * Issue 25 on real Postgres: every sendonce table lives in the `sendonce` schema, and the application's own tables
 * keep their names in `public` — also the ones called like sendonce's (`suppressions`).
 *   - A deployment from before (migrated to 0014 by a release of then: tables and migrations table in `public`, with
 *     rows) upgrades: two processes migrate it at once, 0015 runs once, every row, index, constraint and sequence is
 *     in `sendonce`, and only the application's table is left in `public`.
 *   - A new database whose application already has `users` and `suppressions` tables: sendonce starts, and
 *     nothing of it is in `public`.
 * In both, a job's recipient query reads the application's `suppressions` while sendonce's checks read its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { runner } from 'node-pg-migrate';
import { readRecipientPage } from '../../src/activities/fetch-recipient-page';
import { migrate, MIGRATIONS_DIR, MIGRATIONS_TABLE } from '../../src/db/migrate';
import { createPool, type Pool } from '../../src/db/pool';
import type { JobDefinition } from '../../src/jobs';
import { recordSuppression } from '../../src/suppressions/store';
import { dailyDigest } from '../../devkit/demo/daily-digest';
import { createDatabase, dropDatabase, uniqueName } from '../../devkit/databases';
import { pgAdminUrl } from '../../devkit/shared-services';

const MIGRATIONS = fs.readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
const BEFORE_SCHEMA = MIGRATIONS.indexOf('0014_window_ledger.sql') + 1;

const PRODUCT_TABLES = [
  'dead_letters', 'email_sends', 'job_fences', 'job_leases', 'job_runs', 'job_windows', 'retention_horizon', 'scheduled_emails',
  'suppression_removals', 'suppressions', 'unknown_resolutions', 'window_expired_recipients',
];

/** The application's tables: its users, and its own idea of suppressions (same name as sendonce's, other columns). */
const APP_USERS = `
  CREATE TABLE public.users (id bigserial PRIMARY KEY, email text NOT NULL, name text NOT NULL, digest_opt_in boolean NOT NULL DEFAULT true);
  INSERT INTO public.users (email, name) SELECT 'app' || n || '@example.com', 'App ' || n FROM generate_series(1, 5) AS n;`;
const APP_SUPPRESSIONS = `
  CREATE TABLE public.suppressions (user_id bigint PRIMARY KEY, why text NOT NULL);
  INSERT INTO public.suppressions VALUES (3, 'the app''s own: asked support');`;

/** A job as a user writes one: unqualified names, the database's search_path — here the app's users and suppressions. */
const appJob: JobDefinition = {
  ...dailyDigest,
  name: 'app-digest',
  async recipientPage(db, { afterId, limit }) {
    const { rows } = await db.query<{ id: string }>(
      `SELECT u.id::text AS id FROM users u
        WHERE NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.user_id = u.id) AND ($1::bigint IS NULL OR u.id > $1::bigint)
        ORDER BY u.id LIMIT $2`,
      [afterId, limit],
    );
    return rows.map((r) => r.id);
  },
};

async function tablesIn(pool: Pool, schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema]);
  return rows.map((r) => r.table_name);
}

/** The app's job reads the app's tables; sendonce's unsubscribe check (same page) reads sendonce.suppressions. */
async function assertJobReadsAppTables(pool: Pool): Promise<void> {
  await recordSuppression(pool, { scope: 'job', jobName: appJob.name, recipientId: '2', reason: 'unsubscribe' });
  const page = await readRecipientPage(pool, appJob, {
    jobName: appJob.name, runId: 'r1', afterId: null, limit: 10, window: '2026-01-01', scheduledAt: '2026-01-01T00:00:00Z',
  }, { filterFinished: true });
  assert.deepEqual(page.toSend, ['1', '4', '5'], "3 left out by the app's suppressions, 2 by sendonce's");
  assert.equal(page.suppressed, 1);
}

async function freshDatabase(t: { after(fn: () => Promise<void>): void }, prefix: string) {
  const name = uniqueName(prefix);
  const url = await createDatabase(pgAdminUrl(), name, { migrate: false });
  // The worker's pool (src/db/pool.ts). The devkit's role is called sendonce, as in docker-compose.yml: the default
  // search_path's "$user" then names sendonce's schema, which that pool takes out for the jobs' queries.
  const pool = createPool(url, 3);
  t.after(async () => {
    await pool.end();
    await dropDatabase(pgAdminUrl(), name);
  });
  return { url, pool };
}

test('a deployment migrated to 0014 (tables in public, with rows) moves into the sendonce schema, rows and all', async (t) => {
  const { url, pool } = await freshDatabase(t, 'schema_upgrade');
  assert.equal(BEFORE_SCHEMA, 14, 'migration 0014 is found');
  await pool.query(APP_USERS);
  // As a release before 0015 migrated: node-pg-migrate's defaults, everything in public.
  await runner({ databaseUrl: url, dir: MIGRATIONS_DIR, direction: 'up', count: BEFORE_SCHEMA, migrationsTable: MIGRATIONS_TABLE, log: () => undefined });
  assert.deepEqual(await tablesIn(pool, 'public'), [...PRODUCT_TABLES, MIGRATIONS_TABLE, 'users'].sort());
  await pool.query(`
    INSERT INTO email_sends (idempotency_key, job_name, template, recipient_id, window_key, state, fence, run_id, message_id)
      VALUES ('email:t:1:w', 'old-job', 't', '1', 'w', 'dead', 1, 'run-1', 'm1'), ('email:t:2:w', 'old-job', 't', '2', 'w', 'sent', 1, 'run-1', 'm2');
    INSERT INTO dead_letters (idempotency_key, job_name, recipient_id, error_type, attempts, run_id) VALUES ('email:t:1:w', 'old-job', '1', 'smtp', 3, 'run-1');
    INSERT INTO job_runs (run_id, workflow_id, job_name, scheduled_at, window_key, outcome) VALUES ('run-1', 'wf-1', 'old-job', now(), 'w', 'completed');
    INSERT INTO job_windows (job_name, window_key, template, state) VALUES ('old-job', 'w', 't', 'complete');
    INSERT INTO scheduled_emails (email, template, due_at) VALUES ('later@example.com', 'notice', now());
    INSERT INTO suppressions (scope, address_hash, address, reason) VALUES ('address', 'h1', 'gone@example.com', 'hard_bounce');`);

  // Two replicas of the new release start together: one moves everything, the other waits and finds nothing to do.
  const applied = await Promise.all([migrate(url), migrate(url)]);
  assert.deepEqual(applied.flat(), [MIGRATIONS[14]!.replace(/\.sql$/, '')], 'only 0015 ran, once');
  assert.deepEqual(await migrate(url), [], 'and again: nothing');

  assert.deepEqual(await tablesIn(pool, 'public'), ['users'], "only the application's table is left in public");
  assert.deepEqual(await tablesIn(pool, 'sendonce'), [...PRODUCT_TABLES, MIGRATIONS_TABLE].sort());
  const { rows: ran } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sendonce.${MIGRATIONS_TABLE}`);
  assert.equal(ran[0]!.n, MIGRATIONS.length, 'the migrations table moved with its rows (nothing ran twice)');
  const count = async (table: string) => (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sendonce.${table}`)).rows[0]!.n;
  assert.deepEqual(
    Object.fromEntries(await Promise.all(['email_sends', 'dead_letters', 'job_runs', 'job_windows', 'scheduled_emails', 'suppressions'].map(async (tb) => [tb, await count(tb)]))),
    { email_sends: 2, dead_letters: 1, job_runs: 1, job_windows: 1, scheduled_emails: 1, suppressions: 1 },
  );
  assert.equal((await pool.query('SELECT 1 FROM public.users')).rowCount, 5, "the application's rows are untouched");

  // Indexes, constraints and sequences came along.
  const { rows: indexes } = await pool.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = 'sendonce' AND indexname IN ('suppressions_address', 'dead_letters_key', 'job_windows_unsettled')`);
  assert.equal(indexes.length, 3);
  const { rows: next } = await pool.query<{ id: number }>(`INSERT INTO sendonce.suppressions (scope, address_hash, reason) VALUES ('address', 'h2', 'unsubscribe') RETURNING id::int AS id`);
  assert.equal(next[0]!.id, 2, 'the id sequence went along and goes on');
  await assert.rejects(pool.query(`INSERT INTO sendonce.dead_letters (idempotency_key, job_name, recipient_id, error_type, attempts, run_id) VALUES ('nope', 'j', '1', 'x', 1, 'r')`), /dead_letters_idempotency_key_fkey/);
  await assert.rejects(pool.query(`INSERT INTO sendonce.suppressions (scope, address_hash, reason) VALUES ('address', 'h1', 'hard_bounce')`), /suppressions_address/);
  const { rows: seqs } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = 'public'`);
  assert.equal(seqs[0]!.n, 1, "public keeps one sequence: the application's users_id_seq");

  // The application can have a `suppressions` table of its own now, and its jobs read it by that name.
  await pool.query(APP_SUPPRESSIONS);
  await assertJobReadsAppTables(pool);
});

test('a new database whose application has users and suppressions: sendonce migrates beside them, nothing of it in public', async (t) => {
  const { url, pool } = await freshDatabase(t, 'schema_fresh');
  await pool.query(APP_USERS + APP_SUPPRESSIONS);
  const applied = await migrate(url);
  assert.equal(applied.length, MIGRATIONS.length);
  assert.deepEqual(await tablesIn(pool, 'public'), ['suppressions', 'users'], "public has the application's tables only");
  assert.deepEqual(await tablesIn(pool, 'sendonce'), [...PRODUCT_TABLES, MIGRATIONS_TABLE].sort());
  const { rows } = await pool.query<{ why: string }>('SELECT why FROM public.suppressions');
  assert.deepEqual(rows, [{ why: "the app's own: asked support" }]);
  await assertJobReadsAppTables(pool);
});
