/**
 * The one place a nodemailer connection pool is built. Every setting below is chosen so that nodemailer does no
 * retrying, waiting or logging of its own: retries belong to Temporal (bounded RetryPolicy), waits must end
 * well inside the send activity's start-to-close timeout, and logs go through our pino logger only.
 * Outcomes are interpreted by ./classify.ts.
 */
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type { SMTPPoolOptions, SMTPPoolSentMessageInfo } from 'nodemailer/lib/smtp-pool';

export type SmtpPool = Transporter<SMTPPoolSentMessageInfo, SMTPPoolOptions>;

export interface SmtpPoolOptions {
  host: string;
  port: number;
  /** true = TLS from the first byte (port 465); false = plain, upgraded by STARTTLS when offered. */
  secure: boolean;
  user?: string | undefined;
  password?: string | undefined;
  /** Upper bound of open SMTP connections; keep it at or above the worker's concurrent send activities. */
  maxConnections: number;
  /** Inactivity limit on an open connection; must stay below the send activity's start-to-close timeout. */
  socketTimeoutMs: number;
  /** Fail instead of sending in clear text when the server does not offer STARTTLS. */
  requireTls?: boolean | undefined;
  /** Verify the server certificate (default true). */
  tlsRejectUnauthorized?: boolean | undefined;
  /** PEM of a private CA for the server certificate. */
  tlsCa?: string | undefined;
}

/** Connecting (DNS + TCP + TLS) longer than this means the server is not there; nothing was sent yet. */
const MAX_CONNECTION_TIMEOUT_MS = 10_000;

export function createSmtpPool(opts: SmtpPoolOptions): SmtpPool {
  // Connection set-up must give up before an established connection would, so that "could not connect"
  // (transient, nothing sent) surfaces as its own CONNECT/GREETING timeout rather than as a socket timeout
  // (which classify.ts must treat as ambiguous).
  const setupTimeoutMs = Math.max(1, Math.min(MAX_CONNECTION_TIMEOUT_MS, Math.floor(opts.socketTimeoutMs / 2)));
  const auth = opts.user !== undefined || opts.password !== undefined ? { user: opts.user ?? '', pass: opts.password ?? '' } : undefined;
  return nodemailer.createTransport({
    // Reuse connections: one TCP/TLS handshake per connection instead of per message.
    pool: true,
    host: opts.host,
    port: opts.port,
    secure: opts.secure,
    ...(opts.requireTls ? { requireTLS: true } : {}),
    tls: { rejectUnauthorized: opts.tlsRejectUnauthorized ?? true, ...(opts.tlsCa ? { ca: opts.tlsCa } : {}) },
    ...(auth ? { auth } : {}),
    maxConnections: opts.maxConnections,
    // nodemailer 10's pool re-sends a message whose connection closed before any of it was handed over, up
    // to 5 times by default (smtp-pool/index.js: `maxRequeues ... : 5`), with its own backoff. Those hidden
    // retries would not be counted in our attempts nor bounded by our RetryPolicy: 0 makes every retry
    // Temporal's. The pool then fails the message with ECONNECTION and no `command` (see classify.ts).
    maxRequeues: 0,
    // nodemailer's default is 10 minutes of silence before it gives up on a connection: far longer than our
    // activity timeout, so a hung server would be noticed by Temporal, not by us, and the reply-lost window
    // would end in a heartbeat/timeout instead of a classified ETIMEDOUT.
    socketTimeout: opts.socketTimeoutMs,
    // Default 2 minutes; bounded well below socketTimeout (see setupTimeoutMs).
    connectionTimeout: setupTimeoutMs,
    // Default 30 s; a server that accepts TCP but never greets is down for our purposes.
    greetingTimeout: setupTimeoutMs,
    // Messages are built from templates and user data: a `path`/`href` in an attachment or an `html`
    // option must never make the worker read local files or fetch URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
    // nodemailer logs through its own logger when asked; it can include addresses and (with debug) bodies.
    // We never turn it on: outcomes are logged by the send activity, redacted, through pino.
    logger: false,
    debug: false,
    transactionLog: false,
  });
}
