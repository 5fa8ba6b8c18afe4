/**
 * What the activities are built from (createActivities in ./index.ts): the worker passes real services, tests pass
 * the same services with their own settings.
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import type { DeliveryTransport } from '../delivery';
import type { JobRegistry } from '../jobs';
import type { JobLock } from '../lock';
import type { Logger } from '../logger';
import type { AppMetrics } from '../metrics';
import type { SendRetryOptions } from '../retry';
import type { UnsubscribeSettings } from '../suppressions/links';
import type { FollowUpPolicy } from '../windows/ledger';

export interface ActivityDeps {
  pool: Pool;
  lock: JobLock;
  /** Where messages go: SMTP (delivery/smtp) or any other DeliveryTransport. */
  delivery: DeliveryTransport;
  jobs: JobRegistry;
  logger: Logger;
  mailFrom: string;
  messageIdDomain: string;
  lockTtlMs: number;
  /** What a tick does when the lock store is unreachable: 'skip' (fail closed) or 'fail' the run. */
  lockUnavailable: 'skip' | 'fail';
  /** Deployment-wide defaults under each job's own retry options (e.g. SEND_ATTEMPT_TIMEOUT_MS). */
  retryDefaults?: Partial<SendRetryOptions>;
  /**
   * Sends in progress at once in this worker (claim → deliver → mark); default 5 = the SMTP pool size.
   * Activities beyond it wait BEFORE claiming, so a crash leaves at most this many claims ambiguous.
   */
  maxConcurrentSends?: number;
  /** Prometheus counters (src/metrics.ts); default: none. */
  metrics?: AppMetrics;
  /** Redis for per-job rate limits (rate-limit.ts); required when a job has a rateLimit. */
  rateLimitRedis?: Redis;
  /** Prefix of the rate-limit keys (LOCK_KEY_PREFIX). */
  redisKeyPrefix?: string;
  /** The clock rate-limit buckets and unsubscribe links are read from (tests inject one); default the real one. */
  clock?: () => Date;
  /** One-click unsubscribe links on recurring emails (UNSUBSCRIBE_URL, UNSUBSCRIBE_SECRET…); unset = none. */
  unsubscribe?: UnsubscribeSettings | undefined;
  /**
   * Drop keys already finished from each page before any send is scheduled (default true). Only a shortcut — the
   * claim is the guarantee; tests turn it off to show that.
   */
  filterFinishedKeys?: boolean;
  /** How follow-up runs of unfinished windows are spaced and bounded (WINDOW_FOLLOW_UP_*); default DEFAULT_FOLLOW_UP_POLICY. */
  followUps?: FollowUpPolicy;
}
