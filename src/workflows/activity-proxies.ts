/** The activity proxies of a batch run: every one bounded in attempts and total time. */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';
import type { RunSettings } from './types';

/** Bookkeeping activities (run rows, lock, pages): short, retried a few times, bounded in total time. */
export const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '3m',
  retry: { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s', nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
});

/**
 * Per-recipient send activities. `attemptsUsed` = attempts a recipient already had (its first one inside a
 * chunk), so attempts over both paths never exceed the job's maximumAttempts.
 */
export function sendActivities(settings: RunSettings, attemptsUsed = 0) {
  const r = settings.retry;
  return proxyActivities<Activities>({
    startToCloseTimeout: r.attemptTimeoutMs,
    scheduleToCloseTimeout: r.totalTimeoutMs,
    retry: {
      maximumAttempts: Math.max(1, r.maximumAttempts - attemptsUsed),
      initialInterval: r.initialIntervalMs,
      backoffCoefficient: r.backoffCoefficient,
      maximumInterval: r.maximumIntervalMs,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  });
}

export type SendActivities = ReturnType<typeof sendActivities>;

/**
 * The chunk activity: one attempt only (a chunk that fails as a whole — worker died, timeout — is redone
 * per recipient, where claims decide what is left to do). Heartbeats after each recipient, so a dead worker
 * is noticed after one attempt timeout; the start-to-close bound allows every recipient one full attempt.
 */
export function chunkActivities(settings: RunSettings) {
  const r = settings.retry;
  return proxyActivities<Activities>({
    startToCloseTimeout: r.attemptTimeoutMs * settings.chunkSize,
    heartbeatTimeout: r.attemptTimeoutMs,
    retry: { maximumAttempts: 1 },
  });
}
