/** The job lock: pick a backend (LOCK_BACKEND) and get the same JobLock contract. */
import type { Redis } from 'ioredis';
import type { Pool } from '../db/pool';
import { createPostgresJobLock } from './postgres-lease';
import { createRedisJobLock } from './redis-lock';
import type { JobLock, LockBackend } from './types';

export interface JobLockDeps {
  pool: Pool;
  /** Required for the redis backend (see createLockRedisClient). */
  redis?: Redis;
  /** Redis key prefix (tests pass a unique one). */
  keyPrefix?: string;
}

export function createJobLock(backend: LockBackend, deps: JobLockDeps): JobLock {
  switch (backend) {
    case 'redis':
      if (!deps.redis) throw new Error('the redis lock backend needs a Redis client');
      return createRedisJobLock(deps.redis, deps.pool, { keyPrefix: deps.keyPrefix });
    case 'postgres':
      return createPostgresJobLock(deps.pool);
    default:
      throw new Error(`unknown lock backend ${String(backend satisfies never)}`);
  }
}

export { createPostgresJobLock } from './postgres-lease';
export { createLockRedisClient, createRedisJobLock, isRedisConnectionError, whenReady, type RedisJobLockOptions } from './redis-lock';
export { currentFence, isFenceCurrent, takeFence } from './fence';
export { isPostgresConnectionError } from '../db/unreachable';
export { LockUnavailableError, type JobLock, type LockBackend, type LockHolder, type LockLease } from './types';
