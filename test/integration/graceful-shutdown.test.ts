/**
 * Issue 8, graceful shutdown of the real worker process against a slow SMTP server:
 * - first SIGTERM: /readyz turns 503, polling stops, the sends already handed to SMTP finish and are recorded
 *   `sent` (none left `claimed`), then the worker, the Temporal connection, the health server, the SMTP
 *   transport, Redis and the Postgres pool close in that order, one log line each, and the process exits 0;
 * - a second SIGTERM exits at once, without waiting for in-flight sends;
 * - a drain cut short by the force time still closes everything, and exits 1.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { uniqueName } from '../../devkit/databases';
import { startBatchRun } from '../../devkit/runs';
import { seedUsers, userEmails } from '../../devkit/seed';
import { startSmtpSink, type SmtpSink } from '../../devkit/smtp-sink';
import { createTestDatabase, type TestDatabase } from '../../devkit/test-database';
import { startWorkerProcess } from '../../devkit/worker-process';
import { eventually } from '../support/eventually';
import { temporalClient, workerEnv } from '../support/production';

let db: TestDatabase;
let sink: SmtpSink;
let client: Client;
const handles: WorkflowHandle[] = [];
let arrived = 0;

before(async () => {
  db = await createTestDatabase('shutdown');
  sink = await startSmtpSink();
  client = await temporalClient();
  await seedUsers(db.pool, userEmails(40, 'shutdown.example'));
});

after(async () => {
  for (const h of handles) await h.terminate('test cleanup').catch(() => undefined);
  await client?.connection.close();
  await sink?.close();
  await db?.drop();
});

const sendStates = async () => {
  const { rows } = await db.pool.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM sendonce.email_sends GROUP BY state');
  return Object.fromEntries(rows.map((r) => [r.state, r.n])) as Record<string, number>;
};

async function startSlowRun(delayMs: number, extra: Record<string, string> = {}) {
  arrived = 0;
  sink.onData(() => {
    arrived++;
    return { delayMs };
  });
  const taskQueue = uniqueName('tq-shutdown');
  const env = await workerEnv({
    databaseUrl: db.url,
    smtpPort: sink.port,
    taskQueue,
    lockKeyPrefix: `${uniqueName('sd')}:`,
    extra: { SMTP_MAX_CONNECTIONS: '3', SMTP_SOCKET_TIMEOUT_MS: '20000', SEND_ATTEMPT_TIMEOUT_MS: '30000', ...extra },
  });
  const worker = await startWorkerProcess(env);
  const scheduledAt = `2026-0${handles.length + 1}-15T10:00:00.000Z`;
  const handle = await startBatchRun(client, { taskQueue, jobName: 'daily-digest', scheduledAt, workflowExecutionTimeout: '5m' });
  handles.push(handle);
  // Wait until messages are in the server's hands (DATA received, reply pending).
  await eventually(async () => arrived >= 3, 'sends in flight at the SMTP server', 30_000);
  return { worker, env };
}

test('first SIGTERM: in-flight sends finish and are recorded, resources close in order, exit 0', async () => {
  const { worker, env } = await startSlowRun(400, { SHUTDOWN_GRACE_MS: '20000' });
  const signalledAt = Date.now();
  worker.child.kill('SIGTERM');
  await worker.waitForLog('worker_shutting_down');
  const notReady = await eventually(async () => {
    const res = await fetch(`http://127.0.0.1:${env.HEALTH_PORT}/readyz`).catch(() => undefined);
    return res && res.status === 503 ? res : undefined;
  }, '/readyz to report not ready while draining', 10_000);
  assert.notEqual(((await notReady.json()) as { worker: string }).worker, 'RUNNING');

  const exit = await worker.exited;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(Date.now() - signalledAt < 20_000, 'drained within the grace time');

  const steps = worker.lines.filter((l) => l.msg === 'worker_closed').map((l) => l.step);
  assert.deepEqual(steps, ['worker', 'deployment_watch', 'reaper', 'temporal_connection', 'health_server', 'delivery', 'redis', 'postgres_pool']);
  assert.ok(worker.lines.some((l) => l.msg === 'worker_stopped'));
  assert.ok(!worker.lines.some((l) => l.msg === 'worker_close_failed'), 'every step closed cleanly');

  // Every send the server received before the signal completed and was recorded; nothing is left claimed.
  const states = await sendStates();
  assert.equal(states.claimed ?? 0, 0, `no send left claimed: ${JSON.stringify(states)}`);
  assert.equal(states.unknown ?? 0, 0);
  assert.ok((states.sent ?? 0) >= 3, `in-flight sends finished: ${JSON.stringify(states)}`);
  assert.equal(states.sent, sink.count, 'every message the server accepted is recorded sent');
});

test('a second SIGTERM exits at once, without waiting for in-flight sends', async () => {
  const { worker } = await startSlowRun(15_000, { SHUTDOWN_GRACE_MS: '60000' });
  worker.child.kill('SIGTERM');
  await worker.waitForLog('worker_shutting_down');
  const secondAt = Date.now();
  worker.child.kill('SIGTERM');
  const exit = await worker.exited;
  assert.ok(Date.now() - secondAt < 3_000, `exited ${Date.now() - secondAt} ms after the second signal`);
  assert.equal(exit.code, 143);
  assert.ok(worker.lines.some((l) => l.msg === 'worker_exit_now'));
  assert.ok(!worker.lines.some((l) => l.msg === 'worker_closed' && l.step === 'worker'), 'did not wait for the drain');
});

test('a drain cut short by the force time closes everything and exits 1, not 0 (restart policies see a failure)', async () => {
  // Sends that outlast SHUTDOWN_GRACE_MS + 10 s: worker.run() rejects. Before issue 25 main() then resolved: exit 0.
  const { worker } = await startSlowRun(25_000, { SHUTDOWN_GRACE_MS: '500', SMTP_SOCKET_TIMEOUT_MS: '40000', SEND_ATTEMPT_TIMEOUT_MS: '60000' });
  worker.child.kill('SIGTERM');
  const exit = await worker.exited;
  assert.ok(worker.lines.some((l) => l.msg === 'worker_close_failed' && l.step === 'worker'), 'the worker failed to drain');
  assert.ok(worker.lines.some((l) => l.msg === 'worker_closed' && l.step === 'postgres_pool'), 'the rest closed anyway');
  assert.deepEqual(exit, { code: 1, signal: null });
});
