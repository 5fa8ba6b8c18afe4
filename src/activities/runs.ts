/** job_runs: one row per batch run, written when it starts and when it ends (the run history). */
import type { Pool } from 'pg';
import { COUNT_NAMES, columnOf, type RunCounts } from '../contract';

export interface RunStart {
  runId: string;
  workflowId: string;
  jobName: string;
  scheduledAt: Date;
  window: string;
}

export async function recordRunStart(pool: Pool, run: RunStart): Promise<void> {
  await pool.query(
    `INSERT INTO job_runs (run_id, workflow_id, job_name, scheduled_at, window_key)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id) DO NOTHING`,
    [run.runId, run.workflowId, run.jobName, run.scheduledAt, run.window],
  );
}

export interface RunFinish {
  runId: string;
  outcome: string;
  fence?: number;
  counts: RunCounts;
  error?: string;
}

/** Every count has its column (src/contract/counts.ts): `sent = $5, deduped = $6, …`. */
const COUNT_ASSIGNMENTS = COUNT_NAMES.map((name, i) => `${columnOf(name)} = $${i + 5}`).join(', ');

/** Returns the run's duration in ms, measured by the database clock from the start row. */
export async function recordRunFinish(pool: Pool, run: RunFinish): Promise<number> {
  const { rows } = await pool.query<{ duration_ms: number }>(
    `UPDATE job_runs
        SET finished_at = now(), duration_ms = (extract(epoch FROM now() - started_at) * 1000)::int,
            outcome = $2, fence = $3, error = $4, ${COUNT_ASSIGNMENTS}
      WHERE run_id = $1
      RETURNING duration_ms`,
    [run.runId, run.outcome, run.fence ?? null, run.error ?? null, ...COUNT_NAMES.map((name) => run.counts[name])],
  );
  return rows[0]?.duration_ms ?? 0;
}
