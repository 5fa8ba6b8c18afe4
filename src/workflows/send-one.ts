/**
 * One recipient of a batch run: the send activity (bounded retries), waits for rate-limit budget (durable
 * timers, no attempt used), and the dead-letter branch when the send fails for good.
 */
import { ActivityFailure, ApplicationFailure, sleep } from '@temporalio/workflow';
import { RUN_FATAL_ERROR_TYPES } from '../errors';
import { bookkeeping, type SendActivities } from './activity-proxies';
import { updateDetails } from './progress';
import { isStopped, type RunState } from './run-state';
import type { SendInput, SendResult } from './types';

/**
 * `attemptsUsed`: attempts the recipient already had before this activity (1 when a chunk's first attempt
 * failed), counted into retryCount.
 */
export async function sendOne(sends: SendActivities, input: SendInput, state: RunState, attemptsUsed = 0): Promise<void> {
  state.stats.processedCount++;
  try {
    const result = await sendWithinRateLimit(sends, input, state);
    if (result) count(result, state, attemptsUsed);
    else state.stats.processedCount--; // stopped while waiting: not claimed, the next run sends it
  } catch (err) {
    await deadLetter(input, state, err);
  }
}

/** Call the send activity until it is not rate-limited; undefined if the run stopped meanwhile. */
async function sendWithinRateLimit(sends: SendActivities, input: SendInput, state: RunState): Promise<SendResult | undefined> {
  for (;;) {
    const result = await sends.sendEmail(input);
    if (result.outcome !== 'rate_limited') return result;
    // Over the budget, nothing was claimed. Wait in the workflow (a durable timer: survives worker restarts,
    // holds no worker slot) and ask again; a new activity call, so Temporal's retry attempts are untouched.
    state.stats.rateLimitedWaits = (state.stats.rateLimitedWaits ?? 0) + 1;
    state.waitingForRateLimit++;
    if (state.waitingForRateLimit === 1) updateDetails(state);
    try {
      await sleep(Math.max(1, result.retryAfterMs ?? 1_000));
    } finally {
      state.waitingForRateLimit--;
    }
    if (isStopped(state)) return undefined;
  }
}

export function count(result: SendResult, state: RunState, attemptsUsed = 0): void {
  const stats = state.stats;
  stats.retryCount += attemptsUsed + result.attempt - 1;
  switch (result.outcome) {
    case 'sent':
      stats.sentCount++;
      return;
    case 'skipped_dedupe':
      stats.skippedDedupeCount++;
      return;
    case 'unknown':
      stats.unknownCount++;
      stats.failedCount++;
      return;
    case 'ineligible':
      stats.ineligibleCount++;
      return;
    case 'fenced':
      // A newer lock holder exists: this run stops; the newer one sends the rest.
      stats.processedCount--;
      state.lockLost = true;
      return;
    case 'rate_limiter_unavailable':
      // Fail closed, like the lock: without the count we cannot keep the cap, so stop sending.
      stats.processedCount--;
      state.stopReason ??= 'rate_limiter_unavailable';
      return;
    case 'rate_limited':
      return; // handled by sendWithinRateLimit
  }
}

async function deadLetter(input: SendInput, state: RunState, err: unknown): Promise<void> {
  await recordFailure(input, state, describeFailure(err));
}

/** The failure branch for one recipient: run-fatal errors stop the run, anything else is dead-lettered. */
export async function recordFailure(input: SendInput, state: RunState, { type, message }: { type: string; message: string }): Promise<void> {
  const stats = state.stats;
  if (RUN_FATAL_ERROR_TYPES.includes(type)) {
    stats.failedCount++;
    state.fatal ??= { type, message };
    return;
  }
  const final = await bookkeeping.recordDeadLetter({ ...input, errorType: type, message });
  stats.failedCount++;
  if (final === 'dead') stats.deadLetteredCount++;
  else stats.unknownCount++;
}

function describeFailure(err: unknown): { type: string; message: string } {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
    if (cause) return { type: cause.name, message: cause.message };
  }
  return { type: (err as Error)?.name ?? 'Error', message: (err as Error)?.message ?? String(err) };
}
