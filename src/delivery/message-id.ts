/**
 * A Message-ID derived from the idempotency key, so the policy-allowed resend of an `unknown` send carries the
 * same Message-ID as the first attempt and receiving systems can spot the duplicate.
 */
import { createHash } from 'node:crypto';

/** `<32 hex chars of sha256(idempotencyKey)@domain>`; the key itself (it contains a user id) never appears. */
export function messageIdFor(idempotencyKey: string, domain: string): string {
  const hex = createHash('sha256').update(idempotencyKey, 'utf8').digest('hex').slice(0, 32);
  return `<${hex}@${domain}>`;
}
