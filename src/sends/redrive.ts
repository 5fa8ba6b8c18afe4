/**
 * Reopening a finished key on an operator's request. A dead key goes back to `failed` with its attempts reset,
 * so the next claim takes it through the retry path (src/sends/claims.ts) and sends it at most once more.
 * Runs inside the caller's transaction, which holds the rows (FOR UPDATE).
 */
import type { PoolClient } from 'pg';

/** Dead letter `letterId` of `key`: the key is eligible again, the letter is marked redriven. */
export async function reopenDeadLetter(db: PoolClient, letterId: number, key: string): Promise<void> {
  await db.query(
    `UPDATE sendonce.email_sends SET state = 'failed', attempts = 0, lease_until = NULL, reason = $2, updated_at = now()
      WHERE idempotency_key = $1 AND state = 'dead'`,
    [key, `redriven from dead letter ${letterId}`],
  );
  await db.query('UPDATE sendonce.dead_letters SET redriven_at = now() WHERE id = $1', [letterId]);
}
