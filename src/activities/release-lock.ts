/** The releaseLock activity: free the job's lock by token when the run ends. */
import { LockUnavailableError } from '../errors';
import type { ActivityDeps } from './deps';

export function releaseLockActivity(deps: Pick<ActivityDeps, 'lock'>) {
  return async function releaseLock(input: { jobName: string; token: string }): Promise<boolean> {
    try {
      return await deps.lock.release(input.jobName, input.token);
    } catch (err) {
      // Unreachable store: the lock expires by its TTL; nothing else to do.
      if (err instanceof LockUnavailableError) return false;
      throw err;
    }
  };
}
