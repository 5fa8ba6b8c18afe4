/**
 * Issue 3, point 8: the worker process is SIGKILLed in the middle of a batch. A new worker process picks the
 * run up; no recipient gets two messages (unknownPolicy 'record'), no key stays `claimed`, and the summary
 * accounts for every recipient — keys the killed worker sent count as sent by this run (issue 19). The worker is the real entry point (src/worker.ts) configured by env vars,
 * running the default 'daily-digest' job over the users table of its own test database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { uniqueName } from '../../devkit/databases';
import { startBatchRun } from '../../devkit/runs';
import { seedUsers, userEmails } from '../../devkit/seed';
import { redisUrl, temporalAddress } from '../../devkit/shared-services';
import { startSmtpSink } from '../../devkit/smtp-sink';
import { createTestDatabase } from '../../devkit/test-database';
import { startWorkerProcess, type WorkerProcess } from '../../devkit/worker-process';
import { assertCountsAddUp, assertNoneSkipped, SCHEDULED_AT, sendRows } from '../support/never-twice';
import { DEMO_JOBS_MODULE } from '../../devkit/demo/jobs';

const JOB = { name: 'daily-digest' };
/** One page (the default page size is 200). */
const RECIPIENTS = 150;
/** The worker dies while the sink holds this message's DATA (it stores it; the reply never arrives). */
const KILL_AT = 40;

test('worker SIGKILLed mid-batch: a new worker finishes the run, nobody gets two messages, nothing stays claimed', async (t) => {
  const db = await createTestDatabase();
  const sink = await startSmtpSink();
  const connection = await Connection.connect({ address: temporalAddress() });
  const client = new Client({ connection });
  const workers: WorkerProcess[] = [];
  t.after(async () => {
    for (const w of workers) await w.stop().catch(() => undefined);
    await connection.close();
    await sink.close();
    await db.drop();
  });

  const addresses = userEmails(RECIPIENTS);
  const rows = await seedUsers(db.pool, addresses);
  const emailOf = new Map(rows.map((r) => [r.id, r.email]));
  const taskQueue = uniqueName('tq');
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl(),
    LOCK_KEY_PREFIX: `${uniqueName('killed')}:`,
    // The demo's daily digest (devkit/demo): the image's built-in registry has only the one-off notices.
    SENDONCE_JOBS_MODULE: DEMO_JOBS_MODULE,
    TASK_QUEUE: taskQueue,
    TEMPORAL_ADDRESS: temporalAddress(),
    SMTP_HOST: sink.host,
    SMTP_PORT: String(sink.port),
    SEND_ATTEMPT_TIMEOUT_MS: '4000',
    SMTP_SOCKET_TIMEOUT_MS: '2000',
    // Longer than the outage (kill → new worker polling → the sticky queue's timeout), so the resumed run still
    // holds its lock. A TTL shorter than the outage ends the run as lock_lost by design (the lock may have been
    // taken meanwhile), leaving the rest to the next tick: that case is covered in no-overlap-processes.test.ts.
    LOCK_TTL_MS: '30000',
  };

  const first = await startWorkerProcess(env);
  workers.push(first);
  // A slow server (each DATA answered 50 ms late), so sends are spread out; the KILL_AT-th message kills the
  // worker while the sink holds it: it is stored, but its sender never learns that.
  let arrived = 0;
  let killedWhileHolding: string | undefined;
  sink.onData((ctx) => {
    arrived += 1;
    if (arrived === KILL_AT) {
      killedWhileHolding = ctx.envelopeRcpt[0];
      first.child.kill('SIGKILL');
    }
    return { delayMs: 50 };
  });

  const handle = await startBatchRun(client, { taskQueue, jobName: JOB.name, scheduledAt: SCHEDULED_AT });
  const exit = await first.exited;
  assert.equal(exit.signal, 'SIGKILL');
  const sentBeforeKill = sink.count;
  assert.ok(sentBeforeKill < RECIPIENTS, `killed mid-batch (${sentBeforeKill} stored so far)`);

  const killedAt = Date.now();
  const second = await startWorkerProcess(env);
  workers.push(second);
  t.diagnostic(`new worker up ${Date.now() - killedAt} ms after the kill`);
  const summary = await handle.result();
  t.diagnostic(`summary ${JSON.stringify(summary.counts)}; sink ${sink.count} messages`);

  // Every recipient ends sent, dead or unknown — none left claimed (or failed), none skipped silently.
  assert.equal(summary.outcome, 'completed');
  await assertNoneSkipped({ db }, JOB);
  const sends = await sendRows({ db }, JOB);
  assert.equal(sends.size, RECIPIENTS);
  const byState = new Map<string, number>();
  for (const row of sends.values()) byState.set(row.state, (byState.get(row.state) ?? 0) + 1);
  t.diagnostic(`states ${JSON.stringify(Object.fromEntries(byState))}`);
  for (const [id, row] of sends) assert.ok(['sent', 'dead', 'unknown'].includes(row.state), `recipient ${id} ended ${row.state}`);

  // Nobody got two messages; every `sent` key has its one message; `unknown` ones have at most one.
  for (const address of addresses) assert.ok(sink.messagesTo(address).length <= 1, `${address} got ${sink.messagesTo(address).length} messages`);
  for (const [id, row] of sends) {
    const copies = sink.messagesTo(emailOf.get(id)!).length;
    if (row.state === 'sent') assert.equal(copies, 1, `sent recipient ${id} has ${copies} messages`);
  }
  for (const [messageId, copies] of sink.countByMessageId()) assert.equal(copies, 1, `${messageId} stored ${copies} times`);

  // The message the sink held when the worker died was delivered but never confirmed: unknown, not resent.
  assert.ok(killedWhileHolding);
  const heldId = rows.find((r) => r.email === killedWhileHolding)!.id;
  assert.equal(sends.get(heldId)?.state, 'unknown');
  assert.equal(sink.messagesTo(killedWhileHolding).length, 1);

  // The summary accounts for every recipient and agrees with the rows.
  assertCountsAddUp(summary, RECIPIENTS);
  assert.ok(summary.counts.unknown >= 1);
  assert.equal(summary.counts.unknown, byState.get('unknown') ?? 0);
  assert.equal(summary.counts.dead, byState.get('dead') ?? 0);
  // Truthful after a crash: keys the killed worker sent count as sent by this run, not as deduped (issue 19).
  assert.equal(summary.counts.deduped, 0, 'no key was finished before this run began');
  assert.equal(summary.counts.sent, byState.get('sent') ?? 0);
  const unknownDelivered = [...sends].filter(([id, row]) => row.state === 'unknown' && sink.messagesTo(emailOf.get(id)!).length === 1).length;
  assert.equal(summary.counts.sent + unknownDelivered, sink.count, 'sent + unknown-delivered = the messages this run put at the server');
  // Every stored message belongs to a key recorded as sent or unknown (never to one declared dead).
  const idOf = new Map(rows.map((r) => [r.email, r.id]));
  for (const m of sink.messages()) {
    const state = sends.get(idOf.get(m.envelopeRcpt[0]!)!)?.state;
    assert.ok(state === 'sent' || state === 'unknown', `a message to a recipient whose key ended ${state}`);
  }
});
