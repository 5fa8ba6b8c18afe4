/**
 * One recipient, one attempt: claim the key in Postgres (committed), render, SMTP, record the outcome.
 * Temporal retries this activity under the job's bounded RetryPolicy; each retry re-enters through claim(),
 * which decides from the row whether this attempt may send.
 */
import { Context } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import type { Pool } from 'pg';
import {
  AttemptsExhaustedError,
  ClaimBusyError,
  InvalidRecipientError,
  SmtpAmbiguousError,
  SmtpAuthError,
  SmtpPermanentError,
  SmtpTransientError,
} from '../errors';
import type { JobDefinition, JobRegistry, SendRetryOptions } from '../jobs';
import type { Logger } from '../logger';
import { assertValidAddress, assertValidDisplayName } from '../smtp/address';
import { classifySendError, classifySendInfo, scrubAddresses, type SmtpFailure } from '../smtp/classify';
import { messageIdFor } from '../smtp/message-id';
import { renderTemplate } from '../templates';
import { idempotencyKey } from '../window';
import type { SendInput, SendResult } from '../workflows/types';
import { abandon, claim, markFailed, markSent, markUnknown, type ClaimResult } from './claims';
import type { RateLimiter } from './rate-limit';
import type { Semaphore } from './semaphore';
import { resolveRetry } from './settings';

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
}

export function keyFor(job: JobDefinition, recipientId: string, window: string): string {
  return idempotencyKey(job.template, recipientId, window);
}

export async function sendEmail(deps: SendDeps, input: SendInput): Promise<SendResult> {
  // Claim only when a connection can take the message right away: a claim that waits in nodemailer's queue
  // becomes `unknown` if the worker dies, although nothing was sent.
  return deps.sendSlots.run(() => withinRateLimit(deps, input));
}

/** Outcomes in which this attempt did not talk to the SMTP server: their rate budget is given back. */
const NOTHING_SENT = new Set<SendResult['outcome']>(['skipped_dedupe', 'fenced', 'ineligible']);

/**
 * Reserve rate budget BEFORE claiming: over a limit nothing is claimed and the workflow waits (durable timer)
 * and calls again — a new activity, so no retry attempt is used and the key's attempts stay untouched.
 */
async function withinRateLimit(deps: SendDeps, input: SendInput): Promise<SendResult> {
  const attempt = Context.current().info.attempt;
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

async function claimAndSend(deps: SendDeps, input: SendInput): Promise<SendResult> {
  const attemptNo = Context.current().info.attempt;
  const job = deps.jobs.get(input.jobName);
  const retry = resolveRetry(job, deps.retryDefaults);
  const key = keyFor(job, input.recipientId, input.window);
  const messageId = messageIdFor(key, deps.messageIdDomain);
  // Built only when something is logged: a child logger per send was ~1 % of the worker's CPU (BENCHMARKS.md).
  let child: Logger | undefined;
  const log = () => (child ??= deps.logger.child({ runId: input.runId, jobName: job.name, recipientId: input.recipientId, attempt: attemptNo }));

  // The recipient is read alongside the claim, not after it: two independent round trips in the time of one
  // while this send holds its SMTP slot. A duplicate wastes the read (grouped with others, so cheap); an
  // ineligible recipient gives its fresh claim back. The read's error is handled after the claim, as before.
  const loading = job.loadRecipient(deps.pool, input.recipientId).then(
    (recipient) => ({ recipient }),
    (error: unknown) => ({ error }),
  );
  const claimed: ClaimResult = await claim(deps.pool, {
    key,
    jobName: job.name,
    template: job.template,
    recipientId: input.recipientId,
    window: input.window,
    fence: input.fence,
    runId: input.runId,
    messageId,
    leaseMs: retry.attemptTimeoutMs,
    maximumAttempts: retry.maximumAttempts,
    resendUnknownOnce: job.unknownPolicy === 'resend-once',
  });
  switch (claimed.kind) {
    case 'duplicate':
      return { outcome: 'skipped_dedupe', attempt: attemptNo };
    case 'fenced':
      log().warn({ fence: input.fence }, 'claim_refused_stale_fence');
      return { outcome: 'fenced', attempt: attemptNo };
    case 'lost':
      log().warn('send_outcome_unknown_attempt_lost');
      return { outcome: 'unknown', attempt: attemptNo };
    case 'busy':
      throw new ClaimBusyError(`key for recipient ${input.recipientId} is claimed by a live attempt`);
    case 'exhausted':
      throw new AttemptsExhaustedError(`recipient ${input.recipientId}: ${claimed.attempts} attempts already used`);
    case 'claimed':
      break;
  }
  const attempt = claimed.attempt;

  let message;
  try {
    const loaded = await loading;
    if ('error' in loaded) throw loaded.error;
    const { recipient } = loaded;
    if (!recipient) {
      await abandon(deps.pool, key, attempt);
      return { outcome: 'ineligible', attempt: attemptNo };
    }
    assertValidAddress(recipient.email, `recipient ${input.recipientId}`);
    assertValidDisplayName(recipient.displayName, `recipient ${input.recipientId}`);
    for (const cc of recipient.cc ?? []) assertValidAddress(cc, `recipient ${input.recipientId} cc`);
    const rendered = renderTemplate(deps.jobs.template(job), { ...recipient.values, window: input.window });
    message = {
      from: deps.mailFrom,
      to: { name: recipient.displayName ?? '', address: recipient.email },
      cc: recipient.cc?.map((address) => ({ name: '', address })),
      messageId,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      headers: { 'X-Sendonce-Key': key },
    };
  } catch (err) {
    // Bad data for this recipient (address, template values): permanent, recorded, then dead-lettered.
    await markFailed(deps.pool, key, attempt, { errorType: (err as Error).name, reason: (err as Error).message });
    throw err;
  }

  // ---- The at-least-once window. From here until markSent/markFailed commits, a crash leaves the row
  // `claimed`: the server may or may not have the message. The next attempt finds the expired lease and
  // records `unknown` (or resends once with the same Message-ID under the resend-once policy).
  let failure: SmtpFailure;
  try {
    const info = await deps.transport.sendMail(message);
    const outcome = classifySendInfo(info, message.to.address);
    if (outcome.kind === 'sent') {
      const reason = outcome.partialRejections ? `${outcome.partialRejections} cc recipient(s) rejected` : undefined;
      await markSent(deps.pool, key, attempt, { smtpResponse: scrubAddresses(String(info.response ?? '')), reason });
      if (deps.logger.isLevelEnabled('debug')) log().debug({ messageId }, 'email_sent');
      return { outcome: 'sent', attempt: attemptNo };
    }
    failure = outcome;
  } catch (err) {
    failure = classifySendError(err);
  }
  return recordFailure(deps, { key, attempt, failure, resends: claimed.resends, job, recipientId: input.recipientId, attemptNo, log: log() });
}

interface FailureContext {
  key: string;
  attempt: number;
  failure: SmtpFailure;
  resends: number;
  job: JobDefinition;
  recipientId: string;
  attemptNo: number;
  log: Logger;
}

/** Record the failed attempt on the row, then throw the error type that tells Temporal whether to retry. */
async function recordFailure(deps: SendDeps, ctx: FailureContext): Promise<SendResult> {
  const { failure, key, attempt } = ctx;
  const details = {
    errorType: errorTypeFor(failure),
    smtpCode: failure.code,
    smtpResponse: failure.response,
    reason: failure.message,
  };
  const what = `recipient ${ctx.recipientId}: ${failure.message}`;
  ctx.log.warn({ errorType: details.errorType, smtpCode: failure.code }, 'send_attempt_failed');
  switch (failure.kind) {
    case 'ambiguous':
      if (ctx.job.unknownPolicy === 'resend-once' && ctx.resends === 0) {
        await markFailed(deps.pool, key, attempt, details, { consumeResend: true });
        throw new SmtpAmbiguousError(`${what} (resending once with the same Message-ID)`);
      }
      await markUnknown(deps.pool, key, attempt, details);
      return { outcome: 'unknown', attempt: ctx.attemptNo };
    case 'transient':
      await markFailed(deps.pool, key, attempt, details);
      throw new SmtpTransientError(what, failure.code, failure.response);
    case 'permanent':
      await markFailed(deps.pool, key, attempt, details);
      throw new SmtpPermanentError(what, failure.code, failure.response);
    case 'invalid_recipient':
      await markFailed(deps.pool, key, attempt, details);
      throw new InvalidRecipientError(what);
    case 'auth':
      // Nothing was sent; leave the key retryable for the next run once the credentials are fixed.
      await markFailed(deps.pool, key, attempt, details);
      throw new SmtpAuthError(`SMTP authentication failed: ${failure.message}`);
  }
}

function errorTypeFor(failure: SmtpFailure): string {
  switch (failure.kind) {
    case 'ambiguous':
      return SmtpAmbiguousError.name;
    case 'transient':
      return SmtpTransientError.name;
    case 'permanent':
      return SmtpPermanentError.name;
    case 'invalid_recipient':
      return InvalidRecipientError.name;
    case 'auth':
      return SmtpAuthError.name;
  }
}
