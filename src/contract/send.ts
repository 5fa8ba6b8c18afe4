/**
 * What crosses the workflow/activity boundary for one send or one chunk of sends. Ids only — the activity loads
 * the recipient's address itself. Workflow-safe: types only.
 */

export interface SendInput {
  jobName: string;
  runId: string;
  recipientId: string;
  window: string;
  fence: number;
  /**
   * The window's deadline (ISO) for a run that began before it: from then on nothing more is claimed — a send that
   * waited in a queue past it answers `past_deadline` instead (src/windows/deadline.ts).
   */
  notAfter?: string;
}

/** A chunk of recipients for the fast path (one activity, per-recipient claims and outcomes). */
export interface ChunkInput extends Omit<SendInput, 'recipientId'> {
  recipientIds: string[];
}

/**
 * `rate_limited`: over the job's rate limit, nothing claimed — wait `retryAfterMs`, then call again.
 * `rate_limiter_unavailable`: Redis for the rate limit is unreachable, nothing claimed — the run stops sending.
 * `database_unavailable`: Postgres could not be reached before anything was handed to the mail server — the run
 * stops sending, and the recipient's attempt bound is untouched (an outage is not the recipient's failure).
 * `past_deadline`: the window's deadline passed before this send began, nothing claimed — the run stops sending.
 * `fenced`: a newer lock holder exists for the job — this run stops sending.
 * `ineligible` / `suppressed`: nothing was sent and the claim was given back (no longer eligible; unsubscribed or
 * suppressed address, src/suppressions/).
 * `sent`, `unknown`, `dead` may also be what an EARLIER attempt of the same run did (a worker died before the
 * workflow heard of it): they count for this run. `skipped_dedupe` means finished before this run began.
 */
export type SendOutcome =
  | 'sent'
  | 'skipped_dedupe'
  | 'unknown'
  | 'dead'
  | 'fenced'
  | 'ineligible'
  | 'suppressed'
  | 'rate_limited'
  | 'rate_limiter_unavailable'
  | 'database_unavailable'
  | 'past_deadline';

export interface SendResult {
  outcome: SendOutcome;
  /** With `rate_limited`: when the budget allows the next try. */
  retryAfterMs?: number;
  /** The Temporal attempt that produced this result (1 = first try). */
  attempt: number;
}

/** A failed send as the workflow sees it: the error's type (its class name) and a message without addresses. */
export interface FailureDescription {
  type: string;
  message: string;
}

/** One recipient's result inside a chunk: an outcome, or its first attempt's error (retried on its own). */
export type ChunkItemResult =
  | (SendResult & { recipientId: string })
  | { recipientId: string; outcome: 'failed'; attempt: 1; error: FailureDescription & { retryable: boolean } };

/**
 * A key's state in email_sends (src/sends/claims.ts has the state machine). After the failure branch a key is
 * `dead`, or `unknown` when its last attempt may have reached the server. `released`: a claim given back with
 * nothing sent (the recipient ineligible or suppressed) by a key with history to keep; open, like `failed`.
 */
export type SendState = 'claimed' | 'sent' | 'failed' | 'dead' | 'unknown' | 'released';

/**
 * What the failure branch found for a key: the state it left the key in, or `deduped` when another run of the
 * window owns the key (finished it, or is sending it right now) — that run accounts for it, this one leaves it be.
 */
export type DeadLetterOutcome = SendState | 'deduped';
