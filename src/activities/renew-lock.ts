/**
 * The renewLock activity: extend the job's lock by token while the run sends. Any failure ends the run's hold at
 * once (false: the workflow stops sending, run ends `lock_lost`) rather than being retried: a lock that could not
 * be renewed may already be someone else's by the time a retry succeeds. The log line names the cause, never the
 * token.
 */
import type { ActivityDeps } from './deps';

export interface RenewLockInput {
  jobName: string;
  token: string;
  ttlMs: number;
  /** For the log line; absent in histories written before it was passed. */
  runId?: string;
}

export function renewLockActivity(deps: Pick<ActivityDeps, 'lock' | 'logger'>) {
  /** False means the lock is no longer ours: taken by another holder, lost by the store, or the store refused. */
  return async function renewLock(input: RenewLockInput): Promise<boolean> {
    const who = { runId: input.runId, jobName: input.jobName, lock: deps.lock.describe(input.jobName) };
    try {
      if (await deps.lock.extend(input.jobName, input.token, input.ttlMs)) return true;
      deps.logger.warn({ ...who, cause: 'the lock is gone or held under another token' }, 'job_lock_renewal_failed');
    } catch (err) {
      deps.logger.error({ ...who, cause: (err as Error)?.message ?? String(err) }, 'job_lock_renewal_failed');
    }
    return false;
  };
}
