/**
 * PageFeed (src/workflows/page-feed.ts), the run's stream of send units across pages, through the real batch
 * workflow on the dev server with stubbed activities (stub-activities.ts): the next page is read while the
 * current one is sent, every recipient goes out once and in order whatever the pages hold, a page that cannot
 * be read fails the run, and continue-as-new hands the cursor over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { ActivityFailure, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { PageRequest } from '../../src/activities/fetch-recipient-page';
import type { ChunkInput, ChunkItemResult, RecipientPage } from '../../src/contract';
import { RecipientPageOrderError } from '../../src/errors';
import { runStubbedBatch } from './stub-activities';

const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));
const allSent = (input: ChunkInput): ChunkItemResult[] => input.recipientIds.map((recipientId) => ({ recipientId, outcome: 'sent', attempt: 1 }));
const numeric = (a: string, b: string) => Number(a) - Number(b);

/** In a stubbed activity: wait (heartbeating) until `ready()`, at most `ms`; whether it became ready. */
async function holdUntil(ready: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!ready() && Date.now() < until) {
    Context.current().heartbeat();
    await delay(50);
  }
  return ready();
}

/**
 * Keyset pages over `recipients` as the fetchRecipientPage activity returns them, minus its read-ahead past empty
 * pages: keys already finished and recipients unsubscribed from the job are dropped from `toSend` and counted.
 */
function pagesOf(recipients: string[], drop: { deduped?: string[]; sentBefore?: string[]; suppressed?: string[] } = {}) {
  return async ({ afterId, limit }: PageRequest): Promise<RecipientPage> => {
    const start = afterId === null ? 0 : recipients.indexOf(afterId) + 1;
    const read = recipients.slice(start, start + limit);
    const finished = { deduped: 0, sent: 0, dead: 0, unknown: 0 };
    let suppressed = 0;
    const toSend: string[] = [];
    for (const id of read) {
      if (drop.deduped?.includes(id)) finished.deduped++;
      else if (drop.sentBefore?.includes(id)) finished.sent++;
      else if (drop.suppressed?.includes(id)) suppressed++;
      else toSend.push(id);
    }
    return { toSend, lastId: read[read.length - 1] ?? null, size: read.length, finished, suppressed };
  };
}

/** Each page request starts after the last id the previous page read: no page skipped, none read twice. */
function assertCursorChain(requests: PageRequest[], pages: RecipientPage[]): void {
  assert.equal(requests[0]?.afterId, null, 'the first page starts at the beginning');
  for (let i = 1; i < requests.length; i++) {
    assert.equal(requests[i]!.afterId, pages[i - 1]!.lastId, `page request ${i + 1} starts after page ${i}'s last id`);
  }
}

test('read-ahead: the next page is requested while the last chunks of the current page are still sending', async () => {
  const recipients = ids(30);
  const page = pagesOf(recipients);
  let requested = 0;
  const waitedInVain: string[] = [];
  const { summary, log } = await runStubbedBatch({
    recipients,
    // 2 lanes of 5 and pages of 10: each page is exactly the units in flight, so a feed that fetches only once
    // they are done leaves both lanes waiting here.
    settings: { pageSize: 10, chunkSize: 5, maxInFlight: 10 },
    page: async (request) => {
      requested++;
      return page(request);
    },
    chunk: async (input) => {
      // A chunk of page p holds its slot until page p + 1 has been asked for (after page 3, full, comes an empty
      // page 4): bounded, so a feed without read-ahead fails the assertion below instead of hanging.
      const pageNo = Math.ceil(Number(input.recipientIds[0]) / 10);
      if (!(await holdUntil(() => requested > pageNo, 5_000))) waitedInVain.push(input.recipientIds.join(','));
      return allSent(input);
    },
  });
  assert.deepEqual(waitedInVain, [], 'chunks that finished before the next page was requested (no read-ahead)');
  assert.equal(summary?.outcome, 'completed');
  assert.equal(summary?.counts.sent, 30);
  assert.deepEqual(log.chunks.flatMap((c) => c.recipientIds).sort(numeric), recipients);
  assert.equal(log.pageRequests.length, 4);
  assertCursorChain(log.pageRequests, log.pages);
});

test('every recipient once and in order across uneven pages, past a page whose keys were all finished', async () => {
  const recipients = ids(33); // pages of 8: 1–8, 9–16, 17–24, 25–32, 33 (short: the last)
  const deduped = [...ids(16).slice(8), '33']; // page 2 and the last page: nothing left to send
  const { summary, log } = await runStubbedBatch({
    recipients,
    // One lane, so the chunks' order is the feed's order; 8 is not a multiple of 3.
    settings: { pageSize: 8, chunkSize: 3, maxInFlight: 3 },
    page: pagesOf(recipients, { deduped, sentBefore: ['3'], suppressed: ['20'] }),
  });
  assert.equal(summary?.outcome, 'completed');
  assert.deepEqual(
    log.chunks.map((c) => c.recipientIds.join(',')),
    ['1,2,4', '5,6,7', '8', '17,18,19', '21,22,23', '24', '25,26,27', '28,29,30', '31,32'],
    'each page cut into chunks of its own, in order, the finished and suppressed ones left out',
  );
  assert.deepEqual(
    log.pageRequests.map((r) => r.afterId),
    [null, '8', '16', '24', '32'],
    'on past the all-finished page, and no request after the short page',
  );
  assertCursorChain(log.pageRequests, log.pages);
  assert.deepEqual(
    { processed: summary?.counts.processed, sent: summary?.counts.sent, deduped: summary?.counts.deduped, suppressed: summary?.counts.suppressed, failed: summary?.counts.failed },
    { processed: 33, sent: 22 + 1, deduped: 9, suppressed: 1, failed: 0 },
    '22 sent now, 1 by an earlier attempt of this run; 9 finished before it; 1 unsubscribed',
  );
});

test('a page that cannot be read fails the run: nothing sent past it, the failure recorded, no stuck workflow task', async () => {
  const recipients = ids(50);
  const page = pagesOf(recipients);
  let failedAt: number | undefined;
  const { summary, error, log, workflowTaskFailures } = await runStubbedBatch(
    {
      recipients,
      settings: { pageSize: 10, chunkSize: 5, maxInFlight: 10 },
      page: async (request) => {
        if (request.afterId === '20') {
          failedAt = Date.now();
          throw ApplicationFailure.nonRetryable('recipient page out of order (stub)', RecipientPageOrderError.name);
        }
        return page(request);
      },
      // Page 3 is read ahead while page 2 is sent: page 2's chunks stay in flight until a second after its
      // fetch failed, so the failure reaches the workflow while no lane is waiting for that page.
      chunk: async (input) => {
        if (Number(input.recipientIds[0]) > 10) await holdUntil(() => failedAt !== undefined && Date.now() > failedAt + 1_000, 5_000);
        return allSent(input);
      },
    },
    // A rejection nobody handles fails the workflow task, which Temporal retries for ever: give up long before.
    { timeoutMs: 20_000 },
  );
  assert.deepEqual(workflowTaskFailures, [], 'no workflow task failed (an unhandled rejection would fail them for ever)');
  assert.equal(summary, undefined, 'not a run that ended normally (e.g. completed short)');
  assert.ok(error instanceof WorkflowFailedError, `the workflow failed: ${String(error)}`);
  assert.ok(error.cause instanceof ActivityFailure && error.cause.activityType === 'fetchRecipientPage', `failed by the page activity: ${String(error.cause)}`);
  assert.ok(error.cause.cause instanceof ApplicationFailure && error.cause.cause.type === RecipientPageOrderError.name, String(error.cause.cause));
  assert.equal(log.pageRequests.length, 3, 'no page read after the one that failed');
  const handled = log.chunks.flatMap((c) => c.recipientIds);
  assert.ok(handled.every((id) => Number(id) <= 20), `nothing from page 3 on was sent: ${handled.join(',')}`);
  assert.equal(new Set(handled).size, handled.length, 'none twice');
  assert.equal(log.summaries.length, 1, 'the ending is recorded once');
  const ended = log.summaries[0]!;
  assert.deepEqual({ outcome: ended.summary.outcome, reason: ended.summary.reason }, { outcome: 'failed', reason: 'recipient_page_out_of_order' });
  assert.match(ended.error ?? '', /RecipientPageOrderError: fetchRecipientPage: recipient page out of order/);
  assert.equal(ended.summary.counts.processed, handled.length, 'what was sent before the failure is counted');
  assert.equal(log.fencedOff, 1, 'sends still out are fenced off');
  assert.equal(log.released, 1);
});

test('continue-as-new: pages not a multiple of the chunk size, cursor handed on, none skipped or repeated', async () => {
  const recipients = ids(47); // pages of 7 (7 = 3 + 3 + 1), the last one of 5
  const { summary, log } = await runStubbedBatch({
    recipients,
    settings: { pageSize: 7, chunkSize: 3, maxInFlight: 6, continueAsNewAfterEvents: 60 },
    page: pagesOf(recipients, { deduped: ['15', '16', '17', '18', '19', '20', '21'] }), // page 3: all finished
  });
  assert.equal(summary?.outcome, 'completed');
  assert.ok((summary?.segments ?? 0) > 1, `segments ${summary?.segments}`);
  // A segment that read a page ahead hands on a cursor past units it still had to send (4 segments, 7 pages here).
  assert.ok(log.pageRequests.length > (summary?.segments ?? 0), 'some segment read more than one page');
  assertCursorChain(log.pageRequests, log.pages);
  const handled = log.chunks.flatMap((c) => c.recipientIds);
  assert.deepEqual([...handled].sort(numeric), recipients.filter((id) => Number(id) < 15 || Number(id) > 21), 'each recipient in exactly one chunk');
  for (const c of log.chunks) assert.ok(c.recipientIds.length <= 3, `a chunk of ${c.recipientIds.length}`);
  assert.deepEqual({ sent: summary?.counts.sent, deduped: summary?.counts.deduped, processed: summary?.counts.processed }, { sent: 40, deduped: 7, processed: 47 });
  assert.equal(log.summaries.length, 1);
  assert.equal(log.released, 1);
});

test('continue-as-new of a redrive: its own list of ids, in its order, each once, no page activity', async () => {
  const recipientIds = ['42', '7', '19', '3', '88', '1', '64', '23', '5', '71', '12', '30', '9', '56', '2', '81', '14', '37', '6', '99', '11', '48', '27'];
  const { summary, log } = await runStubbedBatch(
    { recipients: [], settings: { pageSize: 5, chunkSize: 2, maxInFlight: 2, continueAsNewAfterEvents: 40 } },
    { recipientIds },
  );
  assert.equal(summary?.outcome, 'completed');
  assert.ok((summary?.segments ?? 0) > 1, `segments ${summary?.segments}`);
  assert.equal(log.pagesFetched, 0, 'a redrive pages through its own list');
  assert.deepEqual(log.chunks.flatMap((c) => c.recipientIds), recipientIds, 'the list, in its order (one lane), each once');
  assert.equal(summary?.counts.sent, recipientIds.length);
  assert.equal(log.summaries.length, 1);
});

test('a direct start with a repeated id sends each id once and ends (the cursor never moves back)', async () => {
  const { summary, log } = await runStubbedBatch(
    { recipients: [], settings: { pageSize: 1, chunkSize: 1, maxInFlight: 1 } },
    { recipientIds: ['1', '2', '1', '3'], timeoutMs: 20_000 },
  );
  assert.equal(summary?.outcome, 'completed');
  assert.deepEqual(log.sends.map((s) => s.recipientId), ['1', '2', '3']);
});
