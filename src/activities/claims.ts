/**
 * The email_sends state machine — where "at most once per key" lives. One row per idempotency key:
 *
 *   (no row) --claim--> claimed --SMTP accepted--> sent
 *                          |--SMTP refused/4xx----> failed --reclaim (next attempt)--> claimed
 *                          |                          `--attempts exhausted / permanent--> dead   (dead-letters.ts)
 *                          |--reply lost after DATA--> unknown   (or failed, once, under resend-once)
 *                          `--attempt died, lease expired--> unknown (found by the next attempt or run)
 *
 * Every transition is one short statement or transaction; none stays open across the SMTP call
 * (seed 000's "insert, send, commit" in one transaction resends after a crash between SMTP accept and COMMIT).
 * Leases and timestamps use the database clock, so skewed workers agree.
 * A claim carries the lock's fence: Postgres refuses it when a newer lock holder exists for the job.
 */
import type { Pool, PoolClient } from 'pg';
import { Coalescer } from '../db/coalesce';
import { withTransaction } from '../db/transaction';

export type SendState = 'claimed' | 'sent' | 'failed' | 'dead' | 'unknown';

export interface ClaimRequest {
  key: string;
  jobName: string;
  template: string;
  recipientId: string;
  window: string;
  fence: number;
  runId: string;
  messageId: string;
  /** How long this attempt may hold the claim: the activity's start-to-close timeout. */
  leaseMs: number;
  maximumAttempts: number;
  /** Resend once (same Message-ID) when an earlier attempt's outcome is unknown. */
  resendUnknownOnce: boolean;
}

export type ClaimResult =
  /** This attempt owns the key and may send; `attempt` identifies the claim for the mark step. */
  | { kind: 'claimed'; attempt: number; resends: number }
  /** Already finished (sent, dead, or unknown without a resend left): nothing to do. */
  | { kind: 'duplicate'; state: SendState }
  /** Another attempt holds a live claim (its lease has not expired). */
  | { kind: 'busy' }
  /** A newer lock holder exists for this job: this run must stop sending. */
  | { kind: 'fenced' }
  /** The key used all its attempts in earlier tries; the dead-letter branch takes it from here. */
  | { kind: 'exhausted'; attempts: number }
  /** An earlier attempt claimed the key and died before recording the outcome: now `unknown`. */
  | { kind: 'lost' };

const LOST_REASON = 'attempt lost after claim: the outcome was not recorded before the claim lease expired';

/**
 * Fast path: INSERT … ON CONFLICT DO NOTHING that also checks the fence, for one key or for the keys of many
 * concurrent sends (group commit, src/db/coalesce.ts). Rows go in key order, so two workers' batches cannot
 * deadlock on each other.
 */
const INSERT_CLAIMS = `
  INSERT INTO email_sends
    (idempotency_key, job_name, template, recipient_id, window_key, state, attempts, fence, run_id, message_id, lease_until)
  SELECT r.key, r.job, r.template, r.recipient, r.win, 'claimed', 1, r.fence, r.run, r.msg, now() + r.lease * interval '1 millisecond'
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::float8[])
         AS r(key, job, template, recipient, win, fence, run, msg, lease)
   WHERE r.fence >= COALESCE((SELECT f.current_fence FROM job_fences f WHERE f.job_name = r.job), 0)
   ORDER BY r.key
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING idempotency_key, attempts, resends`;

type Inserted = { attempts: number; resends: number } | null;

async function insertClaims(db: Pool | PoolClient, reqs: ClaimRequest[]): Promise<Inserted[]> {
  const col = <K extends keyof ClaimRequest>(k: K) => reqs.map((r) => r[k]);
  const { rows } = await db.query<{ idempotency_key: string; attempts: number; resends: number }>(INSERT_CLAIMS, [
    col('key'), col('jobName'), col('template'), col('recipientId'), col('window'), col('fence'), col('runId'), col('messageId'), col('leaseMs'),
  ]);
  const byKey = new Map(rows.map((r) => [r.idempotency_key, { attempts: r.attempts, resends: r.resends }]));
  // A key requested twice in one batch was inserted once: only its first request owns it, the other
  // goes to the slow path and finds a live claim (busy).
  return reqs.map((r) => {
    const row = byKey.get(r.key) ?? null;
    byKey.delete(r.key);
    return row;
  });
}

/** Per pool: the claim and mark statements of concurrent sends, grouped (see src/db/coalesce.ts). */
interface Batchers {
  insert: Coalescer<ClaimRequest, Inserted>;
  markSent: Coalescer<SentMark, boolean>;
}
const batchers = new WeakMap<Pool, Batchers>();

function batchersFor(pool: Pool): Batchers {
  let b = batchers.get(pool);
  if (!b) {
    b = {
      insert: new Coalescer((reqs) => insertClaims(pool, reqs), async (req) => (await insertClaims(pool, [req]))[0] ?? null),
      markSent: new Coalescer((marks) => markSentMany(pool, marks), async (m) => (await markSentMany(pool, [m]))[0]!),
    };
    batchers.set(pool, b);
  }
  return b;
}

export async function claim(pool: Pool, req: ClaimRequest): Promise<ClaimResult> {
  const row = await batchersFor(pool).insert.run(req);
  if (row) return { kind: 'claimed', attempt: row.attempts, resends: row.resends };
  return reclaim(pool, req);
}

/** Slow path: the key exists, or the fence is stale. Decided under a row lock in one short transaction. */
function reclaim(pool: Pool, req: ClaimRequest): Promise<ClaimResult> {
  return withTransaction(pool, (client) => decide(client, req));
}

interface ExistingRow {
  state: SendState;
  attempts: number;
  resends: number;
  lease_expired: boolean;
}

async function decide(client: PoolClient, req: ClaimRequest): Promise<ClaimResult> {
  const fence = await client.query<{ current_fence: number }>(
    'SELECT current_fence FROM job_fences WHERE job_name = $1',
    [req.jobName],
  );
  const currentFence = fence.rows[0]?.current_fence;
  if (currentFence !== undefined && req.fence < currentFence) return { kind: 'fenced' };
  const { rows } = await client.query<ExistingRow>(
    `SELECT state, attempts, resends, (lease_until IS NULL OR lease_until < now()) AS lease_expired
       FROM email_sends WHERE idempotency_key = $1 FOR UPDATE`,
    [req.key],
  );
  const row = rows[0];
  // No row and the fence is fine: the insert lost a race with a delete (abandon). Claim again.
  if (!row) {
    const [r] = await insertClaims(client, [req]);
    return r ? { kind: 'claimed', attempt: r.attempts, resends: r.resends } : { kind: 'busy' };
  }
  switch (row.state) {
    case 'sent':
    case 'dead':
      return { kind: 'duplicate', state: row.state };
    case 'unknown':
      if (req.resendUnknownOnce && row.resends === 0) return takeOver(client, req, { resend: true });
      return { kind: 'duplicate', state: 'unknown' };
    case 'failed':
      if (row.attempts >= req.maximumAttempts) return { kind: 'exhausted', attempts: row.attempts };
      return takeOver(client, req, { resend: false });
    case 'claimed':
      if (!row.lease_expired) return { kind: 'busy' };
      // The attempt that claimed this key is over and never recorded an outcome: it may have died before SMTP,
      // or after the server accepted the message. We cannot tell, so it is ambiguous.
      if (req.resendUnknownOnce && row.resends === 0) return takeOver(client, req, { resend: true });
      await client.query(
        `UPDATE email_sends SET state = 'unknown', lease_until = NULL, reason = $2, updated_at = now()
          WHERE idempotency_key = $1`,
        [req.key, LOST_REASON],
      );
      return { kind: 'lost' };
  }
}

async function takeOver(client: PoolClient, req: ClaimRequest, opts: { resend: boolean }): Promise<ClaimResult> {
  const { rows } = await client.query<{ attempts: number; resends: number }>(
    `UPDATE email_sends
        SET state = 'claimed', attempts = attempts + 1, resends = resends + $2::int, fence = $3, run_id = $4,
            lease_until = now() + $5 * interval '1 millisecond', updated_at = now()
      WHERE idempotency_key = $1
      RETURNING attempts, resends`,
    [req.key, opts.resend ? 1 : 0, req.fence, req.runId, req.leaseMs],
  );
  const r = rows[0]!;
  return { kind: 'claimed', attempt: r.attempts, resends: r.resends };
}

export interface SmtpDetails {
  errorType?: string;
  smtpCode?: number;
  smtpResponse?: string;
  reason?: string;
}

/**
 * The mark steps are conditional on `attempts = attempt`: only the attempt that owns the claim writes its
 * outcome. `unknown` is accepted too: a slow attempt whose lease was declared lost may still report that the
 * server accepted the message — then `sent` is the truth.
 */
export function markSent(pool: Pool, key: string, attempt: number, details: SmtpDetails = {}): Promise<boolean> {
  return batchersFor(pool).markSent.run({ key, attempt, details });
}

interface SentMark {
  key: string;
  attempt: number;
  details: SmtpDetails;
}

async function markSentMany(pool: Pool, marks: SentMark[]): Promise<boolean[]> {
  const sorted = [...marks].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const { rows } = await pool.query<{ idempotency_key: string; attempts: number }>(
    `UPDATE email_sends e
        SET state = 'sent', sent_at = now(), lease_until = NULL, last_smtp_code = u.code, last_smtp_response = u.resp,
            reason = u.reason, updated_at = now()
       FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[]) AS u(key, attempt, code, resp, reason)
      WHERE e.idempotency_key = u.key AND e.attempts = u.attempt AND e.state IN ('claimed', 'unknown')
      RETURNING e.idempotency_key, e.attempts`,
    [
      sorted.map((m) => m.key),
      sorted.map((m) => m.attempt),
      sorted.map((m) => m.details.smtpCode ?? null),
      sorted.map((m) => m.details.smtpResponse ?? null),
      sorted.map((m) => m.details.reason ?? null),
    ],
  );
  const updated = new Set(rows.map((r) => `${r.attempts}:${r.idempotency_key}`));
  return marks.map((m) => updated.has(`${m.attempt}:${m.key}`));
}

/** A failed attempt: retryable or not, the row records the error; the dead-letter branch decides `dead`. */
export async function markFailed(
  pool: Pool,
  key: string,
  attempt: number,
  details: SmtpDetails,
  opts: { consumeResend?: boolean } = {},
): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE email_sends
        SET state = 'failed', lease_until = NULL, last_error_type = $3, last_smtp_code = $4,
            last_smtp_response = $5, reason = $6, resends = resends + $7::int, updated_at = now()
      WHERE idempotency_key = $1 AND attempts = $2 AND state = 'claimed'`,
    [key, attempt, details.errorType ?? null, details.smtpCode ?? null, details.smtpResponse ?? null,
      details.reason ?? null, opts.consumeResend ? 1 : 0],
  );
  return rowCount === 1;
}

export async function markUnknown(pool: Pool, key: string, attempt: number, details: SmtpDetails): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE email_sends
        SET state = 'unknown', lease_until = NULL, last_error_type = $3, last_smtp_code = $4,
            last_smtp_response = $5, reason = $6, updated_at = now()
      WHERE idempotency_key = $1 AND attempts = $2 AND state = 'claimed'`,
    [key, attempt, details.errorType ?? null, details.smtpCode ?? null, details.smtpResponse ?? null,
      details.reason ?? null],
  );
  return rowCount === 1;
}

/** The recipient is no longer eligible (deleted, opted out): give the key back, nothing was sent. */
export async function abandon(pool: Pool, key: string, attempt: number): Promise<void> {
  await pool.query(`DELETE FROM email_sends WHERE idempotency_key = $1 AND attempts = $2 AND state = 'claimed'`, [
    key,
    attempt,
  ]);
}
