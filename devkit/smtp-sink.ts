/**
 * A real SMTP server on 127.0.0.1 for tests, the chaos suite and the benchmark (counting mode): records what it
 * accepts and misbehaves on request.
 *
 *   const sink = await startSmtpSink();            // port 0 → sink.port is the real one
 *   sink.failTimes('a@x.test', 2, 451);            // RCPT for a@x.test gets 451 twice, then is accepted
 *   sink.onData(() => 'store-then-drop');          // record the message, then cut the connection unanswered
 *   sink.onData(() => ({ delayMs: 200 }));          // a slow server: answer each DATA 200 ms late (then accept)
 *   ...
 *   await sink.close();
 *
 * Fault rules are plain mutable functions, consulted at the moment the command arrives, so a test can change
 * them between (or during) sends. Built on smtp-server (the server half of nodemailer's project), so the
 * client sees a real ESMTP dialogue with PIPELINING, AUTH PLAIN/LOGIN and SIZE, but no STARTTLS.
 */
import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { simpleParser, type AddressObject } from 'mailparser';
import type { DataDecision, DataRule, DelayedDecision, RcptRule, SinkMessage, SmtpReply, SmtpSink, SmtpSinkOptions } from './smtp-sink-types';

// One place to import the sink from; its shapes live next door to keep this file about the server.
export type * from './smtp-sink-types';

const HOST = '127.0.0.1';

function replyError({ code, message }: SmtpReply): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

function addressesOf(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return objects.flatMap((o) => o.value).flatMap((a) => (a.address ? [a.address.toLowerCase()] : []));
}

async function readAll(stream: SMTPServerDataStream, keep: boolean): Promise<{ raw: Buffer; size: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (keep) chunks.push(chunk);
  }
  return { raw: Buffer.concat(chunks), size };
}

async function parse(raw: Buffer, size: number, session: SMTPServerSession): Promise<SinkMessage> {
  const parsed = await simpleParser(raw);
  const headerEnd = raw.indexOf('\r\n\r\n');
  return {
    messageId: parsed.messageId,
    to: addressesOf(parsed.to),
    cc: addressesOf(parsed.cc),
    subject: parsed.subject,
    text: parsed.text,
    html: typeof parsed.html === 'string' ? parsed.html : undefined,
    rawHeaders: raw.subarray(0, headerEnd < 0 ? raw.length : headerEnd).toString('utf8'),
    // mailparser's header lines, unfolded (a long List-Unsubscribe is folded over several lines on the wire).
    headers: Object.fromEntries(parsed.headerLines.map((h) => [h.key, h.line.slice(h.line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim()])),
    ...envelopeOf(session),
    size,
    receivedAt: new Date(),
    connection: `${session.id} from port ${session.remotePort}`,
  };
}

function envelopeOf(session: SMTPServerSession): { mailFrom: string; envelopeRcpt: string[] } {
  const from = session.envelope.mailFrom;
  return {
    mailFrom: from ? from.address : '',
    envelopeRcpt: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
  };
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const counting = options.counting ?? false;
  let rcptRule: RcptRule | undefined;
  let dataRule: DataRule | undefined;
  let credentials: { user: string; pass: string } | undefined;
  const failCounters = new Map<string, { remaining: number; reply: SmtpReply }>();
  const rcptOffers = new Map<string, number>();
  let connectionsToDrop = 0;
  let accepted: SinkMessage[] = [];
  let count = 0;
  let port = 0;
  let server: SMTPServer | undefined;

  /** The socket behind a session, so 'store-then-drop' can cut exactly that connection. */
  const socketOf = (session: SMTPServerSession): Socket | undefined =>
    [...(server?.connections ?? [])].find((c) => c.id === session.id)?._socket;

  const decideRcpt = (address: string): SmtpReply | undefined => {
    rcptOffers.set(address, (rcptOffers.get(address) ?? 0) + 1);
    const counter = failCounters.get(address);
    if (counter && counter.remaining > 0) {
      counter.remaining -= 1;
      return counter.reply;
    }
    return rcptRule?.(address);
  };

  const handleData = async (stream: SMTPServerDataStream, session: SMTPServerSession): Promise<Exclude<DataDecision, DelayedDecision>> => {
    const { raw, size } = await readAll(stream, !counting);
    const message = counting ? undefined : await parse(raw, size, session);
    let decision = dataRule?.({ ...envelopeOf(session), size, ...(message ? { message } : {}) }) ?? 'accept';
    if (typeof decision === 'object' && 'delayMs' in decision) {
      const { delayMs, then } = decision;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      decision = then ?? 'accept';
    }
    if (decision === 'accept' || decision === 'store-then-drop') {
      count += 1;
      if (message) accepted.push(decision === 'store-then-drop' ? { ...message, unanswered: true } : message);
    }
    return decision;
  };

  const createServer = (): SMTPServer =>
    new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true, // no TLS here; the client sends AUTH PLAIN/LOGIN over plain TCP on loopback
      disabledCommands: ['STARTTLS'],
      logger: false,
      onConnect(session, callback) {
        if (connectionsToDrop > 0) {
          connectionsToDrop -= 1;
          socketOf(session)?.destroy(); // no greeting: the client has sent nothing yet
          return;
        }
        callback();
      },
      onAuth(auth, _session, callback) {
        if (credentials && (auth.username !== credentials.user || auth.password !== credentials.pass)) {
          callback(replyError({ code: 535, message: '5.7.8 Authentication credentials invalid' }));
          return;
        }
        callback(null, { user: auth.username ?? 'anonymous' });
      },
      onMailFrom(_address, session, callback) {
        if (credentials && !session.user) {
          callback(replyError({ code: 530, message: '5.7.0 Authentication required' }));
          return;
        }
        callback();
      },
      onRcptTo(address, _session, callback) {
        const reply = decideRcpt(address.address.toLowerCase());
        callback(reply ? replyError(reply) : undefined);
      },
      onData(stream, session, callback) {
        handleData(stream, session).then(
          (decision) => {
            if (decision === 'accept') callback();
            else if (decision === 'store-then-drop') socketOf(session)?.destroy(); // stored, never answered
            else if (decision === 'hang') return; // never answered; close()/stop() destroys the socket
            else callback(replyError(decision));
          },
          (err: unknown) => callback(replyError({ code: 451, message: `4.3.0 sink failed: ${String(err)}` })),
        );
      },
    });

  const listen = async (): Promise<void> => {
    const s = createServer();
    s.on('error', () => undefined); // a client resetting its socket must not crash the test process
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.listen(port, HOST, () => {
        s.server.off('error', reject);
        resolve();
      });
    });
    const address = s.server.address();
    if (address === null || typeof address === 'string') throw new Error('smtp sink: no TCP address');
    port = address.port;
    server = s;
  };

  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (!s) return;
    // Drop open sessions (including hung ones) at once: smtp-server's close() would otherwise wait 30 s.
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const c of s.connections) c._socket.destroy();
    for (const [socket, upper] of s._pendingSockets) {
      socket.destroy();
      upper.destroy();
    }
    await closed;
  };

  await listen();

  return {
    host: HOST,
    get port() {
      return port;
    },
    get count() {
      return count;
    },
    rejectRcpt: (rule) => {
      rcptRule = rule;
    },
    failTimes: (address, times, code, message = `${code >= 500 ? '5' : '4'}.0.0 Injected failure`) => {
      failCounters.set(address.toLowerCase(), { remaining: times, reply: { code, message } });
    },
    onData: (rule) => {
      dataRule = rule;
    },
    dropConnections: (k) => {
      connectionsToDrop = k;
    },
    requireAuth: (creds) => {
      credentials = creds;
    },
    stop,
    start: async () => {
      if (!server) await listen();
    },
    close: stop,
    messages: () => [...accepted],
    messagesTo: (address) => accepted.filter((m) => m.envelopeRcpt.includes(address.toLowerCase())),
    countByMessageId: () => {
      const counts = new Map<string, number>();
      for (const m of accepted) counts.set(m.messageId ?? '', (counts.get(m.messageId ?? '') ?? 0) + 1);
      return counts;
    },
    rcptAttempts: (address) => rcptOffers.get(address.toLowerCase()) ?? 0,
    clear: () => {
      accepted = [];
      count = 0;
      rcptOffers.clear();
    },
  };
}
