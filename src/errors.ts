/**
 * The retry contract. Temporal uses a thrown error's class name as its failure type and matches it against
 * `nonRetryableErrorTypes`, so these names are part of our public behaviour: never rename one casually.
 * Every error class whose name is in NON_RETRYABLE_ERROR_TYPES ends a send at its first attempt.
 */

/** Base for our errors: `name` is set from the class so Temporal sees a stable type. */
export abstract class SendonceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

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
 * Retryable only under the resend-once policy (see claims.ts); otherwise the key is recorded `unknown`.
 */
export class SmtpAmbiguousError extends SendonceError {}

/** SMTP credentials were refused (535): a configuration error, every other send would fail the same way. */
export class SmtpAuthError extends SendonceError {}

/** The recipient's address or rendered headers are invalid; no server will accept them. */
export class InvalidRecipientError extends SendonceError {}

/** A template is missing, or a variable it needs is missing. */
export class TemplateError extends SendonceError {}

/** The job name is not defined in src/jobs. */
export class UnknownJobError extends SendonceError {}

/** Configuration is invalid; the message lists every problem. */
export class ConfigError extends SendonceError {}

/** A claim carried a fence older than the newest one for the job: a newer lock holder exists. */
export class FenceRejectedError extends SendonceError {}

/** Another attempt's claim on the key is still live (retryable: by the next try its lease has expired). */
export class ClaimBusyError extends SendonceError {}

/** Earlier tries already used every attempt for this key. */
export class AttemptsExhaustedError extends SendonceError {}

/** Error types a send must not retry. Config errors are here too: retrying a bad config only delays the alarm. */
export const NON_RETRYABLE_ERROR_TYPES: readonly string[] = [
  SmtpPermanentError.name,
  SmtpAuthError.name,
  InvalidRecipientError.name,
  TemplateError.name,
  UnknownJobError.name,
  ConfigError.name,
  FenceRejectedError.name,
  AttemptsExhaustedError.name,
];

/** Error types that mean the run itself is misconfigured: the workflow stops sending and fails loudly. */
export const RUN_FATAL_ERROR_TYPES: readonly string[] = [SmtpAuthError.name, ConfigError.name, UnknownJobError.name];
