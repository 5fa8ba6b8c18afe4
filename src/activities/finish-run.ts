/** The finishRun activity: record the run's end and log the run summary line (the run's promise, kept). */
import type { RunSummary } from '../contract';
import type { AppMetrics } from '../metrics';
import { recordRunFinish } from '../runs/records';
import { recordRunEnding } from '../windows/ledger';
import type { ActivityDeps } from './deps';

export interface FinishRunInput {
  summary: RunSummary;
  error?: string;
  /** A redrive of named recipients: its ending says nothing about the rest of the window. */
  redrive?: boolean;
  /** Ended for a reason no follow-up run can fix (a configuration error, a cancel): the window waits for a person. */
  needsPerson?: boolean;
}

export function finishRunActivity(deps: Pick<ActivityDeps, 'pool' | 'logger' | 'followUps'>, metrics: AppMetrics) {
  const { logger } = deps;
  return async function finishRun(input: FinishRunInput): Promise<void> {
    const { summary } = input;
    const durationMs = (await recordRunFinish(deps.pool, {
      runId: summary.runId,
      outcome: summary.outcome,
      ...(summary.reason ? { reason: summary.reason } : {}),
      fence: summary.fence,
      counts: summary.counts,
      error: input.error,
    })) ?? 0;
    // After the run's own row: a skipped run's window counts as unattended only once no run of it is running.
    const windowState = await recordRunEnding(
      deps.pool,
      { jobName: summary.jobName, window: summary.window, runId: summary.runId, outcome: summary.outcome, reason: summary.reason, redrive: input.redrive, needsPerson: input.needsPerson },
      deps.followUps,
    );
    const line = {
      runId: summary.runId,
      workflowId: summary.workflowId,
      jobName: summary.jobName,
      scheduledAt: summary.scheduledAt,
      window: summary.window,
      outcome: summary.outcome,
      reason: summary.reason,
      durationMs,
      ...summary.counts,
      ...(windowState ? { windowState } : {}),
      ...(input.error ? { error: input.error } : {}),
    };
    metrics.runFinished(summary.jobName, summary.outcome, durationMs);
    if (summary.outcome === 'failed') logger.error(line, 'job_run_finished');
    else logger.info(line, 'job_run_finished');
  };
}
