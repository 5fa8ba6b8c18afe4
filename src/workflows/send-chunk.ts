/**
 * The fast path of a batch run: a chunk of recipients in one activity, then per recipient what its outcome
 * asks for — counted, dead-lettered, or retried as its own activity (bounded by the job's RetryPolicy,
 * minus the attempt the chunk used). A chunk that fails as a whole is redone recipient by recipient.
 */
import { sleep } from '@temporalio/workflow';
import { chunkActivities, sendActivities, type SendActivities } from './activity-proxies';
import { runPool } from './pool';
import { isStopped, type RunState } from './run-state';
import { count, recordFailure, sendOne } from './send-one';
import type { ChunkItemResult, SendInput } from './types';

export interface ChunkSenders {
  chunk: ReturnType<typeof chunkActivities>;
  /** Per-recipient, full attempts: for chunks that failed as a whole. */
  single: SendActivities;
  /** Per-recipient, for a retry after the chunk's first attempt (maximumAttempts − 1). */
  retry: SendActivities;
}

export function chunkSenders(state: RunState): ChunkSenders {
  return { chunk: chunkActivities(state.settings), single: sendActivities(state.settings), retry: sendActivities(state.settings, 1) };
}

export async function sendChunk(senders: ChunkSenders, jobName: string, recipientIds: string[], state: RunState): Promise<void> {
  const base = { jobName, runId: state.runId, window: state.window, fence: state.lock.fence };
  const one = (recipientId: string): SendInput => ({ ...base, recipientId });
  let results: ChunkItemResult[];
  try {
    results = await senders.chunk.sendChunk({ ...base, recipientIds });
  } catch {
    // Worker died or the chunk timed out: some recipients may be done, some claimed, some untouched.
    // Claims sort that out per recipient (done → deduped, open claim → unknown once its lease ends).
    await runPool(recipientIds, recipientIds.length, () => isStopped(state), (id) => sendOne(senders.single, one(id), state));
    return;
  }
  const retries: string[] = [];
  const waits: string[] = [];
  for (const item of results) {
    if (item.outcome === 'failed') {
      if (item.error.retryable && state.settings.retry.maximumAttempts > 1) retries.push(item.recipientId);
      else {
        state.stats.processedCount++;
        await recordFailure(one(item.recipientId), state, item.error);
      }
    } else if (item.outcome === 'rate_limited') {
      waits.push(item.recipientId); // waits for budget on the per-recipient path; nothing was claimed
    } else {
      state.stats.processedCount++;
      count(item, state);
    }
  }
  await Promise.all([
    runPool(waits, waits.length, () => isStopped(state), (id) => sendOne(senders.single, one(id), state)),
    retryAfterBackoff(senders, retries, one, state),
  ]);
}

async function retryAfterBackoff(senders: ChunkSenders, ids: string[], one: (id: string) => SendInput, state: RunState): Promise<void> {
  if (ids.length === 0 || isStopped(state)) return;
  // The retry after a chunk's first attempt keeps the job's backoff: wait the initial interval once.
  await sleep(state.settings.retry.initialIntervalMs);
  await runPool(ids, ids.length, () => isStopped(state), (id) => sendOne(senders.retry, one(id), state, 1));
}
