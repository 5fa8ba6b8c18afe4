/**
 * The job lock contract shared by both backends (Redis token lock, Postgres lease row), and the one error
 * a caller must tell apart from "someone else holds it".
 */

/** What a successful acquire hands back: the token proving ownership, and the fence claims must carry. */
export interface LockLease {
  token: string;
  /** Strictly greater than every fence handed out before for this job (job_fences, in Postgres). */
  fence: number;
}

export interface JobLock {
  /**
   * Try once; null when someone else holds it. Throws LockUnavailableError when the store can't be reached.
   * With `token`, a lock already held under that same token is taken again (TTL reset, a new fence): the retry of
   * an acquisition whose answer was lost finds its own lock, not someone else's. Default: a fresh random token.
   */
  acquire(jobName: string, ttlMs: number, token?: string): Promise<LockLease | null>;
  /** Token-checked: true only if the caller still holds it (then the TTL is reset to ttlMs). */
  extend(jobName: string, token: string, ttlMs: number): Promise<boolean>;
  /** Token-checked compare-and-delete: true if it was ours and is now released; never deletes another's lock. */
  release(jobName: string, token: string): Promise<boolean>;
  /** Who holds it now, read-only (for `sendonce lock status` and a skipped run's reason); null when nobody does. */
  peek(jobName: string): Promise<LockHolder | null>;
  /** Where the lock lives, for people: the Redis key, or the job_leases row. */
  describe(jobName: string): string;
}

export interface LockHolder {
  token: string;
  /** Time left; null when the lock has no expiry (set by hand, `SET … ` without PX): it never frees itself. */
  ttlMs: number | null;
}


// The store could not be reached: LockUnavailableError (src/errors/lock-errors.ts), distinct from `null` (held elsewhere).
export { LockUnavailableError, type LockBackend } from '../errors';

/** Reject a TTL Redis (PX) or Postgres would round or refuse, before touching the store. */
export function assertTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`lock ttlMs must be a positive integer number of milliseconds, got ${ttlMs}`);
  }
}
