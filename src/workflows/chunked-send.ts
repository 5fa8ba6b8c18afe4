/**
 * The fast path of a batch run: a chunk of recipients in one activity, then per recipient what its outcome
 * asks for — counted, dead-lettered, or retried as its own activity (bounded by the job's RetryPolicy,
 * minus the attempt the chunk used). A chunk that fails as a whole is redone recipient by recipient.
 */
import { sleep } from '@temporalio/workflow';
import { retriesAfterChunk } from '../retry';
import { chunkActivities, sendActivities, type SendActivities } from './activity-proxies';
import { eachInLanes } from './lanes';
import type { Run } from './run-state';
import { deadLetterOrStop, sendOne, takeResult } from './send-one';

export interface ChunkSenders {
  chunk: ReturnType<typeof chunkActivities>;
  /** Per-recipient, full attempts: for chunks that failed as a whole, and for rate-limit waits. */
  single: SendActivities;
  /** Per-recipient, for a retry after the chunk's first attempt (maximumAttempts − 1). */
  retry: SendActivities;
}

export function chunkSenders(run: Run): ChunkSenders {
  return { chunk: chunkActivities(run.settings), single: sendActivities(run.settings), retry: sendActivities(run.settings, 1) };
}

/** Send `recipientIds` with one chunk activity, then settle each one's outcome (or send them one by one if it failed). */
export async function sendInChunk(senders: ChunkSenders, recipientIds: string[], run: Run): Promise<void> {
  const one = (id: string) => sendOne(senders.single, run.sendInput(id), run);
  let results;
  try {
    results = await senders.chunk.sendChunk(run.chunkInput(recipientIds));
  } catch {
    // Worker died or the chunk timed out: some recipients may be done, some claimed, some untouched.
    // Claims sort that out per recipient (done → deduped, open claim → unknown once its lease ends).
    await eachInLanes(recipientIds, recipientIds.length, () => !run.mayStartMore(), one);
    return;
  }
  const retries: string[] = [];
  const waits: string[] = [];
  for (const item of results) {
    if (item.outcome === 'failed') {
      if (retriesAfterChunk(run.settings.retry, item.error.retryable)) retries.push(item.recipientId);
      else await deadLetterOrStop(run.sendInput(item.recipientId), run, item.error);
    } else if (item.outcome === 'rate_limited') {
      run.tally.rateLimitWait();
      waits.push(item.recipientId); // waits for budget on the per-recipient path; nothing was claimed
    } else {
      takeResult(run, item);
    }
  }
  await Promise.all([eachInLanes(waits, waits.length, () => !run.mayStartMore(), one), retryAfterBackoff(senders, retries, run)]);
}

async function retryAfterBackoff(senders: ChunkSenders, ids: string[], run: Run): Promise<void> {
  if (ids.length === 0 || !run.mayStartMore()) return;
  // The retry after a chunk's first attempt keeps the job's backoff: wait the initial interval once.
  await sleep(run.settings.retry.initialIntervalMs);
  await eachInLanes(ids, ids.length, () => !run.mayStartMore(), (id) => sendOne(senders.retry, run.sendInput(id), run, 1));
}
