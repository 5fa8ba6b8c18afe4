/**
 * One recipient, one attempt, in four steps: claim the key in Postgres (committed) → prepare the message →
 * deliver it over SMTP → record the outcome (record.ts). Temporal retries this activity under the job's bounded
 * RetryPolicy; each retry re-enters through the claim, which decides from the row whether this attempt may send.
 */
import { Context } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { Pool } from 'pg';
import type { SendInput, SendResult } from '../contract';
import { AttemptsExhaustedError, ClaimBusyError } from '../errors';
import type { JobDefinition, JobRegistry, Recipient } from '../jobs';
import type { Logger } from '../logger';
import { resolveRetry, type SendRetryOptions } from '../retry';
import { classifySendError, classifySendInfo } from '../smtp/classify';
import { messageIdFor } from '../smtp/message-id';
import { abandon, claim, idempotencyKey, markFailed } from '../sends';
import { addressHash } from '../suppressions/address';
import { isSuppressed } from '../suppressions/store';
import type { UnsubscribeSettings } from '../suppressions/links';
import { buildMessage, type OutgoingMessage } from './message';
import type { RateLimiter } from './rate-limit';
import { recordDelivery, type Delivery } from './record';
import type { Semaphore } from './semaphore';

export interface SendDeps {
  pool: Pool;
  transport: Transporter;
  jobs: JobRegistry;
  logger: Logger;
  mailFrom: string;
  messageIdDomain: string;
  /** Deployment-wide defaults under the job's own retry options (e.g. SEND_ATTEMPT_TIMEOUT_MS). */
  retryDefaults: Partial<SendRetryOptions>;
  /** Bounds claims in progress to the SMTP connections that can serve them (see ActivityDeps). */
  sendSlots: Semaphore;
  /** Per-job rate limits, checked before the claim (rate-limit.ts). */
  rateLimiter: RateLimiter;
  /** One-click unsubscribe links (UNSUBSCRIBE_*); unset: recurring emails go out without them. */
  unsubscribe?: UnsubscribeSettings | undefined;
  /** Signs the links' expiry; default the real clock. */
  clock?: () => Date;
}

/** The key of a job's recipient in a window. */
export function keyFor(job: JobDefinition, recipientId: string, window: string): string {
  return idempotencyKey(job.template, recipientId, window);
}

export async function sendEmail(deps: SendDeps, input: SendInput): Promise<SendResult> {
  // Claim only when a connection can take the message right away: a claim that waits in nodemailer's queue
  // becomes `unknown` if the worker dies, although nothing was sent.
  return deps.sendSlots.run(() => withinRateLimit(deps, input));
}

/** Outcomes in which this attempt did not talk to the SMTP server: their rate budget is given back. */
const NOTHING_SENT = new Set<SendResult['outcome']>(['skipped_dedupe', 'fenced', 'ineligible', 'suppressed']);

/**
 * Reserve rate budget BEFORE claiming: over a limit nothing is claimed and the workflow waits (durable timer)
 * and calls again — a new activity, so no retry attempt is used and the key's attempts stay untouched.
 */
async function withinRateLimit(deps: SendDeps, input: SendInput): Promise<SendResult> {
  const ctx = Context.current();
  // The run ended (terminated, timed out, cancelled) while this send waited for a slot: claim nothing more.
  if (ctx.cancellationSignal.aborted) await ctx.cancelled;
  const attempt = ctx.info.attempt;
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

/** What every step of one attempt needs to know. */
export interface Attempt {
  input: SendInput;
  job: JobDefinition;
  key: string;
  messageId: string;
  /** Temporal's attempt number of this activity (1 = first try). */
  attemptNo: number;
  /** The claim's attempt number (attempts on the row), once claimed: only it may write the outcome. */
  claimAttempt: number;
  /** Resends already used under the resend-once policy. */
  resends: number;
  /** Built only when something is logged: a child logger per send was ~1 % of the worker's CPU (BENCHMARKS.md). */
  log(): Logger;
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
  // while this send holds its SMTP slot. A duplicate wastes the read (grouped with others, so cheap); an
  // ineligible recipient gives its fresh claim back. The read's error is handled after the claim.
  const loading = loadAndCheck(deps, input);
  const claimed = await claimKey(deps, attempt);
  if (claimed) return claimed;
  const message = await prepare(deps, attempt, await loading);
  if (!('to' in message)) return message;
  return recordDelivery(deps, attempt, await deliver(deps, message));
}

type Loaded = { recipient: Recipient | null; suppressed: boolean } | { error: unknown };

/**
 * The recipient, and whether it is suppressed: its address for all mail (only the loader knows the address, so
 * only the send can check it), or itself for this job (unsubscribed since its page was read). Both reads are
 * grouped with those of concurrent sends (one statement each).
 */
function loadAndCheck(deps: SendDeps, input: SendInput): Promise<Loaded> {
  const job = deps.jobs.get(input.jobName);
  const check = async (): Promise<Loaded> => {
    const recipient = await job.loadRecipient(deps.pool, input.recipientId);
    if (!recipient) return { recipient, suppressed: false };
    const hash = typeof recipient.email === 'string' && recipient.email !== '' ? addressHash(recipient.email) : null;
    return { recipient, suppressed: await isSuppressed(deps.pool, { jobName: job.name, recipientId: input.recipientId, addressHash: hash }) };
  };
  // Never rejects: a failed read is handled after the claim (recorded on the row, retried), and a send that ends at
  // its claim (a duplicate) never awaits this at all — a rejection here would go unhandled.
  return check().catch((error: unknown) => ({ error }));
}

/** Step 1: claim the key. Undefined when this attempt owns it now; otherwise the result that ends the attempt. */
async function claimKey(deps: SendDeps, attempt: Attempt): Promise<SendResult | undefined> {
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
      if (claimed.byThisRun && claimed.state !== 'claimed' && claimed.state !== 'failed') return { outcome: claimed.state, attempt: attemptNo };
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

/**
 * Step 2: the message for the claimed key, or `ineligible` / `suppressed` (the claim is given back: the key stays
 * open, nothing was sent). Bad data for this recipient (address, template values) is permanent: recorded on the
 * row, then thrown to the dead-letter branch.
 */
async function prepare(deps: SendDeps, attempt: Attempt, loaded: Loaded): Promise<OutgoingMessage | SendResult> {
  if (!('error' in loaded) && loaded.suppressed) {
    // Unsubscribed or a suppressed address (hard bounce, operator): checked before the message is built, so a
    // suppressed recipient with bad data is not dead-lettered either.
    await abandon(deps.pool, attempt.key, attempt.claimAttempt);
    return { outcome: 'suppressed', attempt: attempt.attemptNo };
  }
  try {
    if ('error' in loaded) throw loaded.error;
    const message = buildMessage(deps, attempt, loaded.recipient);
    if (message) return message;
  } catch (err) {
    await markFailed(deps.pool, attempt.key, attempt.claimAttempt, { errorType: (err as Error).name, reason: (err as Error).message });
    throw err;
  }
  // No longer eligible (deleted, opted out since the page was read): give the key back, nothing was sent.
  await abandon(deps.pool, attempt.key, attempt.claimAttempt);
  return { outcome: 'ineligible', attempt: attempt.attemptNo };
}

/**
 * Step 3: SMTP. The at-least-once window: from here until the outcome is recorded, a crash leaves the row
 * `claimed`, and the server may or may not have the message. The next attempt finds the expired lease and
 * records `unknown` (or resends once with the same Message-ID under the resend-once policy).
 */
async function deliver(deps: SendDeps, message: OutgoingMessage): Promise<Delivery> {
  try {
    const info = await deps.transport.sendMail(message);
    return { info, address: message.to.address, outcome: classifySendInfo(info, message.to.address) };
  } catch (err) {
    return { address: message.to.address, outcome: classifySendError(err) };
  }
}
