/**
 * The failure branch closes only what is this run's (src/sends/failure-branch.ts). Two runs of one window can both
 * hold a lock (a lock lost to a Redis restart); when one run's send fails for good on a key the other run finished
 * or is sending, the key is the other run's — reported `deduped`, left as it is — or two summaries would promise
 * the same email (seen in CI: 4 + 120 `sent` for 120 messages at the server).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claim, markSent, writeDeadLetter, type ClaimRequest, type DeadLetterRequest } from '../../src/sends';
import { createTestDatabase } from '../../devkit/test-database';

const claimBy = (runId: string, key: string, leaseMs = 60_000): ClaimRequest => ({
  key, jobName: 'owners', template: 't', recipientId: key, window: '2026-11-30', fence: 1, runId,
  messageId: `<${key}@sendonce.test>`, leaseMs, maximumAttempts: 3, resendUnknownOnce: false,
});
const deadLetterBy = (runId: string, key: string): DeadLetterRequest => ({
  key, jobName: 'owners', template: 't', recipientId: key, window: '2026-11-30', runId, fence: 1,
  messageId: `<${key}@sendonce.test>`, errorType: 'ClaimBusyError', message: 'claimed by a live attempt',
});

test("the failure branch leaves another run's keys alone and reports them deduped; its own and abandoned ones it closes", async (t) => {
  const db = await createTestDatabase('owners');
  t.after(() => db.drop());
  const row = async (key: string) =>
    (await db.pool.query<{ state: string; run_id: string }>('SELECT state, run_id FROM sendonce.email_sends WHERE idempotency_key = $1', [key])).rows[0];
  const deadLetters = async (key: string) =>
    Number((await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM sendonce.dead_letters WHERE idempotency_key = $1', [key])).rows[0]!.n);

  // Sent by run B: run A's failure branch must not count it as its own `sent`.
  const sent = await claim(db.pool, claimBy('run-B', 'sent-by-B'));
  assert.equal(sent.kind, 'claimed');
  assert.equal(await markSent(db.pool, 'sent-by-B', 1), true);
  assert.equal(await writeDeadLetter(db.pool, deadLetterBy('run-A', 'sent-by-B')), 'deduped');
  assert.deepEqual(await row('sent-by-B'), { state: 'sent', run_id: 'run-B' });

  // Being sent by run B right now (live claim): not turned `unknown` under B's feet.
  assert.equal((await claim(db.pool, claimBy('run-B', 'sending-by-B'))).kind, 'claimed');
  assert.equal(await writeDeadLetter(db.pool, deadLetterBy('run-A', 'sending-by-B')), 'deduped');
  assert.deepEqual(await row('sending-by-B'), { state: 'claimed', run_id: 'run-B' });
  assert.equal(await markSent(db.pool, 'sending-by-B', 1), true, "B's attempt still records its outcome");

  // Claimed by a run whose attempt is gone (lease expired): the server may have it — unknown, as before.
  assert.equal((await claim(db.pool, claimBy('run-B', 'abandoned-by-B', 1))).kind, 'claimed');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(await writeDeadLetter(db.pool, deadLetterBy('run-A', 'abandoned-by-B')), 'unknown');

  // This run's own sent key (its SMTP accept was recorded, the activity failed afterwards): sent, as before.
  assert.equal((await claim(db.pool, claimBy('run-A', 'sent-by-A'))).kind, 'claimed');
  await markSent(db.pool, 'sent-by-A', 1);
  assert.equal(await writeDeadLetter(db.pool, deadLetterBy('run-A', 'sent-by-A')), 'sent');

  // Never claimed: recorded dead, with its dead letter, as before.
  assert.equal(await writeDeadLetter(db.pool, deadLetterBy('run-A', 'never-claimed')), 'dead');
  assert.equal(await deadLetters('never-claimed'), 1);
  assert.equal(await deadLetters('sent-by-B') + (await deadLetters('sending-by-B')), 0);
});
