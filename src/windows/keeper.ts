/**
 * The window keeper: every worker runs a round every WINDOW_KEEPER_INTERVAL_MS (after its reaper round, which
 * closes the runs that ended without saying so and marks their windows). A round
 *   1. expires the windows whose deadline passed while they were not complete and no run of their job is running:
 *      the window becomes `expired` first (a run starting later sends nothing of it), then the recipients still
 *      unsent are recorded in window_expired_recipients — they are never sent late;
 *   2. counts the unsent recipients of incomplete windows (what `sendonce windows` shows);
 *   3. starts the follow-up runs that are due: one batch run for the same job and window (same nominal time, so
 *      same keys, same lock and fence rules), when no run of the job is running, at most maxFollowUps per window,
 *      each later than the last (recordRunEnding sets when); and
 *   4. sets the sendonce_windows_incomplete gauge.
 * Rounds of several workers may overlap: a follow-up is claimed by one UPDATE … SKIP LOCKED, an expiry by the
 * guarded UPDATE (and its count by another), and everything else is idempotent.
 */
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Pool } from 'pg';
import type { BatchInput } from '../contract';
import type { JobDefinition, JobRegistry } from '../jobs';
import type { Logger } from '../logger';
import type { AppMetrics } from '../metrics';
import { startRounds, type Rounds } from '../rounds';
import { runDescription, WORKFLOW_TYPE } from '../schedule';
import type { FollowUpPolicy } from './ledger';
import { walkUnsent } from './unsent';

export interface KeeperDeps {
  pool: Pool;
  jobs: JobRegistry;
  logger: Logger;
  metrics: AppMetrics;
  client: Client;
  /** Where follow-up runs go; also the start of their workflow ids (so deployments sharing a namespace never collide). */
  taskQueue: string;
  policy: FollowUpPolicy;
  /** A follow-up that has not shown up as a running run after this long may be started again (its start was lost). */
  startLeaseMs?: number;
}

export interface KeeperRound {
  expired: { jobName: string; window: string; recipients: number }[];
  followUps: { jobName: string; window: string; workflowId: string }[];
}

/** Not a running run of the job (a row in job_runs written by its startRun and closed by its end or the reaper). */
const NO_RUN_OF_JOB = `NOT EXISTS (SELECT 1 FROM sendonce.job_runs r WHERE r.job_name = w.job_name AND r.outcome = 'running')`;

export async function keepWindows(deps: KeeperDeps): Promise<KeeperRound> {
  const round: KeeperRound = { expired: [], followUps: [] };
  await expireDue(deps, round);
  await countUnsent(deps);
  await startDueFollowUps(deps, round);
  await reportIncomplete(deps);
  return round;
}

/** A keeper round every `intervalMs` (WINDOW_KEEPER_INTERVAL_MS) until stopped. */
export function startWindowKeeper(deps: KeeperDeps, intervalMs: number): Rounds {
  return startRounds(
    intervalMs,
    async () => {
      const round = await keepWindows(deps);
      if (round.expired.length || round.followUps.length) deps.logger.debug({ expired: round.expired.length, followUps: round.followUps.length }, 'window_keeper_round');
    },
    { logger: deps.logger, event: 'window_keeper_round_failed' },
  );
}

interface DueRow {
  job_name: string;
  window_key: string;
  scheduled_at: Date;
}

async function expireDue(deps: KeeperDeps, round: KeeperRound): Promise<void> {
  // First the state, then the walk: a run of the window that starts from now on finds it `expired` and sends
  // nothing (startRun), and one already running keeps it from expiring here (NO_RUN_OF_JOB, in the same statement).
  // So no lock is taken, and no run of the job is ever skipped because the keeper is at work.
  await deps.pool.query(
    `UPDATE sendonce.job_windows SET state = 'expired', next_follow_up_at = NULL, unsent = 0, expired = NULL, updated_at = now()
      WHERE (job_name, window_key) IN (
        SELECT job_name, window_key FROM sendonce.job_windows w
         WHERE state IN ('open', 'incomplete') AND deadline <= now() AND scheduled_at IS NOT NULL AND ${NO_RUN_OF_JOB}
           AND job_name = ANY($1::text[])
         ORDER BY deadline LIMIT 20 FOR UPDATE SKIP LOCKED)`,
    [jobNames(deps)],
  );
  // Expired windows whose recipients are not recorded yet: these, and any a keeper stopped in the middle of.
  const { rows } = await deps.pool.query<DueRow>(
    `SELECT job_name, window_key, scheduled_at FROM sendonce.job_windows
      WHERE state = 'expired' AND expired IS NULL AND scheduled_at IS NOT NULL AND job_name = ANY($1::text[]) LIMIT 20`,
    [jobNames(deps)],
  );
  for (const row of rows) {
    const job = deps.jobs.get(row.job_name);
    const recipients = await recordExpired(deps.pool, job, row);
    if (recipients === null) continue;
    round.expired.push({ jobName: job.name, window: row.window_key, recipients });
    deps.metrics.windowExpired(job.name, recipients);
    deps.logger.warn({ jobName: job.name, window: row.window_key, expired: recipients, fix: `sendonce windows --job ${job.name} --state expired` }, 'window_expired');
  }
}

/** Record an expired window's unsent recipients and their count; null when another keeper counted them first. */
async function recordExpired(pool: Pool, job: JobDefinition, row: DueRow): Promise<number | null> {
  await walkUnsent(pool, job, { window: row.window_key, scheduledAt: row.scheduled_at }, async (ids) => {
    await pool.query(
      `INSERT INTO sendonce.window_expired_recipients (job_name, window_key, recipient_id)
       SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING`,
      [row.job_name, row.window_key, ids],
    );
  });
  const { rows } = await pool.query<{ expired: number }>(
    `UPDATE sendonce.job_windows SET updated_at = now(),
            expired = (SELECT count(*)::int FROM sendonce.window_expired_recipients x WHERE x.job_name = $1 AND x.window_key = $2)
      WHERE job_name = $1 AND window_key = $2 AND state = 'expired' AND expired IS NULL
      RETURNING expired`,
    [row.job_name, row.window_key],
  );
  return rows[0]?.expired ?? null;
}

async function countUnsent(deps: KeeperDeps): Promise<void> {
  const { rows } = await deps.pool.query<DueRow>(
    `SELECT job_name, window_key, scheduled_at FROM sendonce.job_windows w
      WHERE state = 'incomplete' AND unsent IS NULL AND scheduled_at IS NOT NULL AND ${NO_RUN_OF_JOB}
        AND job_name = ANY($1::text[]) LIMIT 20`,
    [jobNames(deps)],
  );
  for (const row of rows) {
    const job = deps.jobs.get(row.job_name);
    const unsent = await walkUnsent(deps.pool, job, { window: row.window_key, scheduledAt: row.scheduled_at });
    await deps.pool.query(`UPDATE sendonce.job_windows SET unsent = $3 WHERE job_name = $1 AND window_key = $2 AND state = 'incomplete'`, [row.job_name, row.window_key, unsent]);
  }
}

async function startDueFollowUps(deps: KeeperDeps, round: KeeperRound): Promise<void> {
  // Claimed here, by one keeper: the next due time moves on by the start lease before the run is started.
  const { rows } = await deps.pool.query<DueRow & { follow_ups: number }>(
    `UPDATE sendonce.job_windows SET follow_ups = follow_ups + 1, state = 'open', updated_at = now(),
            next_follow_up_at = now() + make_interval(secs => $2::float8 / 1000)
      WHERE (job_name, window_key) IN (
        SELECT job_name, window_key FROM sendonce.job_windows w
         WHERE state IN ('incomplete', 'open') AND next_follow_up_at <= now() AND deadline > now()
           AND scheduled_at IS NOT NULL AND follow_ups < $1 AND ${NO_RUN_OF_JOB} AND job_name = ANY($3::text[])
         ORDER BY next_follow_up_at LIMIT 10 FOR UPDATE SKIP LOCKED)
      RETURNING job_name, window_key, scheduled_at, follow_ups`,
    [deps.policy.maxFollowUps, deps.startLeaseMs ?? 300_000, jobNames(deps)],
  );
  for (const row of rows) {
    const job = deps.jobs.get(row.job_name);
    const workflowId = `${deps.taskQueue}-${job.name}-follow-up-${row.window_key}-${row.follow_ups}`;
    const input: BatchInput = { jobName: job.name, scheduledAt: row.scheduled_at.toISOString(), followUp: row.follow_ups };
    try {
      await deps.client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [input],
        workflowExecutionTimeout: (job.schedule.maxRunDuration ?? '1h') as '1h',
        ...runDescription(job, `follow-up ${row.follow_ups} of window ${row.window_key}`),
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    round.followUps.push({ jobName: job.name, window: row.window_key, workflowId });
    deps.logger.info({ jobName: job.name, window: row.window_key, followUp: row.follow_ups, workflowId }, 'window_follow_up_started');
  }
}

async function reportIncomplete(deps: KeeperDeps): Promise<void> {
  const { rows } = await deps.pool.query<{ job_name: string; n: number }>(
    `SELECT job_name, count(*)::int AS n FROM sendonce.job_windows WHERE state = 'incomplete' GROUP BY job_name`,
  );
  const counts = new Map(rows.map((r) => [r.job_name, r.n]));
  for (const job of deps.jobs.all()) deps.metrics.windowsIncomplete(job.name, counts.get(job.name) ?? 0);
}

/**
 * The jobs this worker has: a window of a job it does not have (renamed, removed, another deployment's) is left
 * alone — listed by `sendonce windows`, never followed up or expired here.
 */
function jobNames(deps: KeeperDeps): string[] {
  return deps.jobs.all().map((j) => j.name);
}
