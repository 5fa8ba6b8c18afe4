/**
 * The one home of "never retry forever": the retry bounds of a send (defaults, and how a job and the deployment
 * override them), which errors are never retried, which stop the whole run, and the activity options every
 * workflow proxy is built from. Temporal's default activity retry is unlimited; here every activity is bounded in
 * attempts AND total time. Workflow-safe: pure values, used by both the workflow and the activities.
 */
import type { ActivityOptions } from '@temporalio/common';
import {
  AttemptsExhaustedError,
  ConfigError,
  InvalidRecipientError,
  RecipientPageOrderError,
  SmtpAuthError,
  SmtpPermanentError,
  TemplateError,
  UnknownJobError,
} from './errors';

/** Per-send retry bounds (Temporal RetryPolicy + timeouts). Every send is bounded in attempts AND total time. */
export interface SendRetryOptions {
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** One attempt, including SMTP; keep SMTP_SOCKET_TIMEOUT_MS below it. */
  attemptTimeoutMs: number;
  /** All attempts together, backoff included. */
  totalTimeoutMs: number;
}

export const DEFAULT_RETRY: SendRetryOptions = {
  maximumAttempts: 5,
  initialIntervalMs: 2_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
  attemptTimeoutMs: 60_000,
  totalTimeoutMs: 10 * 60_000,
};

/** A job's retry bounds: the defaults, under the deployment's (e.g. SEND_ATTEMPT_TIMEOUT_MS), under the job's own. */
export function resolveRetry(job: { retry?: Partial<SendRetryOptions> }, deployment: Partial<SendRetryOptions> = {}): SendRetryOptions {
  return { ...DEFAULT_RETRY, ...deployment, ...job.retry };
}

/** Error types a send never retries: a permanent refusal, bad data, a bad configuration, no attempts left. */
export const NON_RETRYABLE_ERROR_TYPES: readonly string[] = [
  SmtpPermanentError.name,
  SmtpAuthError.name,
  InvalidRecipientError.name,
  TemplateError.name,
  UnknownJobError.name,
  ConfigError.name,
  AttemptsExhaustedError.name,
  RecipientPageOrderError.name,
];

/** Error types that mean the run itself is misconfigured: the workflow stops sending and fails loudly. */
export const RUN_FATAL_ERROR_TYPES: readonly string[] = [SmtpAuthError.name, ConfigError.name, UnknownJobError.name];

export const isRetryable = (errorType: string): boolean => !NON_RETRYABLE_ERROR_TYPES.includes(errorType);
export const isRunFatal = (errorType: string): boolean => RUN_FATAL_ERROR_TYPES.includes(errorType);

/** A key with `used` attempts recorded has none left: the dead-letter branch takes it. */
export const attemptsExhausted = (retry: Pick<SendRetryOptions, 'maximumAttempts'>, used: number): boolean => used >= retry.maximumAttempts;

/** Bookkeeping activities (run rows, lock, pages, dead letters): short, retried a few times, bounded in total time. */
export const BOOKKEEPING_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '3m',
  retry: {
    maximumAttempts: 5,
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '20s',
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
};

/**
 * Recording a run's ending (finishRun): as bookkeeping, but ten attempts (1 + 2 + 4 + 8 + 16 s, then every 20 s,
 * within the same 3 minutes) so that it rides out a database outage of about two minutes. A run stopped by the
 * outage (`database_unavailable`) then records that ending, and its window's ledger row, once Postgres is back;
 * with five attempts (15 s of backoff) a 20 s outage made finishRun give up and the run end `failed` (chaos
 * scenario 17).
 */
export const ENDING_ACTIVITY_OPTIONS: ActivityOptions = {
  ...BOOKKEEPING_ACTIVITY_OPTIONS,
  retry: { ...BOOKKEEPING_ACTIVITY_OPTIONS.retry, maximumAttempts: 10 },
};

/**
 * The retention job's one activity (workflows/prune.ts): up to an hour of batched deletes. It heartbeats after
 * every batch, so a worker that died is noticed in minutes, not after an hour; three tries in all.
 */
export const PRUNE_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1h',
  heartbeatTimeout: '2m',
  retry: { maximumAttempts: 3, initialInterval: '30s', backoffCoefficient: 2 },
};

/**
 * One recipient's send activity under the job's bounds. `attemptsUsed` = attempts the recipient already had
 * (its first one inside a chunk), so its attempts over both paths never exceed the job's maximumAttempts.
 */
export function sendActivityOptions(retry: SendRetryOptions, attemptsUsed = 0): ActivityOptions {
  return {
    startToCloseTimeout: retry.attemptTimeoutMs,
    scheduleToCloseTimeout: retry.totalTimeoutMs,
    retry: {
      maximumAttempts: Math.max(1, retry.maximumAttempts - attemptsUsed),
      initialInterval: retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: retry.maximumIntervalMs,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  };
}

/**
 * The chunk activity: one attempt only (a chunk that fails as a whole — worker died, timeout — is redone per
 * recipient, where claims decide what is left to do). It heartbeats as its recipients finish, so a dead worker is
 * noticed after one attempt timeout; the start-to-close bound allows every recipient one full attempt.
 */
export function chunkActivityOptions(retry: SendRetryOptions, chunkSize: number): ActivityOptions {
  return {
    startToCloseTimeout: retry.attemptTimeoutMs * chunkSize,
    heartbeatTimeout: retry.attemptTimeoutMs,
    retry: { maximumAttempts: 1 },
  };
}

/** A recipient whose first attempt failed inside a chunk is retried on its own only if it may be. */
export const retriesAfterChunk = (retry: SendRetryOptions, errorRetryable: boolean): boolean => errorRetryable && retry.maximumAttempts > 1;
