/**
 * Issue 5, acceptance 6: an email scheduled (with the CLI) two ticks ahead is sent by the first tick at or after
 * its time — exactly once, across a worker restart between scheduling and sending, and a later backfill of
 * that tick sends nothing new. Real schedule (every 2 s), worker, Postgres and SMTP sink.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { backfill } from '../../src/api';
import { upsertSchedule } from '../../src/schedule';
import { temporalAddress } from '../../devkit/shared-services';
import { uniqueName } from '../../devkit/databases';
import { oneOffNotices as job } from '../fixtures/one-off-jobs';
import { runSendonce } from '../support/cli';
import { startHarness } from '../support/harness';
import { eventually } from '../support/eventually';

const TICK_MS = 2_000;

interface RunRow {
  run_id: string;
  scheduled_at: Date;
  started_at: Date;
  outcome: string;
  sent: number;
}

test('one-off email a few ticks ahead: sent once by the first tick at or after it, across a worker restart', async (t) => {
  const h = await startHarness({ jobs: [job] });
  t.after(() => h.close());
  await h.startWorker();
  const idPrefix = uniqueName('once');
  const schedule = await upsertSchedule(h.client, job, { taskQueue: h.taskQueue, idPrefix });
  t.after(() => schedule.delete().catch(() => undefined));

  // On the grid, five ticks (10 s) ahead: the CLI below must write the row before it is due, and starting it
  // (node, tsx, the jobs module) took more than two 2-second ticks on a loaded machine.
  const due = new Date(Math.ceil(Date.now() / TICK_MS) * TICK_MS + 5 * TICK_MS);
  const to = 'once@example.com';
  const env = { TEMPORAL_ADDRESS: temporalAddress(), TASK_QUEUE: h.taskQueue, DATABASE_URL: h.db.url, SENDONCE_JOBS_MODULE: path.resolve(__dirname, '../fixtures/one-off-jobs.ts') };
  const cli = await runSendonce(['email', 'schedule', '--to', to, '--template', 'notice', '--at', due.toISOString(),
    '--values', JSON.stringify({ subject: 'Your appointment', body: 'See you <soon>' })], env);
  assert.equal(cli.code, 0, cli.stderr);
  const rowId = /scheduled email (\d+) \(job one-off-notices\) due /.exec(cli.stdout)?.[1];
  assert.ok(rowId, cli.stdout);
  const { rows: [row] } = await h.db.pool.query<{ created_at: Date }>('SELECT created_at FROM sendonce.scheduled_emails WHERE id = $1', [rowId]);
  assert.ok(row!.created_at < due, 'scheduled before it was due');

  await h.stopWorker(); // the worker goes away between scheduling and sending …
  assert.equal(h.sink.messagesTo(to).length, 0);
  await h.startWorker(); // … and a new one takes over

  // A tick's run may have had a bookkeeping activity in flight on the stopped worker: Temporal gives it again after
  // its 30 s start-to-close timeout (src/retry.ts), and the schedule skips ticks until that run ends — so allow
  // that, plus the run and the next tick (a CI run waited 30 s and failed with the first run still `running`).
  await eventually(async () => h.sink.messagesTo(to).length === 1, 'the one-off email', 75_000);
  const message = h.sink.messagesTo(to)[0]!;
  assert.equal(message.subject, 'Your appointment');
  assert.match(message.html ?? '', /See you &lt;soon&gt;/);

  // The sink has the message before it answers 250, and the row is marked `sent` only after that answer: wait for it.
  const send = await eventually(async () => {
    const { rows: [r] } = await h.db.pool.query<{ state: string; run_id: string; idempotency_key: string }>(
      `SELECT state, run_id, idempotency_key FROM sendonce.email_sends WHERE job_name = $1`, [job.name]);
    return r?.state === 'sent' ? r : undefined;
  }, 'the key marked sent');
  assert.equal(send.idempotency_key, `email:notice:${rowId}:once`);
  const runs = async () => (await h.db.pool.query<RunRow>(
    `SELECT run_id, scheduled_at, started_at, outcome, sent FROM sendonce.job_runs WHERE job_name = $1 ORDER BY scheduled_at, started_at`, [job.name])).rows;
  const sender = (await runs()).find((r) => r.run_id === send.run_id)!;
  assert.ok(sender.scheduled_at.getTime() >= due.getTime(), `sent by a tick at or after its time (${sender.scheduled_at.toISOString()} ≥ ${due.toISOString()})`);
  // The first tick at or after the due time that ran once the row existed (a tick that started before the CLI
  // committed could not see it) is the one that sent it.
  const earlierDue = (await runs()).filter((r) => r.scheduled_at.getTime() >= due.getTime() && r.scheduled_at < sender.scheduled_at
    && r.outcome === 'completed' && r.started_at > row!.created_at);
  assert.deepEqual(earlierDue, [], 'no earlier completed tick at or after the due time left it unsent');

  // Later ticks, and a backfill of the tick that sent it, send nothing new.
  await eventually(async () => (await runs()).filter((r) => r.scheduled_at > sender.scheduled_at && r.outcome === 'completed').length >= 2, 'two later ticks');
  await backfill(h.client, { job, idPrefix, pool: h.db.pool, from: sender.scheduled_at, to: sender.scheduled_at });
  await eventually(async () => (await runs()).filter((r) => r.scheduled_at.getTime() === sender.scheduled_at.getTime()).length >= 2
    && (await runs()).every((r) => r.outcome !== 'running'), 'the backfilled tick');
  const all = await runs();
  assert.equal(all.reduce((n, r) => n + r.sent, 0), 1, `one send across ${all.length} runs`);
  assert.deepEqual(all.filter((r) => r.scheduled_at < due).map((r) => r.sent).filter((n) => n > 0), [], 'nothing sent before it was due');
  assert.equal(h.sink.messagesTo(to).length, 1, 'exactly one message');
});
