/** A bad configuration stops with a message naming the problem — before any email is at stake. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { upsertSchedule } from '../../src/schedule';
import { dailyDigest } from '../../devkit/demo/daily-digest';
import { freePort } from '../../devkit/services/ports';
import { startWorkerProcess } from '../../devkit/worker-process';
import { redisUrl, temporalAddress } from '../../devkit/shared-services';
import { uniqueName } from '../../devkit/databases';

test('an invalid cron is refused at schedule creation, naming the job and the expression', async () => {
  const connection = await Connection.connect({ address: temporalAddress() });
  try {
    const client = new Client({ connection });
    const job = { ...dailyDigest, schedule: { cron: '61 * * * *' } };
    await assert.rejects(upsertSchedule(client, job, { taskQueue: 'tq', idPrefix: uniqueName('bad') }), (err: Error) => {
      assert.match(err.message, /job 'daily-digest': the schedule \(cron '61 \* \* \* \*'\) was refused/);
      return true;
    });
  } finally {
    await connection.close();
  }
});

test('an unreachable database stops the worker with one line naming DATABASE_URL', async () => {
  const deadPort = await freePort();
  await assert.rejects(
    startWorkerProcess({
      DATABASE_URL: `postgres://u:topsecret@127.0.0.1:${deadPort}/nope`,
      REDIS_URL: redisUrl(),
      TEMPORAL_ADDRESS: temporalAddress(),
      TASK_QUEUE: uniqueName('tq'),
    }),
    (err: Error) => {
      assert.match(err.message, /exited \(code 1/);
      assert.match(err.message, /sendonce worker: cannot reach or migrate DATABASE_URL/);
      assert.doesNotMatch(err.message, /topsecret/);
      return true;
    },
  );
});

test('an invalid variable stops the worker with one message naming it', async () => {
  await assert.rejects(
    startWorkerProcess({ DATABASE_URL: 'postgres://x@127.0.0.1/db', LOCK_BACKEND: 'zookeeper', TEMPORAL_ADDRESS: temporalAddress() }),
    /sendonce worker: invalid configuration:[\s\S]*LOCK_BACKEND \(got "zookeeper"\)/,
  );
});
