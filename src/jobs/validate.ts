/**
 * Checks on job definitions that need more than one field, run when the registry is built (worker start,
 * `schedule create`, the CLI): a mistake stops the process with every problem named, not at the first send.
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { JobDefinition } from './types';

export function rateLimitProblems(job: JobDefinition): string[] {
  const r = job.rateLimit;
  if (!r) return [];
  const problems: string[] = [];
  const check = (name: string, value: number | undefined, min: number) => {
    if (value !== undefined && (!Number.isInteger(value) || value < min)) problems.push(`job '${job.name}': rateLimit.${name} must be a whole number ≥ ${min}, got ${value}`);
  };
  check('perSenderPerHour', r.perSenderPerHour, 1);
  check('minGapMs', r.minGapMs, 0);
  check('bucketMs', r.bucketMs, 1000);
  return problems;
}

function durationMs(value: string, what: string): number {
  let ms: number;
  try {
    ms = msToNumber(value as Duration);
  } catch {
    ms = NaN;
  }
  if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`${what} '${value}' is not a duration: use e.g. '30m' or '2h'`);
  return ms;
}

/** The time budget must end a run before the schedule's run timeout does. */
export function timeBudgetProblems(job: JobDefinition): string[] {
  try {
    const timeout = durationMs(job.schedule.maxRunDuration ?? '1h', 'schedule.maxRunDuration');
    if (job.timeBudget === undefined) return [];
    const budget = durationMs(job.timeBudget, 'timeBudget');
    if (budget >= timeout) return [`job '${job.name}': timeBudget ${job.timeBudget} must be shorter than schedule.maxRunDuration ${job.schedule.maxRunDuration ?? '1h'}, or the run is cut off before it can stop by itself`];
    return [];
  } catch (err) {
    return [`job '${job.name}': ${(err as Error).message}`];
  }
}

/** window.finishWithin is a positive duration (the window's deadline, src/windows/deadline.ts). */
export function finishWithinProblems(job: JobDefinition): string[] {
  if (job.window.finishWithin === undefined) return [];
  try {
    durationMs(job.window.finishWithin, 'window.finishWithin');
    return job.window.granularity === 'once' ? [`job '${job.name}': window.finishWithin has no meaning for 'once' windows (they never end); remove it`] : [];
  } catch (err) {
    return [`job '${job.name}': ${(err as Error).message}`];
  }
}

/**
 * A cron schedule fires by the clock of its timezone (UTC when none is set) while the window is counted in the
 * window's timezone: when they differ, "once a day at 9" and "one email per day" can disagree around midnight
 * and at DST changes. Refused unless the job says it means it. (Interval schedules are epoch-aligned: a schedule
 * timezone means nothing to them, so only one that is set explicitly is compared.)
 */
export function timezoneProblems(job: JobDefinition): string[] {
  const scheduleZone = job.schedule.timezone ?? (job.schedule.cron ? 'UTC' : undefined);
  if (scheduleZone === undefined || scheduleZone === job.window.timezone || job.window.scheduleTimezoneDiffers) return [];
  return [
    `job '${job.name}': its schedule runs in ${scheduleZone} but its window counts in ${job.window.timezone}; ` +
      `set schedule.timezone to '${job.window.timezone}', or window.scheduleTimezoneDiffers: true if that is intended`,
  ];
}

/**
 * Two jobs that send the same template in windows of the same granularity would share idempotency keys
 * (email:{template}:{recipient}:{window}): the second would silently send nothing and report it as deduplicated.
 * Refused (rather than putting the job into the key) so that the key — and every row already written — keeps its
 * meaning: give one of the jobs its own template, e.g. a copy under another name.
 */
export function sharedTemplateProblems(jobs: readonly JobDefinition[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const job of jobs) {
    const slot = `${job.template}\n${job.window.granularity}`;
    const other = seen.get(slot);
    if (other === undefined) seen.set(slot, job.name);
    else {
      problems.push(
        `jobs '${other}' and '${job.name}' both send template '${job.template}' in ${job.window.granularity} windows: ` +
          `they would share idempotency keys and '${job.name}' would send nothing; give one of them its own template`,
      );
    }
  }
  return problems;
}

/** Names the framework uses for its own schedules (src/schedule.ts). */
export function reservedNameProblems(job: JobDefinition): string[] {
  return job.name === 'prune' ? [`job 'prune': the name is taken by the retention job's schedule; call it something else`] : [];
}
