/**
 * The failure branch: a send that ended non-retryable, or used up its attempts, becomes a dead letter with
 * the last error — unless the server may have the message, which makes the key `unknown`, not dead (declaring
 * it dead would invite a redrive that duplicates it): its claim is still open or its last reply was lost, or it
 * is a resend-once copy (resends > 0) — an earlier attempt's outcome was ambiguous, so whatever happened to the
 * resend, the first copy may have arrived.
 * A key another run of the window owns — finished by it, or claimed by its live attempt — is left as it is and
 * reported `deduped`: counting another run's `sent` as this run's would make two summaries promise the same
 * email (two lock holders at once: test/integration/steady-tick.test.ts).
 */
import type { Pool } from 'pg';
import { withTransaction } from '../db/transaction';
import { SmtpAmbiguousError } from '../errors';
import type { DeadLetterOutcome, SendState } from '../contract';

export interface DeadLetterRequest {
  key: string;
  jobName: string;
  template: string;
  recipientId: string;
  window: string;
  runId: string;
  fence: number;
  messageId: string;
  errorType: string;
  /** Scrubbed of addresses by the caller. */
  message: string;
}

export function writeDeadLetter(pool: Pool, req: DeadLetterRequest): Promise<DeadLetterOutcome> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ state: SendState; last_error_type: string | null; resends: number; run_id: string; lease_live: boolean }>(
      `SELECT state, last_error_type, resends, run_id, (lease_until IS NOT NULL AND lease_until >= now()) AS lease_live
         FROM sendonce.email_sends WHERE idempotency_key = $1 FOR UPDATE`,
      [req.key],
    );
    if (rows[0] && ownedByAnotherRun(rows[0], req.runId)) return 'deduped';
    let state = rows[0]?.state;
    const ambiguousBefore = (rows[0]?.resends ?? 0) > 0;
    if (state === undefined) {
      // Never claimed (e.g. every attempt failed before the claim): record it so the key is accounted for.
      await client.query(
        `INSERT INTO sendonce.email_sends (idempotency_key, job_name, template, recipient_id, window_key, state, attempts,
                                  fence, run_id, message_id, last_error_type, reason)
         VALUES ($1, $2, $3, $4, $5, 'dead', 0, $6, $7, $8, $9, $10)`,
        [req.key, req.jobName, req.template, req.recipientId, req.window, req.fence, req.runId, req.messageId,
          req.errorType, req.message],
      );
      state = 'dead';
    } else if ((state === 'failed' || state === 'released') && rows[0]?.last_error_type !== SmtpAmbiguousError.name && !ambiguousBefore) {
      await client.query(
        `UPDATE sendonce.email_sends SET state = 'dead', reason = $2, last_error_type = COALESCE(last_error_type, $3),
                lease_until = NULL, updated_at = now()
          WHERE idempotency_key = $1`,
        [req.key, req.message, req.errorType],
      );
      state = 'dead';
    } else if (state === 'claimed' || state === 'failed' || state === 'released') {
      // An open claim, a last attempt whose reply was lost, or a failed resend of an ambiguous first attempt:
      // the server may have the message.
      const why = ambiguousBefore ? 'the resend of an ambiguous attempt failed (the first copy may have arrived): ' : 'attempts ended while the claim was open: ';
      await client.query(
        `UPDATE sendonce.email_sends SET state = 'unknown', lease_until = NULL, last_error_type = $3,
                reason = $4 || $2, updated_at = now()
          WHERE idempotency_key = $1`,
        [req.key, req.message, req.errorType, why],
      );
      state = 'unknown';
    }
    if (state === 'dead') {
      // Idempotent under activity retries: one open dead letter per key.
      await client.query(
        `INSERT INTO sendonce.dead_letters (idempotency_key, job_name, recipient_id, error_type, smtp_code, smtp_response, attempts, run_id)
         SELECT s.idempotency_key, s.job_name, s.recipient_id, COALESCE(s.last_error_type, $2), s.last_smtp_code,
                s.last_smtp_response, s.attempts, $3
           FROM sendonce.email_sends s
          WHERE s.idempotency_key = $1
            AND NOT EXISTS (SELECT 1 FROM sendonce.dead_letters d WHERE d.idempotency_key = $1 AND d.redriven_at IS NULL)`,
        [req.key, req.errorType, req.runId],
      );
    }
    return state;
  });
}

/**
 * Another run's business: a key it finished (sent, dead, unknown), or one its attempt is sending now (a live
 * claim). A failed or released key, or a claim whose lease expired (its attempt is gone), is still this branch's
 * to close — else a key whose attempts all failed in a run that died before its dead letter would stay open for ever.
 */
function ownedByAnotherRun(row: { state: SendState; run_id: string; lease_live: boolean }, runId: string): boolean {
  if (row.run_id === runId) return false;
  return row.state === 'sent' || row.state === 'dead' || row.state === 'unknown' || (row.state === 'claimed' && row.lease_live);
}
