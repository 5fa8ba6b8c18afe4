/**
 * Schedule operations as a typed API — the CLI is a thin shell over these. Every trigger and backfill passes
 * its overlap policy explicitly: the TS SDK's `trigger()` defaults to ALLOW_ALL, which SKIP cannot track.
 */
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { BackfillRangeError, NotFoundError } from '../errors';
import { earliestKeptTick } from '../pruning';
import type { JobDefinition } from '../jobs';
import { scheduleIdFor, upsertSchedule, type ScheduleSettings } from '../schedule';

export interface ScheduleStatus {
  scheduleId: string;
  paused: boolean;
  note: string | undefined;
  spec: string;
  nextActionTimes: string[];
  recentRuns: Array<{ scheduledAt: string; startedAt: string; workflowId: string }>;
  runningWorkflowIds: string[];
  numActionsTaken: number;
  numActionsSkippedOverlap: number;
  numActionsMissedCatchupWindow: number;
}

export interface ScheduleRef {
  job: JobDefinition;
  idPrefix?: string;
}

const handleFor = (client: Client, ref: ScheduleRef) => client.schedule.getHandle(scheduleIdFor(ref.job.name, ref.idPrefix));

async function notFoundAsClearError<T>(ref: ScheduleRef, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) {
      throw new NotFoundError(`no schedule for job '${ref.job.name}' (${scheduleIdFor(ref.job.name, ref.idPrefix)}): create it with \`sendonce schedule create --job ${ref.job.name}\``);
    }
    throw err;
  }
}

export function createOrUpdateSchedule(client: Client, job: JobDefinition, settings: ScheduleSettings) {
  return upsertSchedule(client, job, settings);
}

export function describeSchedule(client: Client, ref: ScheduleRef): Promise<ScheduleStatus> {
  return notFoundAsClearError(ref, async () => {
    const d = await handleFor(client, ref).describe();
    const interval = d.spec.intervals?.[0];
    const spec = interval ? `every ${Number(interval.every) / 1000}s` : d.spec.calendars?.length ? 'calendar/cron' : 'none';
    return {
      scheduleId: d.scheduleId,
      paused: d.state.paused,
      note: d.state.note,
      spec,
      nextActionTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
      recentRuns: d.info.recentActions.map((a) => ({
        scheduledAt: a.scheduledAt.toISOString(),
        startedAt: a.takenAt.toISOString(),
        workflowId: a.action.workflow.workflowId,
      })),
      runningWorkflowIds: d.info.runningActions.map((a) => a.workflow.workflowId),
      numActionsTaken: d.info.numActionsTaken,
      numActionsSkippedOverlap: d.info.numActionsSkippedOverlap,
      numActionsMissedCatchupWindow: d.info.numActionsMissedCatchupWindow,
    };
  });
}

export async function listSchedules(client: Client, idPrefix = 'sendonce'): Promise<Array<{ scheduleId: string; paused: boolean; note?: string }>> {
  const out: Array<{ scheduleId: string; paused: boolean; note?: string }> = [];
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith(`${idPrefix}-`)) continue;
    out.push({ scheduleId: s.scheduleId, paused: s.state.paused, ...(s.state.note ? { note: s.state.note } : {}) });
  }
  return out;
}

export function pauseSchedule(client: Client, ref: ScheduleRef, note: string): Promise<void> {
  return notFoundAsClearError(ref, () => handleFor(client, ref).pause(note));
}

export function unpauseSchedule(client: Client, ref: ScheduleRef, note = 'unpaused with sendonce'): Promise<void> {
  return notFoundAsClearError(ref, () => handleFor(client, ref).unpause(note));
}

/** What a trigger did: started a run, or was dropped by overlap SKIP because a run of the schedule is in progress. */
export type TriggerResult =
  | { outcome: 'started'; workflowId: string; firstExecutionRunId: string }
  | { outcome: 'skipped'; runningWorkflowIds: string[] }
  /** Neither was seen within the wait (a busy server): look with `schedule describe`. */
  | { outcome: 'not_observed' };

/**
 * Trigger a run now and report what the schedule did with it. The server takes a trigger asynchronously and a
 * dropped one leaves no trace but a counter, so this reads the schedule's counters before and after: an action
 * taken is the run it started; a SkippedOverlap more means SKIP dropped it, and the running action is why.
 * (A scheduled tick landing in the same second would be taken for it; the run named is then that tick's.)
 */
export function triggerSchedule(
  client: Client,
  ref: ScheduleRef,
  overlap: ScheduleOverlapPolicy = ScheduleOverlapPolicy.SKIP,
  waitMs = 30_000,
): Promise<TriggerResult> {
  return notFoundAsClearError(ref, async () => {
    const handle = handleFor(client, ref);
    const before = (await handle.describe()).info;
    await handle.trigger(overlap);
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      const info = (await handle.describe()).info;
      if (info.numActionsTaken > before.numActionsTaken) {
        const { workflow } = info.recentActions[info.recentActions.length - 1]!.action;
        return { outcome: 'started', workflowId: workflow.workflowId, firstExecutionRunId: workflow.firstExecutionRunId };
      }
      if (info.numActionsSkippedOverlap > before.numActionsSkippedOverlap) {
        const running = info.runningActions.length > 0 ? info.runningActions : before.runningActions;
        return { outcome: 'skipped', runningWorkflowIds: running.map((a) => a.workflow.workflowId) };
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return { outcome: 'not_observed' };
  });
}

export function deleteSchedule(client: Client, ref: ScheduleRef): Promise<void> {
  return notFoundAsClearError(ref, () => handleFor(client, ref).delete());
}

export interface BackfillRequest extends ScheduleRef {
  from: Date;
  to: Date;
  /** The database, to check the range against the retention horizon (src/pruning.ts). */
  pool: Pool;
  /** Injected for tests; the range may not reach past it. */
  now?: Date;
}

/**
 * Replay the ticks in [from, to] with BUFFER_ALL (one after another, each with its own nominal time and so its
 * own window). Idempotency keys make a second backfill of the same range send nothing new.
 */
export async function backfill(client: Client, req: BackfillRequest): Promise<void> {
  const now = req.now ?? new Date();
  for (const [name, d] of [['--from', req.from], ['--to', req.to]] as const) {
    if (Number.isNaN(d.getTime())) throw new BackfillRangeError(`${name} is not a valid time: use ISO 8601, e.g. 2026-11-22T00:00:00Z`);
  }
  if (req.from.getTime() > req.to.getTime()) {
    throw new BackfillRangeError(`backfill range is reversed: --from ${req.from.toISOString()} is after --to ${req.to.toISOString()}`);
  }
  if (req.to.getTime() > now.getTime()) {
    throw new BackfillRangeError(`backfill range reaches into the future (--to ${req.to.toISOString()} is after now, ${now.toISOString()}): future ticks run on their own`);
  }
  await refusePruned(req);
  await notFoundAsClearError(req, () =>
    handleFor(client, req).backfill({ start: req.from, end: req.to, overlap: ScheduleOverlapPolicy.BUFFER_ALL }),
  );
}

/**
 * A tick whose window may have lost rows to retention would send them again. Its run would skip itself
 * (startRun); refusing here says so at once, with the range that is allowed.
 */
async function refusePruned(req: BackfillRequest): Promise<void> {
  const kept = await earliestKeptTick(req.pool, req.job.window.granularity);
  if (kept && req.from.getTime() < kept.tick.getTime()) {
    const earliest = kept.tick.toISOString();
    throw new BackfillRangeError(
      `backfill range starts before what retention keeps: sends created before ${kept.horizon.toISOString()} were pruned, so ticks before ` +
        `${earliest} would send them again; use --from ${earliest} or later`,
    );
  }
}
