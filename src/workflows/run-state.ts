/**
 * A run inside one continue-as-new segment. Two kinds of state, kept apart on purpose:
 * - `carried`: what continues into the next segment (identity, settings, lock, cursor, counts) — nothing else does;
 * - why the run stopped sending, if it did, and how many sends wait for rate-limit budget: this segment's only.
 * Every count goes through `tally`.
 */
import type { CarriedState, ChunkInput, FailureDescription, RunOutcome, SendInput, StopReason } from '../contract';
import { RunTally } from './tally';

export class Run {
  readonly tally: RunTally;
  private lockGone = false;
  private fatalError?: FailureDescription;
  private stoppedFor?: StopReason;
  /** Sends waiting for rate-limit budget right now (a durable timer each). */
  waitingForRateLimit = 0;
  /** Workflow time (ms) after which no new send starts: the chain's start plus the time budget. */
  readonly deadline: number;

  constructor(
    readonly jobName: string,
    readonly workflowId: string,
    readonly carried: CarriedState,
    chainStartedAt: Date,
  ) {
    this.tally = new RunTally(carried.counts);
    this.deadline = chainStartedAt.getTime() + carried.settings.timeBudgetMs;
  }

  get settings() {
    return this.carried.settings;
  }

  /** The input of one recipient's send activity. */
  sendInput(recipientId: string): SendInput {
    const { runId, window, lock } = this.carried;
    return { jobName: this.jobName, runId, recipientId, window, fence: lock.fence };
  }

  /** The input of a chunk activity. */
  chunkInput(recipientIds: string[]): ChunkInput {
    const { runId, window, lock } = this.carried;
    return { jobName: this.jobName, runId, recipientIds, window, fence: lock.fence };
  }

  /**
   * Asked before every new send (and retry): false once the run has stopped — or its time budget is spent, which
   * stops it now with reason `time_budget`. Workflow time (Date.now() in a workflow) is deterministic.
   */
  mayStartMore(): boolean {
    if (!this.stopped && Date.now() >= this.deadline) this.stopSending('time_budget');
    return !this.stopped;
  }

  /** Time left in the budget (ms, ≥ 1): a wait never outlasts it. */
  budgetLeft(): number {
    return Math.max(1, this.deadline - Date.now());
  }

  /** No new sends once the lock is lost, a run-fatal error happened, or the run was told to stop. */
  get stopped(): boolean {
    return this.lockGone || this.fatalError !== undefined || this.stoppedFor !== undefined;
  }

  get lockLost(): boolean {
    return this.lockGone;
  }

  get fatal(): FailureDescription | undefined {
    return this.fatalError;
  }

  get stopReason(): StopReason | undefined {
    return this.stoppedFor;
  }

  /** The lock expired and someone else may hold it, or a newer holder fenced our claims. */
  loseLock(): void {
    this.lockGone = true;
  }

  /** The first run-fatal error is the one reported. */
  failWith(error: FailureDescription): void {
    this.fatalError ??= error;
  }

  /** Stop sending for `reason` (e.g. rate_limiter_unavailable); the rest is left for the next run. */
  stopSending(reason: StopReason): void {
    this.stoppedFor ??= reason;
  }

  /** The outcome so far: how the run ends if it ends now. */
  outcome(): RunOutcome {
    if (this.fatalError) return 'failed';
    if (this.lockGone) return 'lock_lost';
    if (this.stoppedFor) return 'stopped';
    return 'completed';
  }
}
