/**
 * The fetchRecipientPage activity: a page of a job's recipients for the run — the job's keyset query, checked for
 * order, with the keys already finished for this window and the recipients who unsubscribed from this job dropped
 * (one statement each per page) — so a tick with nothing new to send costs a few statements per page, not a send per recipient. A page
 * left with nothing to send is not returned: the next one is read in the same call (bounded, see SCAN_AHEAD_PAGES).
 */
import type { Pool } from 'pg';
import type { FinishedBefore, RecipientPage } from '../contract';
import { isPostgresConnectionError } from '../db/unreachable';
import { RecipientPageOrderError } from '../errors';
import type { JobDefinition, RecipientIdOrder } from '../jobs';
import type { AppMetrics } from '../metrics';
import { finishedKeys, keyFor, type FinishedKey } from '../sends';
import { unsubscribedFromJob } from '../suppressions/store';
import type { ActivityDeps } from './deps';

export interface PageRequest {
  jobName: string;
  runId: string;
  afterId: string | null;
  limit: number;
  window: string;
  scheduledAt: string;
}

/**
 * Pages with nothing left to send are read on within one call, up to SCAN_AHEAD_PAGES pages or SCAN_AHEAD_MS. Why:
 * in a steady-state tick (every key of the window already finished — 287 of 288 ticks a day with daily windows
 * and a 5-minute schedule) each page was a workflow round trip of its own for nothing: ~6 history events and one
 * activity dispatch per 1,000 recipients, 101 of them at 100,000 (BENCHMARKS.md, steady state). Bounded so that a
 * call stays far below the bookkeeping activity's 30 s timeout and the run's counts and progress still move.
 */
export const SCAN_AHEAD_PAGES = 20;
const SCAN_AHEAD_MS = 2_000;

/**
 * The next page with something to send, or the last page read: `toSend` and `size` are that page's, `lastId` the
 * last id read (null if none), `finished` and `suppressed` summed over every page read.
 */
export function fetchRecipientPageActivity(deps: Pick<ActivityDeps, 'pool' | 'jobs' | 'filterFinishedKeys' | 'logger'>, metrics: AppMetrics) {
  return async function fetchRecipientPage(input: PageRequest): Promise<RecipientPage> {
    let page: RecipientPage;
    try {
      page = await readRecipientPage(deps.pool, deps.jobs.get(input.jobName), input, { filterFinished: deps.filterFinishedKeys ?? true });
    } catch (err) {
      // An outage is not the page's fault: answer "unavailable" at once, as a claim does (send-email.ts), so the run
      // stops instead of failing after this activity's retries; a follow-up run of the window reads the page again.
      if (!isPostgresConnectionError(err)) throw err;
      deps.logger.warn({ runId: input.runId, jobName: input.jobName, err: (err as Error).message }, 'page_stopped_database_unavailable');
      return { toSend: [], lastId: null, size: 0, finished: { deduped: 0, sent: 0, dead: 0, unknown: 0 }, suppressed: 0, databaseUnavailable: true };
    }
    metrics.pageFinished(input.jobName, page.finished);
    metrics.suppressedOnPage(input.jobName, page.suppressed ?? 0);
    return page;
  };
}

export async function readRecipientPage(pool: Pool, job: JobDefinition, req: PageRequest, opts: { filterFinished: boolean }): Promise<RecipientPage> {
  const started = Date.now();
  const finished: FinishedBefore = { deduped: 0, sent: 0, dead: 0, unknown: 0 };
  let afterId = req.afterId;
  let lastId: string | null = null;
  let suppressed = 0;
  for (let pages = 1; ; pages++) {
    const page = await onePage(pool, job, { ...req, afterId }, opts);
    for (const k of ['deduped', 'sent', 'dead', 'unknown'] as const) finished[k] += page.finished[k];
    suppressed += page.suppressed ?? 0;
    lastId = page.lastId ?? lastId;
    const last = page.toSend.length > 0 || page.size < req.limit || pages >= SCAN_AHEAD_PAGES || Date.now() - started >= SCAN_AHEAD_MS;
    if (last) return { toSend: page.toSend, lastId, size: page.size, finished, suppressed };
    afterId = page.lastId;
  }
}

async function onePage(pool: Pool, job: JobDefinition, req: PageRequest, opts: { filterFinished: boolean }): Promise<RecipientPage> {
  const ids = await job.recipientPage(pool, { afterId: req.afterId, limit: req.limit, window: req.window, scheduledAt: new Date(req.scheduledAt) });
  assertAdvances(job, req.afterId, ids);
  const page = { lastId: ids[ids.length - 1] ?? null, size: ids.length };
  const finished: FinishedBefore = { deduped: 0, sent: 0, dead: 0, unknown: 0 };
  // Both one indexed statement per page, side by side. Suppressed addresses are not known here (only the loader
  // knows the address): the send checks those (send.ts).
  const [done, unsubscribed] = await Promise.all([
    opts.filterFinished ? finishedKeys(pool, ids.map((id) => keyFor(job, id, req.window))) : new Map<string, FinishedKey>(),
    unsubscribedFromJob(pool, job.name, ids),
  ]);
  const toSend: string[] = [];
  let suppressed = 0;
  for (const id of ids) {
    const key = done.get(keyFor(job, id, req.window));
    // Finished in this window first: what was decided stays decided (and counted as it was).
    if (key && key.runId === req.runId) finished[key.state]++; // what an earlier attempt of this run did counts for it
    else if (key) finished.deduped++;
    else if (unsubscribed.has(id)) suppressed++;
    else toSend.push(id);
  }
  return { ...page, toSend, finished, suppressed };
}

/** Ids in the job's declared order: a bigint id is compared as a number, a text id byte by byte, a uuid as lower-case hex. */
const ORDER: Record<RecipientIdOrder, { valid: (id: string) => boolean; before: (a: string, b: string) => boolean }> = {
  bigint: { valid: (id) => /^-?\d+$/.test(id), before: (a, b) => BigInt(a) < BigInt(b) },
  text: { valid: () => true, before: (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0 },
  uuid: {
    valid: (id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id),
    before: (a, b) => a.toLowerCase() < b.toLowerCase(),
  },
};

/**
 * Keyset pagination trusts the job's query: a page that does not advance strictly past the cursor, in the order
 * the job declared, would skip or repeat people silently ('10' < '9' when numbers are compared as text). Fail the
 * run instead, naming the job and the ids.
 */
export function assertAdvances(job: Pick<JobDefinition, 'name' | 'idOrder'>, afterId: string | null, ids: readonly string[]): void {
  const order = job.idOrder ?? 'bigint';
  const { valid, before } = ORDER[order];
  let previous = afterId;
  for (const id of ids) {
    if (!valid(id)) {
      throw new RecipientPageOrderError(`job '${job.name}': recipient id '${id}' is not a ${order} id; declare the job's idOrder ('bigint', 'text' or 'uuid') to match its ids`);
    }
    if (previous !== null && !before(previous, id)) {
      throw new RecipientPageOrderError(
        `job '${job.name}': recipient page out of order: '${id}' does not come after '${previous}' in ${order} order. ` +
          `The keyset query must order by the id in its own type and compare the cursor in that type (ORDER BY id, not id::text); see docs/adding-a-job.md`,
      );
    }
    previous = id;
  }
}
