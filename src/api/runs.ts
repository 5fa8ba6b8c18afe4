/** Run history from job_runs (one row per batch run, written at its start and end). */
import type { Pool } from 'pg';
import { COUNT_NAMES, columnOf, type RunCounts } from '../contract';

export interface RunRow extends RunCounts {
  runId: string;
  workflowId: string;
  jobName: string;
  scheduledAt: string;
  window: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  outcome: string;
  /** Why it was skipped, stopped or failed (locked, time_budget, …). */
  reason: string | null;
  error: string | null;
}

/** Every count's column under the count's own name (src/contract/counts.ts). */
const COUNT_COLUMNS = COUNT_NAMES.map((name) => `${columnOf(name)} AS "${name}"`).join(', ');

export async function listRuns(pool: Pool, opts: { job?: string; last?: number } = {}): Promise<RunRow[]> {
  const last = opts.last ?? 20;
  if (!Number.isInteger(last) || last < 1) throw new RangeError(`--last must be a positive whole number, got ${opts.last}`);
  const { rows } = await pool.query<RunRow>(
    `SELECT run_id AS "runId", workflow_id AS "workflowId", job_name AS "jobName",
            to_char(scheduled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "scheduledAt",
            window_key AS "window",
            to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "startedAt",
            to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "finishedAt",
            duration_ms AS "durationMs", outcome, reason, error, ${COUNT_COLUMNS}
       FROM sendonce.job_runs
      WHERE ($1::text IS NULL OR job_name = $1)
      ORDER BY started_at DESC
      LIMIT $2`,
    [opts.job ?? null, last],
  );
  return rows;
}
