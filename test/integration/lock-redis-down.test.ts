/**
 * The Redis lock against a Redis that dies and comes back: a private redis-server (the shared one must stay
 * up for other test files). While it is down the lock fails fast with LockUnavailableError; after the restart
 * the lock is gone (no persistence) but the fence keeps growing, because it lives in Postgres.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { createLockRedisClient, createRedisJobLock, LockUnavailableError, type JobLock } from '../../src/lock';
import { freePort } from '../../devkit/services/ports';
import { startRedisServer, type RedisServerHandle } from '../../devkit/services/redis';
import { createTestDatabase, type TestDatabase } from '../../devkit/test-database';
import { uniqueName } from '../../devkit/databases';
import { eventually } from '../support/eventually';

// A bound, not a benchmark: the point is "seconds, not a hang on an offline queue".
const FAIL_FAST_MS = 5_000;

let db: TestDatabase;
let port: number;
let server: RedisServerHandle | undefined;
let redis: Redis;
let lock: JobLock;

before(async () => {
  db = await createTestDatabase('lockdown');
  port = await freePort();
  server = await startRedisServer(port);
  redis = createLockRedisClient(server.url);
  lock = createRedisJobLock(redis, db.pool, { keyPrefix: `${uniqueName('lockdown')}:` });
});

after(async () => {
  redis.disconnect();
  await server?.stop();
  await db.drop();
});

test('a dead Redis fails fast with LockUnavailableError; after a restart the lock works and the fence still grows', async () => {
  const job = uniqueName('job');
  const before = await lock.acquire(job, 60_000);
  assert.ok(before, 'acquire while Redis is up');

  await server!.stop();
  server = undefined;
  for (const attempt of ['acquire', 'extend', 'release'] as const) {
    const started = Date.now();
    const call =
      attempt === 'acquire' ? lock.acquire(job, 60_000)
      : attempt === 'extend' ? lock.extend(job, before.token, 60_000)
      : lock.release(job, before.token);
    await assert.rejects(call, (err: unknown) => err instanceof LockUnavailableError && err.backend === 'redis', `${attempt} while down`);
    const elapsed = Date.now() - started;
    assert.ok(elapsed < FAIL_FAST_MS, `${attempt} failed after ${elapsed} ms, expected < ${FAIL_FAST_MS} ms`);
  }

  server = await startRedisServer(port);
  // The old lock (60 s TTL) died with the Redis process: a new acquire succeeds as soon as the client reconnects.
  const after = await eventually(() => lock.acquire(job, 60_000), 'acquire after the Redis restart', 15_000);
  assert.notEqual(after.token, before.token);
  assert.ok(after.fence > before.fence, `fence ${after.fence} after the restart must exceed ${before.fence}`);
  assert.equal(await lock.release(job, before.token), false, "the pre-restart token cannot release the new holder's lock");
  assert.equal(await lock.release(job, after.token), true);
});

test('a Redis that was never reachable fails fast too (lazy connect, no offline queue)', async () => {
  const nowhere = createLockRedisClient(`redis://127.0.0.1:${await freePort()}`);
  try {
    const neverUp = createRedisJobLock(nowhere, db.pool);
    const started = Date.now();
    await assert.rejects(neverUp.acquire(uniqueName('job'), 1_000), LockUnavailableError);
    assert.ok(Date.now() - started < FAIL_FAST_MS, `failed after ${Date.now() - started} ms`);
  } finally {
    nowhere.disconnect();
  }
});
