/**
 * Structured JSON logs through pino (fast, well kept, JSON lines by default). The same logger backs the
 * Temporal runtime logger (see worker.ts), so SDK, workflow and activity lines share one stream and format.
 * Redaction is configured here once: secrets and message bodies never reach a log line, and email addresses
 * are replaced by `<address>` wherever they appear (messages, fields, error texts from SMTP servers or the
 * SDK) unless the level is debug AND LOG_RECIPIENT_ADDRESSES=true.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'password',
  '*.password',
  'SMTP_PASSWORD',
  '*.SMTP_PASSWORD',
  'PAYLOAD_ENCRYPTION_KEY',
  '*.PAYLOAD_ENCRYPTION_KEY',
  'apiKey',
  '*.apiKey',
  'auth',
  '*.auth',
  'html',
  '*.html',
  'text',
  '*.text',
  'body',
  '*.body',
];

export interface LoggerOptions {
  /** Show email addresses (only honoured at debug or trace level). */
  recipientAddresses?: boolean;
}

/**
 * Anything shaped like local@domain, including `<…>` forms in SMTP replies. Applied to the finished JSON line,
 * so it covers the message, every field, error messages and stacks, child bindings and SDK log lines alike.
 * Never starts right after a backslash, so JSON escapes (`\n`) stay valid; a masked URL password
 * (`postgres://u:***@db:5432`) is left alone so the host stays readable.
 */
const ADDRESS = /(?<!\\)[^\s<>()[\]{},;:"'`@=/\\]+@[^\s<>()[\]{},;:"'`@/\\]+/g;

export function scrubAddresses(line: string): string {
  return line.replace(ADDRESS, (match) => (/^\*+@/.test(match) ? match : '<address>'));
}

export function createLogger(level = 'info', destination?: pino.DestinationStream, options: LoggerOptions = {}): Logger {
  const showAddresses = options.recipientAddresses === true && (level === 'debug' || level === 'trace');
  const sink = destination ?? pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level,
      base: { service: 'sendonce' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    showAddresses ? sink : { write: (line: string) => sink.write(scrubAddresses(line)) },
  );
}
