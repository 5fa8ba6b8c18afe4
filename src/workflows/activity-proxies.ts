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

export function sendActivities(settings: RunSettings) {
  const r = settings.retry;
  return proxyActivities<Activities>({
    startToCloseTimeout: r.attemptTimeoutMs,
    scheduleToCloseTimeout: r.totalTimeoutMs,
    retry: {
      maximumAttempts: r.maximumAttempts,
      initialInterval: r.initialIntervalMs,
      backoffCoefficient: r.backoffCoefficient,
      maximumInterval: r.maximumIntervalMs,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  });
}

export type SendActivities = ReturnType<typeof sendActivities>;
