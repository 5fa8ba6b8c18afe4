/**
 * The suppressions table (migrations 0008, 0011), alone: who must not be mailed any more, and why. Two scopes:
 *   job      — a recipient of one job unsubscribed: checked per page by recipient id (pages.ts), one statement.
 *   address  — no mail at all to an address (unsubscribed from everything, a hard bounce, a complaint, an
 *              operator): checked by the send after its loader returned the address (send.ts), grouped with
 *              concurrent sends.
 * One row per reason: a recipient or address can be suppressed for several reasons at once, and lifting one
 * (a redrive lifts `hard_bounce`) leaves the others. Recording a reason twice changes nothing. Every removal is
 * kept in suppression_removals (who, when, why); an unsubscribe or a complaint is removed only with a note.
 */
import type { Pool, PoolClient } from 'pg';
import { Coalescer } from '../db/coalesce';
import { perPool } from '../db/per-pool';

export type SuppressionReason = 'unsubscribe' | 'hard_bounce' | 'complaint' | 'manual';
export const SUPPRESSION_REASONS: readonly SuppressionReason[] = ['unsubscribe', 'hard_bounce', 'complaint', 'manual'];
/** The person's own word: lifting these takes an explicit force and a note (removeSuppressions, src/api). */
export const CONSENT_REASONS: readonly SuppressionReason[] = ['unsubscribe', 'complaint'];

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

/**
 * True when this reason was written now; false when the job recipient or address was already suppressed for
 * this same reason (its row stays as it was). Another reason on record never stops a new one being written.
 */
export async function recordSuppression(db: Pool | PoolClient, req: SuppressionRequest): Promise<boolean> {
  const target = req.scope === 'job' ? "(job_name, recipient_id, reason) WHERE scope = 'job'" : "(address_hash, reason) WHERE scope = 'address'";
  const { rowCount } = await db.query(
    `INSERT INTO sendonce.suppressions (scope, job_name, recipient_id, address_hash, address, reason, detail)
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

/** Which of a page's recipient ids are suppressed for this job (for any reason) — one indexed statement per page. */
export async function unsubscribedFromJob(pool: Pool, jobName: string, recipientIds: readonly string[]): Promise<Set<string>> {
  if (recipientIds.length === 0) return new Set();
  const { rows } = await pool.query<{ recipient_id: string }>(
    `SELECT recipient_id FROM sendonce.suppressions WHERE scope = 'job' AND job_name = $1 AND recipient_id = ANY($2::text[])`,
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
      WHERE EXISTS (SELECT 1 FROM sendonce.suppressions s WHERE s.scope = 'address' AND s.address_hash = q.hash)
         OR EXISTS (SELECT 1 FROM sendonce.suppressions s WHERE s.scope = 'job' AND s.job_name = q.job AND s.recipient_id = q.recipient)`,
    [checks.map((c) => c.jobName), checks.map((c) => c.recipientId), checks.map((c) => c.addressHash)],
  );
  const hit = new Set(rows.map((r) => Number(r.i) - 1));
  return checks.map((_, i) => hit.has(i));
}

/**
 * A redrive of a dead letter is an operator saying "this mailbox works now": the hard-bounce suppression that
 * dead letter's 5.1.1 recorded (learned from that job and recipient) is lifted with it, and the removal kept.
 * Runs in the caller's transaction. Only the `hard_bounce` reason goes: an unsubscribe, complaint or manual entry
 * for the same address or recipient stays, and the redrive run then skips the recipient as suppressed.
 */
export async function liftHardBounces(
  db: PoolClient,
  keys: ReadonlyArray<{ jobName: string; recipientId: string; deadLetterId: number }>,
  by: string,
): Promise<number> {
  if (keys.length === 0) return 0;
  const { rowCount } = await db.query(
    `WITH gone AS (
       DELETE FROM sendonce.suppressions s USING unnest($1::text[], $2::text[], $3::bigint[]) AS k(job, recipient, letter)
        WHERE s.scope = 'address' AND s.reason = 'hard_bounce' AND s.job_name = k.job AND s.recipient_id = k.recipient
       RETURNING s.*, k.letter)
     ${KEEP_REMOVED} SELECT ${REMOVED_COLUMNS}, $4, 'lifted by the redrive of dead letter ' || letter FROM gone`,
    [keys.map((k) => k.jobName), keys.map((k) => k.recipientId), keys.map((k) => k.deadLetterId), by],
  );
  return rowCount ?? 0;
}

const REMOVED_COLUMNS = 'id, scope, job_name, recipient_id, address_hash, address, reason, detail, created_at';
const KEEP_REMOVED = `INSERT INTO sendonce.suppression_removals
  (suppression_id, scope, job_name, recipient_id, address_hash, address, reason, detail, created_at, removed_by, note)`;

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
       FROM sendonce.suppressions
      WHERE ($1::text IS NULL OR job_name = $1) AND ($2::text IS NULL OR reason = $2)
      ORDER BY id LIMIT $3`,
    [opts.job ?? null, opts.reason ?? null, opts.limit ?? 1_000],
  );
  return rows;
}

/** The rows of these ids that exist, locked until the caller's transaction ends. */
export async function lockSuppressionRows(db: PoolClient, ids: readonly number[]): Promise<Array<{ id: number; reason: SuppressionReason }>> {
  const { rows } = await db.query<{ id: number; reason: SuppressionReason }>(
    'SELECT id::int AS id, reason FROM sendonce.suppressions WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE',
    [ids],
  );
  return rows;
}

/** Delete by id, keeping each removed row in suppression_removals with who and why; returns the ids gone now. */
export async function deleteSuppressions(db: Pool | PoolClient, ids: readonly number[], by: string, note: string | null): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `WITH gone AS (DELETE FROM sendonce.suppressions WHERE id = ANY($1::bigint[]) RETURNING *)
     ${KEEP_REMOVED} SELECT ${REMOVED_COLUMNS}, $2, $3 FROM gone
     RETURNING suppression_id::int AS id`,
    [ids, by, note],
  );
  return rows.map((r) => r.id).sort((a, b) => a - b);
}

export interface SuppressionRemovalRow extends SuppressionRow {
  /** The id it had in `suppressions`. */
  suppressionId: number;
  removedAt: string;
  removedBy: string;
  note: string | null;
}

export async function listSuppressionRemovals(pool: Pool, opts: { job?: string; reason?: SuppressionReason; limit?: number } = {}): Promise<SuppressionRemovalRow[]> {
  const { rows } = await pool.query<SuppressionRemovalRow>(
    `SELECT id::int AS id, suppression_id::int AS "suppressionId", scope, job_name AS "jobName", recipient_id AS "recipientId",
            address, address_hash AS "addressHash", reason, detail,
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "createdAt",
            to_char(removed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "removedAt",
            removed_by AS "removedBy", note
       FROM sendonce.suppression_removals
      WHERE ($1::text IS NULL OR job_name = $1) AND ($2::text IS NULL OR reason = $2)
      ORDER BY id LIMIT $3`,
    [opts.job ?? null, opts.reason ?? null, opts.limit ?? 1_000],
  );
  return rows;
}
