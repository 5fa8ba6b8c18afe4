/**
 * Runs that send keys an operator reopened (a dead-letter redrive, an unknown key resolved for resend): one
 * batch run per job and window, at the nominal time of the tick the keys belong to, restricted to those
 * recipients. They take the job lock and claim like any run, so each key is still sent at most once more.
 */
import crypto from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { BatchInput, RunSummary } from '../contract';
import { RedriveError } from '../errors';
import type { JobRegistry } from '../jobs';
import { runDescription, scheduleIdFor, WORKFLOW_TYPE } from '../schedule';
import { windowFor } from '../window';

export interface ReopenedKey {
  jobName: string;
  recipientId: string;
  window: string;
  /** Nominal time of the tick the key belongs to (its window is computed from it again). */
  scheduledAt: Date;
}

export interface RedriveRun {
  workflowId: string;
  jobName: string;
  window: string;
  scheduledAt: string;
  recipientIds: string[];
  summary?: RunSummary;
}

export interface ReopenedRunsRequest {
  jobs: JobRegistry;
  taskQueue: string;
  idPrefix?: string;
  /** Wait for the runs and return their summaries. */
  wait?: boolean;
}

/** Start one run per job and window; `what` names them in the Web UI ('redrive', 'resend'). */
export async function startReopenedRuns(client: Client, req: ReopenedRunsRequest, keys: ReopenedKey[], what: string): Promise<RedriveRun[]> {
  const runs: RedriveRun[] = [];
  for (const group of groupByWindow(keys, req.jobs).values()) {
    const job = req.jobs.get(group[0]!.jobName);
    const scheduledAt = new Date(Math.min(...group.map((k) => k.scheduledAt.getTime()))).toISOString();
    const recipientIds = [...new Set(group.map((k) => k.recipientId))];
    const input: BatchInput = { jobName: job.name, scheduledAt, recipientIds };
    const workflowId = `${scheduleIdFor(job.name, req.idPrefix)}-${what}-${scheduledAt.slice(0, 19)}Z-${crypto.randomBytes(3).toString('hex')}`;
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: req.taskQueue,
      workflowId,
      args: [input],
      workflowExecutionTimeout: (job.schedule.maxRunDuration ?? '1h') as '1h',
      ...runDescription(job, `${what} of ${recipientIds.length} key(s), window ${group[0]!.window}`),
    });
    const run: RedriveRun = { workflowId, jobName: job.name, window: group[0]!.window, scheduledAt, recipientIds };
    if (req.wait) run.summary = (await handle.result()) as RunSummary;
    runs.push(run);
  }
  return runs;
}

function groupByWindow(keys: ReopenedKey[], jobs: JobRegistry): Map<string, ReopenedKey[]> {
  const groups = new Map<string, ReopenedKey[]>();
  for (const key of keys) {
    const window = windowFor(key.scheduledAt, jobs.get(key.jobName).window);
    if (window !== key.window) {
      throw new RedriveError(`job '${key.jobName}': its window setting changed since recipient ${key.recipientId}'s key was written (${key.window}, now ${window}); cannot send it again safely`);
    }
    const id = `${key.jobName}\n${key.window}`;
    groups.set(id, [...(groups.get(id) ?? []), key]);
  }
  return groups;
}
