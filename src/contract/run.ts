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
  /** Set by continue-as-new only. */
  continuation?: CarriedState;
}

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
}

/** 'stopped': the run stopped sending for `reason` (e.g. rate_limiter_unavailable); the rest is left for the next run. */
export type RunOutcome = 'completed' | 'skipped' | 'lock_lost' | 'failed' | 'stopped';

export interface RunSummary extends RunIdentity {
  workflowId: string;
  jobName: string;
  outcome: RunOutcome;
  skipped: boolean;
  reason?: 'locked' | 'lock_unavailable' | 'rate_limiter_unavailable' | string;
  fence?: number;
  /** Continue-as-new segments this run used (1 = none). */
  segments: number;
  counts: RunCounts;
}

export interface StartRunResult {
  window: string;
  settings: RunSettings;
}

export type LockAcquireResult =
  | { acquired: true; token: string; fence: number }
  | { acquired: false; reason: 'locked' | 'lock_unavailable' };
