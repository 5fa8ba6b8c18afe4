/**
 * npm start's log lines: readable ones when a person watches the terminal (pino-pretty: time, level, message,
 * fields on the same line), the usual JSON lines otherwise (piped, CI, tests) — LOG_FORMAT=json|pretty decides
 * instead when set. Either way through createLogger, so redaction and address scrubbing apply unchanged.
 */
import pretty from 'pino-pretty';
import { createLogger, type Logger } from '../src/logger';

export function startLogger(level: string, format = process.env.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json'), destination: NodeJS.WritableStream | number = 1): Logger {
  if (format !== 'pretty') return createLogger(level);
  const colorize = destination === 1 && Boolean(process.stdout.isTTY);
  return createLogger(level, pretty({ sync: true, singleLine: true, colorize, translateTime: 'HH:MM:ss', ignore: 'pid,hostname,service', destination }));
}
