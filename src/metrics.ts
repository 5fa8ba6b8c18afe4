/**
 * sendonce's own Prometheus metrics, emitted through the Temporal runtime's metric meter.
 *
 * Why the runtime meter and not prom-client: the Temporal runtime already runs a Prometheus exporter for its
 * own metrics (task latencies, slots, poll failures…). Creating our counters on the same meter puts SDK and
 * application metrics on ONE endpoint (METRICS_PORT /metrics), in one format, with no second metrics
 * library or registry to keep in step. (The exporter owns its port, so /healthz and /readyz live on
 * HEALTH_PORT, see health.ts.)
 *
 * Every run count of src/contract/counts.ts has a per-email counter, `sendonce_emails_<count>` (metricOf). They are
 * bumped by the activities as each send finishes, so they move during a run; per run they add up to the summary's
 * counts — except `sendonce_emails_retries`, which counts every attempt after the first (also attempts that ended
 * in a dead letter), so it can exceed the summary's `retries`.
 *
 * The job's name is the label `sendonce_job`, not `job`: Prometheus sets `job` on every scraped series to the name
 * of its scrape job, so a target's own `job` becomes `exported_job` under a standard scrape config (no
 * honor_labels), and `sum by (job)` would group by the scrape job instead.
 */
import type { MetricCounter, MetricGauge, MetricHistogram, MetricMeter } from '@temporalio/common';
import { COUNT_NAMES, metricOf, type CountName, type DeadLetterOutcome, type FinishedBefore, type SendOutcome } from './contract';
import { isRunFatal } from './retry';

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
  deadLettered(jobName: string, state: DeadLetterOutcome): void;
  /** A page's keys found already finished, so no send was scheduled for them (src/activities/fetch-recipient-page.ts). */
  pageFinished(jobName: string, finished: FinishedBefore): void;
  lockSkipped(jobName: string, reason: string): void;
  runFinished(jobName: string, outcome: string, durationMs: number): void;
  /** The keeper recorded a window's unsent recipients expired (src/windows/keeper.ts). */
  windowExpired(jobName: string, recipients: number): void;
  /** Windows of the job left incomplete right now (the keeper's last round). */
  windowsIncomplete(jobName: string, windows: number): void;
  /** Whether this worker runs the deployment's current version (src/worker-versioning/watch.ts). */
  workerVersionCurrent(deploymentName: string, current: boolean): void;
}

export const noMetrics: AppMetrics = {
  sendFinished() {},
  sendAttemptFailed() {},
  suppressedOnPage() {},
  deadLettered() {},
  pageFinished() {},
  lockSkipped() {},
  runFinished() {},
  windowExpired() {},
  windowsIncomplete() {},
  workerVersionCurrent() {},
};

/** Each count's counter help text: a Record, so a count added to the contract without one does not compile. */
const COUNTER_HELP: Record<CountName, string> = {
  processed: 'Recipients whose outcome was decided: sent + deduped + failed + ineligible + suppressed',
  sent: 'Emails accepted by the SMTP server',
  deduped: 'Recipients skipped: already sent, dead or unknown in this window',
  dead: 'Recipients dead-lettered (permanent error or attempts exhausted)',
  failed: 'Recipients not delivered because of an error: dead + unknown + those a run-fatal error stopped',
  unknown: 'Sends whose outcome is unknown (SMTP may have accepted); never resent by default',
  ineligible: 'Recipients no longer eligible when their turn came (deleted, opted out)',
  suppressed: 'Recipients skipped as suppressed (unsubscribed, hard-bounced address, complaint, manual)',
  retries: 'Send attempts after the first',
  rateLimitWaits: 'Sends refused rate-limit budget (they wait on a durable timer; no attempt used)',
};

/** The count a send activity's outcome adds to (besides processed and failed, see `decided`). */
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
  for (const name of COUNT_NAMES) counters.set(name, meter.createCounter(metricOf(name), '', COUNTER_HELP[name]));
  const add = (name: CountName, n: number, job: string) => {
    if (n > 0) counters.get(name)!.add(n, { sendonce_job: job });
  };
  const bump = (name: CountName, job: string) => add(name, 1, job);
  // `n` recipients decided as `name`: also processed, and failed when it was dead or unknown (as RunTally counts).
  const decided = (name: CountName, n: number, job: string) => {
    add(name, n, job);
    add('processed', n, job);
    if (name === 'dead' || name === 'unknown') add('failed', n, job);
  };
  const attemptFailures = meter.createCounter('sendonce_send_attempt_failures', '', 'Send attempts that failed, by error type');
  const lockSkips = meter.createCounter('sendonce_lock_skips', '', 'Runs skipped because the job lock was held or unreachable');
  const runs = meter.createCounter('sendonce_runs', '', 'Finished runs, by outcome');
  const duration: MetricHistogram = meter.createHistogram(RUN_DURATION_METRIC, 'float', '', 'Run duration (start row to finish)');
  const lastDuration: MetricGauge = meter.createGauge('sendonce_last_run_duration_seconds', 'float', '', 'Duration of the latest finished run');
  const expiredWindows = meter.createCounter('sendonce_windows_expired', '', 'Windows whose deadline passed before they were complete');
  const expiredRecipients = meter.createCounter('sendonce_window_recipients_expired', '', 'Recipients a window did not reach before its deadline (never sent late)');
  const incomplete: MetricGauge = meter.createGauge('sendonce_windows_incomplete', 'int', '', 'Windows a run left incomplete, not yet finished by a follow-up nor expired');
  const versionCurrent: MetricGauge = meter.createGauge('sendonce_worker_version_current', 'int', '', "1 when this worker runs the Worker Deployment's current version (new runs go to it), else 0");
  return {
    sendFinished(job, outcome, attempt) {
      if (attempt > 1) bump('retries', job);
      const count = COUNT_OF_OUTCOME[outcome];
      if (count === 'rateLimitWaits') bump(count, job); // a wait, not a decision: the send comes again
      else if (count) decided(count, 1, job);
    },
    sendAttemptFailed(job, errorType, attempt) {
      if (attempt > 1) bump('retries', job);
      attemptFailures.add(1, { sendonce_job: job, error_type: errorType });
      // A run-fatal error is never retried: the run counts this recipient failed, and so do we.
      if (isRunFatal(errorType)) {
        bump('processed', job);
        bump('failed', job);
      }
    },
    suppressedOnPage(job, n) {
      decided('suppressed', n, job);
    },
    deadLettered(job, state) {
      // As RunTally counts the failure branch: another run's key is deduped, the rest are this run's outcome.
      decided(state === 'dead' || state === 'sent' || state === 'deduped' ? state : 'unknown', 1, job);
    },
    pageFinished(job, finished) {
      for (const name of ['deduped', 'sent', 'dead', 'unknown'] as const) decided(name, finished[name], job);
    },
    lockSkipped(job, reason) {
      lockSkips.add(1, { sendonce_job: job, reason });
    },
    runFinished(job, outcome, durationMs) {
      runs.add(1, { sendonce_job: job, outcome });
      if (outcome === 'skipped') return;
      duration.record(durationMs / 1000, { sendonce_job: job });
      lastDuration.set(durationMs / 1000, { sendonce_job: job });
    },
    windowExpired(job, recipients) {
      expiredWindows.add(1, { sendonce_job: job });
      expiredRecipients.add(recipients, { sendonce_job: job });
    },
    workerVersionCurrent(deployment, current) {
      versionCurrent.set(current ? 1 : 0, { deployment });
    },
    windowsIncomplete(job, windows) {
      incomplete.set(windows, { sendonce_job: job });
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
