/**
 * A chunk of recipients in ONE activity — the fast path. Each recipient still goes through exactly the
 * per-recipient path of send-email.ts (rate budget, its own claim, delivery, its own outcome row), bounded by the
 * worker's send slots; what is saved is Temporal's per-activity cost (schedule, dispatch, completion,
 * history events), several times the CPU of the send itself (BENCHMARKS.md).
 * A recipient whose first attempt fails is NOT retried here: the chunk reports it and the workflow retries it
 * as its own activity under the job's bounded RetryPolicy, so retry bounds and dead letters stay per recipient.
 *
 * The chunk heartbeats every second while it runs: a dead worker is noticed within one attempt timeout, and a
 * run that ended (terminated, timed out, cancelled) is noticed within about a second — the heartbeat is answered
 * with a cancellation — after which no recipient of the chunk is claimed any more; sends already at the SMTP
 * provider finish and are recorded.
 */
import { Context } from '@temporalio/activity';
import type { ChunkInput, ChunkItemResult } from '../contract';
import { scrubAddresses } from '../delivery';
import { observeSend, type AppMetrics } from '../metrics';
import { isRetryable } from '../retry';
import type { SendDeps } from './send-attempt';
import { sendToRecipient } from './send-email';

const HEARTBEAT_EVERY_MS = 1_000;

export function sendChunkActivity(deps: SendDeps, metrics: AppMetrics) {
  return (input: ChunkInput) => sendChunk(deps, metrics, input);
}

async function sendChunk(deps: SendDeps, metrics: AppMetrics, input: ChunkInput): Promise<ChunkItemResult[]> {
  const ctx = Context.current();
  const { recipientIds, ...common } = input;
  // Each heartbeat is a trip into the SDK's native core; once a second is plenty against a timeout of tens of seconds.
  ctx.heartbeat();
  const beat = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    const results = await Promise.all(
      recipientIds.map(async (recipientId): Promise<ChunkItemResult> => {
        try {
          // Attempt 1: a recipient that fails here is retried as its own sendEmail activity (attempt 2 on).
          const result = await observeSend(metrics, input.jobName, 1, () => sendToRecipient(deps, { ...common, recipientId }));
          return { recipientId, ...result };
        } catch (err) {
          const type = (err as Error)?.name ?? 'Error';
          const message = scrubAddresses((err as Error)?.message ?? String(err));
          return { recipientId, outcome: 'failed', attempt: 1, error: { type, message, retryable: isRetryable(type) } };
        }
      }),
    );
    // The run ended while we sent: report the cancellation (the results are not wanted any more).
    if (ctx.cancellationSignal.aborted) await ctx.cancelled;
    return results;
  } finally {
    clearInterval(beat);
  }
}
