import type { Pool } from '../db/pool';
import type { SendRetryOptions } from '../retry';
import type { TemplateValues } from '../templates/render';
import type { WindowSpec } from '../window';

// A job's retry bounds and their defaults live with the rest of the retry rules (src/retry.ts).
export { DEFAULT_RETRY, type SendRetryOptions } from '../retry';

/** One recipient, loaded by id inside the send activity (workflow inputs and results carry ids only). */
export interface Recipient {
  id: string;
  email: string;
  /** Display name for the To header; CR/LF are rejected. */
  displayName?: string;
  /** Extra recipients of the same message (rare; a rejection of only these does not fail the send). */
  cc?: string[];
  /**
   * Template values: strings and numbers, or lists and objects of them for loops (`{% for item in items %}`).
   * `window` and `unsubscribeUrl` are added by sendonce.
   */
  values: TemplateValues;
}

export type RecipientIdOrder = 'bigint' | 'text' | 'uuid';

export interface RecipientPageArgs {
  /** Keyset cursor: the last id of the previous page, or null for the first page. */
  afterId: string | null;
  limit: number;
  window: string;
  scheduledAt: Date;
}


/**
 * What happens to a send whose outcome is ambiguous (the server may have accepted it, the reply was lost):
 * `record` (default) marks it `unknown` and never resends; `resend-once` sends one more copy with the same
 * Message-ID, so a receiver that deduplicates by Message-ID shows it once.
 */
export type UnknownPolicy = 'record' | 'resend-once';

/**
 * Per-job send rate limits, counted in Redis so every worker of the deployment shares them.
 * A send over a limit is not an error: the run waits with a durable timer and sends it then, without using
 * a retry attempt (src/activities/rate-limit.ts, src/workflows/send-one.ts).
 */
export interface RateLimit {
  /** At most this many sends per sender per bucket (an hour): key `email_rate:{sender}:{YYYYMMDDHH}`. */
  perSenderPerHour?: number;
  /** At least this long between two sends of this job and sender; the run then sends one at a time. */
  minGapMs?: number;
  /** The bucket length; default one hour. Shorter only for tests (the key then also carries minutes and seconds). */
  bucketMs?: number;
  /** Who the budget belongs to; default the From address (MAIL_FROM). */
  sender?: string;
}

/**
 * One-click unsubscribe for a job's emails (src/suppressions/): `job` (default for recurring jobs) — the recipient
 * stops getting this job's emails; `address` — no more mail of any job to that address. `false` (the default for
 * one-off jobs): no List-Unsubscribe header — only for transactional mail people asked for one by one.
 */
export type UnsubscribeOption = { scope: 'job' | 'address' } | false;

export interface JobDefinition {
  /** [a-z0-9-]; names the schedule, workflow ids, lock key and rows. */
  name: string;
  /**
   * 'recurring' (default): recipients from your own table, every tick. 'one-off': recipients are the due rows
   * of scheduled_emails for this job's template (src/jobs/one-off.ts; schedule them with scheduleEmail()).
   */
  kind?: 'recurring' | 'one-off';
  template: string;
  /**
   * Template variables the recipients provide (checked against the template at start-up); `window` and
   * `unsubscribeUrl` (empty when the job or the deployment has no unsubscribe link) are always there.
   */
  variables: readonly string[];
  schedule: {
    /** Interval like '5m' (epoch-aligned, immune to DST) — the default. */
    every?: string;
    /** Cron expression instead of an interval; beware DST in non-UTC zones. */
    cron?: string;
    timezone?: string;
    /** Missed ticks older than this are dropped after downtime; the server's default is a year. */
    catchupWindow?: string;
    /** A run (all continue-as-new segments) is stopped after this, so a hung run cannot block the schedule. */
    maxRunDuration?: string;
  };
  /**
   * After this long a run schedules no new sends, lets those in flight finish and ends `stopped` (reason
   * `time_budget`); the next tick sends the rest. Default: maxRunDuration minus one send's total timeout and a
   * minute (at most half of it), so a run ends by itself before the schedule's timeout cuts it off.
   */
  timeBudget?: string;
  window: WindowSpec;
  retry?: Partial<SendRetryOptions>;
  unknownPolicy?: UnknownPolicy;
  /** One-click unsubscribe: default `{ scope: 'job' }` for recurring jobs, `false` for one-off jobs. */
  unsubscribe?: UnsubscribeOption;
  /** Recipients fetched per page (keyset pagination). */
  pageSize?: number;
  /**
   * Recipients per send activity (default 100, DEFAULT_CHUNK_SIZE in src/activities/run-settings.ts; at most 200;
   * 1 = one activity per recipient). Retries are always per recipient.
   */
  chunkSize?: number;
  /** Continue-as-new once a run's history passes this many events (default 4,000; the server hard-fails at 50k). */
  continueAsNewAfterEvents?: number;
  /** Sends in flight at once per run (Temporal fails a workflow above 2,000). */
  maxInFlight?: number;
  rateLimit?: RateLimit;
  /**
   * How recipient ids compare (default 'bigint'). Every page must advance strictly past the cursor in this order,
   * or the run fails with reason `recipient_page_out_of_order` rather than skip people (src/activities/fetch-recipient-page.ts).
   * 'text' compares byte by byte: order your query with COLLATE "C".
   */
  idOrder?: RecipientIdOrder;
  /** Ids of eligible recipients after `afterId`, ordered, at most `limit`. Keyset, never OFFSET. */
  recipientPage(db: Pool, args: RecipientPageArgs): Promise<string[]>;
  /**
   * The recipient to send to, or null if no longer eligible (deleted, opted out since the page was read).
   * Called right after the claim, once per send; `groupedLoader(many)` (./grouped-loader.ts) builds one from a
   * many-ids query so that concurrent sends share one statement.
   */
  loadRecipient(db: Pool, id: string): Promise<Recipient | null>;
}


/** The job's unsubscribe scope, or false when its emails carry no unsubscribe link. */
export function unsubscribeScopeOf(job: Pick<JobDefinition, 'kind' | 'unsubscribe'>): 'job' | 'address' | false {
  if (job.unsubscribe === false) return false;
  if (job.unsubscribe) return job.unsubscribe.scope;
  return job.kind === 'one-off' ? false : 'job';
}
