/** job_runs: one row per batch run, written when it starts and when it ends (the run history). */
import type { Pool } from 'pg';
import { COUNT_NAMES, columnOf, zeroCounts, type RunCounts } from '../contract';

export interface RunStart {
  runId: string;
  workflowId: string;
  jobName: string;
  scheduledAt: Date;
  window: string;
}

export async function recordRunStart(pool: Pool, run: RunStart): Promise<void> {
  await pool.query(
    `INSERT INTO sendonce.job_runs (run_id, workflow_id, job_name, scheduled_at, window_key)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id) DO NOTHING`,
    [run.runId, run.workflowId, run.jobName, run.scheduledAt, run.window],
  );
}

export interface RunFinish {
  runId: string;
  outcome: string;
  reason?: string;
  fence?: number;
  counts: RunCounts;
  error?: string;
}

/** Every count has its column (src/contract/counts.ts): `processed = $6, sent = $7, …`. */
const COUNT_ASSIGNMENTS = COUNT_NAMES.map((name, i) => `${columnOf(name)} = $${i + 6}`).join(', ');

/**
 * Returns the run's duration in ms, measured by the database clock from the start row; null when the row was
 * already closed (`onlyIfRunning`: the reaper and the workflow must not both close one run).
 */
export async function recordRunFinish(pool: Pool, run: RunFinish, opts: { onlyIfRunning?: boolean } = {}): Promise<number | null> {
  const { rows } = await pool.query<{ duration_ms: number }>(
    `UPDATE sendonce.job_runs
        SET finished_at = now(), duration_ms = (extract(epoch FROM now() - started_at) * 1000)::int,
            outcome = $2, fence = COALESCE($3, fence), error = $4, reason = $5, ${COUNT_ASSIGNMENTS}
      WHERE run_id = $1 ${opts.onlyIfRunning ? "AND outcome = 'running'" : ''}
      RETURNING duration_ms`,
    [run.runId, run.outcome, run.fence ?? null, run.error ?? null, run.reason ?? null, ...COUNT_NAMES.map((name) => run.counts[name])],
  );
  return rows[0]?.duration_ms ?? (opts.onlyIfRunning ? null : 0);
}

/** The lock a run took: its fence and token (for the reaper and `sendonce lock status`). */
export async function recordLockTaken(pool: Pool, runId: string, lock: { token: string; fence: number }): Promise<void> {
  await pool.query('UPDATE sendonce.job_runs SET fence = $2, lock_token = $3 WHERE run_id = $1', [runId, lock.fence, lock.token]);
}

/**
 * What a run's claims left in email_sends — the counts of a run that ended without saying so itself (the rows
 * a run last claimed carry its run id). An open claim may have reached the server: counted unknown. Deduped and
 * suppressed recipients leave no trace, so they are not counted.
 */
export async function countsFromSends(pool: Pool, runId: string): Promise<RunCounts> {
  const { rows } = await pool.query<{ state: string; n: number }>(
    'SELECT state, count(*)::int AS n FROM sendonce.email_sends WHERE run_id = $1 GROUP BY state',
    [runId],
  );
  const n = (state: string) => rows.find((r) => r.state === state)?.n ?? 0;
  const counts = zeroCounts();
  counts.sent = n('sent');
  counts.dead = n('dead');
  counts.unknown = n('unknown') + n('claimed');
  counts.failed = counts.dead + counts.unknown + n('failed');
  counts.processed = counts.sent + counts.failed;
  return counts;
}
