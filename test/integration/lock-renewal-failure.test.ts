/**
 * A lock Redis that stops taking writes mid-run — a primary demoted after a failover answers READONLY — must end
 * the run `lock_lost` at the next renewal, say why in one log line, and print the lock token in no log line, the
 * worker's own or the SDK's (an ioredis error carries the command's arguments, the token among them). A real worker process, its own redis-server, the real SMTP sink.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { Client } from '@temporalio/client';
import { uniqueName } from '../../devkit/databases';
import { startBatchRun } from '../../devkit/runs';
import { seedUsers, userEmails } from '../../devkit/seed';
import { freePort } from '../../devkit/services/ports';
import { startRedisServer, type RedisServerHandle } from '../../devkit/services/redis';
import { startSmtpSink, type SmtpSink } from '../../devkit/smtp-sink';
import { createTestDatabase, type TestDatabase } from '../../devkit/test-database';
import { startWorkerProcess, type WorkerProcess } from '../../devkit/worker-process';
import { eventually } from '../support/eventually';
import { temporalClient, workerEnv } from '../support/production';

const LOCK_TTL_MS = 3_000; // renewed every second
let db: TestDatabase;
let sink: SmtpSink;
let redisServer: RedisServerHandle;
let admin: Redis;
let client: Client;
let worker: WorkerProcess | undefined;
const taskQueue = uniqueName('tq-readonly');
const prefix = `${uniqueName('readonly')}:`;

before(async () => {
  db = await createTestDatabase('readonly');
  sink = await startSmtpSink();
  sink.onData(() => ({ delayMs: 150 })); // a slow relay: the run lasts several renewals
  redisServer = await startRedisServer(await freePort());
  admin = new Redis(redisServer.url, { lazyConnect: true });
  await seedUsers(db.pool, userEmails(150, 'readonly.example'));
  const env = await workerEnv({ databaseUrl: db.url, smtpPort: sink.port, taskQueue, lockKeyPrefix: prefix });
  worker = await startWorkerProcess({ ...env, REDIS_URL: redisServer.url, LOCK_TTL_MS: String(LOCK_TTL_MS), SMTP_MAX_CONNECTIONS: '2' });
  client = await temporalClient();
});

after(async () => {
  await worker?.stop();
  admin.disconnect();
  await redisServer?.stop();
  await sink?.close();
  await db?.drop();
});

test('READONLY from the lock Redis mid-run: lock_lost at the next renewal, the cause logged, the token nowhere', async () => {
  const handle = await startBatchRun(client, { taskQueue, jobName: 'daily-digest', workflowExecutionTimeout: '3m' });
  await eventually(async () => sink.count >= 20, 'the run to be sending', 60_000);
  const token = await admin.get(`${prefix}job:daily-digest:lock`);
  assert.ok(token, 'the run holds the lock');
  // Demote it: a replica of a primary that does not exist refuses every write with READONLY.
  await admin.call('REPLICAOF', '127.0.0.1', String(await freePort()));
  const demotedAt = Date.now();

  const summary = await handle.result();
  assert.equal(summary.outcome, 'lock_lost');
  const renewalFailed = await worker!.waitForLog('job_lock_renewal_failed', (l) => l.jobName === 'daily-digest');
  assert.match(String(renewalFailed.cause), /READONLY/);
  const lost = await worker!.waitForLog('job_lock_lost', (l) => l.runId === summary.runId);
  const after = Date.parse(String(lost.time)) - demotedAt;
  assert.ok(after < LOCK_TTL_MS, `lock_lost ${after} ms after the demotion`);
  assert.deepEqual([...sink.countByMessageId().values()].filter((n) => n > 1), [], 'nobody got two');

  // The history does hold it (acquireLock's result: the workflow renews and releases by it); logs must not.
  assert.ok(!worker!.output().includes(token), 'the lock token was printed');
});
