/**
 * A chunk of recipients in ONE activity — the fast path. Each recipient still goes through exactly the
 * per-recipient path of send.ts (rate budget, its own claim, SMTP, its own outcome row), bounded by the
 * worker's send slots; what is saved is Temporal's per-activity cost (schedule, dispatch, completion,
 * history events), which was ~8 ms of CPU per email against ~2 ms for the send itself (BENCHMARKS.md).
 * A recipient whose first attempt fails is NOT retried here: the chunk reports it and the workflow retries it
 * as its own activity under the job's bounded RetryPolicy, so retry bounds and dead letters stay per recipient.
 *
 * The chunk heartbeats every second while it runs: a dead worker is noticed within one attempt timeout, and a
 * run that ended (terminated, timed out, cancelled) is noticed within about a second — the heartbeat is answered
 * with a cancellation — after which no recipient of the chunk is claimed any more; sends already at the SMTP
 * server finish and are recorded.
 */
import { Context } from '@temporalio/activity';
import type { ChunkInput, ChunkItemResult } from '../contract';
import type { AppMetrics } from '../metrics';
import { isRetryable } from '../retry';
import { scrubAddresses } from '../smtp/classify';
import { sendEmail, type SendDeps } from './send';

const HEARTBEAT_EVERY_MS = 1_000;

export async function sendChunk(deps: SendDeps, metrics: AppMetrics, input: ChunkInput): Promise<ChunkItemResult[]> {
  const ctx = Context.current();
  const { recipientIds, ...common } = input;
  // Each heartbeat is a trip into the SDK's native core; once a second is plenty against a timeout of tens of seconds.
  ctx.heartbeat();
  const beat = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    const results = await Promise.all(
      recipientIds.map(async (recipientId): Promise<ChunkItemResult> => {
        try {
          const result = await sendEmail(deps, { ...common, recipientId });
          metrics.sendFinished(input.jobName, result.outcome, 1);
          return { recipientId, ...result };
        } catch (err) {
          const type = (err as Error)?.name ?? 'Error';
          metrics.sendAttemptFailed(input.jobName, type, 1);
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
