import { SendonceError } from './base';

export type LockBackend = 'redis' | 'postgres';

/**
 * The lock store (Redis, or Postgres for the lease and the fence) could not be reached, so we do not know who
 * holds the lock. Distinct from "held by someone else" (skip the run): this one is retryable.
 */
export class LockUnavailableError extends SendonceError {
  constructor(
    message: string,
    readonly backend: LockBackend,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
