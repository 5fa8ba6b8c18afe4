/**
 * Send windows. A window is the period inside which a recipient gets at most one email of a template.
 * It is computed from the tick's NOMINAL time (TemporalScheduledStartTime), never the worker's clock, so a
 * backfilled or caught-up tick lands in its own window and skewed workers compute the same key.
 * Pure functions: used by activities and unit-tested without services.
 */

/**
 * 'once': one window for all time — each recipient id gets the template at most once, ever. Used by one-off
 * emails (src/jobs/one-off.ts), whose recipient ids are rows of scheduled_emails.
 */
export type WindowGranularity = 'daily' | 'hourly' | 'tick' | 'once';

export interface WindowSpec {
  granularity: WindowGranularity;
  /** IANA zone the business day is counted in, e.g. 'Europe/Berlin'. */
  timezone: string;
  /** The job's cron schedule runs in another timezone on purpose (otherwise refused, see src/jobs/validate.ts). */
  scheduleTimezoneDiffers?: boolean;
  /**
   * Stop sending a window this long after its first tick (e.g. '9h': a 09:00 digest is not worth sending after
   * 18:00); default, at the window's end. Recipients still unsent then are recorded expired (src/windows/).
   */
  finishWithin?: string;
}

/** Throws a RangeError naming the zone when it is not a valid IANA timezone. */
export function assertTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: timezone });
  } catch {
    throw new RangeError(`unknown timezone '${timezone}': use an IANA name such as 'UTC' or 'Europe/Berlin'`);
  }
}

/** One formatter per zone: building an Intl.DateTimeFormat costs far more than using one. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function partsIn(date: Date, timezone: string): Record<string, string> {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    });
    formatters.set(timezone, format);
  }
  return Object.fromEntries(format.formatToParts(date).map((p) => [p.type, p.value]));
}

/** The local hour of an instant ('2026-10-25T02') and the zone's UTC offset then ('+02:00'). */
function localHour(date: Date, timezone: string): { hour: string; offset: string } {
  const p = partsIn(date, timezone);
  // 'GMT+02:00', 'GMT-04:00', or 'GMT' for UTC itself.
  const offset = p.timeZoneName === 'GMT' ? '+00:00' : (p.timeZoneName ?? '').replace('GMT', '');
  return { hour: `${p.year}-${p.month}-${p.day}T${p.hour}`, offset };
}

const MINUTE = 60_000;

/**
 * The window label for a nominal time: '2026-11-23' (daily, in the zone), '2026-11-23T14' (hourly, the zone's
 * local hour), the UTC instant to the second (tick: one window per schedule tick), or 'once' (the same for every
 * tick).
 *
 * Every instant maps to one label, and two instants an hour apart never share an hourly label: at the autumn
 * change a local hour happens twice (Europe/Berlin 2026-10-25: 02:00–03:00 at +02:00, then again at +01:00), and
 * its label then carries the UTC offset — '2026-10-25T02+02:00', '2026-10-25T02+01:00' — while every other hour
 * keeps the plain label (so labels of existing rows keep their meaning). The hour skipped in spring has no label.
 */
export function windowFor(nominal: Date, spec: WindowSpec): string {
  if (Number.isNaN(nominal.getTime())) throw new RangeError('nominal time is not a valid date');
  if (spec.granularity === 'once') return 'once';
  if (spec.granularity === 'tick') return nominal.toISOString().slice(0, 19) + 'Z';
  const here = localHour(nominal, spec.timezone);
  if (spec.granularity === 'daily') return here.hour.slice(0, 10);
  // The same local hour at another offset within an hour either side: this hour happens twice today.
  const repeated = [-60, -30, 30, 60].some((m) => {
    const there = localHour(new Date(nominal.getTime() + m * MINUTE), spec.timezone);
    return there.hour === here.hour && there.offset !== here.offset;
  });
  return repeated ? `${here.hour}${here.offset}` : here.hour;
}
