/**
 * The key of an address-wide suppression: SHA-256 of the address, trimmed and lower-cased. Lower-casing the local
 * part is wrong in theory (RFC 5321 lets it be case-sensitive) and right in practice: no large provider treats
 * `Ann@` and `ann@` as two mailboxes, and suppressing both is the safe side of the error.
 * An unsubscribe link carries this hash, never the address: a hash only confirms an address someone already knows.
 */
import { createHash } from 'node:crypto';

export function addressHash(address: string): string {
  return createHash('sha256').update(address.trim().toLowerCase(), 'utf8').digest('hex');
}
