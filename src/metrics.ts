/**
 * sendonce's own Prometheus metrics, emitted through the Temporal runtime's metric meter.
 *
 * Why the runtime meter and not prom-client: the Temporal runtime already runs a Prometheus exporter for its
 * own metrics (task latencies, slots, poll failures…). Creating our counters on the same meter puts SDK and
 * application metrics on ONE endpoint (METRICS_PORT /metrics), in one format, with no second metrics
 * library or registry to keep in step. (The exporter owns its port, so /healthz and /readyz live on
 * HEALTH_PORT, see health.ts.)
 *
 * The per-email counters are the run counts of src/contract/counts.ts, named `sendonce_emails_<count>`
 * (metricOf). They are bumped by the activities as each send finishes, so they move during a run; per run they
 * add up to the summary's counts — except `sendonce_emails_retries`, which counts every attempt after the first
 * (also attempts that ended in a dead letter), so it can exceed the summary's `retries`.
 */
import type { MetricCounter, MetricGauge, MetricHistogram, MetricMeter } from '@temporalio/common';
import { metricOf, type CountName, type FinishedBefore, type SendOutcome, type SendState } from './contract';

/** Run durations range from seconds to the schedule's maxRunDuration; the SDK default buckets stop at 10 s. */
export const RUN_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];
export const RUN_DURATION_METRIC = 'sendonce_run_duration_seconds';

export interface AppMetrics {
  /** A send activity returned (any attempt). */
  sendFinished(jobName: string, outcome: SendOutcome, attempt: number): void;
  /** A send attempt threw (Temporal retries it, or the workflow dead-letters it). */
  sendAttemptFailed(jobName: string, errorType: string, attempt: number): void;
  /** Recipients of a page dropped as unsubscribed from the job (no send activity ran for them). */
  suppressedOnPage(jobName: string, n: number): void;
  /** The failure branch recorded the key's final state. */
  deadLettered(jobName: string, state: SendState): void;
  /** A page's keys found already finished, so no send was scheduled for them (src/activities/fetch-recipient-page.ts). */
  pageFinished(jobName: string, finished: FinishedBefore): void;
  lockSkipped(jobName: string, reason: string): void;
  runFinished(jobName: string, outcome: string, durationMs: number): void;
}

export const noMetrics: AppMetrics = {
  sendFinished() {},
  sendAttemptFailed() {},
  suppressedOnPage() {},
  deadLettered() {},
  pageFinished() {},
  lockSkipped() {},
  runFinished() {},
};

/** The counts that have a live per-email counter, with its help text. */
const EMAIL_COUNTERS: Partial<Record<CountName, string>> = {
  sent: 'Emails accepted by the SMTP server',
  deduped: 'Recipients skipped: already sent, dead or unknown in this window',
  dead: 'Recipients dead-lettered (permanent error or attempts exhausted)',
  unknown: 'Sends whose outcome is unknown (SMTP may have accepted); never resent by default',
  ineligible: 'Recipients no longer eligible when their turn came (deleted, opted out)',
  suppressed: 'Recipients skipped as suppressed (unsubscribed, hard-bounced address, complaint, manual)',
  retries: 'Send attempts after the first',
  rateLimitWaits: 'Sends refused rate-limit budget (they wait on a durable timer; no attempt used)',
};

/** The count a send activity's outcome adds to. */
const COUNT_OF_OUTCOME: Partial<Record<SendOutcome, CountName>> = {
  sent: 'sent',
  skipped_dedupe: 'deduped',
  unknown: 'unknown',
  dead: 'dead',
  ineligible: 'ineligible',
  suppressed: 'suppressed',
  rate_limited: 'rateLimitWaits',
};

export function createAppMetrics(meter: MetricMeter): AppMetrics {
  const counters = new Map<CountName, MetricCounter>();
  for (const [name, help] of Object.entries(EMAIL_COUNTERS) as Array<[CountName, string]>) {
    counters.set(name, meter.createCounter(metricOf(name), '', help));
  }
  const bump = (name: CountName, job: string) => counters.get(name)!.add(1, { job });
  const attemptFailures = meter.createCounter('sendonce_send_attempt_failures', '', 'Send attempts that failed, by error type');
  const lockSkips = meter.createCounter('sendonce_lock_skips', '', 'Runs skipped because the job lock was held or unreachable');
  const runs = meter.createCounter('sendonce_runs', '', 'Finished runs, by outcome');
  const duration: MetricHistogram = meter.createHistogram(RUN_DURATION_METRIC, 'float', '', 'Run duration (start row to finish)');
  const lastDuration: MetricGauge = meter.createGauge('sendonce_last_run_duration_seconds', 'float', '', 'Duration of the latest finished run');
  return {
    sendFinished(job, outcome, attempt) {
      if (attempt > 1) bump('retries', job);
      const count = COUNT_OF_OUTCOME[outcome];
      if (count) bump(count, job);
    },
    sendAttemptFailed(job, errorType, attempt) {
      if (attempt > 1) bump('retries', job);
      attemptFailures.add(1, { job, error_type: errorType });
    },
    suppressedOnPage(job, n) {
      if (n > 0) counters.get('suppressed')!.add(n, { job });
    },
    deadLettered(job, state) {
      bump(state === 'dead' ? 'dead' : state === 'sent' ? 'sent' : 'unknown', job);
    },
    pageFinished(job, finished) {
      for (const name of ['deduped', 'sent', 'dead', 'unknown'] as const) if (finished[name] > 0) counters.get(name)!.add(finished[name], { job });
    },
    lockSkipped(job, reason) {
      lockSkips.add(1, { job, reason });
    },
    runFinished(job, outcome, durationMs) {
      runs.add(1, { job, outcome });
      if (outcome === 'skipped') return;
      duration.record(durationMs / 1000, { job });
      lastDuration.set(durationMs / 1000, { job });
    },
  };
}

/** Run one send attempt and count what happened (the activity's result or its error type). */
export async function observeSend<T extends { outcome: SendOutcome }>(
  metrics: AppMetrics,
  jobName: string,
  attempt: number,
  send: () => Promise<T>,
): Promise<T> {
  try {
    const result = await send();
    metrics.sendFinished(jobName, result.outcome, attempt);
    return result;
  } catch (err) {
    metrics.sendAttemptFailed(jobName, (err as Error)?.name ?? 'Error', attempt);
    throw err;
  }
}
