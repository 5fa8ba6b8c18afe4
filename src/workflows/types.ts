import type { SendRetryOptions } from '../jobs/types';

/**
 * Data that crosses the workflow/activity boundary. Ids and counts only: never an email address or a body
 * (workflow history is stored by Temporal and shown in its UI).
 */

export interface RunStats {
  /** Recipients examined in this run. */
  processedCount: number;
  sentCount: number;
  /** Already finished for this window (sent, dead or unknown earlier) — not sent again. */
  skippedDedupeCount: number;
  /** Not delivered because of an error: deadLettered + unknown + stopped by a run-fatal error. */
  failedCount: number;
  deadLetteredCount: number;
  unknownCount: number;
  /** No longer eligible when their turn came (deleted, opted out). */
  ineligibleCount: number;
  /** Retry attempts used across all sends (attempt − 1 per send). */
  retryCount: number;
  /** Times a send waited for rate-limit budget (durable timers; no retry attempt used). */
  rateLimitedWaits: number;
}

export const emptyStats = (): RunStats => ({
  processedCount: 0,
  sentCount: 0,
  skippedDedupeCount: 0,
  failedCount: 0,
  deadLetteredCount: 0,
  unknownCount: 0,
  ineligibleCount: 0,
  retryCount: 0,
  rateLimitedWaits: 0,
});

export interface BatchInput {
  jobName: string;
  /** Nominal time for runs not started by a schedule (ISO); scheduled runs use TemporalScheduledStartTime. */
  scheduledAt?: string;
  /**
   * Send to exactly these recipient ids instead of paging through the job's recipients (a dead-letter redrive,
   * src/api/dead-letters.ts). Same window rules, same lock, same claims: still at most once per key.
   */
  recipientIds?: string[];
  /** Set by continue-as-new only. */
  continuation?: Continuation;
}

export interface LockHold {
  token: string;
  fence: number;
}

export interface Continuation {
  runId: string;
  scheduledAt: string;
  window: string;
  settings: RunSettings;
  lock: LockHold;
  cursor: string | null;
  stats: RunStats;
  segment: number;
  /** Carried from BatchInput.recipientIds (the cursor is then the last id of that list processed). */
  recipientIds?: string[];
}

/** Everything the workflow needs from the job definition, resolved once by the startRun activity. */
export interface RunSettings {
  pageSize: number;
  maxInFlight: number;
  lockTtlMs: number;
  retry: SendRetryOptions;
  /** Recipients per send activity (1 = one activity per recipient); see src/activities/send-chunk.ts. */
  chunkSize: number;
  /** Continue-as-new once the history passes this many events (checked between pages). */
  continueAsNewAfterEvents: number;
}

/** 'stopped': the run stopped sending for `reason` (e.g. rate_limiter_unavailable); the rest is left for the next run. */
export type RunOutcome = 'completed' | 'skipped' | 'lock_lost' | 'failed' | 'stopped';

export interface RunSummary {
  runId: string;
  workflowId: string;
  jobName: string;
  scheduledAt: string;
  window: string;
  outcome: RunOutcome;
  skipped: boolean;
  reason?: 'locked' | 'lock_unavailable' | 'rate_limiter_unavailable' | string;
  fence?: number;
  /** Continue-as-new segments this run used (1 = none). */
  segments: number;
  stats: RunStats;
}

export interface SendInput {
  jobName: string;
  runId: string;
  recipientId: string;
  window: string;
  fence: number;
}

/**
 * `rate_limited`: over the job's rate limit, nothing claimed — wait `retryAfterMs`, then call again.
 * `rate_limiter_unavailable`: Redis for the rate limit is unreachable, nothing claimed — the run stops sending.
 */
export type SendOutcome = 'sent' | 'skipped_dedupe' | 'unknown' | 'fenced' | 'ineligible' | 'rate_limited' | 'rate_limiter_unavailable';

/** A chunk of recipients for the fast path (one activity, per-recipient claims and outcomes). */
export interface ChunkInput {
  jobName: string;
  runId: string;
  window: string;
  fence: number;
  recipientIds: string[];
}

/** One recipient's result inside a chunk: an outcome, or its first attempt's error (retried on its own). */
export type ChunkItemResult =
  | (SendResult & { recipientId: string })
  | { recipientId: string; outcome: 'failed'; attempt: 1; error: { type: string; message: string; retryable: boolean } };

export interface SendResult {
  outcome: SendOutcome;
  /** With `rate_limited`: when the budget allows the next try. */
  retryAfterMs?: number;
  /** The Temporal attempt that produced this result (1 = first try). */
  attempt: number;
}

export type LockAcquireResult =
  | { acquired: true; token: string; fence: number }
  | { acquired: false; reason: 'locked' | 'lock_unavailable' };

export interface StartRunResult {
  window: string;
  settings: RunSettings;
}
