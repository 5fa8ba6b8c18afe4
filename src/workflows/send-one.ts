/**
 * One recipient of a batch run: the send activity (bounded retries), waits for rate-limit budget (durable
 * timers, no attempt used), and the dead-letter branch when the send fails for good.
 */
import { sleep } from '@temporalio/workflow';
import type { FailureDescription, SendInput, SendResult } from '../contract';
import { isRunFatal } from '../retry';
import { bookkeeping, type SendActivities } from './activity-proxies';
import { describeFailure } from './failure';
import { updateDetails } from './progress';
import type { Run } from './run-state';

/** `attemptsUsed`: attempts the recipient already had before this activity (1 after a chunk's failed first attempt). */
export async function sendOne(sends: SendActivities, input: SendInput, run: Run, attemptsUsed = 0): Promise<void> {
  let result: SendResult | undefined;
  try {
    result = await sendWithinRateLimit(sends, input, run);
  } catch (err) {
    await deadLetterOrStop(input, run, describeFailure(err));
    return;
  }
  // Undefined: the run stopped while this send waited for budget — nothing claimed, the next run sends it.
  if (result) takeResult(run, result, attemptsUsed);
}

/** Call the send activity until it is not rate-limited; undefined if the run stopped meanwhile. */
async function sendWithinRateLimit(sends: SendActivities, input: SendInput, run: Run): Promise<SendResult | undefined> {
  for (;;) {
    const result = await sends.sendEmail(input);
    if (result.outcome !== 'rate_limited') return result;
    // Over the budget, nothing was claimed. Wait in the workflow (a durable timer: survives worker restarts,
    // holds no worker slot) and ask again; a new activity call, so Temporal's retry attempts are untouched.
    run.tally.rateLimitWait();
    run.waitingForRateLimit++;
    if (run.waitingForRateLimit === 1) updateDetails(run);
    try {
      await sleep(Math.min(Math.max(1, result.retryAfterMs ?? 1_000), run.budgetLeft()));
    } finally {
      run.waitingForRateLimit--;
    }
    if (!run.mayStartMore()) return undefined;
  }
}

/** A send activity's result: the recipient's outcome, or a signal that stops the run's sending. */
export function takeResult(run: Run, result: SendResult, attemptsUsed = 0): void {
  switch (result.outcome) {
    case 'fenced':
      // A newer lock holder exists: this run stops; the newer one sends the rest.
      run.loseLock();
      return;
    case 'rate_limiter_unavailable':
      // Fail closed, like the lock: without the count we cannot keep the cap, so stop sending.
      run.stopSending('rate_limiter_unavailable');
      return;
    case 'database_unavailable':
      // Nothing can be claimed: every further send would fail the same way and use up recipients' attempts.
      run.stopSending('database_unavailable');
      return;
    case 'past_deadline':
      // The window's deadline passed while this send waited: nothing more of the window is sent.
      run.stopSending('window_deadline');
      return;
    case 'rate_limited':
      return; // waited for by sendWithinRateLimit; a chunk hands these to sendOne
    default:
      run.tally.decided(result.outcome, attemptsUsed + result.attempt);
  }
}

/** The failure branch for one recipient: run-fatal errors stop the run, anything else is dead-lettered. */
export async function deadLetterOrStop(input: SendInput, run: Run, failure: FailureDescription): Promise<void> {
  if (isRunFatal(failure.type)) {
    run.tally.stoppedByFatalError();
    run.failWith(failure);
    return;
  }
  const state = await bookkeeping.recordDeadLetter({ ...input, errorType: failure.type, message: failure.message });
  run.tally.deadLettered(state);
}
