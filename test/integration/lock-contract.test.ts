/**
 * The JobLock contract, run unchanged against both backends (Redis token lock, Postgres lease row), plus the
 * fence they share through job_fences. Short TTLs and polling with deadlines: no long fixed sleeps.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { createPool } from '../../src/db/pool';
import { freePort } from '../../devkit/services/ports';
import {
  createJobLock,
  createLockRedisClient,
  createRedisJobLock,
  currentFence,
  isFenceCurrent,
  takeFence,
  LockUnavailableError,
  type JobLock,
  type LockBackend,
  type LockLease,
} from '../../src/lock';
import { createTestDatabase, type TestDatabase } from '../../devkit/test-database';
import { redisUrl } from '../../devkit/shared-services';
import { uniqueName } from '../../devkit/databases';
import { eventually } from '../support/eventually';

const TTL_MS = 400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let db: TestDatabase;
let redis: Redis;
let keyPrefix: string;
const closeLater: Array<() => Promise<unknown>> = [];

before(async () => {
  db = await createTestDatabase('lock');
  redis = createLockRedisClient(redisUrl());
  keyPrefix = `${uniqueName('lock')}:`;
});

after(async () => {
  for (const close of closeLater.reverse()) await close().catch(() => undefined);
  redis.disconnect();
  await db.drop();
});

function lockFor(backend: LockBackend): JobLock {
  return createJobLock(backend, { pool: db.pool, redis, keyPrefix });
}

/** A lock of this backend whose store cannot be reached (nothing listens on the port). */
async function unreachableLockFor(backend: LockBackend): Promise<JobLock> {
  const port = await freePort();
  if (backend === 'redis') {
    const deadRedis = createLockRedisClient(`redis://127.0.0.1:${port}`);
    closeLater.push(async () => deadRedis.disconnect());
    return createRedisJobLock(deadRedis, db.pool, { keyPrefix });
  }
  const deadPool = createPool(`postgres://nobody@127.0.0.1:${port}/nothing`);
  closeLater.push(() => deadPool.end());
  return createJobLock('postgres', { pool: deadPool });
}

async function acquiredEventually(lock: JobLock, job: string, what: string, timeoutMs = 3_000): Promise<LockLease> {
  return eventually(() => lock.acquire(job, TTL_MS), what, timeoutMs);
}

function contractSuite(backend: LockBackend): void {
  describe(`JobLock contract: ${backend}`, () => {
    let lock: JobLock;
    before(() => {
      lock = lockFor(backend);
    });

    for (const contenders of [2, 10]) {
      test(`exactly one of ${contenders} concurrent acquires wins`, async () => {
        const job = uniqueName('job');
        const results = await Promise.all(Array.from({ length: contenders }, () => lock.acquire(job, 5_000)));
        const winners = results.filter((r): r is LockLease => r !== null);
        assert.equal(winners.length, 1, `winners: ${JSON.stringify(winners)}`);
        assert.ok(winners[0]!.token.length > 0);
        assert.equal(await isFenceCurrent(db.pool, job, winners[0]!.fence), true);
      });
    }

    test('release with a wrong token returns false and leaves the holder its lock', async () => {
      const job = uniqueName('job');
      const holder = await lock.acquire(job, 5_000);
      assert.ok(holder);
      assert.equal(await lock.release(job, crypto.randomUUID()), false);
      assert.equal(await lock.acquire(job, 5_000), null, 'still held after a wrong-token release');
      assert.equal(await lock.extend(job, holder.token, 5_000), true, 'the holder still holds it');
      assert.equal(await lock.release(job, holder.token), true);
    });

    test('extend with a wrong token returns false and does not extend', async () => {
      const job = uniqueName('job');
      const holder = await lock.acquire(job, TTL_MS);
      assert.ok(holder);
      assert.equal(await lock.extend(job, crypto.randomUUID(), 60_000), false);
      // Had it been extended to 60 s, this would time out; it frees at the original TTL.
      const next = await acquiredEventually(lock, job, 'the lock to expire at its original TTL');
      assert.ok(next.fence > holder.fence);
    });

    test("the holder's extend keeps the lock past its original TTL", async () => {
      const job = uniqueName('job');
      const started = Date.now();
      const holder = await lock.acquire(job, TTL_MS);
      assert.ok(holder);
      // Keep extending for three original TTLs; every check in between must find the lock still held.
      while (Date.now() - started < 3 * TTL_MS) {
        await sleep(TTL_MS / 4);
        assert.equal(await lock.extend(job, holder.token, TTL_MS), true, `extend at ${Date.now() - started} ms`);
        assert.equal(await lock.acquire(job, TTL_MS), null, `still held at ${Date.now() - started} ms`);
      }
      assert.equal(await lock.release(job, holder.token), true);
    });

    test('after the TTL ends without a release a new acquire succeeds, and the old holder can no longer touch it', async () => {
      const job = uniqueName('job');
      const first = await lock.acquire(job, TTL_MS);
      assert.ok(first);
      assert.equal(await lock.acquire(job, TTL_MS), null);
      const second = await acquiredEventually(lock, job, 'the lock to expire');
      assert.notEqual(second.token, first.token);
      assert.ok(second.fence > first.fence);
      assert.equal(await isFenceCurrent(db.pool, job, first.fence), false, 'the old fence is stale');
      assert.equal(await lock.extend(job, first.token, 60_000), false, 'the stale holder cannot extend');
      assert.equal(await lock.release(job, first.token), false, 'the stale holder cannot release');
      assert.equal(await lock.acquire(job, TTL_MS), null, "the new holder's lock is intact");
      assert.equal(await lock.release(job, second.token), true);
    });

    test('release then acquire works, and fences strictly increase across acquisitions', async () => {
      const job = uniqueName('job');
      const fences: number[] = [];
      for (let i = 0; i < 5; i++) {
        const lease = await lock.acquire(job, 5_000);
        assert.ok(lease, `acquire #${i + 1} after a release`);
        fences.push(lease.fence);
        assert.equal(await currentFence(db.pool, job), lease.fence);
        assert.equal(await lock.release(job, lease.token), true);
        assert.equal(await lock.release(job, lease.token), false, 'a second release finds nothing of ours');
      }
      for (let i = 1; i < fences.length; i++) assert.ok(fences[i]! > fences[i - 1]!, `fences ${fences.join(',')}`);
    });

    test('an acquire that asks with the holder\'s own token takes the lock again (a retry whose answer was lost)', async () => {
      const job = uniqueName('job');
      const token = `run-token-${uniqueName('t')}`;
      const first = await lock.acquire(job, 5_000, token);
      assert.equal(first?.token, token);
      const again = await lock.acquire(job, 5_000, token);
      assert.equal(again?.token, token, 'the same holder gets its lock back');
      assert.ok(again!.fence > first!.fence, 'with a newer fence');
      assert.equal(await currentFence(db.pool, job), again!.fence);
      assert.equal(await lock.acquire(job, 5_000, 'someone-else'), null, 'any other token is still refused');
      assert.equal(await lock.acquire(job, 5_000), null, 'and so is a fresh one');
      assert.equal(await lock.release(job, token), true);
    });

    test('an unreachable store throws LockUnavailableError, not null', async () => {
      const dead = await unreachableLockFor(backend);
      const job = uniqueName('job');
      const started = Date.now();
      await assert.rejects(dead.acquire(job, TTL_MS), LockUnavailableError);
      await assert.rejects(dead.extend(job, crypto.randomUUID(), TTL_MS), LockUnavailableError);
      await assert.rejects(dead.release(job, crypto.randomUUID()), LockUnavailableError);
      assert.ok(Date.now() - started < 15_000, `three calls failed within ${Date.now() - started} ms: seconds, not minutes`);
    });
  });
}

for (const backend of ['redis', 'postgres'] as const) contractSuite(backend);

describe('fences shared by both backends', () => {
  test('fences strictly increase for the same job across backends', async () => {
    const job = uniqueName('job');
    const fences: number[] = [];
    for (const backend of ['redis', 'postgres', 'redis', 'postgres'] as const) {
      const lock = lockFor(backend);
      const lease = await lock.acquire(job, 5_000);
      assert.ok(lease, `${backend} acquire`);
      fences.push(lease.fence);
      assert.equal(await lock.release(job, lease.token), true);
    }
    assert.deepEqual(fences, [...fences].sort((a, b) => a - b));
    assert.equal(new Set(fences).size, fences.length, `fences ${fences.join(',')}`);
  });

  test('concurrent takeFence calls get distinct numbers', async () => {
    const job = uniqueName('job');
    const fences = await Promise.all(Array.from({ length: 20 }, () => takeFence(db.pool, job)));
    assert.deepEqual([...fences].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal(await currentFence(db.pool, job), 20);
  });

  test('redis: when the fence cannot be taken, the lock is given back and the error is LockUnavailableError', async () => {
    const port = await freePort();
    const deadPool = createPool(`postgres://nobody@127.0.0.1:${port}/nothing`);
    closeLater.push(() => deadPool.end());
    const job = uniqueName('job');
    const noFence = createRedisJobLock(redis, deadPool, { keyPrefix });
    await assert.rejects(noFence.acquire(job, 60_000), (err: unknown) => err instanceof LockUnavailableError && err.backend === 'postgres');
    // Not held for the 60 s TTL: the Redis key was released when the fence failed.
    const lease = await lockFor('redis').acquire(job, 5_000);
    assert.ok(lease, 'the lock was released after the fence failed');
  });
});
