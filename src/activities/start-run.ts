/**
 * The startRun activity: validate the job, compute the window from the nominal time, close this job's runs that
 * ended unrecorded, and record the run as started.
 */
import { Context } from '@temporalio/activity';
import type { StartRunResult } from '../contract';
import type { AppMetrics } from '../metrics';
import { earliestKeptTick } from '../pruning';
import { recordRunStart } from '../runs/records';
import { windowTemplate } from '../sends';
import { reapEndedRuns } from '../runs/reaper';
import { windowFor } from '../window';
import { windowDeadline } from '../windows/deadline';
import { openWindow } from '../windows/ledger';
import type { ActivityDeps } from './deps';
import { runSettings } from './run-settings';

export interface StartRunInput {
  jobName: string;
  runId: string;
  workflowId: string;
  scheduledAt: string;
  /** A redrive of named recipients: it may send an expired window's dead letters, and leaves the ledger's state. */
  redrive?: boolean;
}

export function startRunActivity(deps: ActivityDeps, metrics: AppMetrics) {
  const { pool, logger, jobs } = deps;
  return async function startRun(input: StartRunInput): Promise<StartRunResult> {
    const job = jobs.get(input.jobName);
    const scheduledAt = new Date(input.scheduledAt);
    const window = windowFor(scheduledAt, job.window);
    // Runs of this job that ended unrecorded (terminated, timed out) are closed first, and their lock freed.
    await reapEndedRuns({ pool, lock: deps.lock, logger, metrics, ...(deps.followUps ? { followUps: deps.followUps } : {}) }, Context.current().client, { jobName: job.name, exceptRunId: input.runId }).catch(
      (err: Error) => logger.warn({ runId: input.runId, jobName: job.name, err: err.message }, 'reaper_round_failed'),
    );
    await recordRunStart(pool, { ...input, scheduledAt, window });
    logger.info({ runId: input.runId, jobName: job.name, workflowId: input.workflowId, scheduledAt: input.scheduledAt, window }, 'job_run_started');
    const settings = runSettings(job, { lockTtlMs: deps.lockTtlMs, retryDefaults: deps.retryDefaults ?? {} });
    // However the run was started (a tick, any backfill, a direct start): a window retention has pruned is not sent.
    const kept = await earliestKeptTick(pool, job.window.granularity);
    if (kept && scheduledAt.getTime() < kept.tick.getTime()) {
      logger.warn({ runId: input.runId, jobName: job.name, window, earliestKeptTick: kept.tick.toISOString() }, 'job_skipped_window_past_retention');
      return { window, settings, skip: 'window_past_retention' };
    }
    const keyedWith = await windowTemplate(pool, job.name, window, job.template);
    if (keyedWith !== job.template) {
      const fix = `the window's keys are under template '${keyedWith}': its next window sends with '${job.template}'; to finish this one, deploy '${keyedWith}' again`;
      logger.error({ runId: input.runId, jobName: job.name, window, template: job.template, windowTemplate: keyedWith, fix }, 'job_skipped_template_renamed');
      return { window, settings, skip: 'template_renamed' };
    }
    const opened = await openWindow(pool, { jobName: job.name, window, scheduledAt, deadline: windowDeadline(job, scheduledAt), runId: input.runId, redrive: Boolean(input.redrive) });
    if (opened.state === 'expired' && !input.redrive) {
      const fix = `its unsent recipients were recorded expired at the deadline: sendonce windows --job ${job.name} --state expired`;
      logger.warn({ runId: input.runId, jobName: job.name, window, fix }, 'job_skipped_window_expired');
      return { window, settings, skip: 'window_expired' };
    }
    return { window, settings: opened.deadline ? { ...settings, windowDeadline: opened.deadline.toISOString() } : settings };
  };
}
