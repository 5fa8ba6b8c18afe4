/** Recording an opt-out from a verified token — shared by the HTTP endpoint and the API (e.g. a mailbox processor). */
import type { Pool } from 'pg';
import { recordSuppression } from './store';
import { verifyUnsubscribeToken, type UnsubscribeClaims, type UnsubscribeKeys } from './token';

export interface UnsubscribeResult extends UnsubscribeClaims {
  /**
   * True when this unsubscribe was written now; false when the same unsubscribe was on record already (a second
   * click changes nothing). Either way it is on record when this returns: other reasons (a hard bounce, an
   * operator's entry) never stop it being written. A failure to write it throws.
   */
  recorded: boolean;
}

/** Verify the token (UnsubscribeTokenError when it is not ours or expired: then nothing changes) and record the opt-out. */
export async function unsubscribeWithToken(pool: Pool, keys: UnsubscribeKeys, token: string, now: Date = new Date()): Promise<UnsubscribeResult> {
  const claims = verifyUnsubscribeToken(keys, token, now);
  const recorded = await recordSuppression(
    pool,
    claims.scope === 'job'
      ? { scope: 'job', jobName: claims.jobName, recipientId: claims.recipientId, reason: 'unsubscribe' }
      : { scope: 'address', addressHash: claims.addressHash!, jobName: claims.jobName, recipientId: claims.recipientId, reason: 'unsubscribe' },
  );
  return { ...claims, recorded };
}
