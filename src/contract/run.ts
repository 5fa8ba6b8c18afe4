/**
 * What crosses the workflow boundary for a whole run: its input, its settings, the state a run carries across
 * continue-as-new, and its summary. Ids and counts only — never an email address or a body (workflow history
 * is stored by Temporal and shown in its UI). Workflow-safe: types and pure values only.
 */
import type { SendRetryOptions } from '../retry';
import type { RunCounts } from './counts';

export interface BatchInput {
  jobName: string;
  /** Nominal time for runs not started by a schedule (ISO); scheduled runs use TemporalScheduledStartTime. */
  scheduledAt?: string;
  /**
   * Send to exactly these recipient ids instead of paging through the job's recipients (a dead-letter redrive,
   * src/api/dead-letters.ts). Same window rules, same lock, same claims: still at most once per key.
   */
  recipientIds?: string[];
  /**
   * A follow-up run of a window an earlier run left incomplete: its number (1, 2, …), set by the window keeper
   * (src/windows/keeper.ts) for the Web UI and logs only. It runs like any run of the window.
   */
  followUp?: number;
  /** Set by continue-as-new only. */
  continuation?: CarriedState;
}

/** The task queue of the send-chunk activities (src/sendonce-worker.ts): capped per worker, so chunks spread. */
export const chunkTaskQueue = (taskQueue: string): string => `${taskQueue}.chunks`;

export interface LockHold {
  token: string;
  fence: number;
}

/** Everything the workflow needs from the job definition, resolved once by the startRun activity. */
export interface RunSettings {
  pageSize: number;
  maxInFlight: number;
  lockTtlMs: number;
  retry: SendRetryOptions;
  /** Recipients per send activity (1 = one activity per recipient); see src/activities/send-chunk.ts. */
  chunkSize: number;
  /** Continue-as-new once the history passes this many events (checked before each page fetch). */
  continueAsNewAfterEvents: number;
  /**
   * After this long (from the chain's start) the run schedules no new sends, lets those in flight finish and ends
   * `stopped` with reason `time_budget`; the rest is left for the next tick. Below the schedule's run timeout.
   */
  timeBudgetMs: number;
  /**
   * The window's deadline (ISO; src/windows/deadline.ts): a run that began before it sends nothing after it and
   * ends `stopped` (`window_deadline`). Absent for `once` windows, and in results recorded before it existed.
   */
  windowDeadline?: string;
}

/** A run's identity: the same in every continue-as-new segment. */
export interface RunIdentity {
  /** The first execution's run id: one job_runs row per chain. */
  runId: string;
  scheduledAt: string;
  window: string;
}

/** What a run carries into its next continue-as-new segment (everything else starts afresh). */
export interface CarriedState extends RunIdentity {
  settings: RunSettings;
  lock: LockHold;
  /** Keyset cursor: the last recipient id handed to a send. */
  cursor: string | null;
  counts: RunCounts;
  /** 1 for the first segment. */
  segment: number;
  /** Carried from BatchInput.recipientIds (the cursor is then the last id of that list processed). */
  recipientIds?: string[];
  /**
   * When the chain's first segment started (ISO): the time budget counts from here. Each segment's own start is
   * its started event's time, so counting from it would reset the budget at every continue-as-new while the
   * schedule's run timeout covers the whole chain. Absent in continuations written before it was carried.
   */
  chainStartedAt?: string;
}

/**
 * How a run ended. Every ending leaves its job_runs row, a `job_run_finished` line and a released lock:
 * - completed, skipped (lock held or unavailable), lock_lost (the lock expired or a newer holder fenced us),
 *   stopped (`reason`: rate_limiter_unavailable, database_unavailable, time_budget — the rest is left for the next run),
 *   failed (a run-fatal error, or an activity out of retries), cancelled — recorded by the workflow itself;
 * - terminated, timed_out (the schedule's run timeout) — no workflow code runs then: recorded by the reaper
 *   (src/runs/reaper.ts), which asks Temporal how the run ended.
 */
export const RUN_OUTCOMES = ['completed', 'skipped', 'lock_lost', 'stopped', 'failed', 'cancelled', 'terminated', 'timed_out'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/**
 * Why a run was skipped: the lock is held (`locked`), held with no expiry or by a token no run recorded (both need
 * a person, src/runs/lock-holder.ts), or its backend is unreachable.
 */
export type SkipReason = 'locked' | 'locked_no_expiry' | 'locked_unknown_holder' | 'lock_unavailable' | StartSkipReason;
/**
 * Refused by startRun, before the lock: the window is older than retention keeps (its keys may be gone), or its
 * keys were made with another template (renamed mid-window) — either way sending could repeat what was sent — or
 * the window expired (its unsent recipients were recorded expired at its deadline: never sent late).
 */
export type StartSkipReason = 'window_past_retention' | 'template_renamed' | 'window_expired';
/** Why a run stopped sending and left the rest for the next run. */
export type StopReason = 'rate_limiter_unavailable' | 'database_unavailable' | 'time_budget' | 'window_deadline';
/** Why a run failed, for the errors that have a reason of their own (src/errors, failureReason). */
export type FailReason = 'recipient_page_out_of_order';
export type RunReason = SkipReason | StopReason | FailReason;

export interface RunSummary extends RunIdentity {
  workflowId: string;
  jobName: string;
  outcome: RunOutcome;
  skipped: boolean;
  reason?: RunReason;
  fence?: number;
  /** Continue-as-new segments this run used (1 = none). */
  segments: number;
  counts: RunCounts;
}

/**
 * One page of a job's recipients, as the run gets it from the fetchRecipientPage activity — which reads on past
 * pages with nothing left to send (src/activities/fetch-recipient-page.ts), so one result may stand for several pages.
 */
export interface RecipientPage {
  /** The page's recipients still to send: keys already finished were dropped (one statement per page). */
  toSend: string[];
  /** The last id read (the next page starts after it); null when nothing was read. */
  lastId: string | null;
  /** How many ids the last query returned (fewer than asked for: nothing comes after it). */
  size: number;
  /** The keys already finished, over every page read: before this run (deduped), or by an earlier attempt of this run. */
  finished: FinishedBefore;
  /**
   * Recipients of the page dropped because they unsubscribed from this job (src/suppressions/); suppressed
   * addresses are found later, by the send (the address is known only to the job's loader). Absent in results
   * recorded before this field existed (replayed histories): read it as 0.
   */
  suppressed?: number;
  /**
   * Postgres could not be reached to read the page: nothing was read, and the run stops sending (`stopped`,
   * database_unavailable) rather than fail — the window's follow-up reads it again (src/windows/).
   */
  databaseUnavailable?: true;
}

export interface FinishedBefore {
  deduped: number;
  /** Finished by an earlier attempt of this same run (a worker died before the workflow heard of it). */
  sent: number;
  dead: number;
  unknown: number;
}

export interface StartRunResult {
  window: string;
  settings: RunSettings;
  /** Set when the run must send nothing: it ends `skipped` with this reason, without taking the lock. */
  skip?: StartSkipReason;
}

export type LockAcquireResult =
  | { acquired: true; token: string; fence: number }
  | { acquired: false; reason: SkipReason };
