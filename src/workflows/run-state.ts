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
  /**
   * Workflow time (ms) after which no new send starts: the chain's start plus the time budget, or the window's
   * deadline when that comes first — for a run that began before it. A run begun after it (a backfill, or a direct
   * start of an old window that was not expired yet) is a person's choice to send the window late.
   */
  readonly deadline: number;
  private readonly deadlineReason: StopReason;

  constructor(
    readonly jobName: string,
    readonly workflowId: string,
    readonly carried: CarriedState,
    chainStartedAt: Date,
  ) {
    this.tally = new RunTally(carried.counts);
    const budgetEnd = chainStartedAt.getTime() + carried.settings.timeBudgetMs;
    const windowEnd = carried.settings.windowDeadline ? Date.parse(carried.settings.windowDeadline) : Infinity;
    const windowBinds = windowEnd > chainStartedAt.getTime() && windowEnd < budgetEnd;
    this.deadline = windowBinds ? windowEnd : budgetEnd;
    this.deadlineReason = windowBinds ? 'window_deadline' : 'time_budget';
  }

  get settings() {
    return this.carried.settings;
  }

  /** The input of one recipient's send activity. */
  sendInput(recipientId: string): SendInput {
    const { runId, window, lock } = this.carried;
    return { jobName: this.jobName, runId, recipientId, window, fence: lock.fence, ...this.notAfter() };
  }

  /** The input of a chunk activity. */
  chunkInput(recipientIds: string[]): ChunkInput {
    const { runId, window, lock } = this.carried;
    return { jobName: this.jobName, runId, recipientIds, window, fence: lock.fence, ...this.notAfter() };
  }

  /** Sends of a run the window's deadline binds carry it: one that starts late claims nothing. */
  private notAfter(): { notAfter?: string } {
    return this.deadlineReason === 'window_deadline' ? { notAfter: new Date(this.deadline).toISOString() } : {};
  }

  /**
   * Asked before every new send (and retry): false once the run has stopped — or its deadline passed, which stops
   * it now with reason `time_budget` or `window_deadline`. Workflow time (Date.now() in a workflow) is deterministic.
   */
  mayStartMore(): boolean {
    if (!this.stopped && Date.now() >= this.deadline) this.stopSending(this.deadlineReason);
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
