/**
 * A run's counts. Each has ONE name, used as it is by the run summary, the `progress` query and the
 * `job_run_finished` log line; the `job_runs` column is the same name in snake_case (columnOf) and the
 * Prometheus counter is `sendonce_emails_<snake_case>` (metricOf). Workflow-safe: no I/O, no imports.
 */
export const COUNT_NAMES = [
  /**
   * Recipients whose outcome this run decided: sent + deduped + failed + ineligible + suppressed (retries and
   * rateLimitWaits count events, not recipients).
   */
  'processed',
  /** Accepted by the SMTP server in this run. */
  'sent',
  /**
   * Already finished for this window before this run (sent, dead or unknown), or finished or being sent by another
   * run of the window meanwhile — not sent again by this run, which leaves that key to the run that owns it.
   */
  'deduped',
  /** Not delivered because of an error: dead + unknown + those a run-fatal error stopped. */
  'failed',
  /** Dead-lettered: a permanent refusal, or every attempt used. */
  'dead',
  /** The SMTP server may have the message, the outcome was not recorded: never resent by default. */
  'unknown',
  /** No longer eligible when their turn came (deleted, opted out). */
  'ineligible',
  /**
   * Eligible, but skipped because they are suppressed: unsubscribed from this job, or their address is suppressed
   * for all mail (unsubscribed from all, a hard bounce, an operator). Nothing was sent; the next window skips them too.
   */
  'suppressed',
  /** Send attempts after the first, among the sends this run decided with an outcome (not dead letters). */
  'retries',
  /** Times a send was refused rate-limit budget; it then waits (a durable timer; no retry attempt used). */
  'rateLimitWaits',
] as const;

export type CountName = (typeof COUNT_NAMES)[number];
export type RunCounts = Record<CountName, number>;

export function zeroCounts(): RunCounts {
  return Object.fromEntries(COUNT_NAMES.map((name) => [name, 0])) as RunCounts;
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The job_runs column of a count: `rateLimitWaits` → `rate_limit_waits`. */
export const columnOf = (name: CountName): string => snake(name);

/** The Prometheus counter of a count: `dead` → `sendonce_emails_dead`. */
export const metricOf = (name: CountName): string => `sendonce_emails_${snake(name)}`;
