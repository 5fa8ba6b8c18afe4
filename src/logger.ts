/**
 * Structured JSON logs through pino (fast, well kept, JSON lines by default). The same logger backs the
 * Temporal runtime logger (see worker.ts), so SDK, workflow and activity lines share one stream and format.
 * Redaction is configured here once: secrets and message bodies never reach a log line.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'password',
  '*.password',
  'SMTP_PASSWORD',
  '*.SMTP_PASSWORD',
  'auth',
  '*.auth',
  'html',
  '*.html',
  'text',
  '*.text',
  'body',
  '*.body',
];

export function createLogger(level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'sendonce' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
