/**
 * The suppressions table (migration 0008), alone: who must not be mailed any more. Two scopes:
 *   job      — a recipient of one job unsubscribed: checked per page by recipient id (pages.ts), one statement.
 *   address  — no mail at all to an address (unsubscribed from everything, a hard bounce, an operator): checked by
 *              the send after its loader returned the address (send.ts), grouped with concurrent sends.
 * Recording is idempotent (one row per job recipient or per address); the first reason stays.
 */
import type { Pool, PoolClient } from 'pg';
import { Coalescer } from '../db/coalesce';
import { perPool } from '../db/per-pool';

export type SuppressionReason = 'unsubscribe' | 'hard_bounce' | 'operator';

export type SuppressionRequest =
  | { scope: 'job'; jobName: string; recipientId: string; reason: SuppressionReason; detail?: string }
  | {
      scope: 'address';
      addressHash: string;
      /** In clear when known (a bounce, an operator); an unsubscribe link only carries the hash. */
      address?: string;
      /** Where it was learned, if anywhere: lets a redrive of that job's dead letter lift a hard bounce. */
      jobName?: string;
      recipientId?: string;
      reason: SuppressionReason;
      detail?: string;
    };

/** True when a new row was written; false when the job recipient or address was already suppressed. */
export async function recordSuppression(db: Pool | PoolClient, req: SuppressionRequest): Promise<boolean> {
  const target = req.scope === 'job' ? '(job_name, recipient_id) WHERE scope = \'job\'' : "(address_hash) WHERE scope = 'address'";
  const { rowCount } = await db.query(
    `INSERT INTO suppressions (scope, job_name, recipient_id, address_hash, address, reason, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT ${target} DO NOTHING`,
    [
      req.scope,
      req.jobName ?? null,
      req.recipientId ?? null,
      req.scope === 'address' ? req.addressHash : null,
      req.scope === 'address' ? (req.address ?? null) : null,
      req.reason,
      req.detail ?? null,
    ],
  );
  return rowCount === 1;
}

/** Which of a page's recipient ids unsubscribed from this job — one indexed statement per page. */
export async function unsubscribedFromJob(pool: Pool, jobName: string, recipientIds: readonly string[]): Promise<Set<string>> {
  if (recipientIds.length === 0) return new Set();
  const { rows } = await pool.query<{ recipient_id: string }>(
    `SELECT recipient_id FROM suppressions WHERE scope = 'job' AND job_name = $1 AND recipient_id = ANY($2::text[])`,
    [jobName, recipientIds],
  );
  return new Set(rows.map((r) => r.recipient_id));
}

export interface SuppressionCheck {
  jobName: string;
  recipientId: string;
  /** addressHash() of the loaded address; null when the recipient has no usable address. */
  addressHash: string | null;
}

/**
 * Is this recipient suppressed — its address for all mail, or itself for this job (unsubscribed after its page
 * was read)? The checks of concurrent sends share one statement (src/db/coalesce.ts).
 */
export function isSuppressed(pool: Pool, check: SuppressionCheck): Promise<boolean> {
  return checkers(pool).run(check);
}

const checkers = perPool((pool) => new Coalescer((checks: SuppressionCheck[]) => checkMany(pool, checks), async (c) => (await checkMany(pool, [c]))[0]!));

async function checkMany(pool: Pool, checks: SuppressionCheck[]): Promise<boolean[]> {
  const { rows } = await pool.query<{ i: string }>(
    `SELECT q.i FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS q(job, recipient, hash, i)
      WHERE EXISTS (SELECT 1 FROM suppressions s WHERE s.scope = 'address' AND s.address_hash = q.hash)
         OR EXISTS (SELECT 1 FROM suppressions s WHERE s.scope = 'job' AND s.job_name = q.job AND s.recipient_id = q.recipient)`,
    [checks.map((c) => c.jobName), checks.map((c) => c.recipientId), checks.map((c) => c.addressHash)],
  );
  const hit = new Set(rows.map((r) => Number(r.i) - 1));
  return checks.map((_, i) => hit.has(i));
}

/**
 * A redrive of a dead letter is an operator saying "this mailbox works now": the hard-bounce suppression that
 * dead letter's 5.1.1 recorded (learned from that job and recipient) is lifted with it. Runs in the caller's
 * transaction. Unsubscribes and operator entries are never lifted this way.
 */
export async function liftHardBounces(db: PoolClient, keys: ReadonlyArray<{ jobName: string; recipientId: string }>): Promise<number> {
  if (keys.length === 0) return 0;
  const { rowCount } = await db.query(
    `DELETE FROM suppressions s USING unnest($1::text[], $2::text[]) AS k(job, recipient)
      WHERE s.scope = 'address' AND s.reason = 'hard_bounce' AND s.job_name = k.job AND s.recipient_id = k.recipient`,
    [keys.map((k) => k.jobName), keys.map((k) => k.recipientId)],
  );
  return rowCount ?? 0;
}

export interface SuppressionRow {
  id: number;
  scope: 'job' | 'address';
  jobName: string | null;
  recipientId: string | null;
  /** In clear when known (a bounce, an operator); null for an unsubscribe link's address (only its hash is known). */
  address: string | null;
  addressHash: string | null;
  reason: SuppressionReason;
  detail: string | null;
  createdAt: string;
}

export async function listSuppressionRows(pool: Pool, opts: { job?: string; reason?: SuppressionReason; limit?: number } = {}): Promise<SuppressionRow[]> {
  const { rows } = await pool.query<SuppressionRow>(
    `SELECT id::int AS id, scope, job_name AS "jobName", recipient_id AS "recipientId", address,
            address_hash AS "addressHash", reason, detail,
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "createdAt"
       FROM suppressions
      WHERE ($1::text IS NULL OR job_name = $1) AND ($2::text IS NULL OR reason = $2)
      ORDER BY id LIMIT $3`,
    [opts.job ?? null, opts.reason ?? null, opts.limit ?? 1_000],
  );
  return rows;
}

/** Delete by id; returns the ids that existed (and are gone now). */
export async function deleteSuppressions(db: Pool | PoolClient, ids: readonly number[]): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>('DELETE FROM suppressions WHERE id = ANY($1::bigint[]) RETURNING id::int AS id', [ids]);
  return rows.map((r) => r.id);
}
