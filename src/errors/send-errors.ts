/** How one send attempt failed. Which of these a send retries is decided in src/retry.ts. */
import { SendonceError } from './base';

/** The SMTP server refused permanently (5xx) — retrying cannot help. */
export class SmtpPermanentError extends SendonceError {
  constructor(
    message: string,
    readonly smtpCode: number | undefined,
    readonly smtpResponse: string | undefined,
  ) {
    super(message);
  }
}

/** The SMTP server asked us to try later (4xx), or could not be reached before the message was handed over. */
export class SmtpTransientError extends SendonceError {
  constructor(
    message: string,
    readonly smtpCode: number | undefined,
    readonly smtpResponse: string | undefined,
  ) {
    super(message);
  }
}

/**
 * The connection broke after the message may have been accepted; we do not know whether it was delivered.
 * Retryable only under the resend-once policy (src/sends/claims.ts); otherwise the key is recorded `unknown`.
 */
export class SmtpAmbiguousError extends SendonceError {}

/** SMTP credentials were refused (535): a configuration error, every other send would fail the same way. */
export class SmtpAuthError extends SendonceError {}

/** The recipient's address or rendered headers are invalid; no server will accept them. */
export class InvalidRecipientError extends SendonceError {}

/** Another attempt's claim on the key is still live (retryable: by the next try its lease has expired). */
export class ClaimBusyError extends SendonceError {}

/** Earlier tries already used every attempt for this key. */
export class AttemptsExhaustedError extends SendonceError {}
