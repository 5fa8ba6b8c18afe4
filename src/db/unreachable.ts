/** Telling "Postgres is not there" apart from "this statement failed": the lock and the send path both need it. */

// Node socket errors, and SQLSTATEs that mean "the server is not there for us": class 08 (connection
// exception), shutdowns and start-up (57P01-57P03), too many connections (53300).
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300']);
const UNREACHABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|connection timeout|not queryable|Connection refused/i;

/** True when a pg error means Postgres could not be reached (as opposed to a bad statement or a constraint). */
export function isPostgresConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof AggregateError && err.errors.some(isPostgresConnectionError)) return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('08'))) return true;
  return UNREACHABLE_MESSAGES.test(err.message);
}
