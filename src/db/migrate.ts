/**
 * Applies src/db/migrations/*.sql with node-pg-migrate: numbered plain-SQL files, a migrations table, and an
 * advisory lock so two processes starting together (worker + `npm start`, parallel tests, compose's replicas) never
 * race: the later one waits for it (the library's default, 'fail', made the second replica of a new deployment
 * exit 1 and come back only through its restart policy; test/integration/migrate-together.test.ts).
 *
 * Every table of sendonce lives in its own schema, SCHEMA (`sendonce`), migrations table included
 * (sendonce.sendonce_migrations), so that the application's database keeps its own names: an app table called
 * `users` or `suppressions` in `public` is never shadowed, replaced or moved (issue 25; docs/deploying.md).
 * The migrations run with `search_path = sendonce, public`: on a new database every table is created in `sendonce`;
 * on a deployment from before (tables and migrations table in `public`) the pending older migrations still find
 * their tables in `public`, and 0015 moves them all. The migrations table itself has to move before node-pg-migrate
 * reads it (else it would find no migration applied and run them all again in `sendonce`): prepareSchema() does
 * that, under the same advisory lock the runner then takes again (the lock is re-entrant within a session).
 */
import path from 'node:path';
import pg from 'pg';
import { PG_MIGRATE_LOCK_ID, runner } from 'node-pg-migrate';

export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

/** sendonce's own schema. Its SQL names every table of it in full (`sendonce.email_sends`): see SCHEMA_NOTE below. */
export const SCHEMA = 'sendonce';
export const MIGRATIONS_TABLE = 'sendonce_migrations';

// SCHEMA_NOTE — why schema-qualified SQL, not a search_path on sendonce's pool: jobs' recipient queries run on the
// same pool (JobDefinition.recipientPage(db) / loadRecipient(db)) and read the application's tables by the names
// the application uses. A pool-wide `search_path = sendonce, …` would make a job's `FROM sendonce.suppressions` read
// sendonce's table when the application has one of that name; `…, sendonce` would do the same to sendonce's queries.
// So the pool keeps the database's own search_path (the application's), and sendonce's SQL says `sendonce.<table>`.

export interface MigrateOptions {
  /** Apply at most this many pending migrations (tests that stop at an older version); default all. */
  count?: number;
}

export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [String(PG_MIGRATE_LOCK_ID)]);
    try {
      await prepareSchema(client);
      const applied = await runner({
        dbClient: client,
        dir: MIGRATIONS_DIR,
        direction: 'up',
        ...(options.count === undefined ? {} : { count: options.count }),
        schema: [SCHEMA, 'public'],
        migrationsSchema: SCHEMA,
        migrationsTable: MIGRATIONS_TABLE,
        log: () => undefined,
        noLock: false,
        advisoryLockMode: 'wait',
      });
      return applied.map((m) => m.name);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [String(PG_MIGRATE_LOCK_ID)]);
    }
  } finally {
    await client.end();
  }
}

/**
 * Under the migration lock: the schema, made only when missing (a role without CREATE on the database can use one
 * made for it: `CREATE SCHEMA sendonce AUTHORIZATION <role>`), and the migrations table of a deployment from before
 * 0015 moved from `public` into it. If both exist (an older sendonce started against the database after the move
 * made a new one in `public`), the one in the schema is the real one and the other is left alone.
 */
async function prepareSchema(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ schema: boolean; old: boolean; current: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema,
            to_regclass(format('public.%I', $2::text)) IS NOT NULL AS old,
            to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL AS current`,
    [SCHEMA, MIGRATIONS_TABLE],
  );
  const { schema, old, current } = rows[0]!;
  if (!schema) await client.query(`CREATE SCHEMA ${pg.escapeIdentifier(SCHEMA)}`);
  if (old && !current) await client.query(`ALTER TABLE public.${pg.escapeIdentifier(MIGRATIONS_TABLE)} SET SCHEMA ${pg.escapeIdentifier(SCHEMA)}`);
}
