/**
 * Step 4 of a send (send-email.ts): record what the provider said on the key's row, then tell Temporal what to do
 * next — return the outcome, or throw the error type that decides whether it retries (src/retry.ts).
 */
import type { SendResult } from '../contract';
import {
  InvalidRecipientError,
  SmtpAmbiguousError,
  SmtpAuthError,
  SmtpPermanentError,
  SmtpTransientError,
} from '../errors';
import type { DeliveryFailure, DeliveryOutcome } from '../delivery';
import { markFailed, markSent, markUnknown } from '../sends';
import { addressHash } from '../suppressions/address-hash';
import { recordSuppression } from '../suppressions/store';
import type { Attempt, SendDeps } from './send-attempt';

export async function recordOutcome(
  deps: Pick<SendDeps, 'pool' | 'logger'>,
  attempt: Attempt,
  outcome: DeliveryOutcome,
  address: string,
): Promise<SendResult> {
  if (outcome.kind !== 'accepted') return recordRefusal(deps, attempt, outcome, address);
  const reason = outcome.partialRejections ? `${outcome.partialRejections} cc recipient(s) rejected` : undefined;
  await markSent(deps.pool, attempt.key, attempt.claimAttempt, { smtpResponse: outcome.response, reason });
  if (deps.logger.isLevelEnabled('debug')) attempt.log().debug({ messageId: attempt.messageId }, 'email_sent');
  return { outcome: 'sent', attempt: attempt.attemptNo };
}

/** The error class that carries each kind of failure to Temporal. */
const ERROR_OF = {
  ambiguous: SmtpAmbiguousError,
  transient: SmtpTransientError,
  permanent: SmtpPermanentError,
  invalid_recipient: InvalidRecipientError,
  auth: SmtpAuthError,
} as const;

/** Record the refused (or lost) attempt on the row, then throw the error type that tells Temporal whether to retry. */
async function recordRefusal(deps: Pick<SendDeps, 'pool'>, attempt: Attempt, failure: DeliveryFailure, address: string): Promise<SendResult> {
  const { key, claimAttempt } = attempt;
  const details = { errorType: ERROR_OF[failure.kind].name, smtpCode: failure.code, smtpResponse: failure.response, reason: failure.message };
  const what = `recipient ${attempt.input.recipientId}: ${failure.message}`;
  attempt.log().warn({ errorType: details.errorType, smtpCode: failure.code }, 'send_attempt_failed');
  switch (failure.kind) {
    case 'ambiguous':
      if (attempt.job.unknownPolicy === 'resend-once' && attempt.resends === 0) {
        await markFailed(deps.pool, key, claimAttempt, details, { consumeResend: true });
        throw new SmtpAmbiguousError(`${what} (resending once with the same Message-ID)`);
      }
      await markUnknown(deps.pool, key, claimAttempt, details);
      return { outcome: 'unknown', attempt: attempt.attemptNo };
    case 'transient':
      await markFailed(deps.pool, key, claimAttempt, details);
      throw new SmtpTransientError(what, failure.code, failure.response);
    case 'permanent':
      await markFailed(deps.pool, key, claimAttempt, details);
      // The mailbox does not exist: this key is a dead letter like any permanent refusal, and the address is
      // suppressed so that later windows (of every job) skip it instead of bouncing again every day.
      if (failure.hardBounce) await suppressHardBounce(deps, attempt, address, failure);
      throw new SmtpPermanentError(what, failure.code, failure.response);
    case 'invalid_recipient':
      await markFailed(deps.pool, key, claimAttempt, details);
      throw new InvalidRecipientError(what);
    case 'auth':
      // Nothing was sent; leave the key retryable for the next run once the credentials are fixed.
      await markFailed(deps.pool, key, claimAttempt, details);
      throw new SmtpAuthError(`SMTP authentication failed: ${failure.message}`);
  }
}

/**
 * Best effort: the dead letter is what this send owes. If the suppression cannot be written (Postgres hiccup), the
 * next window tries the address once more, is refused again, and writes it then — better than failing this
 * attempt, which would be retried and offer the refused address to the server again within the same run.
 */
async function suppressHardBounce(deps: Pick<SendDeps, 'pool'>, attempt: Attempt, address: string, failure: DeliveryFailure): Promise<void> {
  const written = recordSuppression(deps.pool, {
    scope: 'address',
    addressHash: addressHash(address),
    address,
    jobName: attempt.job.name,
    recipientId: attempt.input.recipientId,
    reason: 'hard_bounce',
    detail: [failure.code, failure.response ?? failure.message].filter((x) => x !== undefined).join(' '),
  });
  await written.then(
    () => attempt.log().warn({ smtpCode: failure.code }, 'address_suppressed_hard_bounce'),
    (err: Error) => attempt.log().error({ smtpCode: failure.code, err: err.message }, 'hard_bounce_suppression_failed'),
  );
}
