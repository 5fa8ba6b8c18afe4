/**
 * Unsubscribe tokens: what an unsubscribe link carries instead of an address. A token says who (job, recipient id,
 * and for address-wide opt-outs the address's hash, address.ts), what (scope) and until when, and is signed:
 *
 *   token   = base64url(JSON payload) "." base64url(HMAC-SHA256(key, payload part))
 *   payload = { k: key id, j: job, r: recipient id, s: 'job' | 'address', h?: address hash, e: expiry (unix s) }
 *
 * HMAC-SHA256 from node:crypto rather than a JWT library: five fields, one algorithm, no header to negotiate — a JWT
 * library's value is choosing among algorithms, which is exactly what a verifier must not let a token do.
 * Rotation: tokens are signed with the current secret; the previous ones still verify (until their tokens expire),
 * chosen by the key id (the first 8 bytes of the secret's SHA-256, so no one has to name keys). Compared in
 * constant time. Forged, altered, expired or unknown-key tokens are refused with one UnsubscribeTokenError.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { UnsubscribeTokenError } from '../errors';

export type UnsubscribeScope = 'job' | 'address';

export interface UnsubscribeClaims {
  jobName: string;
  recipientId: string;
  scope: UnsubscribeScope;
  /** With scope 'address': addressHash() of the recipient's address. */
  addressHash?: string;
  /** Unix seconds. */
  expiresAt: number;
}

export interface UnsubscribeKeys {
  /** Signs new tokens (and verifies). */
  current: string;
  /** Verify only: tokens signed before a rotation keep working until they expire. */
  previous?: readonly string[];
}

interface Payload {
  k: string;
  j: string;
  r: string;
  s: UnsubscribeScope;
  h?: string;
  e: number;
}

const keyId = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 16);
const mac = (secret: string, data: string) => createHmac('sha256', secret).update(data, 'utf8').digest();

export function signUnsubscribeToken(keys: UnsubscribeKeys, claims: UnsubscribeClaims): string {
  const payload: Payload = {
    k: keyId(keys.current),
    j: claims.jobName,
    r: claims.recipientId,
    s: claims.scope,
    ...(claims.scope === 'address' ? { h: claims.addressHash } : {}),
    e: claims.expiresAt,
  };
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${body}.${mac(keys.current, body).toString('base64url')}`;
}

/** The token's claims, or UnsubscribeTokenError (the message is safe to show: it names no secret and no address). */
export function verifyUnsubscribeToken(keys: UnsubscribeKeys, token: string, now: Date = new Date()): UnsubscribeClaims {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]!) || !/^[A-Za-z0-9_-]+$/.test(parts[1]!)) {
    throw new UnsubscribeTokenError('malformed unsubscribe token');
  }
  const [body, signature] = parts as [string, string];
  const payload = parsePayload(body);
  const secret = [keys.current, ...(keys.previous ?? [])].find((s) => keyId(s) === payload.k);
  if (secret === undefined) throw new UnsubscribeTokenError('unsubscribe token signed with an unknown key');
  const expected = mac(secret, body);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new UnsubscribeTokenError('unsubscribe token signature does not match');
  if (payload.e * 1000 <= now.getTime()) throw new UnsubscribeTokenError('unsubscribe token has expired');
  return {
    jobName: payload.j,
    recipientId: payload.r,
    scope: payload.s,
    ...(payload.h !== undefined ? { addressHash: payload.h } : {}),
    expiresAt: payload.e,
  };
}

function parsePayload(body: string): Payload {
  let p: Partial<Payload>;
  try {
    p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<Payload>;
  } catch {
    throw new UnsubscribeTokenError('malformed unsubscribe token');
  }
  const str = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 200;
  const fine =
    typeof p === 'object' && p !== null && str(p.k) && str(p.j) && str(p.r) && Number.isInteger(p.e) &&
    (p.s === 'job' || (p.s === 'address' && typeof p.h === 'string' && /^[0-9a-f]{64}$/.test(p.h)));
  if (!fine) throw new UnsubscribeTokenError('malformed unsubscribe token');
  return p as Payload;
}
