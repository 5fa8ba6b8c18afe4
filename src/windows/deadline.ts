/**
 * When a window stops being worth sending: its deadline. Default, the end of the window itself (a daily window
 * ends at the next local midnight); a job can end it sooner with `window.finishWithin` ("a 09:00 digest is not
 * worth sending after 18:00": '9h'). Runs stop sending at the deadline, and the keeper records whoever is still
 * unsent as expired — never sent late. Pure functions: unit-tested without services.
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { JobDefinition } from '../jobs';
import { windowFor, type WindowSpec } from '../window';

const QUARTER_HOUR = 15 * 60_000;
/** A `tick` window of a cron job has no length of its own: an hour, unless finishWithin says otherwise. */
const CRON_TICK_WINDOW_MS = 3_600_000;

/**
 * The first instant after `nominal` that falls in another window, or null for `once` (one window for all time).
 * Daily and hourly windows end on a local hour boundary, which is a whole quarter-hour in UTC for every zone
 * (offsets are multiples of 15 minutes): stepping by quarter-hours finds it exactly, DST nights included.
 */
export function windowEnd(nominal: Date, spec: WindowSpec, tickLengthMs = CRON_TICK_WINDOW_MS): Date | null {
  if (spec.granularity === 'once') return null;
  if (spec.granularity === 'tick') return new Date(nominal.getTime() + tickLengthMs);
  const label = windowFor(nominal, spec);
  let t = Math.floor(nominal.getTime() / QUARTER_HOUR) * QUARTER_HOUR;
  // A day is at most 26 hours long (a DST change plus a zone change): 110 quarter-hours are always enough.
  for (let step = 0; step < 110; step++) {
    t += QUARTER_HOUR;
    if (windowFor(new Date(t), spec) !== label) return new Date(t);
  }
  throw new Error(`window ${label}: no end found within 27 hours`);
}

/** The window's deadline for a run whose tick is `nominal`: the window's end, or sooner with window.finishWithin. */
export function windowDeadline(job: Pick<JobDefinition, 'window' | 'schedule'>, nominal: Date): Date | null {
  const every = job.schedule.every && !job.schedule.cron ? msToNumber(job.schedule.every as Duration) : undefined;
  const end = windowEnd(nominal, job.window, every);
  if (!job.window.finishWithin) return end;
  const within = new Date(nominal.getTime() + msToNumber(job.window.finishWithin as Duration));
  return end && end < within ? end : within;
}
