/**
 * The one-click unsubscribe of one message (RFC 8058): a signed link per recipient, and the two headers that make
 * mailbox providers show an "Unsubscribe" button which POSTs to it:
 *   List-Unsubscribe: <https://…/unsubscribe?t=TOKEN>[, <mailto:…?subject=unsubscribe%20TOKEN>]
 *   List-Unsubscribe-Post: List-Unsubscribe=One-Click
 * (RFC 8058 §3.1 also wants a DKIM signature covering both headers: that is the relay's or your MTA's job.)
 */
import { addressHash } from './address-hash';
import { signUnsubscribeToken, type UnsubscribeKeys, type UnsubscribeScope } from './token';

/** The deployment's unsubscribe settings (UNSUBSCRIBE_* in src/config.ts). */
export interface UnsubscribeSettings {
  /** The public endpoint, e.g. https://mail.example.com/unsubscribe; the token goes into `?t=`. */
  url: string;
  /** An address that takes opt-outs by mail (subject `unsubscribe <token>`); only if you process that mailbox. */
  mailto?: string;
  keys: UnsubscribeKeys;
  /** How long a link works after the message was sent. */
  tokenTtlMs: number;
}

export interface UnsubscribeLink {
  /** The https link: the template's `unsubscribeUrl`. */
  url: string;
  /** The List-Unsubscribe URIs, https first: the transport formats the header (delivery/types.ts). */
  listUnsubscribe: string[];
  /** A plain header beside it. */
  headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

export function unsubscribeLink(
  settings: UnsubscribeSettings,
  who: { jobName: string; recipientId: string; address: string; scope: UnsubscribeScope },
  now: Date,
): UnsubscribeLink {
  const token = signUnsubscribeToken(settings.keys, {
    jobName: who.jobName,
    recipientId: who.recipientId,
    scope: who.scope,
    ...(who.scope === 'address' ? { addressHash: addressHash(who.address) } : {}),
    expiresAt: Math.floor((now.getTime() + settings.tokenTtlMs) / 1000),
  });
  const url = new URL(settings.url);
  url.searchParams.set('t', token);
  const uris = [url.toString()];
  if (settings.mailto) uris.push(`mailto:${settings.mailto}?subject=${encodeURIComponent(`unsubscribe ${token}`)}`);
  return { url: url.toString(), listUnsubscribe: uris, headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } };
}
