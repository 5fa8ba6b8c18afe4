/**
 * The acquireLock activity: take the job's lock and record who holds it. A lock held elsewhere is explained (who
 * holds it, whether a person must look), never an error; an unreachable store skips the tick (fail closed) unless
 * LOCK_UNAVAILABLE=fail. Its siblings renew-lock.ts, release-lock.ts and fence-off.ts work by token and fence.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { LockAcquireResult } from '../contract';
import { LockUnavailableError } from '../errors';
import type { AppMetrics } from '../metrics';
import { runHoldingToken, skipReasonFor } from '../runs/lock-holder';
import { recordLockTaken } from '../runs/records';
import type { ActivityDeps } from './deps';

export function acquireLockActivity(deps: Pick<ActivityDeps, 'pool' | 'lock' | 'logger' | 'lockUnavailable'>, metrics: AppMetrics) {
  const { pool, logger } = deps;
  /** `token`: the run's own (workflow-made, so every retry of this activity asks with the same one). */
  return async function acquireLock(input: { jobName: string; runId: string; ttlMs: number; token?: string }): Promise<LockAcquireResult> {
    try {
      const lease = await deps.lock.acquire(input.jobName, input.ttlMs, input.token);
      if (lease) {
        await recordLockTaken(pool, input.runId, lease).catch(async (err: unknown) => {
          await deps.lock.release(input.jobName, lease.token).catch(() => false); // the retry takes it again
          throw err;
        });
        logger.info({ runId: input.runId, jobName: input.jobName, fence: lease.fence }, 'job_lock_acquired');
        return { acquired: true, token: lease.token, fence: lease.fence };
      }
      // Who holds it: a lock that never expires, or that no run recorded, needs a person (the reason says so).
      const look = await explainHeldLock(deps, input.jobName);
      const reason = look.reason;
      const log = { runId: input.runId, jobName: input.jobName, reason, holderRunId: look.holderRunId, lockTtlMs: look.ttlMs };
      if (reason === 'locked') logger.info(log, 'job_skipped_locked');
      else logger.warn({ ...log, fix: `sendonce lock status --job ${input.jobName}` }, 'job_skipped_locked');
      metrics.lockSkipped(input.jobName, 'locked'); // one metric label for every "held elsewhere" (alerts match it)
      return { acquired: false, reason };
    } catch (err) {
      if (!(err instanceof LockUnavailableError)) throw err;
      logger.error({ runId: input.runId, jobName: input.jobName, err: err.message }, 'job_skipped_lock_unavailable');
      metrics.lockSkipped(input.jobName, 'lock_unavailable');
      if (deps.lockUnavailable === 'fail') {
        throw ApplicationFailure.nonRetryable(`lock store unreachable: ${err.message}`, LockUnavailableError.name);
      }
      return { acquired: false, reason: 'lock_unavailable' };
    }
  };
}

/**
 * Only to explain a skip: a failed look leaves the plain reason `locked`, never fails the run. A run that has just
 * taken the lock records its token a moment later (after its fence): an unknown holder is looked at once more.
 */
async function explainHeldLock(deps: Pick<ActivityDeps, 'lock' | 'pool'>, jobName: string) {
  const look = async () => {
    const holder = await deps.lock.peek(jobName);
    const run = holder ? await runHoldingToken(deps.pool, jobName, holder.token) : undefined;
    return { reason: skipReasonFor(holder, run), holderRunId: run?.runId, ttlMs: holder?.ttlMs };
  };
  try {
    const first = await look();
    if (first.reason !== 'locked_unknown_holder') return first;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return await look();
  } catch {
    return { reason: 'locked' as const, holderRunId: undefined, ttlMs: undefined };
  }
}
