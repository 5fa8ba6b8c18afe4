/** The shapes the steps of one send share (send-email.ts): what they are given, and the attempt they work on. */
import type { Pool } from 'pg';
import type { SendInput } from '../contract';
import type { DeliveryTransport } from '../delivery';
import type { JobDefinition, JobRegistry } from '../jobs';
import type { Logger } from '../logger';
import type { SendRetryOptions } from '../retry';
import type { UnsubscribeSettings } from '../suppressions/links';
import type { RateLimiter } from './rate-limit';
import type { Semaphore } from './semaphore';

export interface SendDeps {
  pool: Pool;
  delivery: DeliveryTransport;
  jobs: JobRegistry;
  logger: Logger;
  mailFrom: string;
  messageIdDomain: string;
  /** Deployment-wide defaults under the job's own retry options (ActivityDeps.retryDefaults). */
  retryDefaults: Partial<SendRetryOptions>;
  /** Bounds claims in progress to the connections that can serve them (ActivityDeps.maxConcurrentSends). */
  sendSlots: Semaphore;
  /** Per-job rate limits, checked before the claim (rate-limit.ts). */
  rateLimiter: RateLimiter;
  /** One-click unsubscribe links (UNSUBSCRIBE_*); unset: recurring emails go out without them. */
  unsubscribe?: UnsubscribeSettings | undefined;
  /** Signs the links' expiry; default the real clock. */
  clock?: () => Date;
}

/** What every step of one attempt needs to know. */
export interface Attempt {
  input: SendInput;
  job: JobDefinition;
  key: string;
  messageId: string;
  /** Temporal's attempt number of this activity (1 = first try). */
  attemptNo: number;
  /** The claim's attempt number (attempts on the row), once claimed: only it may write the outcome. */
  claimAttempt: number;
  /** Resends already used under the resend-once policy. */
  resends: number;
  /** Built only when something is logged: a child logger per send is measurable worker CPU. */
  log(): Logger;
}
