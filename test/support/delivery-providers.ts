/**
 * Each transport of src/delivery/ with a real server it can be pointed at and made to misbehave: what
 * test/integration/delivery-conformance.test.ts runs its cases against. A new transport adds one entry to
 * PROVIDERS, built on its own server (an API emulator over real HTTP, …) with the same fault vocabulary.
 */
import { createSmtpTransport, type DeliveryTransport } from '../../src/delivery';
import { startSmtpSink } from '../../devkit/smtp-sink';

/** What a provider held on to, as the recipient's server would see it. */
export interface HeldMessage {
  messageId: string | undefined;
  /** The envelope: who the provider will deliver to. */
  recipients: string[];
  subject: string | undefined;
  text: string | undefined;
  /** Header block as received, and each header by lower-case name. */
  rawHeaders: string;
  headers: Record<string, string>;
}

/** A running provider with one transport pointed at it. Faults apply to the next messages until changed. */
export interface ProviderUnderTest {
  transport: DeliveryTransport;
  /** Messages the provider took (including one whose answer it never sent), oldest first. */
  held(): HeldMessage[];
  /** Refuse this mailbox: 'no-such-user' permanently (a hard bounce), 'try-later' temporarily, once. */
  refuseMailbox(address: string, how: 'no-such-user' | 'try-later'): void;
  /** Refuse the message itself permanently (content or policy), not the mailbox. */
  refuseContent(): void;
  /** Take the message, then cut the connection before answering: the client cannot know. */
  takeThenLoseAnswer(): void;
  /** Read the whole message and never answer (it is not held: the provider never decided). */
  neverAnswer(): void;
  /** Stop listening (connections refused) / listen again on the same address. */
  goDown(): Promise<void>;
  comeBack(): Promise<void>;
  close(): Promise<void>;
}

export interface ProviderKind {
  name: string;
  /** How long the transport waits for an answer before it calls a send ambiguous. */
  answerTimeoutMs: number;
  /** `credentials: 'wrong'` starts a provider that demands credentials the transport does not have. */
  start(opts?: { credentials?: 'right' | 'wrong' }): Promise<ProviderUnderTest>;
}

const SMTP_SOCKET_TIMEOUT_MS = 1_500;

const smtp: ProviderKind = {
  name: 'smtp',
  answerTimeoutMs: SMTP_SOCKET_TIMEOUT_MS,
  async start(opts = {}) {
    const sink = await startSmtpSink();
    if (opts.credentials) sink.requireAuth({ user: 'jobs', pass: 'right' });
    const transport = createSmtpTransport({
      host: sink.host,
      port: sink.port,
      secure: false,
      maxConnections: 2,
      socketTimeoutMs: SMTP_SOCKET_TIMEOUT_MS,
      ...(opts.credentials ? { user: 'jobs', password: opts.credentials } : {}),
    });
    return {
      transport,
      held: () =>
        sink.messages().map((m) => ({
          messageId: m.messageId,
          recipients: m.envelopeRcpt,
          subject: m.subject,
          text: m.text,
          rawHeaders: m.rawHeaders,
          headers: m.headers,
        })),
      refuseMailbox(address, how) {
        if (how === 'try-later') sink.failTimes(address, 1, 451, '4.3.0 try again later');
        else sink.rejectRcpt((a) => (a === address ? { code: 550, message: `5.1.1 <${address}>: user unknown` } : undefined));
      },
      refuseContent: () => sink.onData(() => ({ code: 554, message: '5.7.1 message refused' })),
      takeThenLoseAnswer: () => sink.onData(() => 'store-then-drop'),
      neverAnswer: () => sink.onData(() => 'hang'),
      goDown: () => sink.stop(),
      comeBack: () => sink.start(),
      async close() {
        await transport.close();
        await sink.close();
      },
    };
  },
};

export const PROVIDERS: readonly ProviderKind[] = [smtp];
