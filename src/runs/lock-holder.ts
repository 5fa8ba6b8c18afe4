/**
 * Who holds a job's lock, in terms a person can act on: the run that recorded the lock's token in job_runs
 * (recordLockTaken), and what is wrong with the lock, if anything. Used by the acquireLock activity (a skipped
 * run's reason) and by `sendonce lock status`.
 */
import type { Pool } from 'pg';
import type { LockHolder } from '../lock';

export interface HolderRun {
  runId: string;
  workflowId: string;
  /** `running`, or how it ended (the lock should then have been released, or expire by its TTL). */
  outcome: string;
  startedAt: string;
  fence: number | null;
}

/**
 * Why a run was skipped because of the lock:
 * - `locked`: another run holds it (the normal case: SKIP could not see that run);
 * - `locked_no_expiry`: the lock has no TTL — set by hand or by foreign code — and never frees itself;
 * - `locked_unknown_holder`: no run recorded its token (set by hand, or its run's row is gone).
 * The last two need a person: `sendonce lock status --job J`, then `sendonce lock break --job J`.
 */
export type LockSkipReason = 'locked' | 'locked_no_expiry' | 'locked_unknown_holder';

export async function runHoldingToken(pool: Pool, jobName: string, token: string): Promise<HolderRun | undefined> {
  const { rows } = await pool.query<HolderRun>(
    `SELECT run_id AS "runId", workflow_id AS "workflowId", outcome, fence::int AS fence,
            to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "startedAt"
       FROM sendonce.job_runs WHERE job_name = $1 AND lock_token = $2
      ORDER BY started_at DESC LIMIT 1`,
    [jobName, token],
  );
  return rows[0];
}

/** A lock without expiry is the worse problem (it never clears), so it is named first. */
export function skipReasonFor(holder: LockHolder | null, run: HolderRun | undefined): LockSkipReason {
  if (!holder) return 'locked'; // released between our attempt and the look: the next tick takes it
  if (holder.ttlMs === null) return 'locked_no_expiry';
  if (!run) return 'locked_unknown_holder';
  return 'locked';
}
