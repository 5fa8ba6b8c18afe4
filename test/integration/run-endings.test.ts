/**
 * Issue 19, point 1: every ending is recorded, and ending a run stops its sends within seconds. On real
 * Postgres, Redis, Temporal and SMTP: a run terminated, cancelled, cut off by its run timeout, or failed by an
 * activity out of retries leaves its job_runs row closed (outcome, finished time, counts, error), logs
 * `job_run_finished`, frees its lock for the next tick — and no message reaches the SMTP server more than a few
 * seconds after the end. Terminate and timeout run no workflow code: the reaper closes those.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { JobDefinition } from '../../src/jobs';
import { createLogger } from '../../src/logger';
import { noMetrics } from '../../src/metrics';
import { reapEndedRuns } from '../../src/runs/reaper';
import { testJob, type Harness } from '../support/harness';
import { harnessFor, runBatch, SCHEDULED_AT } from '../support/never-twice';
import { uniqueName } from '../../devkit/databases';
import { eventually } from '../support/eventually';
import { userEmails } from '../../devkit/seed';

/** Long enough to end a run in the middle: 600 recipients at ~50 messages/s. */
const RECIPIENTS = 600;
/** After the end, sends already at the server may finish; nothing may start later than this. */
const QUIET_AFTER_MS = 3_000;

interface World {
  h: Harness;
  job: JobDefinition;
  arrivals: number[];
  logs: Array<Record<string, unknown>>;
  start(opts?: { timeout?: string }): Promise<WorkflowHandle>;
}

async function world(t: TestContext, overrides: Partial<JobDefinition> = {}): Promise<World> {
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger('info', { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const job = testJob({ chunkSize: 10, maxInFlight: 20, ...overrides });
  const h = await harnessFor(t, [job], { logger });
  await h.seedUsers(userEmails(RECIPIENTS));
  const arrivals: number[] = [];
  h.sink.onData(() => {
    arrivals.push(Date.now());
    return { delayMs: 100, then: 'accept' };
  });
  const start = (opts: { timeout?: string } = {}) =>
    h.client.workflow.start('batchWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: uniqueName(`${job.name}-run`),
      args: [{ jobName: job.name, scheduledAt: SCHEDULED_AT }],
      ...(opts.timeout ? { workflowExecutionTimeout: opts.timeout } : {}),
    });
  return { h, job, arrivals, logs, start };
}

interface RunRow {
  outcome: string;
  finished_at: Date | null;
  sent: number;
  unknown: number;
  processed: number;
  error: string | null;
}

async function runRow(w: World, runId: string): Promise<RunRow> {
  const { rows } = await w.h.db.pool.query<RunRow>('SELECT outcome, finished_at, sent, unknown, processed, error FROM sendonce.job_runs WHERE run_id = $1', [runId]);
  return rows[0]!;
}

/** Wait out the quiet period, then check that nothing arrived at the server later than QUIET_AFTER_MS after `endedAt`. */
async function assertSendsStopped(w: World, endedAt: number): Promise<void> {
  await new Promise((r) => setTimeout(r, QUIET_AFTER_MS + 3_000)); // an observation window: absence needs time to show
  const late = w.arrivals.filter((at) => at > endedAt + QUIET_AFTER_MS);
  assert.equal(late.length, 0, `${late.length} message(s) reached the server more than ${QUIET_AFTER_MS} ms after the run ended`);
  assert.ok(w.arrivals.length < RECIPIENTS, `the run was ended in the middle (${w.arrivals.length} of ${RECIPIENTS} sent)`);
}

/** The lock is free: a new run of the job takes it at once (not `skipped (locked)`) and sends each remaining key. */
async function assertLockFreedAndRestCompletes(w: World): Promise<void> {
  assert.equal(await w.h.redis.get(`${w.h.keyPrefix}job:${w.job.name}:lock`), null, 'the lock is released');
  const next = await runBatch(w.h, w.job);
  assert.equal(next.outcome, 'completed', `the next run ran: ${JSON.stringify(next)}`);
  for (const address of userEmails(RECIPIENTS)) assert.ok(w.h.sink.messagesTo(address).length <= 1, `${address} got two messages`);
}

const reap = (w: World) => reapEndedRuns({ pool: w.h.db.pool, lock: w.h.deps.lock, logger: w.h.deps.logger, metrics: noMetrics }, w.h.client, { jobName: w.job.name });

const finishedLine = (w: World, runId: string) => w.logs.find((l) => l.msg === 'job_run_finished' && l.runId === runId);

test('terminated mid-run: sends stop within seconds; the reaper records `terminated` with the counts and frees the lock', async (t) => {
  const w = await world(t);
  const handle = await w.start();
  await eventually(async () => w.arrivals.length >= 50, 'the run to be sending');
  const endedAt = Date.now();
  await handle.terminate('issue 19 test');
  await assertSendsStopped(w, endedAt);

  const runId = (await handle.describe()).runId;
  const reaped = await reap(w);
  assert.deepEqual(reaped.map((r) => r.outcome), ['terminated']);
  const row = await runRow(w, runId);
  assert.equal(row.outcome, 'terminated');
  assert.ok(row.finished_at);
  assert.match(row.error ?? '', /workflow terminated; closed by the reaper/);
  const sentRows = await w.h.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sendonce.email_sends WHERE run_id = $1 AND state = 'sent'`, [runId]);
  assert.equal(row.sent, sentRows.rows[0]!.n, 'the counts are what its claims left');
  assert.ok(row.sent + row.unknown >= w.h.sink.count, `every message at the server is counted sent or unknown (${row.sent} + ${row.unknown} vs ${w.h.sink.count})`);
  assert.equal(finishedLine(w, runId)?.outcome, 'terminated', 'job_run_finished logged');
  assert.deepEqual(await reap(w), [], 'a second reaper finds nothing to do');
  await assertLockFreedAndRestCompletes(w);
});

test('cancelled mid-run: the workflow records `cancelled` itself within seconds, fences off its stragglers and frees the lock', async (t) => {
  const w = await world(t);
  const handle = await w.start();
  await eventually(async () => w.arrivals.length >= 50, 'the run to be sending');
  const endedAt = Date.now();
  await handle.cancel();
  const error = await handle.result().then(() => undefined, (err: unknown) => err);
  assert.ok(error instanceof WorkflowFailedError, `cancelled: ${String(error)}`);
  const closedAfter = Date.now() - endedAt;
  assert.ok(closedAfter < 10_000, `closed ${closedAfter} ms after the cancel request`);
  await assertSendsStopped(w, endedAt);

  const runId = (await handle.describe()).runId;
  const row = await runRow(w, runId);
  assert.equal(row.outcome, 'cancelled');
  assert.ok(row.finished_at);
  assert.ok(row.sent > 0 && row.processed >= row.sent, `counts so far: ${JSON.stringify(row)}`);
  assert.equal(finishedLine(w, runId)?.outcome, 'cancelled');
  assert.ok(w.logs.some((l) => l.msg === 'job_fenced_off' && l.runId === runId), 'the fence was bumped');
  assert.deepEqual(await reap(w), [], 'nothing left for the reaper');
  await assertLockFreedAndRestCompletes(w);
});

test('cut off by its run timeout: sends stop within seconds; the reaper records `timed_out`', async (t) => {
  const w = await world(t);
  const handle = await w.start({ timeout: '4s' });
  const error = await handle.result().then(() => undefined, (err: unknown) => err);
  const endedAt = Date.now();
  assert.ok(error instanceof WorkflowFailedError, `timed out: ${String(error)}`);
  await assertSendsStopped(w, endedAt);

  const runId = (await handle.describe()).runId;
  assert.deepEqual((await reap(w)).map((r) => r.outcome), ['timed_out']);
  const row = await runRow(w, runId);
  assert.equal(row.outcome, 'timed_out');
  assert.match(row.error ?? '', /workflow timed_out/);
  assert.equal(finishedLine(w, runId)?.outcome, 'timed_out');
  await assertLockFreedAndRestCompletes(w);
});

test('a bookkeeping activity out of retries: the run records `failed` with the error and frees the lock', async (t) => {
  let broken = true;
  const w = await world(t, {
    async recipientPage(db, args) {
      if (broken) throw new Error('recipient query broken on purpose');
      return testJob().recipientPage(db, args);
    },
  });
  const handle = await w.start();
  const error = await handle.result().then(() => undefined, (err: unknown) => err);
  assert.ok(error instanceof WorkflowFailedError, `failed: ${String(error)}`);
  const runId = (await handle.describe()).runId;
  const row = await runRow(w, runId);
  assert.equal(row.outcome, 'failed');
  assert.match(row.error ?? '', /fetchRecipientPage: recipient query broken on purpose/);
  const line = finishedLine(w, runId);
  assert.equal(line?.outcome, 'failed');
  assert.equal(line?.level, 'error');
  broken = false;
  await assertLockFreedAndRestCompletes(w);
});

test('time budget: a run that runs out of time ends `stopped` (time_budget); the next tick sends the rest, each once', async (t) => {
  const w = await world(t, { timeBudget: '2s', chunkSize: 5, maxInFlight: 5 });
  const first = (await runBatch(w.h, w.job)) ;
  assert.equal(first.outcome, 'stopped');
  assert.equal(first.reason, 'time_budget');
  assert.ok(first.counts.sent > 0 && first.counts.sent < RECIPIENTS, `sent ${first.counts.sent} before the budget ran out`);
  assert.equal(first.counts.sent, w.h.sink.count, 'what was in flight finished and is counted');
  const seconds: number[] = [];
  for (let tick = 0; tick < 20 && w.h.sink.count < RECIPIENTS; tick++) {
    const next = await runBatch(w.h, w.job);
    t.diagnostic(JSON.stringify({ outcome: next.outcome, reason: next.reason, ...next.counts }));
    seconds.push(next.counts.sent);
  }
  assert.equal(w.h.sink.count, RECIPIENTS, `later ticks sent the rest (${seconds.join(', ')})`);
  for (const address of userEmails(RECIPIENTS)) assert.equal(w.h.sink.messagesTo(address).length, 1, `${address}`);
});
