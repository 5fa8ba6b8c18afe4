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
}

/** Throws a RangeError naming the zone when it is not a valid IANA timezone. */
export function assertTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: timezone });
  } catch {
    throw new RangeError(`unknown timezone '${timezone}': use an IANA name such as 'UTC' or 'Europe/Berlin'`);
  }
}

function partsIn(date: Date, timezone: string): Record<string, string> {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(date);
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
}

/**
 * The window label for a nominal time: '2026-11-23' (daily), '2026-11-23T14' (hourly, local hour of the zone),
 * the UTC instant to the second (tick: one window per schedule tick), or 'once' (the same for every tick).
 */
export function windowFor(nominal: Date, spec: WindowSpec): string {
  if (Number.isNaN(nominal.getTime())) throw new RangeError('nominal time is not a valid date');
  if (spec.granularity === 'once') return 'once';
  if (spec.granularity === 'tick') return nominal.toISOString().slice(0, 19) + 'Z';
  const p = partsIn(nominal, spec.timezone);
  const day = `${p.year}-${p.month}-${p.day}`;
  return spec.granularity === 'daily' ? day : `${day}T${p.hour}`;
}
