/**
 * The one-click unsubscribe endpoint (RFC 8058), on its own port (UNSUBSCRIBE_PORT) so it can face the internet
 * while /healthz, /readyz (HEALTH_PORT) and /metrics (METRICS_PORT) stay inside: a reverse proxy can publish
 * exactly this port, and nothing else answers on it. node:http, no framework: two routes and a small body.
 *
 *   POST /unsubscribe?t=TOKEN   body List-Unsubscribe=One-Click (form-encoded or multipart, as mailbox providers
 *                               send it) → 200 once the opt-out is on record ("You are unsubscribed", or "already"
 *                               for a second click); 500 and no success claimed when it could not be recorded; a
 *                               bad or expired token, or a POST without that body → 400 and nothing changes.
 *                               Never a redirect (RFC 8058 §3.1).
 *   GET  /unsubscribe?t=TOKEN   a page with one button that makes that POST. A GET changes nothing: link scanners
 *                               and previews fetch URLs, people click buttons.
 */
import http from 'node:http';
import type { Pool } from 'pg';
import { listen } from '../http-listen';
import { UnsubscribeTokenError } from '../errors';
import type { Logger } from '../logger';
import { verifyUnsubscribeToken, type UnsubscribeKeys } from './token';
import { unsubscribeWithToken } from './unsubscribe';

export interface UnsubscribeServer {
  port: number;
  close(): Promise<void>;
}

export interface UnsubscribeServerOptions {
  port: number;
  host?: string;
  pool: Pool;
  keys: UnsubscribeKeys;
  logger: Logger;
}

/** Mailbox providers send a few dozen bytes; anything much larger is not an unsubscribe. */
const MAX_BODY_BYTES = 8 * 1024;
const ONE_CLICK = 'List-Unsubscribe=One-Click';

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${title}</title></head>` +
  `<body style="font-family:sans-serif;max-width:32em;margin:3em auto">${body}</body></html>`;

export async function startUnsubscribeServer(opts: UnsubscribeServerOptions): Promise<UnsubscribeServer> {
  const server = http.createServer((req, res) => {
    handle(opts, req, res).catch((err: Error) => {
      opts.logger.error({ err: err.message }, 'unsubscribe_failed');
      // Never a success page unless the opt-out is on record: whatever failed, nothing was recorded.
      if (!res.headersSent) reply(res, 500, page('Try again', '<p>Something went wrong: your unsubscribe was not recorded. Please try again later.</p>'));
    });
  });
  return listen(server, opts.port, opts.host ?? '0.0.0.0');
}

function reply(res: http.ServerResponse, status: number, html: string): void {
  // The token is in the URL: keep it out of caches and out of Referer headers of anything the page links to.
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
  res.end(html);
}

async function handle(opts: UnsubscribeServerOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://unsubscribe.invalid');
  if (url.pathname !== '/unsubscribe') return reply(res, 404, page('Not found', '<p>Not found.</p>'));
  if (req.method !== 'POST' && req.method !== 'GET') {
    res.setHeader('allow', 'GET, POST');
    return reply(res, 405, page('Not allowed', '<p>Method not allowed.</p>'));
  }
  const token = url.searchParams.get('t') ?? '';
  const refuse = (why: string) => {
    opts.logger.warn({ reason: why, method: req.method }, 'unsubscribe_refused');
    reply(res, 400, page('Link not valid', `<p>This unsubscribe link is not valid (${why}).</p>`));
  };
  if (req.method === 'GET') {
    try {
      verifyUnsubscribeToken(opts.keys, token);
    } catch (err) {
      if (err instanceof UnsubscribeTokenError) return refuse(err.message);
      throw err;
    }
    const action = `/unsubscribe?t=${encodeURIComponent(token)}`;
    return reply(res, 200, page('Unsubscribe', `<form method="post" action="${action}"><input type="hidden" name="List-Unsubscribe" value="One-Click">` +
      '<p>Stop these emails?</p><button type="submit">Unsubscribe</button></form>'));
  }
  const body = await readBody(req);
  if (body === undefined) return refuse('request body too large');
  if (!isOneClick(body)) return refuse(`the POST body must be ${ONE_CLICK}`);
  try {
    const done = await unsubscribeWithToken(opts.pool, opts.keys, token);
    // Ids only: never the address (src/logger.ts scrubs addresses anyway).
    opts.logger.info({ jobName: done.jobName, recipientId: done.recipientId, scope: done.scope, recorded: done.recorded }, 'unsubscribed');
    // The answer says what is on record: this unsubscribe (a row of its own, whatever else suppresses the
    // address), or the same unsubscribe from an earlier click. A failure to record it is the 500 above.
    reply(res, 200, done.recorded
      ? page('Unsubscribed', '<p>You are unsubscribed. You will not get these emails any more.</p>')
      : page('Unsubscribed', '<p>You were already unsubscribed. You will not get these emails.</p>'));
  } catch (err) {
    if (err instanceof UnsubscribeTokenError) return refuse(err.message);
    throw err;
  }
}

/** `List-Unsubscribe=One-Click`, form-encoded or as a multipart/form-data field (RFC 8058 §3.2 allows both). */
function isOneClick(body: string): boolean {
  if (new URLSearchParams(body).get('List-Unsubscribe') === 'One-Click') return true;
  return /name="?List-Unsubscribe"?[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n\s*One-Click\s*(?:\r?\n|$)/.test(body);
}

/** The body as text, or undefined past MAX_BODY_BYTES. */
async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
