/**
 * Fences: one number per job that only grows. Every lock acquisition (either backend) takes the next one, and
 * claims carry it, so a holder whose TTL lapsed while it was paused is refused once a newer holder exists.
 * It lives in Postgres (job_fences) rather than in Redis: Redis here runs without persistence, and an INCR
 * counter would restart from 1 after a Redis restart and let an old holder's fence look new again.
 */
import type { Pool } from '../db/pool';
import { isPostgresConnectionError } from '../db/unreachable';
import { LockUnavailableError, type LockLease } from './types';

/**
 * Take the next fence for a job: a single upsert, so two concurrent callers always get different numbers
 * (the second waits on the row lock of the first and increments its committed value).
 * Throws LockUnavailableError when Postgres can't be reached.
 */
export async function takeFence(pool: Pool, jobName: string): Promise<number> {
  try {
    const { rows } = await pool.query<{ current_fence: number }>(
      `INSERT INTO sendonce.job_fences (job_name, current_fence) VALUES ($1, 1)
       ON CONFLICT (job_name) DO UPDATE SET current_fence = job_fences.current_fence + 1
       RETURNING current_fence`,
      [jobName],
    );
    return rows[0]!.current_fence;
  } catch (err) {
    throw asLockUnavailable(err, `could not take a fence for job ${jobName}`);
  }
}

/** The newest fence handed out for a job; 0 when none has been. */
export async function currentFence(pool: Pool, jobName: string): Promise<number> {
  const { rows } = await pool.query<{ current_fence: number }>(
    'SELECT current_fence FROM sendonce.job_fences WHERE job_name = $1',
    [jobName],
  );
  return rows[0]?.current_fence ?? 0;
}

/** True when no newer fence than `fence` has been handed out for the job (the claim side enforces this in SQL). */
export async function isFenceCurrent(pool: Pool, jobName: string, fence: number): Promise<boolean> {
  return fence >= (await currentFence(pool, jobName));
}

/** Wrap a Postgres connection failure as LockUnavailableError; return any other error unchanged. */
export function asLockUnavailable(err: unknown, what: string): unknown {
  if (err instanceof LockUnavailableError || !isPostgresConnectionError(err)) return err;
  return new LockUnavailableError(`${what}: Postgres unreachable (${(err as Error).message})`, 'postgres', { cause: err });
}

/**
 * The second half of every acquisition: take a fence for the lock just acquired. A lock without a fence is
 * useless (its claims would be refused) and keeping it would make every other run skip until the TTL ends,
 * so on failure it is given back at once (if that fails too, the TTL still frees it) and the error rethrown.
 */
export async function fenceOrRelease(
  pool: Pool,
  jobName: string,
  token: string,
  release: (jobName: string, token: string) => Promise<unknown>,
): Promise<LockLease> {
  try {
    return { token, fence: await takeFence(pool, jobName) };
  } catch (err) {
    await release(jobName, token).catch(() => undefined);
    throw err;
  }
}
