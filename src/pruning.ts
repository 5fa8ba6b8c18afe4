/**
 * Retention: deletes what a closed window no longer needs — finished email_sends rows (sent, dead, unknown) with
 * their dead letters and unknown-resolutions, the scheduled_emails rows of one-off emails that are finished, and
 * finished job_runs — older than a horizon, in small batches (one short statement each: no long locks).
 *
 * A pruned key could be sent again by a backfill of its tick, so the horizon is written BEFORE anything is
 * deleted, and backfill refuses ticks before it (src/api/schedules.ts). Open keys (claimed, failed, released) are
 * never pruned. Why deletes and not monthly partitions: the key is the primary key and must stay unique across all
 * windows (partitions would need the window in every unique index and in every claim); BENCHMARKS.md measures
 * the batched delete on a 10-million-row table.
 */
import type { Pool } from 'pg';
import { ConfigError } from './errors';
import type { JobDefinition } from './jobs';

export interface PruneOptions {
  /** Rows created before now − olderThanMs go. */
  olderThanMs: number;
  /** Rows per statement (default 5,000). */
  batchSize?: number;
  now?: Date;
  /** Called after every batch (a heartbeat, a progress line). */
  onBatch?: (deletedSoFar: number) => void;
}

export interface PruneResult {
  /** Rows created before this are gone. */
  horizon: string;
  emailSends: number;
  deadLetters: number;
  scheduledEmails: number;
  jobRuns: number;
}

const HOUR = 3_600_000;

/**
 * The shortest retention that cannot remove a key of a window still being sent: a row of today's daily window can
 * be a day old (and a zone ahead of UTC adds hours), so daily windows need two days; hourly and per-tick windows
 * two hours. (One-off keys go together with their scheduled row, so they cannot be sent again.)
 */
export function minimumRetentionMs(jobs: readonly Pick<JobDefinition, 'window'>[]): number {
  return jobs.some((j) => j.window.granularity === 'daily') ? 48 * HOUR : 2 * HOUR;
}

export async function prune(pool: Pool, jobs: readonly JobDefinition[], opts: PruneOptions): Promise<PruneResult> {
  const minimum = minimumRetentionMs(jobs);
  if (!(opts.olderThanMs >= minimum)) {
    throw new ConfigError(`retention of ${opts.olderThanMs / HOUR} h is too short: these jobs' windows need at least ${minimum / HOUR} h, or keys of windows still being sent would go and be sent again`);
  }
  const horizon = new Date((opts.now ?? new Date()).getTime() - opts.olderThanMs);
  await pool.query(
    `INSERT INTO sendonce.retention_horizon (pruned_before) VALUES ($1)
     ON CONFLICT (singleton) DO UPDATE SET pruned_before = GREATEST(retention_horizon.pruned_before, EXCLUDED.pruned_before), updated_at = now()`,
    [horizon],
  );
  const batch = opts.batchSize ?? 5_000;
  const result: PruneResult = { horizon: horizon.toISOString(), emailSends: 0, deadLetters: 0, scheduledEmails: 0, jobRuns: 0 };
  for (;;) {
    const { rows } = await pool.query<{ sends: number; letters: number; scheduled: number }>(PRUNE_SENDS_BATCH, [horizon, batch]);
    const r = rows[0]!;
    result.emailSends += r.sends;
    result.deadLetters += r.letters;
    result.scheduledEmails += r.scheduled;
    opts.onBatch?.(result.emailSends + result.jobRuns);
    if (r.sends < batch) break;
  }
  // The windows' template records go with their windows (a once window's stays, like its keys).
  await pool.query(`DELETE FROM sendonce.job_windows WHERE created_at < $1 AND window_key <> 'once'`, [horizon]);
  for (;;) {
    const { rowCount } = await pool.query(PRUNE_RUNS_BATCH, [horizon, batch]);
    result.jobRuns += rowCount ?? 0;
    opts.onBatch?.(result.emailSends + result.jobRuns);
    if ((rowCount ?? 0) < batch) break;
  }
  return result;
}

/**
 * One batch, one statement: the finished keys created before the horizon, their dead letters, and the one-off
 * rows they were sent for (a once-window key and its scheduled row go together, or the row would be sent again).
 * A once-window key with no one-off row is a recurring job's "once ever" (a welcome email): it is never pruned,
 * or that person would get it again on the job's next tick.
 * unknown_resolutions follow by ON DELETE CASCADE. SKIP LOCKED: a key a send is working on right now is left for
 * the next prune.
 */
const PRUNE_SENDS_BATCH = `
  WITH doomed AS (
    SELECT idempotency_key, template, recipient_id, window_key FROM sendonce.email_sends
     WHERE created_at < $1 AND state IN ('sent', 'dead', 'unknown')
       AND (window_key <> 'once' OR EXISTS (
             SELECT 1 FROM sendonce.scheduled_emails s
              WHERE s.template = email_sends.template
                AND s.id = CASE WHEN email_sends.recipient_id ~ '^[0-9]{1,18}$' THEN email_sends.recipient_id::bigint END))
     LIMIT $2 FOR UPDATE SKIP LOCKED
  ), letters AS (
    DELETE FROM sendonce.dead_letters d USING doomed WHERE d.idempotency_key = doomed.idempotency_key RETURNING 1
  ), scheduled AS (
    DELETE FROM sendonce.scheduled_emails s USING doomed
     WHERE doomed.window_key = 'once' AND s.template = doomed.template AND s.id::text = doomed.recipient_id
    RETURNING 1
  ), sends AS (
    DELETE FROM sendonce.email_sends e USING doomed WHERE e.idempotency_key = doomed.idempotency_key RETURNING 1
  )
  SELECT (SELECT count(*) FROM sends)::int AS sends, (SELECT count(*) FROM letters)::int AS letters,
         (SELECT count(*) FROM scheduled)::int AS scheduled`;

const PRUNE_RUNS_BATCH = `
  DELETE FROM sendonce.job_runs WHERE run_id IN (
    SELECT run_id FROM sendonce.job_runs WHERE started_at < $1 AND outcome <> 'running' LIMIT $2 FOR UPDATE SKIP LOCKED
  )`;

/** How long after its window starts a tick can be: a tick's window may hold rows created up to this much before it. */
const WINDOW_REACH_MS: Record<JobDefinition['window']['granularity'], number | null> = {
  daily: 26 * HOUR, // a day, and a DST change
  hourly: 2 * HOUR,
  tick: 0,
  // Never pruned apart from their one-off row (PRUNE_SENDS_BATCH): a once key is always there to dedupe against.
  once: null,
};

/**
 * The earliest tick whose window retention has left whole (and the horizon it follows from); null when no tick is
 * at risk (nothing was pruned yet, or once windows). A run of an earlier tick would find its keys gone and send
 * them again.
 */
export async function earliestKeptTick(
  pool: Pool,
  granularity: JobDefinition['window']['granularity'],
): Promise<{ tick: Date; horizon: Date } | null> {
  const reach = WINDOW_REACH_MS[granularity];
  if (reach === null) return null;
  const horizon = await retentionHorizon(pool);
  return horizon === null ? null : { tick: new Date(horizon.getTime() + reach), horizon };
}

/** Rows created before this may be gone (null: nothing was ever pruned). */
export async function retentionHorizon(pool: Pool): Promise<Date | null> {
  const { rows } = await pool.query<{ pruned_before: Date }>('SELECT pruned_before FROM sendonce.retention_horizon');
  return rows[0]?.pruned_before ?? null;
}
