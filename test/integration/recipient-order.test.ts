/**
 * Issue 19, point 6: the recipient query cannot drop people silently. A job whose keyset query orders ids as text
 * ('10' < '9') used to skip 899 of 2,000 recipients and report `completed`; now every page is checked to advance
 * strictly past the cursor in the job's declared order, and the run ends `failed` with reason
 * `recipient_page_out_of_order`, naming the job and the ids — before anyone is skipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { assertAdvances } from '../../src/activities/fetch-recipient-page';
import type { JobDefinition } from '../../src/jobs';
import { testJob } from '../support/harness';
import { harnessFor, runBatch, startBatch } from '../support/never-twice';
import { userEmails } from '../../devkit/seed';

/** The trap: ids selected as text and ordered by the text alias, the cursor compared as text too. */
const textOrdered = (): Partial<JobDefinition> => ({
  async recipientPage(db, { afterId, limit }) {
    const { rows } = await db.query<{ id: string }>(
      `SELECT id::text AS id FROM users WHERE digest_opt_in AND ($1::text IS NULL OR id::text > $1) ORDER BY id LIMIT $2`,
      [afterId, limit],
    );
    return rows.map((r) => r.id);
  },
});

test('a text-ordered keyset query over numeric ids fails the run (recipient_page_out_of_order) instead of skipping people', async (t) => {
  const job = testJob({ ...textOrdered(), pageSize: 500 });
  const h = await harnessFor(t, [job]);
  await h.seedUsers(userEmails(2_000));
  const handle = await startBatch(h, job);
  const error = await handle.result().then(() => undefined, (err: unknown) => err);
  assert.ok(error instanceof WorkflowFailedError, `the run failed: ${String(error)}`);
  const { rows } = await h.db.pool.query<{ outcome: string; reason: string; error: string }>(
    'SELECT outcome, reason, error FROM sendonce.job_runs WHERE run_id = $1',
    [handle.firstExecutionRunId],
  );
  assert.equal(rows[0]?.outcome, 'failed');
  assert.equal(rows[0]?.reason, 'recipient_page_out_of_order');
  assert.match(rows[0]?.error ?? '', new RegExp(`job '${job.name}': recipient page out of order: '\\d+' does not come after '\\d+' in bigint order`));
  assert.equal(h.sink.count, 0, 'nothing was sent from a page in the wrong order');
  assert.equal(await h.redis.get(`${h.keyPrefix}job:${job.name}:lock`), null, 'the lock is released');
});

test('the same ids in their own order pass, and a job may declare text or uuid ids', async (t) => {
  const job = testJob({ pageSize: 500 });
  const h = await harnessFor(t, [job]);
  await h.seedUsers(userEmails(1_200));
  const summary = await runBatch(h, job);
  assert.equal(summary.outcome, 'completed');
  assert.equal(summary.counts.sent, 1_200);

  // The check itself, per declared order (unit level: no query needed).
  const named = (idOrder: JobDefinition['idOrder']) => ({ name: 'j', idOrder });
  assert.doesNotThrow(() => assertAdvances(named('text'), '1', ['10', '100', '9']));
  assert.throws(() => assertAdvances(named('bigint'), '1', ['10', '100', '9']), /'9' does not come after '100' in bigint order/);
  assert.throws(() => assertAdvances(named('bigint'), '5', ['5']), /'5' does not come after '5'/);
  assert.throws(() => assertAdvances(named('bigint'), null, ['a1']), /recipient id 'a1' is not a bigint id; declare the job's idOrder/);
  assert.doesNotThrow(() => assertAdvances(named('uuid'), null, ['0a0e8b2c-0000-4000-8000-000000000000', 'F0000000-0000-4000-8000-000000000000']));
  assert.throws(() => assertAdvances(named('uuid'), 'f0000000-0000-4000-8000-000000000000', ['0a0e8b2c-0000-4000-8000-000000000000']), /in uuid order/);
});
