/**
 * One Temporal Schedule per job: interval (default 5 minutes) or cron, overlap SKIP, an explicit catch-up
 * window and an execution timeout on the action. Create is not idempotent, so upsert = create, or update
 * when it already exists.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleHandle,
  type ScheduleOptions,
} from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { loadPartialConfig } from './config';
import { ConfigError } from './errors';
import { loadJobRegistry } from './jobs';
import { connectClient, temporalTarget } from './temporal-connection';
import type { JobDefinition } from './jobs';
import { resolveRetry } from './retry';
import type { BatchInput } from './contract';

export const WORKFLOW_TYPE = 'batchWorkflow';

/** Schedule ids and workflow ids name the job; the server appends the tick time to the workflow id. */
export const scheduleIdFor = (jobName: string, prefix = 'sendonce') => `${prefix}-${jobName}`;

/**
 * What the Temporal Web UI shows on a run (also `temporal workflow describe`): a one-line static summary and
 * markdown static details — what the job is, its window and bounds, and how to see its progress.
 */
export function runDescription(job: JobDefinition, kind = 'scheduled run'): { staticSummary: string; staticDetails: string } {
  const s = job.schedule;
  const retry = resolveRetry(job);
  const r = job.rateLimit;
  const lines = [
    `**sendonce job** \`${job.name}\` (${job.kind ?? 'recurring'}), template \`${job.template}\``,
    `**Window** ${job.window.granularity} (${job.window.timezone}); key \`email:${job.template}:{recipient}:{window}\` — at most one send per key`,
    `**Schedule** ${s.cron ? `cron ${s.cron}` : `every ${s.every ?? '5m'}`}, overlap SKIP, catch-up window ${s.catchupWindow ?? '5m'}, max run ${s.maxRunDuration ?? '1h'}`,
    `**Retries** at most ${retry.maximumAttempts} attempts per send within ${retry.totalTimeoutMs / 1000} s; then a dead letter`,
    ...(r ? [`**Rate limit** ${r.perSenderPerHour ?? 'no'} per sender per ${(r.bucketMs ?? 3_600_000) / 1000} s, min gap ${r.minGapMs ?? 0} ms`] : []),
    `**Progress** query \`progress\` (\`temporal workflow query --type progress -w <workflow id>\`); the result is the run summary`,
  ];
  return { staticSummary: `sendonce ${job.name}: ${kind}`, staticDetails: lines.join('\n') };
}

export interface ScheduleSettings {
  taskQueue: string;
  /** Prefix for schedule and workflow ids (tests use a unique one). */
  idPrefix?: string;
  paused?: boolean;
}

export function scheduleOptionsFor(job: JobDefinition, settings: ScheduleSettings): ScheduleOptions {
  const scheduleId = scheduleIdFor(job.name, settings.idPrefix);
  const s = job.schedule;
  const args: [BatchInput] = [{ jobName: job.name }];
  return {
    scheduleId,
    spec: {
      ...(s.cron ? { cronExpressions: [s.cron] } : { intervals: [{ every: (s.every ?? '5m') as '5m' }] }),
      ...(s.timezone ? { timezone: s.timezone } : {}),
    },
    action: {
      type: 'startWorkflow',
      workflowType: WORKFLOW_TYPE,
      workflowId: scheduleId,
      taskQueue: settings.taskQueue,
      args,
      // SKIP treats a running chain as running forever; this bound makes sure a hung run ends.
      workflowExecutionTimeout: (s.maxRunDuration ?? '1h') as '1h',
      ...runDescription(job),
    },
    policies: {
      overlap: ScheduleOverlapPolicy.SKIP,
      // The server default is one year: after a long outage SKIP would start the OLDEST missed tick.
      // We drop ticks older than this instead; backfill replays a range on purpose.
      catchupWindow: (s.catchupWindow ?? '5m') as '5m',
      pauseOnFailure: false,
    },
    state: { paused: settings.paused ?? false, ...(settings.paused ? { note: 'created paused' } : {}) },
  };
}

/** Create the job's schedule, or update it in place when it exists. Errors name the job and the spec. */
export async function upsertSchedule(client: Client, job: JobDefinition, settings: ScheduleSettings): Promise<ScheduleHandle> {
  const spec = job.schedule.cron ? `cron '${job.schedule.cron}'` : `interval '${job.schedule.every ?? '5m'}'`;
  return createOrUpdate(client, scheduleOptionsFor(job, settings), `job '${job.name}': the schedule (${spec})`);
}

/** The retention job's schedule id: a job may not be called `prune` (src/jobs/validate.ts). */
export const PRUNE_SCHEDULE_NAME = 'prune';

/** The built-in retention job (PRUNE_OLDER_THAN): `pruneWorkflow` every PRUNE_EVERY, overlap SKIP. */
export function upsertPruneSchedule(client: Client, settings: ScheduleSettings & { olderThan: string; every: string }): Promise<ScheduleHandle> {
  const scheduleId = scheduleIdFor(PRUNE_SCHEDULE_NAME, settings.idPrefix);
  const olderThanMs = msToNumber(settings.olderThan as Duration);
  return createOrUpdate(
    client,
    {
      scheduleId,
      spec: { intervals: [{ every: settings.every as '1h' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'pruneWorkflow',
        workflowId: scheduleId,
        taskQueue: settings.taskQueue,
        args: [{ olderThanMs }],
        workflowExecutionTimeout: '2h',
        staticSummary: `sendonce retention: delete finished sends older than ${settings.olderThan}`,
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m', pauseOnFailure: false },
      state: { paused: settings.paused ?? false },
    },
    `the prune schedule (every ${settings.every}, older than ${settings.olderThan})`,
  );
}

/** Create is not idempotent: create, or update in place (keeping pause state and note) when it exists. */
async function createOrUpdate(client: Client, options: ScheduleOptions, what: string): Promise<ScheduleHandle> {
  try {
    try {
      return await client.schedule.create(options);
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      const handle = client.schedule.getHandle(options.scheduleId);
      await handle.update((previous) => ({
        spec: options.spec,
        action: options.action,
        policies: options.policies,
        state: { paused: previous.state.paused, note: previous.state.note },
      }));
      return handle;
    }
  } catch (err) {
    throw new ConfigError(`${what} was refused: ${(err as Error).message}`);
  }
}

/** `npm run schedule` / the compose `schedules` service: create or update every job's schedule, then exit. */
async function main(): Promise<void> {
  const { TASK_QUEUE, SENDONCE_JOBS_MODULE, PRUNE_OLDER_THAN, PRUNE_EVERY } = loadPartialConfig(['TASK_QUEUE', 'SENDONCE_JOBS_MODULE', 'PRUNE_OLDER_THAN', 'PRUNE_EVERY']);
  const jobs = loadJobRegistry(SENDONCE_JOBS_MODULE);
  const client = await connectClient(temporalTarget());
  try {
    for (const job of jobs.all()) {
      await upsertSchedule(client, job, { taskQueue: TASK_QUEUE });
      process.stdout.write(`schedule ${scheduleIdFor(job.name)} is up to date\n`);
    }
    if (PRUNE_OLDER_THAN) {
      await upsertPruneSchedule(client, { taskQueue: TASK_QUEUE, olderThan: PRUNE_OLDER_THAN, every: PRUNE_EVERY });
      process.stdout.write(`schedule ${scheduleIdFor(PRUNE_SCHEDULE_NAME)} is up to date\n`);
    }
  } finally {
    await client.connection.close();
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`sendonce schedule: ${err.message}\n`);
    process.exit(1);
  });
}
