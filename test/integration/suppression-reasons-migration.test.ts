/**
 * Issue 29 (8), migration 0011 on real Postgres: suppressions written in the old shape (one row per job recipient
 * or address, the first reason only, 'operator') all stay, with their ids, times and details, 'operator' becoming
 * 'manual'; afterwards a second reason for the same address is its own row. Going down keeps one row per job
 * recipient or address again, the reason hardest to lift (an unsubscribe over a hard bounce).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import { migrate, MIGRATIONS_DIR, MIGRATIONS_TABLE, SCHEMA } from '../../src/db/migrate';
import { createDatabase, dropDatabase, uniqueName } from '../../devkit/databases';
import { pgAdminUrl } from '../../devkit/shared-services';

const migrations = fs.readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
const BEFORE = migrations.indexOf('0010_dead_letters_key.sql') + 1;

// Up to 0010 as a release of then did (every table and the migrations table in `public`): a deployment that
// upgrades from there. Down as this release does: its migrations table is in the `sendonce` schema (src/db/migrate.ts).
const upAsBefore = (url: string, count: number) =>
  runner({ databaseUrl: url, dir: MIGRATIONS_DIR, direction: 'up', count, migrationsTable: MIGRATIONS_TABLE, log: () => undefined });
const downNow = (url: string, count: number) =>
  runner({
    databaseUrl: url, dir: MIGRATIONS_DIR, direction: 'down', count, schema: [SCHEMA, 'public'], migrationsSchema: SCHEMA,
    migrationsTable: MIGRATIONS_TABLE, log: () => undefined,
  });

test('0011 keeps every existing suppression (operator → manual); then each reason is its own row; down keeps the hardest to lift', async (t) => {
  const name = uniqueName('supp_migration');
  const url = await createDatabase(pgAdminUrl(), name, { migrate: false });
  // `suppressions` is in `public` before 0015 and after going down past it, in `sendonce` in between.
  const pool = new pg.Pool({ connectionString: url, max: 2, options: '-c search_path=sendonce,public' });
  t.after(async () => {
    await pool.end();
    await dropDatabase(pgAdminUrl(), name);
  });
  assert.equal(BEFORE, 10, 'migration 0010 is found');
  await upAsBefore(url, BEFORE);
  await pool.query(
    `INSERT INTO suppressions (scope, job_name, recipient_id, address_hash, address, reason, detail, created_at) VALUES
       ('job',     'digest', '1', NULL, NULL,          'unsubscribe', NULL,               '2026-01-01T00:00:00Z'),
       ('address', 'digest', '2', 'h2', 'b@x.test',    'hard_bounce', '550 5.1.1 unknown', '2026-01-02T00:00:00Z'),
       ('address', NULL,     NULL, 'h3', 'c@x.test',   'operator',    'asked by phone',   '2026-01-03T00:00:00Z'),
       ('job',     'digest', '4', NULL, NULL,          'operator',    NULL,               '2026-01-04T00:00:00Z'),
       ('address', 'digest', '5', 'h5', NULL,          'unsubscribe', NULL,               '2026-01-05T00:00:00Z')`,
  );
  const read = async () =>
    (await pool.query<{ id: number; scope: string; job_name: string | null; recipient_id: string | null; address_hash: string | null; address: string | null; reason: string; detail: string | null; at: string }>(
      `SELECT id::int AS id, scope, job_name, recipient_id, address_hash, address, reason, detail, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS at
         FROM suppressions ORDER BY id`,
    )).rows;
  const before = await read();

  await migrate(url);
  assert.deepEqual(await read(), before.map((r) => ({ ...r, reason: r.reason === 'operator' ? 'manual' : r.reason })), 'every row kept as it was');

  // A second reason for the same address (unsubscribed after the bounce) and for the same job recipient: new rows.
  await pool.query(`INSERT INTO suppressions (scope, job_name, recipient_id, address_hash, reason) VALUES ('address', 'digest', '2', 'h2', 'unsubscribe'), ('job', 'digest', '1', NULL, 'manual')`);
  await assert.rejects(
    pool.query(`INSERT INTO suppressions (scope, address_hash, reason) VALUES ('address', 'h2', 'hard_bounce')`),
    /duplicate key value violates unique constraint "suppressions_address"/,
    'the same reason twice is still one row',
  );
  await assert.rejects(pool.query(`INSERT INTO suppressions (scope, address_hash, reason) VALUES ('address', 'h9', 'operator')`), /suppressions_reason_check/);
  await assert.rejects(
    pool.query(`INSERT INTO suppression_removals (suppression_id, scope, reason, created_at, removed_by) VALUES (1, 'job', 'unsubscribe', now(), 'x')`),
    /check constraint/,
    'an unsubscribe is never removed without a note',
  );

  await downNow(url, migrations.length - BEFORE);
  const down = await read();
  assert.deepEqual(down.map((r) => [r.id, r.scope, r.address_hash ?? r.recipient_id, r.reason]), [
    [1, 'job', '1', 'unsubscribe'],
    [3, 'address', 'h3', 'operator'],
    [4, 'job', '4', 'operator'],
    [5, 'address', 'h5', 'unsubscribe'],
    [6, 'address', 'h2', 'unsubscribe'],
  ], 'one row per job recipient or address; the unsubscribe wins over the bounce, and over a manual entry');
});
