/**
 * sendonce's own Prometheus metrics, emitted through the Temporal runtime's metric meter.
 *
 * Why the runtime meter and not prom-client: the Temporal runtime already runs a Prometheus exporter for its
 * own metrics (task latencies, slots, poll failures…). Creating our counters on the same meter puts SDK and
 * application metrics on ONE endpoint (METRICS_PORT /metrics), in one format, with no second metrics
 * library or registry to keep in step. (The exporter owns its port, so /healthz and /readyz live on
 * HEALTH_PORT, see health.ts.)
 *
 * Counters are bumped by the activities as each send finishes, so they move during a run; their totals per
 * run equal the run summary (sent, deduped, dead-lettered, unknown). `sendonce_send_retries` counts every
 * attempt after the first (also attempts that failed again), so it can exceed the summary's retryCount.
 */
import type { MetricCounter, MetricGauge, MetricHistogram, MetricMeter } from '@temporalio/common';
import type { SendOutcome } from './workflows/types';

/** Run durations range from seconds to the schedule's maxRunDuration; the SDK default buckets stop at 10 s. */
export const RUN_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];
export const RUN_DURATION_METRIC = 'sendonce_run_duration_seconds';

export interface AppMetrics {
  /** A send activity returned (any attempt). */
  sendFinished(jobName: string, outcome: SendOutcome, attempt: number): void;
  /** A send attempt threw (Temporal retries it, or the workflow dead-letters it). */
  sendAttemptFailed(jobName: string, errorType: string, attempt: number): void;
  /** The failure branch recorded the key's final state. */
  deadLettered(jobName: string, state: string): void;
  lockSkipped(jobName: string, reason: string): void;
  runFinished(jobName: string, outcome: string, durationMs: number): void;
}

export const noMetrics: AppMetrics = {
  sendFinished() {},
  sendAttemptFailed() {},
  deadLettered() {},
  lockSkipped() {},
  runFinished() {},
};

export function createAppMetrics(meter: MetricMeter): AppMetrics {
  const counter = (name: string, description: string): MetricCounter => meter.createCounter(name, '', description);
  const sent = counter('sendonce_emails_sent', 'Emails accepted by the SMTP server');
  const deduped = counter('sendonce_emails_deduped', 'Recipients skipped: already sent, dead or unknown in this window');
  const dead = counter('sendonce_emails_dead_lettered', 'Recipients dead-lettered (permanent error or attempts exhausted)');
  const unknown = counter('sendonce_emails_unknown', 'Sends whose outcome is unknown (SMTP may have accepted); never resent by default');
  const retries = counter('sendonce_send_retries', 'Send attempts after the first');
  const attemptFailures = counter('sendonce_send_attempt_failures', 'Send attempts that failed, by error type');
  const lockSkips = counter('sendonce_lock_skips', 'Runs skipped because the job lock was held or unreachable');
  const runs = counter('sendonce_runs', 'Finished runs, by outcome');
  const duration: MetricHistogram = meter.createHistogram(RUN_DURATION_METRIC, 'float', '', 'Run duration (start row to finish)');
  const lastDuration: MetricGauge = meter.createGauge('sendonce_last_run_duration_seconds', 'float', '', 'Duration of the latest finished run');
  return {
    sendFinished(job, outcome, attempt) {
      if (attempt > 1) retries.add(1, { job });
      if (outcome === 'sent') sent.add(1, { job });
      else if (outcome === 'skipped_dedupe') deduped.add(1, { job });
      else if (outcome === 'unknown') unknown.add(1, { job });
    },
    sendAttemptFailed(job, errorType, attempt) {
      if (attempt > 1) retries.add(1, { job });
      attemptFailures.add(1, { job, error_type: errorType });
    },
    deadLettered(job, state) {
      if (state === 'dead') dead.add(1, { job });
      else unknown.add(1, { job });
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
