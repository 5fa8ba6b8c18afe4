/**
 * The Postgres job lock (LOCK_BACKEND=postgres): a lease row in job_leases, not a session advisory lock.
 * An advisory lock belongs to one connection, so through a pool the unlock may run on another connection,
 * fail, and leak the lock with the pooled connection; it also breaks behind transaction-pooling proxies.
 * A lease row works from any connection. Every time comparison uses the database clock (now()), so workers
 * with skewed clocks agree on when a lease has expired.
 */
import crypto from 'node:crypto';
import type { Pool } from '../db/pool';
import { asLockUnavailable, fenceOrRelease } from './fence';
import { assertTtl, type JobLock, type LockHolder, type LockLease } from './types';

export function createPostgresJobLock(pool: Pool): JobLock {
  async function query(what: string, sql: string, params: unknown[]): Promise<Array<Record<string, unknown>>> {
    try {
      return (await pool.query(sql, params)).rows;
    } catch (err) {
      throw asLockUnavailable(err, what);
    }
  }

  async function release(jobName: string, token: string): Promise<boolean> {
    // Delete our row even when it has expired (it is garbage either way), but report whether we still held it,
    // as Redis would: an expired lease was not ours any more.
    const rows = await query(
      `release lease ${jobName}`,
      `DELETE FROM sendonce.job_leases WHERE job_name = $1 AND holder_token = $2 RETURNING expires_at > now() AS was_held`,
      [jobName, token],
    );
    return rows[0]?.was_held === true;
  }

  return {
    async acquire(jobName: string, ttlMs: number, ownToken?: string): Promise<LockLease | null> {
      assertTtl(ttlMs);
      const token = ownToken ?? crypto.randomUUID();
      // One statement: insert, or take over a lease that has expired — or that is ours already (an earlier try of
      // this acquisition got it and its answer was lost). Two racing inserts serialise on the primary key; the
      // loser re-checks the WHERE against the winner's row and gets no row back.
      const rows = await query(
        `acquire lease ${jobName}`,
        `INSERT INTO sendonce.job_leases (job_name, holder_token, expires_at)
         VALUES ($1, $2, now() + $3 * interval '1 millisecond')
         ON CONFLICT (job_name) DO UPDATE
           SET holder_token = EXCLUDED.holder_token, expires_at = EXCLUDED.expires_at
           WHERE job_leases.expires_at < now() OR job_leases.holder_token = EXCLUDED.holder_token
         RETURNING holder_token`,
        [jobName, token, ttlMs],
      );
      if (rows.length === 0) return null;
      return fenceOrRelease(pool, jobName, token, release);
    },

    async extend(jobName: string, token: string, ttlMs: number): Promise<boolean> {
      assertTtl(ttlMs);
      // Only a lease that is still ours and still live: once expired, someone else may already have taken it.
      const rows = await query(
        `extend lease ${jobName}`,
        `UPDATE sendonce.job_leases SET expires_at = now() + $3 * interval '1 millisecond'
         WHERE job_name = $1 AND holder_token = $2 AND expires_at >= now()
         RETURNING job_name`,
        [jobName, token, ttlMs],
      );
      return rows.length === 1;
    },

    release,

    async peek(jobName: string): Promise<LockHolder | null> {
      // An expired lease is nobody's: the next acquire takes it over.
      const rows = await query(
        `inspect lease ${jobName}`,
        `SELECT holder_token, ceil(extract(epoch FROM expires_at - now()) * 1000)::bigint AS ttl_ms
           FROM sendonce.job_leases WHERE job_name = $1 AND expires_at >= now()`,
        [jobName],
      );
      const row = rows[0];
      return row ? { token: String(row.holder_token), ttlMs: Number(row.ttl_ms) } : null;
    },

    describe: (jobName: string) => `Postgres lease row job_leases('${jobName}')`,
  };
}
