/**
 * The outcome of an attempt that owns a claim: sent, failed (the dead-letter branch may make it dead), unknown,
 * or given back (the recipient became ineligible). Each step is conditional on `attempts = attempt`, so only
 * the attempt that owns the claim writes its outcome.
 */
import type { Pool } from 'pg';
import { Coalescer } from '../db/coalesce';
import { perPool } from '../db/per-pool';

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
  return markers(pool).run({ key, attempt, details });
}

/** Per pool: the mark-sent updates of concurrent sends, grouped into one statement (see src/db/coalesce.ts). */
const markers = perPool((pool) => new Coalescer((marks: SentMark[]) => markSentMany(pool, marks), async (m) => (await markSentMany(pool, [m]))[0]!));

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
