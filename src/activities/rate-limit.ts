/**
 * Per-job send rate limits in Redis: an hourly cap per sender (`email_rate:{sender}:{YYYYMMDDHH}`,
 * shared by every job and worker sending as that sender) and a minimum gap between two sends of a job.
 * The send activity reserves budget BEFORE it claims the key; over a limit it claims nothing and returns
 * `rate_limited` with how long to wait, and the workflow waits with a durable timer — no retry attempt is used
 * and no worker slot is held while waiting.
 * Redis unreachable: fail closed — `unavailable`, and the run stops sending (like the lock's LOCK_UNAVAILABLE=skip):
 * sending without knowing the count could break the cap, waiting blind could hold the run for hours.
 */
import type { Redis } from 'ioredis';
import { ConfigError } from '../errors';
import type { JobDefinition, JobRegistry } from '../jobs';
import { isRedisConnectionError, whenReady } from '../lock';
import { REFUND_LUA, RESERVE_LUA } from './rate-limit-script';

export const HOUR_MS = 3_600_000;

export type Reservation =
  | { kind: 'reserved'; refund(): Promise<void> }
  | { kind: 'wait'; retryAfterMs: number }
  | { kind: 'unavailable'; reason: string };

export interface RateLimiter {
  reserve(job: JobDefinition): Promise<Reservation>;
}

export interface RateLimiterDeps {
  redis?: Redis;
  keyPrefix?: string;
  clock: () => Date;
  /** The From header; its address is the default sender of a budget. */
  mailFrom: string;
  jobs: JobRegistry;
}

interface Scripts {
  sendonceRateReserve(bucketKey: string, gapKey: string, cap: number, ttlMs: number, nowMs: number, gapMs: number, untilNextMs: number): Promise<[number, number]>;
  sendonceRateRefund(bucketKey: string): Promise<number>;
}

const reserved: Reservation = { kind: 'reserved', refund: async () => undefined };

/** Bucket label: YYYYMMDDHH (UTC) of the bucket's start; buckets shorter than an hour add minutes and seconds. */
export function bucketLabel(now: Date, bucketMs = HOUR_MS): string {
  const start = new Date(Math.floor(now.getTime() / bucketMs) * bucketMs).toISOString();
  const hour = start.slice(0, 13).replace(/[-T]/g, '');
  return bucketMs % HOUR_MS === 0 ? hour : hour + start.slice(14, 16) + start.slice(17, 19);
}

/** The sender a budget belongs to: the job's own id, else the bare address of the From header. */
export function senderOf(job: JobDefinition, mailFrom: string): string {
  return job.rateLimit?.sender ?? (/<([^>]+)>/.exec(mailFrom)?.[1] ?? mailFrom).trim().toLowerCase();
}

export function createRateLimiter(deps: RateLimiterDeps): RateLimiter {
  const limited = deps.jobs.all().filter((j) => j.rateLimit);
  if (limited.length > 0 && !deps.redis) {
    throw new ConfigError(`job(s) ${limited.map((j) => `'${j.name}'`).join(', ')} have a rateLimit, which needs Redis: set REDIS_URL`);
  }
  const redis = deps.redis;
  if (redis) {
    redis.defineCommand('sendonceRateReserve', { numberOfKeys: 2, lua: RESERVE_LUA });
    redis.defineCommand('sendonceRateRefund', { numberOfKeys: 1, lua: REFUND_LUA });
  }
  const prefix = deps.keyPrefix ?? '';
  return {
    async reserve(job) {
      const limit = job.rateLimit;
      if (!limit || (!limit.perSenderPerHour && !limit.minGapMs)) return reserved;
      const scripts = redis as Redis & Scripts;
      const now = deps.clock();
      const bucketMs = limit.bucketMs ?? HOUR_MS;
      const sender = senderOf(job, deps.mailFrom);
      const bucketKey = `${prefix}email_rate:${sender}:${bucketLabel(now, bucketMs)}`;
      const gapKey = `${prefix}email_gap:${job.name}:${sender}`;
      // A small margin past the bucket's end, so the retry lands in the next bucket even with timer jitter.
      const untilNextMs = bucketMs - (now.getTime() % bucketMs) + 50;
      try {
        await whenReady(redis!, 2_000);
        const [ok, value] = await scripts.sendonceRateReserve(
          bucketKey, gapKey, limit.perSenderPerHour ?? 0, 2 * bucketMs, now.getTime(), limit.minGapMs ?? 0, untilNextMs,
        );
        if (ok !== 1) return { kind: 'wait', retryAfterMs: Math.max(1, Number(value)) };
        if (!limit.perSenderPerHour) return reserved;
        return { kind: 'reserved', refund: () => scripts.sendonceRateRefund(bucketKey).then(() => undefined, () => undefined) };
      } catch (err) {
        if (!isRedisConnectionError(err)) throw err;
        return { kind: 'unavailable', reason: `rate limiter: Redis unreachable (${(err as Error).message})` };
      }
    },
  };
}
