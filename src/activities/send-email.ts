/**
 * The sendEmail activity: one recipient, one attempt, in four steps — claim the key in Postgres, committed
 * (claim-key.ts) → prepare the message (prepare-message.ts) → deliver it (the DeliveryTransport) → record the
 * outcome (record-outcome.ts). Temporal retries this activity under the job's bounded RetryPolicy; each retry
 * re-enters through the claim, which decides from the row whether this attempt may send. The chunk activity
 * (send-chunk.ts) runs the same path per recipient.
 */
import { Context } from '@temporalio/activity';
import type { SendInput, SendResult } from '../contract';
import { messageIdFor } from '../delivery';
import { isPostgresConnectionError } from '../db/unreachable';
import { AttemptsExhaustedError, ClaimBusyError } from '../errors';
import type { Logger } from '../logger';
import { observeSend, type AppMetrics } from '../metrics';
import { keyFor } from '../sends';
import { claimKey } from './claim-key';
import { loadAndCheck, prepare } from './prepare-message';
import { recordOutcome } from './record-outcome';
import type { Attempt, SendDeps } from './send-attempt';

export function sendEmailActivity(deps: SendDeps, metrics: AppMetrics) {
  return async function sendEmail(input: SendInput): Promise<SendResult> {
    return observeSend(metrics, input.jobName, Context.current().info.attempt, () => sendToRecipient(deps, input));
  };
}

export async function sendToRecipient(deps: SendDeps, input: SendInput): Promise<SendResult> {
  // Claim only when a connection can take the message right away: a claim that waits in the transport's queue
  // becomes `unknown` if the worker dies, although nothing was sent.
  return deps.sendSlots.run(() => withinRateLimit(deps, input));
}

/** Outcomes in which this attempt did not talk to the provider: their rate budget is given back. */
const NOTHING_SENT = new Set<SendResult['outcome']>(['skipped_dedupe', 'fenced', 'ineligible', 'suppressed', 'database_unavailable']);

/**
 * Reserve rate budget BEFORE claiming: over a limit nothing is claimed and the workflow waits (durable timer)
 * and calls again — a new activity, so no retry attempt is used and the key's attempts stay untouched.
 */
async function withinRateLimit(deps: SendDeps, input: SendInput): Promise<SendResult> {
  const ctx = Context.current();
  // The run ended (terminated, timed out, cancelled) while this send waited for a slot: claim nothing more.
  if (ctx.cancellationSignal.aborted) await ctx.cancelled;
  const attempt = ctx.info.attempt;
  // A send scheduled before the window's deadline but started after it (it waited in a queue): never sent late.
  if (input.notAfter && Date.now() >= Date.parse(input.notAfter)) return { outcome: 'past_deadline', attempt };
  const budget = await deps.rateLimiter.reserve(deps.jobs.get(input.jobName));
  if (budget.kind === 'wait') return { outcome: 'rate_limited', retryAfterMs: budget.retryAfterMs, attempt };
  if (budget.kind === 'unavailable') {
    deps.logger.error({ runId: input.runId, jobName: input.jobName, err: budget.reason }, 'rate_limiter_unavailable');
    return { outcome: 'rate_limiter_unavailable', attempt };
  }
  try {
    const result = await claimAndSend(deps, input);
    if (NOTHING_SENT.has(result.outcome)) await budget.refund();
    return result;
  } catch (err) {
    if (err instanceof ClaimBusyError || err instanceof AttemptsExhaustedError) await budget.refund();
    throw err;
  }
}

/**
 * A step before anything reaches the mail server, with Postgres unreachable: the attempt ends `database_unavailable`
 * (the run stops; this recipient's attempts are untouched) instead of failing and being retried into a dead letter.
 * After delivery a database error still fails the attempt: the message may be out, and the claim says so.
 */
async function beforeDelivery<T>(attempt: Attempt, step: () => Promise<T>): Promise<T | SendResult> {
  try {
    return await step();
  } catch (err) {
    if (!isPostgresConnectionError(err)) throw err;
    attempt.log().warn({ err: (err as Error).message }, 'send_stopped_database_unavailable');
    return { outcome: 'database_unavailable', attempt: attempt.attemptNo };
  }
}

async function claimAndSend(deps: SendDeps, input: SendInput): Promise<SendResult> {
  const job = deps.jobs.get(input.jobName);
  const attemptNo = Context.current().info.attempt;
  const key = keyFor(job, input.recipientId, input.window);
  let child: Logger | undefined;
  const attempt: Attempt = {
    input, job, key, attemptNo, claimAttempt: 0, resends: 0,
    messageId: messageIdFor(key, deps.messageIdDomain),
    log: () => (child ??= deps.logger.child({ runId: input.runId, jobName: job.name, recipientId: input.recipientId, attempt: attemptNo })),
  };
  // The recipient is read alongside the claim, not after it: two independent round trips in the time of one
  // while this send holds its send slot. A duplicate wastes the read (grouped with others, so cheap); an
  // ineligible recipient gives its fresh claim back. The read's error is handled after the claim.
  const loading = loadAndCheck(deps, input);
  const claimed = await beforeDelivery(attempt, () => claimKey(deps, attempt));
  if (claimed) return claimed;
  const message = await beforeDelivery(attempt, async () => prepare(deps, attempt, await loading));
  if (!('to' in message)) return message;
  // Step 3, the at-least-once window: from here until the outcome is recorded, a crash leaves the row `claimed`
  // and the provider may or may not have the message. The next attempt finds the expired lease and records
  // `unknown` (or resends once with the same Message-ID under the resend-once policy).
  const outcome = await deps.delivery.send(message, key);
  return recordOutcome(deps, attempt, outcome, message.to.address);
}
