/** The renewLock activity: extend the job's lock by token, while the run sends. */
import { LockUnavailableError } from '../errors';
import type { ActivityDeps } from './deps';

export function renewLockActivity(deps: Pick<ActivityDeps, 'lock'>) {
  /** False means the lock is no longer ours (expired and taken, or the store lost it). */
  return async function renewLock(input: { jobName: string; token: string; ttlMs: number }): Promise<boolean> {
    try {
      return await deps.lock.extend(input.jobName, input.token, input.ttlMs);
    } catch (err) {
      if (err instanceof LockUnavailableError) return false;
      throw err;
    }
  };
}
