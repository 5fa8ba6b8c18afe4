/**
 * The delivery seam: what the send path needs from whatever hands a message to the outside world (an SMTP relay,
 * a provider's HTTP API). The send path claims the key before it calls `send` and records the outcome after, so a
 * transport only has to answer one question truthfully: could the provider have the message now?
 *
 * Every implementation passes test/integration/delivery-conformance.test.ts: the same outcome for the same fault.
 */

/** A mailbox: plain addr-spec (checked by ./addresses.ts before a transport sees it) and an optional display name. */
export interface Mailbox {
  name: string;
  address: string;
}

/** One message, transport-neutral: every header we set is here, nothing is left to a transport's defaults. */
export interface OutgoingMessage {
  from: string;
  to: Mailbox;
  cc?: Mailbox[];
  /** `<hash@domain>` from ./message-id.ts: the same for every attempt of one key, so receivers can spot a resend. */
  messageId: string;
  subject: string;
  text: string;
  html: string;
  /** Plain headers (X-Sendonce-Key, List-Unsubscribe-Post, …); names as they go on the wire. */
  headers: Record<string, string>;
  /** The List-Unsubscribe URIs (https and optionally mailto), in order; the transport formats the header. */
  listUnsubscribe?: string[];
}

/** The provider took the message (SMTP: 250 to the final "."; an API: 2xx with a message id). */
export interface Accepted {
  kind: 'accepted';
  /** The provider's reply, addresses scrubbed: stored on the key's row. */
  response: string;
  /** Secondary (cc) recipients the provider refused while accepting the message for the primary one. */
  partialRejections: number;
}

/**
 * Why the provider does not have the message, or may have it:
 * - `permanent`: refused; the same message fails the same way again (dead letter).
 * - `transient`: refused or unreachable before the message was handed over; a retry is safe.
 * - `ambiguous`: the message may have been taken (the reply was lost): a retry could send it twice.
 * - `auth`: the provider refused our credentials; nothing was sent, every send will fail until they are fixed.
 * - `invalid_recipient`: the transport refused the address before talking to the provider.
 */
export type DeliveryFailureKind = 'permanent' | 'transient' | 'ambiguous' | 'auth' | 'invalid_recipient';

export interface DeliveryFailure {
  kind: DeliveryFailureKind;
  /** The provider's status code when it answered (an SMTP reply code, an HTTP status). */
  code?: number;
  /** The provider's reply, addresses scrubbed. */
  response?: string;
  /** The client library's error code (nodemailer's ECONNECTION, an SDK's error name). */
  errorCode?: string;
  /** Human-readable summary, addresses scrubbed; safe to log and store. */
  message: string;
  /** With `permanent`: the mailbox does not exist, so the address is suppressed for later windows too. */
  hardBounce?: true;
}

export type DeliveryOutcome = Accepted | DeliveryFailure;

export interface DeliveryTransport {
  /** Short name for logs: 'smtp', 'ses'. */
  readonly name: string;
  /**
   * Hand one message over. Never throws: every failure is a DeliveryFailure. `key` is the idempotency key, for
   * providers that deduplicate on one; it must not reach the recipient (it contains a user id).
   */
  send(message: OutgoingMessage, key: string): Promise<DeliveryOutcome>;
  /** Stop taking messages and close connections; sends in flight finish first (the worker stops them before). */
  close(): Promise<void>;
}
