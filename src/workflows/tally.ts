/**
 * A run's counting, in one place: every count moves here, once, when a recipient's outcome is known (never
 * counted first and taken back). The counts themselves live in the carried state, so they survive
 * continue-as-new; names and meanings are in src/contract/counts.ts.
 */
import type { DeadLetterOutcome, FinishedBefore, RunCounts, SendOutcome } from '../contract';

/** The send outcomes that decide a recipient (the others are signals to the run: fenced, rate limits). */
export type FinalSendOutcome = Extract<SendOutcome, 'sent' | 'skipped_dedupe' | 'unknown' | 'dead' | 'ineligible' | 'suppressed'>;

export class RunTally {
  constructor(readonly counts: RunCounts) {}

  /** A send activity decided the recipient; `attempts` = every attempt it took (1 = first try). */
  decided(outcome: FinalSendOutcome, attempts: number): void {
    const c = this.counts;
    c.processed++;
    c.retries += attempts - 1;
    switch (outcome) {
      case 'sent':
        c.sent++;
        return;
      case 'skipped_dedupe':
        c.deduped++;
        return;
      case 'unknown':
        c.unknown++;
        c.failed++;
        return;
      case 'dead':
        // Dead-lettered by an earlier attempt of this run whose result the workflow never got (worker died).
        c.dead++;
        c.failed++;
        return;
      case 'ineligible':
        c.ineligible++;
        return;
      case 'suppressed':
        this.addSuppressed(1);
        return;
    }
  }

  /** Recipients of a page dropped as unsubscribed from this job (no send was scheduled for them). */
  suppressedOnPage(n: number): void {
    this.counts.processed += n;
    this.addSuppressed(n);
  }

  /** Counts carried from a run that started before `suppressed` existed have no such key: start it at 0. */
  private addSuppressed(n: number): void {
    this.counts.suppressed = (this.counts.suppressed ?? 0) + n;
  }

  /** The failure branch recorded the key's final state: dead, or unknown when the server may have the message (or another run owns it). */
  deadLettered(state: DeadLetterOutcome): void {
    const c = this.counts;
    c.processed++;
    if (state === 'deduped') {
      // Another run of the window finished the key or is sending it: its summary counts it, this one dedupes.
      c.deduped++;
      return;
    }
    if (state === 'sent') {
      // An attempt's SMTP accept was recorded although the activity failed afterwards: it was sent.
      c.sent++;
      return;
    }
    c.failed++;
    if (state === 'dead') c.dead++;
    else c.unknown++;
  }

  /** A run-fatal error (bad SMTP credentials, bad configuration) stopped this recipient; nothing was sent. */
  stoppedByFatalError(): void {
    this.counts.processed++;
    this.counts.failed++;
  }

  /** Keys of a page found finished before they were sent (so no send was scheduled for them). */
  alreadyFinished(f: FinishedBefore): void {
    const c = this.counts;
    c.processed += f.deduped + f.sent + f.dead + f.unknown;
    c.deduped += f.deduped;
    c.sent += f.sent;
    c.dead += f.dead;
    c.unknown += f.unknown;
    c.failed += f.dead + f.unknown;
  }

  rateLimitWait(): void {
    this.counts.rateLimitWaits++;
  }
}
