/**
 * An operator's decision about keys whose outcome is `unknown` (the SMTP server may have the message; nobody can
 * tell): `sent` closes the key — it is taken as delivered; `resend` reopens it so that a run sends it once more,
 * with the same Message-ID (derived from the key), which receivers can deduplicate. Who, when and why is kept in
 * unknown_resolutions. Only keys still `unknown` change; runs in the caller's transaction.
 */
import type { PoolClient } from 'pg';

export type UnknownResolution = 'sent' | 'resend';

export interface ResolvedKey {
  id: number;
  key: string;
  jobName: string;
  recipientId: string;
  window: string;
  runId: string;
}

const STATE_AFTER: Record<UnknownResolution, string> = {
  // Taken as delivered: the key is finished; no later run sends it.
  sent: `state = 'sent', sent_at = COALESCE(sent_at, now())`,
  // Back to the retry path with its attempts reset: the next claim (a run for this key) sends it once more.
  resend: `state = 'failed', attempts = 0`,
};

export async function resolveUnknownKeys(db: PoolClient, ids: number[], as: UnknownResolution, note: string, by: string): Promise<ResolvedKey[]> {
  const { rows } = await db.query<ResolvedKey>(
    `UPDATE sendonce.email_sends
        SET ${STATE_AFTER[as]}, lease_until = NULL, updated_at = now(),
            reason = 'resolved as ' || $2 || ' by ' || $3 || ': ' || $4
      WHERE id = ANY($1::bigint[]) AND state = 'unknown'
      RETURNING id::int AS id, idempotency_key AS key, job_name AS "jobName", recipient_id AS "recipientId",
                window_key AS window, run_id AS "runId"`,
    [ids, as, by, note],
  );
  await db.query(
    `INSERT INTO sendonce.unknown_resolutions (idempotency_key, resolution, note, resolved_by)
     SELECT k, $2, $3, $4 FROM unnest($1::text[]) AS k`,
    [rows.map((r) => r.key), as, note, by],
  );
  return rows;
}
