/** job_runs: one row per batch run, written when it starts and when it ends (the run history). */
import type { Pool } from 'pg';
import type { RunStats } from '../workflows/types';

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
  stats: RunStats;
  error?: string;
}

/** Returns the run's duration in ms, measured by the database clock from the start row. */
export async function recordRunFinish(pool: Pool, run: RunFinish): Promise<number> {
  const s = run.stats;
  const { rows } = await pool.query<{ duration_ms: number }>(
    `UPDATE job_runs
        SET finished_at = now(), duration_ms = (extract(epoch FROM now() - started_at) * 1000)::int,
            outcome = $2, fence = $3, processed_count = $4, sent_count = $5, skipped_dedupe_count = $6,
            failed_count = $7, dead_lettered_count = $8, unknown_count = $9, error = $10
      WHERE run_id = $1
      RETURNING duration_ms`,
    [run.runId, run.outcome, run.fence ?? null, s.processedCount, s.sentCount, s.skippedDedupeCount, s.failedCount,
      s.deadLetteredCount, s.unknownCount, run.error ?? null],
  );
  return rows[0]?.duration_ms ?? 0;
}
