/**
 * A chunk of recipients in ONE activity — the fast path. Each recipient still goes through exactly the
 * per-recipient path of send.ts (rate budget, its own claim, SMTP, its own outcome row), bounded by the
 * worker's send slots; what is saved is Temporal's per-activity cost (schedule, dispatch, completion,
 * history events), which was ~8 ms of CPU per email against ~2 ms for the send itself (BENCHMARKS.md).
 * A recipient whose first attempt fails is NOT retried here: the chunk reports it and the workflow retries it
 * as its own activity under the job's bounded RetryPolicy, so retry bounds and dead letters stay per recipient.
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
  let lastBeat = 0;
  return Promise.all(
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
      } finally {
        // Liveness for the heartbeat timeout: a dead worker is noticed after one attempt timeout, not after
        // the whole chunk's start-to-close budget. At most one call a second: each is a trip into the SDK's
        // native core, and the timeout is tens of seconds.
        if (Date.now() - lastBeat >= HEARTBEAT_EVERY_MS) {
          lastBeat = Date.now();
          ctx.heartbeat();
        }
      }
    }),
  );
}
