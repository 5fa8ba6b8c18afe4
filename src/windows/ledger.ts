/**
 * The window ledger (job_windows): for each job and window, whether it is open, complete, incomplete (a run
 * ended early: why, and how many are still unsent) or expired (its deadline passed first). Runs write it at
 * their start and end (startRun, finishRun, the reaper); the keeper (keeper.ts) reads it to start follow-up runs
 * and to expire windows; `sendonce windows` lists it. One short statement per transition.
 */
import type { Pool } from 'pg';
import type { RunOutcome, RunReason } from '../contract';

export const WINDOW_STATES = ['open', 'complete', 'incomplete', 'expired'] as const;
export type WindowState = (typeof WINDOW_STATES)[number];

/** How follow-ups are spaced and bounded (WINDOW_FOLLOW_UP_* in src/config.ts). */
export interface FollowUpPolicy {
  /** Delay before the first follow-up; each next one waits twice as long… */
  firstDelayMs: number;
  /** …up to this. */
  maxDelayMs: number;
  /** Follow-ups per window; after that the window waits for a person, or its deadline. */
  maxFollowUps: number;
}

export const DEFAULT_FOLLOW_UP_POLICY: FollowUpPolicy = { firstDelayMs: 30_000, maxDelayMs: 600_000, maxFollowUps: 8 };

export interface WindowAtStart {
  state: WindowState;
  deadline: Date | null;
}

/**
 * At a run's start (after the window's template is recorded, src/sends/window-template.ts): fill in when the
 * window began and its deadline, and reopen it if an earlier run left it incomplete — unless this is a redrive,
 * which sends a few named recipients and says nothing about the rest of the window. A complete window stays
 * complete until this run ends (its end writes the new state): a tick that is skipped must not reopen it.
 */
export async function openWindow(
  pool: Pool,
  w: { jobName: string; window: string; scheduledAt: Date; deadline: Date | null; runId: string; redrive: boolean },
): Promise<WindowAtStart> {
  const { rows } = await pool.query<{ state: WindowState; deadline: Date | null }>(
    `UPDATE sendonce.job_windows
        SET scheduled_at = COALESCE(scheduled_at, $3), deadline = COALESCE(deadline, $4),
            state = CASE WHEN state = 'incomplete' AND NOT $6::boolean THEN 'open' ELSE state END,
            last_run_id = CASE WHEN $6::boolean THEN last_run_id ELSE $5 END, updated_at = now()
      WHERE job_name = $1 AND window_key = $2
      RETURNING state, deadline`,
    [w.jobName, w.window, w.scheduledAt, w.deadline, w.runId, w.redrive],
  );
  return rows[0] ?? { state: 'open', deadline: w.deadline };
}

export interface RunEnding {
  jobName: string;
  window: string;
  runId: string;
  outcome: RunOutcome;
  /** The run's reason (RunReason), or why it was closed by someone else (`closed_by_reaper`). */
  reason?: RunReason | 'closed_by_reaper' | undefined;
  /** A redrive of named recipients: the window's state is not its business. */
  redrive?: boolean;
  /** Nothing a follow-up could fix (a configuration error, a cancel): the window waits for a person. */
  needsPerson?: boolean;
}

/** Skips that leave a window unsent for a while (a lock held elsewhere, or unreachable), not for good. */
const PASSING_SKIPS: readonly string[] = ['locked', 'locked_no_expiry', 'locked_unknown_holder', 'lock_unavailable'];

/**
 * A run's ending, in its window's row: `completed` completes it; an early ending makes it incomplete with a
 * follow-up due after the backoff; a passing skip does the same, but only for a window no run is working on.
 * Returns the state written, or null when the row was left as it was.
 */
export async function recordRunEnding(pool: Pool, end: RunEnding, policy: FollowUpPolicy = DEFAULT_FOLLOW_UP_POLICY): Promise<WindowState | null> {
  if (end.redrive) return null;
  if (end.outcome === 'completed') {
    const { rowCount } = await pool.query(
      `UPDATE sendonce.job_windows SET state = 'complete', reason = NULL, unsent = 0, next_follow_up_at = NULL, last_run_id = $3, updated_at = now()
        WHERE job_name = $1 AND window_key = $2 AND state <> 'expired'`,
      [end.jobName, end.window, end.runId],
    );
    return rowCount ? 'complete' : null;
  }
  const skipped = end.outcome === 'skipped';
  if (skipped && !PASSING_SKIPS.includes(end.reason ?? '')) return null;
  const { rowCount } = await pool.query(
    `UPDATE sendonce.job_windows
        SET state = 'incomplete', reason = $4, last_run_id = $3, unsent = NULL, updated_at = now(),
            next_follow_up_at = CASE WHEN $5::boolean THEN NULL
              ELSE now() + make_interval(secs => LEAST($6::float8 * power(2, follow_ups), $7::float8) / 1000) END
      WHERE job_name = $1 AND window_key = $2 AND state IN ('open', 'incomplete', 'complete')
        AND (NOT $8::boolean OR (state = 'open' AND NOT EXISTS (
              SELECT 1 FROM sendonce.job_runs r WHERE r.job_name = $1 AND r.window_key = $2 AND r.outcome = 'running' AND r.run_id <> $3)))`,
    [end.jobName, end.window, end.runId, end.reason ? `${end.outcome}: ${end.reason}` : end.outcome, Boolean(end.needsPerson), policy.firstDelayMs, policy.maxDelayMs, skipped],
  );
  return rowCount ? 'incomplete' : null;
}

export interface WindowRow {
  jobName: string;
  window: string;
  state: WindowState;
  scheduledAt: Date | null;
  deadline: Date | null;
  reason: string | null;
  unsent: number | null;
  expired: number | null;
  followUps: number;
  nextFollowUpAt: Date | null;
  lastRunId: string | null;
  updatedAt: Date;
}

const ROW_COLUMNS = `job_name AS "jobName", window_key AS "window", state, scheduled_at AS "scheduledAt", deadline, reason, unsent,
  expired, follow_ups AS "followUps", next_follow_up_at AS "nextFollowUpAt", last_run_id AS "lastRunId", updated_at AS "updatedAt"`;

export async function listWindows(pool: Pool, filter: { jobName?: string; state?: WindowState; limit?: number } = {}): Promise<WindowRow[]> {
  const { rows } = await pool.query<WindowRow>(
    `SELECT ${ROW_COLUMNS} FROM sendonce.job_windows
      WHERE ($1::text IS NULL OR job_name = $1) AND ($2::text IS NULL OR state = $2)
      ORDER BY COALESCE(scheduled_at, created_at) DESC, job_name LIMIT $3`,
    [filter.jobName ?? null, filter.state ?? null, filter.limit ?? 100],
  );
  return rows;
}

export async function getWindow(pool: Pool, jobName: string, window: string): Promise<WindowRow | undefined> {
  const { rows } = await pool.query<WindowRow>(`SELECT ${ROW_COLUMNS} FROM sendonce.job_windows WHERE job_name = $1 AND window_key = $2`, [jobName, window]);
  return rows[0];
}
