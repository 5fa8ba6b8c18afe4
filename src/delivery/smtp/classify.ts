/**
 * What an SMTP attempt's outcome means for the send's state. Pure functions over what nodemailer 10.6 returns;
 * every rule cites the nodemailer source (node_modules/nodemailer/dist/cjs) it relies on.
 *
 * The hard question is "could the server have accepted the message?" — only true once the final "." of DATA
 * was written and its reply not read. nodemailer 10 does NOT record that on the error: every connection-level
 * failure (socket close, socket timeout, reset) is built by SMTPConnection._onError(..., 'CONN'), so
 * `err.command` is 'CONN' whether the connection died during EHLO, MAIL FROM, RCPT TO, the DATA body or while
 * waiting for the final reply. Only failures that provably happen before the session exists carry a
 * distinguishing field, so the rules are:
 *   transient (nothing handed over):
 *     - `timeoutType` CONNECT_TIMEOUT | GREETING_TIMEOUT | UPGRADE_TIMEOUT (set by timeoutError() in
 *       smtp-connection/index.js; the session was not set up yet)
 *     - code ESOCKET with `originalCode` a connect-time errno (ECONNREFUSED, ENOTFOUND, EHOSTUNREACH, ...)
 *     - code EDNS, ETLS, EPROXY (name resolution, TLS/STARTTLS handshake, proxy: all before MAIL FROM)
 *     - code ECONNECTION with no `command`: built only by smtp-pool/index.js itself — "Connection pool was
 *       closed" (send after close) and "Reached maximum number of retries after connection was closed", which
 *       it raises when a connection closed while the message was still unsent (closed before the greeting, or
 *       a reused connection dropped before a byte of the message was read; pool-resource.js checks
 *       `readableDidRead`). With maxRequeues: 0 (transport.ts) that is every such drop. The same error also
 *       ends a delivery cut by `transport.close({ force: true })`; sendonce never force-closes with sends in
 *       flight (the worker is shut down before the transport).
 *   ambiguous (conservative: the server may have the message):
 *     - ECONNECTION / ESOCKET / EPROTOCOL with command 'CONN' and no 4xx/5xx reply; ETIMEDOUT SOCKET_TIMEOUT;
 *       EABORT; anything unrecognised (no `code`, not an Error). This includes drops during EHLO/MAIL/RCPT on
 *       a fresh connection, which in truth were safe: nodemailer gives us no way to tell them apart.
 *   a 4xx/5xx reply is never ambiguous: the server answered, and an answer other than 2xx to the final "."
 *   means it did not take the message (RFC 5321 §4.1.1.4). 421 arrives as EENVELOPE (RCPT, no pipelining)
 *   or as ECONNECTION with responseCode 421 (SMTPConnection._onServerClosing).
 */

import { scrubAddresses } from '../addresses';
import type { Accepted, DeliveryFailure, DeliveryFailureKind } from '../types';

/**
 * In a DeliveryFailure from SMTP: `code` is the reply code (nodemailer `err.responseCode`), `response` the reply
 * (`err.response`), `errorCode` nodemailer's `err.code` (ECONNECTION, EENVELOPE, …), and `hardBounce` follows
 * isHardBounce below.
 */

/** The fields of a nodemailer error we read (NodemailerError in nodemailer/lib/errors). */
interface NodemailerErrorFields {
  message?: unknown;
  code?: unknown;
  responseCode?: unknown;
  response?: unknown;
  command?: unknown;
  timeoutType?: unknown;
  originalCode?: unknown;
}

/** Errno codes a socket gets only while connecting: no byte of SMTP was exchanged. */
const CONNECT_ERRNOS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EHOSTDOWN',
  'ENETDOWN',
]);

/** Timeouts that fire before the SMTP session exists (smtp-connection/index.js timeoutError()). */
const SETUP_TIMEOUTS = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT']);

/** Client-side refusals of the message itself: the same message fails the same way every time. */
const PERMANENT_CLIENT_CODES = new Set(['EMESSAGE', 'ESTREAM', 'EFILEACCESS', 'EURLACCESS', 'EMAXRECIPIENTS', 'EREQUIRETLS', 'ECONFIG']);

const AUTH_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2']);

const MAX_TEXT = 500;

/** Scrub, plus nodemailer's own `Invalid recipient "…"` / `Invalid sender "…"`, which quote non-address text. */
function safeText(text: string): string {
  const scrubbed = scrubAddresses(text.replace(/(Invalid (?:recipient|sender)) ".*"/g, '$1 <redacted>'));
  return scrubbed.length > MAX_TEXT ? `${scrubbed.slice(0, MAX_TEXT)}…` : scrubbed;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function failure(kind: DeliveryFailureKind, e: NodemailerErrorFields, code: number | undefined): DeliveryFailure {
  const errorCode = str(e.code);
  const response = str(e.response);
  return {
    kind,
    ...(code !== undefined ? { code } : {}),
    ...(response !== undefined ? { response: safeText(response) } : {}),
    ...(errorCode !== undefined ? { errorCode } : {}),
    message: safeText(str(e.message) ?? 'unknown SMTP error'),
    ...(kind === 'permanent' && isHardBounce(code, response) ? { hardBounce: true as const } : {}),
  };
}

/** An enhanced status code (RFC 3463) in a reply: `550 5.1.1 …` → [5, 1, 1]. */
const ENHANCED = /(?:^|\s)([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$|[:;,.])/;
/** Wording of "no such mailbox" from servers that send no enhanced code (Postfix, Exim, Sendmail, Exchange). */
const NO_SUCH_USER = /\b(user unknown|unknown user|no such (user|mailbox|recipient)|mailbox (does not|doesn't) exist|recipient (address )?unknown|invalid recipient|address does not exist)\b/i;

/**
 * Does this permanent refusal mean the mailbox does not exist? Then mailing it again tomorrow only hurts the
 * sender's reputation. With an enhanced status code, only X.1.1 (bad destination mailbox) and X.1.10 (recipient
 * has a null MX, RFC 7505) count: policy refusals (5.7.x: spam, DMARC, blocked), full mailboxes (5.2.2) and
 * everything else stay dead letters of one key, retried in the next window. Without one, a 550/551/553 whose text
 * says "user unknown" (or the like) counts.
 */
export function isHardBounce(code: number | undefined, response: string | undefined): boolean {
  if (code === undefined || code < 500 || code >= 600) return false;
  const text = response ?? '';
  const enhanced = ENHANCED.exec(text);
  if (enhanced) return enhanced[1] === '5' && enhanced[2] === '1' && (enhanced[3] === '1' || enhanced[3] === '10');
  return (code === 550 || code === 551 || code === 553) && NO_SUCH_USER.test(text);
}

/** Maps a rejected `transporter.sendMail()` to what it means for the send. Never throws. */
export function classifySendError(err: unknown): DeliveryFailure {
  if (typeof err !== 'object' || err === null) {
    return { kind: 'ambiguous', message: safeText(`non-error rejection: ${String(err)}`) };
  }
  const e = err as NodemailerErrorFields;
  const errorCode = str(e.code);
  const code = typeof e.responseCode === 'number' && Number.isFinite(e.responseCode) ? e.responseCode : undefined;

  // EAUTH carries 535 too, so it is checked before the reply code: bad credentials are a configuration error.
  if (errorCode !== undefined && AUTH_CODES.has(errorCode)) return failure('auth', e, code);

  if (code !== undefined && code >= 400 && code < 600) {
    // 503 (bad sequence of commands) is a session-state error, not a refusal of this message: nodemailer's own
    // isPermanentResponseCode() excludes it, and the same message succeeds on a fresh connection.
    if (code >= 500 && code !== 503) return failure('permanent', e, code);
    return failure('transient', e, code);
  }

  // _setEnvelope() refuses a missing or malformed address before MAIL FROM with command 'API' and no reply.
  if (errorCode === 'EENVELOPE' && e.command === 'API') return failure('invalid_recipient', e, code);
  if (errorCode !== undefined && PERMANENT_CLIENT_CODES.has(errorCode)) return failure('permanent', e, code);

  if (isBeforeHandover(e, errorCode)) return failure('transient', e, code);
  return failure('ambiguous', e, code);
}

function isBeforeHandover(e: NodemailerErrorFields, errorCode: string | undefined): boolean {
  if (errorCode === 'EDNS' || errorCode === 'ETLS' || errorCode === 'EPROXY') return true;
  if (errorCode === 'ETIMEDOUT') return typeof e.timeoutType === 'string' && SETUP_TIMEOUTS.has(e.timeoutType);
  if (errorCode === 'ESOCKET') return typeof e.originalCode === 'string' && CONNECT_ERRNOS.has(e.originalCode);
  // Pool-made errors have no command; see the header comment.
  if (errorCode === 'ECONNECTION') return e.command === undefined;
  return false;
}

/** The parts of nodemailer's SentMessageInfo we read. */
export interface SendInfoLike {
  response?: unknown;
  rejected?: ReadonlyArray<unknown> | undefined;
  rejectedErrors?: ReadonlyArray<{ responseCode?: unknown; response?: unknown; recipient?: unknown }> | undefined;
}

function sameAddress(a: unknown, b: string): boolean {
  const address = typeof a === 'string' ? a : typeof a === 'object' && a !== null ? (a as { address?: unknown }).address : undefined;
  return typeof address === 'string' && address.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * Maps a resolved `sendMail()` to what it means for the send. The server accepted the message for at least
 * one recipient. If the primary (To) recipient is among the refused ones the send is `permanent` — even for
 * a 4xx refusal, because the message already went to the other recipients and a retry would duplicate it
 * for them. Refused secondary recipients only count as `partialRejections`.
 */
export function classifySendInfo(info: SendInfoLike, primaryRecipient: string): DeliveryFailure | Accepted {
  const rejected = info.rejected ?? [];
  if (rejected.some((r) => sameAddress(r, primaryRecipient))) {
    const rejection = (info.rejectedErrors ?? []).find((r) => sameAddress(r.recipient, primaryRecipient));
    const code = typeof rejection?.responseCode === 'number' ? rejection.responseCode : undefined;
    const response = str(rejection?.response);
    return {
      kind: 'permanent',
      ...(code !== undefined ? { code } : {}),
      ...(response !== undefined ? { response: safeText(response) } : {}),
      errorCode: 'EENVELOPE',
      message: `primary recipient refused${code !== undefined ? ` (${code})` : ''}`,
      ...(isHardBounce(code, response) ? { hardBounce: true as const } : {}),
    };
  }
  return { kind: 'accepted', response: safeText(String(info.response ?? '')), partialRejections: rejected.length };
}
