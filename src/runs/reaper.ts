/**
 * The reaper closes the job_runs rows of runs that ended without workflow code running — terminated, or cut off
 * by the schedule's run timeout — and of runs whose own recording failed (Postgres down at the end). It asks
 * Temporal how each `running` row's workflow chain ended, then, for a chain that is closed:
 *   1. closes the row (only if still `running`: several reapers may race; one wins) with the outcome, the counts
 *      its claims left in email_sends, and an error saying what happened;
 *   2. bumps the job's fence, so sends that run handed out and that are still running are refused at their
 *      next claim;
 *   3. releases the run's lock, token-checked (a lock taken since by another run is left alone);
 *   4. logs `job_run_finished` and counts the run in the metrics, like any other ending.
 *   5. marks the run's window incomplete in the ledger (src/windows/ledger.ts), so a follow-up run finishes it.
 * It runs at the start of every run (for its job: the lock of a terminated run is freed for the next tick) and
 * every REAPER_INTERVAL_MS in each worker (for all jobs).
 */
import type { Client, WorkflowExecutionStatusName } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Pool } from 'pg';
import type { RunOutcome } from '../contract';
import type { JobLock } from '../lock';
import { takeFence } from '../lock/fence';
import type { Logger } from '../logger';
import type { AppMetrics } from '../metrics';
import { startRounds, type Rounds } from '../rounds';
import { recordRunEnding, type FollowUpPolicy } from '../windows/ledger';
import { countsFromSends, recordRunFinish } from './records';

export interface ReaperDeps {
  pool: Pool;
  lock: JobLock;
  logger: Logger;
  metrics: AppMetrics;
  /** Follow-ups of the windows these runs leave incomplete (ActivityDeps.followUps). */
  followUps?: FollowUpPolicy;
}

/** How a closed chain's last run ended, as a run outcome. */
const OUTCOME_OF: Partial<Record<WorkflowExecutionStatusName, RunOutcome>> = {
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
  CANCELLED: 'cancelled',
  FAILED: 'failed',
  COMPLETED: 'completed',
};

export interface ReapedRun {
  runId: string;
  jobName: string;
  outcome: RunOutcome;
}

interface RunningRow {
  run_id: string;
  workflow_id: string;
  job_name: string;
  window_key: string;
  lock_token: string | null;
  fence: number | null;
}

/** Close every `running` row (of `jobName`, or of all jobs) whose workflow chain has ended. */
export async function reapEndedRuns(deps: ReaperDeps, client: Client, opts: { jobName?: string; exceptRunId?: string } = {}): Promise<ReapedRun[]> {
  const { rows } = await deps.pool.query<RunningRow>(
    `SELECT run_id, workflow_id, job_name, window_key, lock_token, fence FROM sendonce.job_runs
      WHERE outcome = 'running' AND ($1::text IS NULL OR job_name = $1) AND run_id <> $2
      ORDER BY started_at LIMIT 100`,
    [opts.jobName ?? null, opts.exceptRunId ?? ''],
  );
  const reaped: ReapedRun[] = [];
  for (const row of rows) {
    const ended = await howChainEnded(client, row.workflow_id, row.run_id);
    if (ended === 'running') continue;
    if (await close(deps, row, ended)) reaped.push({ runId: row.run_id, jobName: row.job_name, outcome: ended.outcome });
  }
  return reaped;
}

async function close(deps: ReaperDeps, row: RunningRow, ended: { outcome: RunOutcome; why: string }): Promise<boolean> {
  const counts = await countsFromSends(deps.pool, row.run_id);
  const error = `${ended.why}; closed by the reaper, counts from the run's rows in email_sends (deduped not known)`;
  const durationMs = await recordRunFinish(deps.pool, { runId: row.run_id, outcome: ended.outcome, counts, error }, { onlyIfRunning: true });
  if (durationMs === null) return false; // another reaper (or the run itself) closed it first
  await takeFence(deps.pool, row.job_name);
  if (row.lock_token) await deps.lock.release(row.job_name, row.lock_token).catch(() => false);
  // Its window is left incomplete: a follow-up sends the rest — unless a person cancelled the run. (A redrive's
  // row looks like any other here; its follow-up walks the window and finds the others' keys finished.)
  // A chain that completed without recording its end may have stopped early all the same: incomplete too (a
  // follow-up of a window that was complete walks it, finds every key finished, and completes it).
  await recordRunEnding(
    deps.pool,
    { jobName: row.job_name, window: row.window_key, runId: row.run_id, outcome: ended.outcome === 'completed' ? 'failed' : ended.outcome, reason: 'closed_by_reaper', needsPerson: ended.outcome === 'cancelled' },
    deps.followUps,
  );
  deps.metrics.runFinished(row.job_name, ended.outcome, durationMs);
  deps.logger.warn(
    { runId: row.run_id, workflowId: row.workflow_id, jobName: row.job_name, outcome: ended.outcome, durationMs, ...counts, error, reapedBy: 'reaper' },
    'job_run_finished',
  );
  return true;
}

/**
 * Follow the chain from its first run through continue-as-new to the run that ended it (each closed run's close
 * event names the next). 'running' while any run of the chain is open.
 */
async function howChainEnded(client: Client, workflowId: string, firstRunId: string): Promise<'running' | { outcome: RunOutcome; why: string }> {
  let runId = firstRunId;
  for (let hop = 0; hop < 10_000; hop++) {
    let status: WorkflowExecutionStatusName;
    try {
      status = (await client.workflow.getHandle(workflowId, runId).describe()).status.name;
    } catch (err) {
      if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
      return { outcome: 'failed', why: `workflow ${workflowId} is not known to Temporal (its history is gone)` };
    }
    if (status === 'RUNNING') return 'running';
    if (status !== 'CONTINUED_AS_NEW') return { outcome: OUTCOME_OF[status] ?? 'failed', why: `workflow ${status.toLowerCase()}` };
    runId = await nextRunOf(client, workflowId, runId);
  }
  throw new Error(`workflow ${workflowId}: continue-as-new chain longer than 10,000 runs`);
}

async function nextRunOf(client: Client, workflowId: string, runId: string): Promise<string> {
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    historyEventFilterType: temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
  });
  const next = history?.events?.[0]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  if (!next) throw new Error(`workflow ${workflowId} run ${runId}: continued as new, but its close event names no next run`);
  return next;
}

/** Reap every `intervalMs` until stopped; a failed round is logged and the next one tries again. */
export function startReaper(deps: ReaperDeps, client: Client, intervalMs: number): Rounds {
  return startRounds(intervalMs, () => reapEndedRuns(deps, client), { logger: deps.logger, event: 'reaper_round_failed' });
}
