/**
 * The Redis job lock: `SET job:{name}:lock <token> NX PX <ttl>`, extended and released only by Lua scripts that
 * compare the token first (lua/extend.lua, lua/release.lua), so a holder whose TTL lapsed can never extend or
 * delete the lock of whoever took it next. Each acquisition also takes a fence from Postgres (fence.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Pool } from '../db/pool';
import { fenceOrRelease } from './fence';
import { assertTtl, LockUnavailableError, type JobLock, type LockHolder, type LockLease } from './types';

const EXTEND_LUA = fs.readFileSync(path.join(__dirname, 'lua', 'extend.lua'), 'utf8');
const RELEASE_LUA = fs.readFileSync(path.join(__dirname, 'lua', 'release.lua'), 'utf8');

/** The scripts as commands (defineCommand runs them by EVALSHA and reloads them after a Redis restart). */
interface LockScripts {
  sendonceLockExtend(key: string, token: string, ttlMs: number): Promise<number>;
  sendonceLockRelease(key: string, token: string): Promise<number>;
}

export interface RedisJobLockOptions {
  /** Prepended to every key (tests pass a unique one). Default ''. */
  keyPrefix?: string;
  /**
   * Upper bound on how long a call waits for a connection being (re)established before giving up with
   * LockUnavailableError (a refused connection fails at once; this bounds a blackholed host). Long enough to
   * ride out a worker's start-up or the reconnect backoff after a Redis restart, short enough that a dead
   * Redis fails the lock activity within seconds instead of hanging it.
   */
  readyTimeoutMs?: number;
}

export function createRedisJobLock(redis: Redis, pool: Pool, opts: RedisJobLockOptions = {}): JobLock {
  const keyPrefix = opts.keyPrefix ?? '';
  const readyTimeoutMs = opts.readyTimeoutMs ?? 2_000;
  redis.defineCommand('sendonceLockExtend', { numberOfKeys: 1, lua: EXTEND_LUA });
  redis.defineCommand('sendonceLockRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
  const scripts = redis as Redis & LockScripts;
  const lockKey = (jobName: string) => `${keyPrefix}job:${jobName}:lock`;

  async function call<T>(what: string, command: () => Promise<T>): Promise<T> {
    try {
      await whenReady(redis, readyTimeoutMs);
      return await command();
    } catch (err) {
      throw asLockError(err, what);
    }
  }

  async function release(jobName: string, token: string): Promise<boolean> {
    const key = lockKey(jobName);
    return (await call(`release ${key}`, () => scripts.sendonceLockRelease(key, token))) === 1;
  }

  async function extend(jobName: string, token: string, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    const key = lockKey(jobName);
    return (await call(`extend ${key}`, () => scripts.sendonceLockExtend(key, token, ttlMs))) === 1;
  }

  return {
    async acquire(jobName: string, ttlMs: number, ownToken?: string): Promise<LockLease | null> {
      assertTtl(ttlMs);
      const key = lockKey(jobName);
      const token = ownToken ?? crypto.randomUUID();
      const reply = await call(`acquire ${key}`, () => redis.set(key, token, 'PX', ttlMs, 'NX'));
      // Held already: ours only if it is under our token (an earlier try of this acquisition got it, its answer was lost).
      if (reply !== 'OK' && !(ownToken !== undefined && (await extend(jobName, token, ttlMs)))) return null;
      return fenceOrRelease(pool, jobName, token, release);
    },

    extend,

    release,

    async peek(jobName: string): Promise<LockHolder | null> {
      const key = lockKey(jobName);
      // One round trip, one snapshot: GET and PTTL in a MULTI (PTTL -1 = no expiry, -2 = gone).
      const replies = await call(`inspect ${key}`, () => redis.multi().get(key).pttl(key).exec());
      const [[, token], [, pttl]] = replies as [[unknown, string | null], [unknown, number]];
      if (token === null || pttl === -2) return null;
      return { token, ttlMs: pttl === -1 ? null : pttl };
    },

    describe: (jobName: string) => `Redis key ${lockKey(jobName)}`,
  };
}

/**
 * An ioredis client for the lock: fails fast and never queues a lock command for later.
 * - enableOfflineQueue false: a SET NX queued while Redis is down would run after the caller had given up and
 *   hold the lock with a token nobody knows until its TTL ends. Calls wait for 'ready' instead (bounded).
 * - autoResendUnfulfilledCommands false: for the same reason, a command in flight when the connection drops is
 *   not replayed on reconnect (a replayed SET NX would find our own token and report "held by someone else").
 * - connectTimeout / commandTimeout 2 s: a blackholed or hung Redis also fails within seconds. A command that
 *   timed out may still have run on the server; for SET NX that leaves an orphan lock for at most one TTL.
 * - retryStrategy: reconnect forever with a short capped backoff, so the lock works again soon after Redis does.
 * - an 'error' listener: without one, an unreachable Redis emits unhandled 'error' events and crashes the
 *   process; the failures reach callers as LockUnavailableError instead.
 */
export function createLockRedisClient(url: string): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(100 * attempt, 1_000),
  });
  client.on('error', () => undefined);
  return client;
}

/**
 * Resolve once the client can send. While it is (re)connecting, wait for the outcome of the next connection
 * attempt: reject with that attempt's error (a refused connection fails in milliseconds), when the client gives
 * up, or after timeoutMs (a blackholed host).
 */
export async function whenReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  if (redis.status === 'end') throw new Error('Connection is closed.');
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onEnd);
      redis.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => done();
    const onEnd = () => done(new Error('Connection is closed.'));
    const onError = (err: Error) => done(err);
    const timer = setTimeout(() => done(new Error(`not connected within ${timeoutMs} ms (status ${redis.status})`)), timeoutMs);
    redis.once('ready', onReady);
    redis.once('end', onEnd);
    redis.once('error', onError);
    if (redis.status === 'wait') redis.connect().catch(() => undefined); // lazyConnect: the first use connects
  });
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);
// ioredis reports a lost or missing connection with plain Errors; LOADING is Redis replaying its dataset.
const UNREACHABLE_MESSAGES = /Connection is closed|Stream isn't writeable|Command timed out|not connected within|max retries|ECONNREFUSED|ECONNRESET|ETIMEDOUT|^LOADING/i;
/**
 * Replies of a Redis that is up but will not take the lock's writes: a demoted primary after a failover
 * (READONLY), out of memory (OOM), a replica cut off from its primary (MASTERDOWN), too few replicas
 * (NOREPLICAS), a failed snapshot (MISCONF), a busy script (BUSY). For the lock these are the store being unavailable.
 */
const REFUSED_WRITE = /^(READONLY|OOM|MASTERDOWN|NOREPLICAS|MISCONF|BUSY)\b/;

/** True when an ioredis error means Redis could not be reached (as opposed to a script or argument error). */
export function isRedisConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  return UNREACHABLE_MESSAGES.test(err.message);
}

/**
 * Every error leaves the lock as a fresh error with the reply's text only. ioredis errors carry the command and its
 * arguments — the lock token among them — and an error's cause travels into logs and into Temporal's history.
 */
function asLockError(err: unknown, what: string): Error {
  if (err instanceof LockUnavailableError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isRedisConnectionError(err)) return new LockUnavailableError(`${what}: Redis unreachable (${message})`, 'redis');
  if (REFUSED_WRITE.test(message)) return new LockUnavailableError(`${what}: Redis refused the write (${message})`, 'redis');
  return new Error(`${what}: ${message}`);
}
