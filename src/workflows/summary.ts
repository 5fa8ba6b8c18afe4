/**
 * A run's summary, built here and nowhere else: what the workflow returns, what the finishRun activity records
 * (the job_runs row and the `job_run_finished` line) — one shape however the run ended.
 */
import { zeroCounts, type RunIdentity, type RunOutcome, type RunReason, type RunSummary } from '../contract';
import type { Run } from './run-state';

/** What the workflow knows of its run so far: its identity once recorded, the run once the lock was taken. */
export interface Ending {
  jobName: string;
  workflowId: string;
  identity?: RunIdentity;
  run?: Run;
  /** A redrive of named recipients (BatchInput.recipientIds): its ending leaves the window's ledger row alone. */
  redrive?: boolean;
}

/** The fence, segments and counts are the run's once it took the lock; before that it has processed nobody. */
export function runSummary(ending: Ending, identity: RunIdentity, outcome: RunOutcome, reason?: RunReason): RunSummary {
  const carried = ending.run?.carried;
  return {
    runId: identity.runId,
    workflowId: ending.workflowId,
    jobName: ending.jobName,
    scheduledAt: identity.scheduledAt,
    window: identity.window,
    outcome,
    skipped: outcome === 'skipped',
    ...(reason ? { reason } : {}),
    ...(carried ? { fence: carried.lock.fence } : {}),
    segments: carried?.segment ?? 1,
    counts: carried?.counts ?? zeroCounts(),
  };
}
