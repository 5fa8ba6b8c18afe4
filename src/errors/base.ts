/**
 * Every sendonce error extends SendonceError, whose `name` is its class name. Temporal uses a thrown error's
 * name as its failure type and matches it against `nonRetryableErrorTypes` (src/retry.ts), so these names are
 * part of our public behaviour: never rename one casually, and refer to one by class (`X.name`), never by string.
 */
export abstract class SendonceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
