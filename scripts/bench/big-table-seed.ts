/**
 * A realistic `email_sends` history in its own database (issue 13.4): BENCH_BIG_ROWS rows of the daily digest
 * over HISTORY_DAYS past days, written by ONE `INSERT … SELECT` over generate_series (day-major, so the table is
 * in creation-time order as a live one is, which the BRIN index that retention uses relies on), with the
 * migrations' indexes in place. Mostly `sent`; one key in a thousand `dead` (with its dead letter) and one
 * `unknown`, as bounces and lost replies leave them.
 */
import pg from 'pg';

/** Past days the history covers: 10 million rows = 100,000 users × 100 days. */
export const HISTORY_DAYS = 100;
/** The newest history day is this many days before today: well out of the daily windows still being sent. */
const NEWEST_DAYS_AGO = 3;
const DAY_MS = 86_400_000;

export interface BigTableSeed {
  rows: number;
  users: number;
  days: number;
  /** UTC midnight of the oldest day (day 0). */
  firstDay: Date;
  insertMs: number;
  deadLetters: number;
  deadLettersMs: number;
  vacuumMs: number;
  tableBytes: number;
  indexBytes: number;
}

const dayKey = (d: Date) => d.toISOString().slice(0, 10);

/** UTC midnight of history day `d` (0 = oldest). */
export function historyDay(seed: Pick<BigTableSeed, 'firstDay'>, d: number): Date {
  return new Date(seed.firstDay.getTime() + d * DAY_MS);
}

export async function seedHistory(url: string, rows: number, now = new Date()): Promise<BigTableSeed> {
  const days = Math.min(HISTORY_DAYS, rows);
  const users = Math.ceil(rows / days);
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const firstDay = new Date(today - (NEWEST_DAYS_AGO + days - 1) * DAY_MS);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    let t = Date.now();
    // Keys as src/sends/key.ts writes them, created during each day's tick (user u a few ms after u − 1).
    const inserted = await c.query(
      `INSERT INTO sendonce.email_sends
         (idempotency_key, job_name, template, recipient_id, window_key, state, attempts, fence, run_id, message_id,
          last_smtp_code, last_smtp_response, reason, created_at, updated_at, sent_at)
       SELECT k.key, 'daily-digest', 'daily-digest', u::text, k.win,
              CASE u % 1000 WHEN 0 THEN 'dead' WHEN 1 THEN 'unknown' ELSE 'sent' END, 1, d + 1, 'history-run-' || d,
              '<' || md5(k.key) || '@sendonce.local>',
              CASE u % 1000 WHEN 0 THEN 550 WHEN 1 THEN NULL ELSE 250 END,
              CASE u % 1000 WHEN 0 THEN '550 5.1.1 mailbox unavailable' WHEN 1 THEN NULL ELSE '250 2.0.0 Ok: queued as ' || left(md5(k.key), 12) END,
              CASE u % 1000 WHEN 1 THEN 'socket closed after DATA' END,
              k.at, k.at + interval '2 seconds', CASE WHEN u % 1000 > 1 THEN k.at + interval '1 second' END
         FROM generate_series(0, $2::int - 1) AS d
        CROSS JOIN LATERAL generate_series(1, LEAST($3::int, $1::int - d * $3::int)) AS u
        CROSS JOIN LATERAL (SELECT $4::timestamptz + d * interval '1 day' + u * interval '5 milliseconds' AS at,
                                   to_char($4::timestamptz + d * interval '1 day', 'YYYY-MM-DD') AS win) AS w
        CROSS JOIN LATERAL (SELECT 'email:daily-digest:' || u || ':' || w.win AS key, w.win, w.at) AS k`,
      [rows, days, users, firstDay.toISOString()],
    );
    if (inserted.rowCount !== rows) throw new Error(`big table: inserted ${inserted.rowCount} rows, expected ${rows}`);
    const insertMs = Date.now() - t;
    t = Date.now();
    const letters = await c.query(
      `INSERT INTO sendonce.dead_letters (idempotency_key, job_name, recipient_id, error_type, smtp_code, smtp_response, attempts, run_id, created_at)
       SELECT idempotency_key, job_name, recipient_id, 'PermanentSmtpError', 550, last_smtp_response, 1, run_id, created_at
         FROM sendonce.email_sends WHERE state = 'dead' ORDER BY created_at`,
    );
    const deadLettersMs = Date.now() - t;
    t = Date.now();
    // What autovacuum would have done to a table that grew over months: visibility map and statistics.
    await c.query('VACUUM ANALYZE sendonce.email_sends');
    await c.query('VACUUM ANALYZE sendonce.dead_letters');
    const vacuumMs = Date.now() - t;
    const size = await c.query<{ table: string; indexes: string }>(
      `SELECT pg_table_size('sendonce.email_sends')::text AS table, pg_indexes_size('sendonce.email_sends')::text AS indexes`,
    );
    return {
      rows,
      users,
      days,
      firstDay,
      insertMs,
      deadLetters: letters.rowCount ?? 0,
      deadLettersMs,
      vacuumMs,
      tableBytes: Number(size.rows[0]!.table),
      indexBytes: Number(size.rows[0]!.indexes),
    };
  } finally {
    await c.end();
  }
}

/** The window keys of days after the history (and after today): fresh keys for the claims measured. */
export function freshWindow(i: number, now = new Date()): string {
  return dayKey(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + (10 + i) * DAY_MS));
}
