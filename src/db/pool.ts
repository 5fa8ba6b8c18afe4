import pg from 'pg';

// bigint columns (fences, counts) come back as JS numbers: our values stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Pool = pg.Pool;

/**
 * sendonce's pool, shared by its own statements and the jobs' recipient queries. Its own SQL names its tables in
 * full (`sendonce.email_sends`, src/db/migrate.ts says why); the jobs' queries resolve names through the database's
 * search_path, as the application's do — except that the `sendonce` schema is taken out of it on every new
 * connection (KEEP_SENDONCE_SCHEMA_OUT). Why: the default search_path is `"$user", public`, and when the role is
 * named `sendonce` (docker-compose.yml, the devkit's Postgres) "$user" IS sendonce's schema, first in line: a job's
 * `FROM suppressions` would read sendonce's table instead of the application's. Everything else of the search_path
 * (an app schema first, say) is kept as it was configured.
 */
export function createPool(databaseUrl: string, max = 20): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: 5_000,
    // Awaited by pg-pool before the new connection is handed out; if it fails, so does that checkout (and its query).
    onConnect: async (client) => {
      await client.query(KEEP_SENDONCE_SCHEMA_OUT);
    },
  });
  // An idle client losing its connection (Postgres restart) must not crash the worker; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * The session's search_path without the `sendonce` schema: without an entry naming it, and without "$user" when the
 * role is called sendonce. Textual (not current_schemas()): entries for schemas made later, sendonce's own included,
 * keep their meaning. Nothing left: an empty search_path (unqualified names then fail, loudly).
 */
export const KEEP_SENDONCE_SCHEMA_OUT = `
  SELECT set_config('search_path', coalesce(string_agg(part, ', ' ORDER BY o), ''), false)
    FROM (SELECT btrim(p) AS part, o FROM unnest(string_to_array(current_setting('search_path'), ',')) WITH ORDINALITY AS t(p, o)) entries
   WHERE part NOT IN ('sendonce', '"sendonce"', '')
     AND NOT (part IN ('"$user"', '$user') AND current_user = 'sendonce')`;
