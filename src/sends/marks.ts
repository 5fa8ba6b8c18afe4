/**
 * The outcome of an attempt that owns a claim: sent, failed (the dead-letter branch may make it dead), unknown,
 * or given back (the recipient became ineligible or suppressed: abandon). Each step is conditional on
 * `attempts = attempt`, so only the attempt that owns the claim writes its outcome.
 */
import type { Pool } from 'pg';
import { Coalescer } from '../db/coalesce';
import { perPool } from '../db/per-pool';
import { SmtpAmbiguousError } from '../errors';

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
    `UPDATE sendonce.email_sends e
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
    `UPDATE sendonce.email_sends
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
    `UPDATE sendonce.email_sends
        SET state = 'unknown', lease_until = NULL, last_error_type = $3, last_smtp_code = $4,
            last_smtp_response = $5, reason = $6, updated_at = now()
      WHERE idempotency_key = $1 AND attempts = $2 AND state = 'claimed'`,
    [key, attempt, details.errorType ?? null, details.smtpCode ?? null, details.smtpResponse ?? null,
      details.reason ?? null],
  );
  return rowCount === 1;
}

/** Why a claim is given back: the recipient is no longer eligible (deleted, opted out), or is suppressed. */
export type GiveBackReason = 'ineligible' | 'suppressed';

/** What giving a claim back did to its row; null when this attempt no longer owned the claim (nothing changed). */
export type GivenBack = 'deleted' | 'released' | 'unknown' | null;

/**
 * Give the claim back: this attempt sent nothing (the recipient is no longer eligible, or suppressed). The key stays
 * open as if the attempt had not claimed it, and nothing that earlier attempts recorded is lost:
 * - a fresh claim (this attempt inserted the row: first attempt, no error, no resend, no dead letter, no
 *   resolution) is deleted, as always — no key is left behind for someone who was never sent anything;
 * - a row with history is kept, with its attempts back to what they were before this claim (the attempt never
 *   reached the server, so it does not count against the bound), its dead letters, resolutions and resends:
 *   - `released` when nothing was ever possibly sent: open, a later run's claim takes it like `failed`;
 *   - `unknown` when an earlier attempt may have reached the server (an ambiguous reply or a lost attempt — the
 *     claim was the resend-once copy — or a key an operator resolved from `unknown`). As in the failure branch
 *     ("whatever happened to the resend, the first copy may have arrived"), the key is not sendable again without
 *     a person (`sendonce unknown resolve`): deleting it, or reopening it, would let a later run send a second copy.
 * Deleting every claimed row broke the dead_letters foreign key (the give-back failed and the key ended `unknown`),
 * cascaded the unknown_resolutions audit away and, under resend-once, erased the record that a copy may be out.
 */
export async function abandon(pool: Pool, key: string, attempt: number, why: GiveBackReason): Promise<GivenBack> {
  const { rows } = await pool.query<{ became: Exclude<GivenBack, null> }>(GIVE_BACK, [key, attempt, why, SmtpAmbiguousError.name]);
  return rows[0]?.became ?? null;
}

/**
 * One statement (a suppressed address gives its claim back on every tick). The row is locked first; only the
 * attempt that owns the claim changes it. A dead letter or a resolution for the key is written only together with
 * a state change of its row (failure-branch.ts, resolve.ts, both under this row lock), so the `fresh` check cannot
 * miss one and the delete cannot break the foreign key.
 */
const GIVE_BACK = `
  WITH mine AS (
    SELECT s.idempotency_key,
           s.attempts = 1 AND s.resends = 0 AND s.last_error_type IS NULL AND s.reason IS NULL
             AND NOT EXISTS (SELECT 1 FROM sendonce.dead_letters d WHERE d.idempotency_key = s.idempotency_key)
             AND NOT EXISTS (SELECT 1 FROM sendonce.unknown_resolutions r WHERE r.idempotency_key = s.idempotency_key) AS fresh,
           s.resends > 0 OR s.last_error_type IS NOT DISTINCT FROM $4
             OR EXISTS (SELECT 1 FROM sendonce.unknown_resolutions r WHERE r.idempotency_key = s.idempotency_key) AS maybe_sent
      FROM sendonce.email_sends s
     WHERE s.idempotency_key = $1 AND s.attempts = $2 AND s.state = 'claimed'
       FOR UPDATE
  ), deleted AS (
    DELETE FROM sendonce.email_sends s USING mine m
     WHERE s.idempotency_key = m.idempotency_key AND m.fresh
    RETURNING 'deleted'::text AS became
  ), kept AS (
    UPDATE sendonce.email_sends s
       SET state = CASE WHEN m.maybe_sent THEN 'unknown' ELSE 'released' END,
           attempts = s.attempts - 1, lease_until = NULL, updated_at = now(),
           reason = 'claim given back by attempt ' || s.attempts || ' (recipient ' || $3::text || '), nothing sent by it' ||
                    CASE WHEN m.maybe_sent
                         THEN '; an earlier attempt may have reached the server: ' ||
                              COALESCE(s.reason, s.last_error_type, 'its outcome was not recorded')
                         ELSE '; the key is open' END
      FROM mine m
     WHERE s.idempotency_key = m.idempotency_key AND NOT m.fresh
    RETURNING s.state AS became
  )
  SELECT became FROM deleted UNION ALL SELECT became FROM kept`;
