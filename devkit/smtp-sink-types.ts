/**
 * What the SMTP sink (smtp-sink.ts) records and the fault rules it takes: the shapes tests and the chaos
 * scenarios program it with.
 */
/** A reply the sink sends instead of accepting: `{ code: 550, message: '5.1.1 No such user' }`. */
export interface SmtpReply {
  code: number;
  message: string;
}

export interface SinkMessage {
  /** Message-ID header as sent, with angle brackets (mailparser keeps them). */
  messageId: string | undefined;
  /** Header To/Cc addresses (bare, lower-cased). */
  to: string[];
  cc: string[];
  subject: string | undefined;
  text: string | undefined;
  html: string | undefined;
  /** The header block exactly as received (up to the first empty line). */
  rawHeaders: string;
  /** Each header by lower-case name, unfolded, as mailparser read it (the last one of a repeated name). */
  headers: Record<string, string>;
  /** MAIL FROM and the RCPT TO addresses the sink accepted for this transaction (the real recipients). */
  mailFrom: string;
  envelopeRcpt: string[];
  /** Bytes of the DATA body as received. */
  size: number;
  /** When the sink had read all of it: before its decision, so before any reply (or, for 'store-then-drop', the cut). */
  receivedAt: Date;
  /** The SMTP session (smtp-server's connection id) and the client's port: which connection delivered it. */
  connection: string;
  /** Recorded, then the connection cut before any reply ('store-then-drop'): the client cannot know it arrived. */
  unanswered?: true;
}

/** What the onData rule sees. `message` is absent in counting mode (nothing is parsed). */
export interface DataContext {
  mailFrom: string;
  envelopeRcpt: string[];
  size: number;
  message?: SinkMessage;
}

/**
 * 'accept' → 250; a reply → that code; 'store-then-drop' → recorded as accepted, then the socket is destroyed
 * before any reply (the client cannot know the outcome); 'hang' → recorded as NOT accepted, never answered.
 */
export type DataDecision = 'accept' | SmtpReply | 'store-then-drop' | 'hang' | DelayedDecision;
/** A slow server: wait `delayMs` after the data arrived, then decide `then` (default 'accept'). */
export interface DelayedDecision {
  delayMs: number;
  then?: Exclude<DataDecision, DelayedDecision>;
}

export type RcptRule = (address: string) => SmtpReply | undefined;
export type DataRule = (ctx: DataContext) => DataDecision;

export interface SmtpSinkOptions {
  /** Count accepted messages without buffering or parsing them (benchmarks); messages() stays empty. */
  counting?: boolean;
}

export interface SmtpSink {
  readonly host: string;
  readonly port: number;
  /** Replace the RCPT rule (undefined → accept everyone). Consulted after failTimes() counters. */
  rejectRcpt(rule: RcptRule | undefined): void;
  /** Refuse RCPT for `address` with `code` the next `times` times it is offered, then accept it again. */
  failTimes(address: string, times: number, code: number, message?: string): void;
  /** Replace the DATA rule (undefined → accept everything). */
  onData(rule: DataRule | undefined): void;
  /** Close the next `k` connections as soon as they open, before the greeting (a server that is "half up"). */
  dropConnections(k: number): void;
  /** Demand these credentials (wrong ones get 535; MAIL without AUTH gets 530); undefined → anyone. */
  requireAuth(credentials: { user: string; pass: string } | undefined): void;
  /** Stop listening and drop every open connection (the server is "down"); start() listens on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** stop() for good. */
  close(): Promise<void>;
  /** Accepted messages (including 'store-then-drop' ones), oldest first. */
  messages(): SinkMessage[];
  /** Accepted messages whose envelope included `address`. */
  messagesTo(address: string): SinkMessage[];
  /** Message-ID → number of accepted copies. */
  countByMessageId(): Map<string, number>;
  /** How many times RCPT TO was offered for `address` (accepted or not). */
  rcptAttempts(address: string): number;
  /** Number of accepted messages (maintained in counting mode too). */
  readonly count: number;
  /** Forget recorded messages and RCPT counters (rules stay). */
  clear(): void;
}
