/**
 * Step 1 of a send (send-email.ts): claim the key in Postgres, committed before anything is delivered. The row
 * decides whether this attempt may send: a duplicate, a stale fence, a live claim elsewhere or exhausted attempts
 * end it here.
 */
import type { SendResult } from '../contract';
import { AttemptsExhaustedError, ClaimBusyError } from '../errors';
import { resolveRetry } from '../retry';
import { claim } from '../sends';
import type { Attempt, SendDeps } from './send-attempt';

/** Step 1: claim the key. Undefined when this attempt owns it now; otherwise the result that ends the attempt. */
export async function claimKey(deps: SendDeps, attempt: Attempt): Promise<SendResult | undefined> {
  const { input, job, key, attemptNo } = attempt;
  const retry = resolveRetry(job, deps.retryDefaults);
  const claimed = await claim(deps.pool, {
    key,
    jobName: job.name,
    template: job.template,
    recipientId: input.recipientId,
    window: input.window,
    fence: input.fence,
    runId: input.runId,
    messageId: attempt.messageId,
    leaseMs: retry.attemptTimeoutMs,
    maximumAttempts: retry.maximumAttempts,
    resendUnknownOnce: job.unknownPolicy === 'resend-once',
  });
  switch (claimed.kind) {
    case 'claimed':
      attempt.claimAttempt = claimed.attempt;
      attempt.resends = claimed.resends;
      return undefined;
    case 'duplicate':
      // Finished by an earlier attempt of this same run: what that attempt did counts for this run.
      if (claimed.byThisRun) return { outcome: claimed.state, attempt: attemptNo };
      return { outcome: 'skipped_dedupe', attempt: attemptNo };
    case 'fenced':
      attempt.log().warn({ fence: input.fence }, 'claim_refused_stale_fence');
      return { outcome: 'fenced', attempt: attemptNo };
    case 'lost':
      attempt.log().warn('send_outcome_unknown_attempt_lost');
      return { outcome: 'unknown', attempt: attemptNo };
    case 'busy':
      throw new ClaimBusyError(`key for recipient ${input.recipientId} is claimed by a live attempt`);
    case 'exhausted':
      throw new AttemptsExhaustedError(`recipient ${input.recipientId}: ${claimed.attempts} attempts already used`);
  }
}

