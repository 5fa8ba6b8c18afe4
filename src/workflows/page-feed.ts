/**
 * Recipients as a stream of send units (chunks of ids) across pages, with the next page fetched while the
 * current one is still being sent. Without it every page ended in a drain: the last chunks ran alone, then
 * nothing was sent while the next page was read (BENCHMARKS.md, "page pipeline").
 *
 * Continue-as-new: before each page fetch the feed checks whether the history, with what is fetched and that
 * page, would pass the threshold; then it fetches no more, the lanes send what was already fetched, and
 * `cursor` (the last id fetched) is where the next run of the chain starts. Deterministic: plain promises and workflow activities only.
 */
import { workflowInfo } from '@temporalio/workflow';
import { bookkeeping } from './activity-proxies';
import type { RecipientPage } from '../contract';
import type { Run } from './run-state';

/**
 * History events one send unit adds, at most: its activity's scheduled/started/completed, and a workflow task
 * (scheduled/started/completed) when its completion arrives alone.
 */
const EVENTS_PER_UNIT = 6;

export class PageFeed {
  private readonly units: string[][] = [];
  private fetching: Promise<void> | null = null;
  /** The recipient query returned a short page: nothing after it. */
  private exhausted = false;
  private fetchedAny = false;
  /** Why the last fetch failed (then no more units are handed out). */
  private failure: unknown = undefined;
  /** History is long: stop fetching and let the chain continue as new from `cursor`. */
  continueAsNew = false;
  /** The last recipient id fetched; all ids up to it are sent or in flight. */
  cursor: string | null;

  constructor(
    private readonly run: Run,
    private readonly unitSize: number,
    /** Prefetch once fewer units than this remain (the number of lanes). */
    private readonly lowWater: number,
    private readonly onPage: () => void,
  ) {
    this.cursor = run.carried.cursor;
  }

  /** The next unit to send, or undefined when the run has nothing more to send in this segment. */
  async next(): Promise<string[] | undefined> {
    for (;;) {
      // A page that could not be fetched ends the run (failed), never just its sending: people would be skipped.
      if (this.failure !== undefined) throw this.failure;
      if (this.units.length <= this.lowWater) this.prefetch();
      const unit = this.units.shift();
      if (unit) return unit;
      if (!this.fetching) return undefined;
      await this.fetching;
    }
  }

  private prefetch(): void {
    if (this.fetching || this.exhausted || this.continueAsNew) return;
    if (this.fetchedAny && this.historyWouldOverflow()) {
      this.continueAsNew = true;
      return;
    }
    // The fetch never rejects: its error is kept and thrown by next() to every lane, so it cannot go unhandled
    // (an unhandled rejection fails the workflow task, and the run would retry that task for ever).
    this.fetching = this.fetchPage().then(
      () => void (this.fetching = null),
      (err: unknown) => {
        this.failure = err;
        this.fetching = null;
      },
    );
  }

  /**
   * Would the units already fetched, those in flight and one more page take the history past the threshold?
   * Counting them before the fetch keeps a segment near the threshold whatever the page and chunk sizes: the
   * current length alone lets a large page of one-recipient activities carry the history thousands of events
   * past it. Each segment fetches at least one page, so a run always makes progress.
   */
  private historyWouldOverflow(): boolean {
    const info = workflowInfo();
    if (info.continueAsNewSuggested) return true;
    const pageUnits = Math.ceil(this.run.settings.pageSize / this.unitSize);
    const units = this.units.length + this.lowWater + pageUnits;
    return info.historyLength + units * EVENTS_PER_UNIT >= this.run.settings.continueAsNewAfterEvents;
  }

  private async fetchPage(): Promise<void> {
    this.fetchedAny = true;
    const { pageSize } = this.run.settings;
    const page = await nextPage(this.run, this.cursor, pageSize);
    if (page.databaseUnavailable) {
      // Nothing was read: stop sending; the cursor stays where it was (a follow-up run reads this page again).
      this.run.stopSending('database_unavailable');
      this.exhausted = true;
      return;
    }
    if (page.size < pageSize) this.exhausted = true;
    if (page.lastId === null) return;
    this.cursor = page.lastId;
    // Keys finished before (deduped) are counted here and never become a send: no activity, no SMTP slot.
    this.run.tally.alreadyFinished(page.finished);
    // Unsubscribed from this job: counted here, never a send (suppressed addresses are found by the send itself).
    this.run.tally.suppressedOnPage(page.suppressed ?? 0);
    const ids = page.toSend;
    for (let i = 0; i < ids.length; i += this.unitSize) this.units.push(ids.slice(i, i + this.unitSize));
    this.onPage();
  }
}

/** The next page: from the job's recipient query (keyset), or from the redrive's own list of ids. */
async function nextPage(run: Run, cursor: string | null, limit: number): Promise<RecipientPage> {
  const { recipientIds, window, scheduledAt, runId } = run.carried;
  if (recipientIds) {
    const start = cursor === null ? 0 : recipientIds.indexOf(cursor) + 1;
    const ids = recipientIds.slice(start, start + limit);
    return { toSend: ids, lastId: ids[ids.length - 1] ?? null, size: ids.length, finished: { deduped: 0, sent: 0, dead: 0, unknown: 0 }, suppressed: 0 };
  }
  return bookkeeping.fetchRecipientPage({ jobName: run.jobName, runId, afterId: cursor, limit, window, scheduledAt });
}
