/** The finishRun activity: record the run's end and log the run summary line (the run's promise, kept). */
import type { RunSummary } from '../contract';
import type { AppMetrics } from '../metrics';
import { recordRunFinish } from '../runs/records';
import type { ActivityDeps } from './deps';

export function finishRunActivity(deps: Pick<ActivityDeps, 'pool' | 'logger'>, metrics: AppMetrics) {
  const { logger } = deps;
  return async function finishRun(input: { summary: RunSummary; error?: string }): Promise<void> {
    const { summary } = input;
    const durationMs = (await recordRunFinish(deps.pool, {
      runId: summary.runId,
      outcome: summary.outcome,
      ...(summary.reason ? { reason: summary.reason } : {}),
      fence: summary.fence,
      counts: summary.counts,
      error: input.error,
    })) ?? 0;
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
      ...(input.error ? { error: input.error } : {}),
    };
    metrics.runFinished(summary.jobName, summary.outcome, durationMs);
    if (summary.outcome === 'failed') logger.error(line, 'job_run_finished');
    else logger.info(line, 'job_run_finished');
  };
}
