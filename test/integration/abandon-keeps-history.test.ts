/**
 * Giving a claim back (src/sends/marks.ts `abandon`: the recipient turned out ineligible or suppressed, nothing was
 * sent by that attempt) never deletes history (issue 29, point 7). A row claimed again after earlier attempts, a
 * redriven dead letter, a resolved `unknown` or an ambiguous attempt under resend-once keeps all of it: deleting it
 * broke the dead_letters foreign key, cascaded the resolutions away and erased the only record that a message may
 * already be out. Only a fresh claim with no history is deleted, so that the key stays open exactly as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import { redriveDeadLetters } from '../../src/api';
import { withTransaction } from '../../src/db/transaction';
import {
  abandon, claim, finishedKeys, markFailed, markUnknown, reopenDeadLetter, resolveUnknownKeys, writeDeadLetter,
  type ClaimRequest, type DeadLetterRequest,
} from '../../src/sends';
import { createTestDatabase } from '../../devkit/test-database';
import { userEmails } from '../../devkit/seed';
import { testJob } from '../support/harness';
import { deadLetters, harnessFor, runBatch, sendRows } from '../support/never-twice';

const JOB = 'given-back';

const request = (key: string, opts: Partial<ClaimRequest> = {}): ClaimRequest => ({
  key, jobName: JOB, template: 't', recipientId: key, window: '2026-11-30', fence: 1, runId: 'run-1',
  messageId: `<${key}@sendonce.test>`, leaseMs: 60_000, maximumAttempts: 3, resendUnknownOnce: false, ...opts,
});

const deadLetterRequest = (key: string, errorType: string): DeadLetterRequest => ({
  key, jobName: JOB, template: 't', recipientId: key, window: '2026-11-30', runId: 'run-1', fence: 1,
  messageId: `<${key}@sendonce.test>`, errorType, message: 'refused for good',
});

interface Row {
  id: number;
  state: string;
  attempts: number;
  resends: number;
  last_error_type: string | null;
  last_smtp_code: number | null;
  reason: string | null;
}

async function rowOf(pool: Pool, key: string): Promise<Row | undefined> {
  const { rows } = await pool.query<Row>(
    `SELECT id::int AS id, state, attempts, resends, last_error_type, last_smtp_code, reason
       FROM sendonce.email_sends WHERE idempotency_key = $1`,
    [key],
  );
  return rows[0];
}

async function countOf(pool: Pool, table: 'dead_letters' | 'unknown_resolutions', key: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM sendonce.${table} WHERE idempotency_key = $1`, [key]);
  return rows[0]!.n;
}

async function claimed(pool: Pool, req: ClaimRequest): Promise<{ attempt: number; resends: number }> {
  const result = await claim(pool, req);
  assert.equal(result.kind, 'claimed', `claim of ${req.key}: ${JSON.stringify(result)}`);
  return result as { attempt: number; resends: number };
}

test('a fresh claim given back leaves no row, as before: the key is open and the next claim is its first attempt', async (t) => {
  const db = await createTestDatabase('abandon_fresh');
  t.after(() => db.drop());
  const { attempt } = await claimed(db.pool, request('fresh'));
  await abandon(db.pool, 'fresh', attempt + 1, 'ineligible');
  assert.equal((await rowOf(db.pool, 'fresh'))?.state, 'claimed', 'an attempt that does not own the claim gives nothing back');
  await abandon(db.pool, 'fresh', attempt, 'ineligible');
  assert.equal(await rowOf(db.pool, 'fresh'), undefined);
  assert.deepEqual(await claim(db.pool, request('fresh')), { kind: 'claimed', attempt: 1, resends: 0 });
});

test('after failed attempts: the row keeps its attempts and last error, the give-back uses no attempt, the key stays open', async (t) => {
  const db = await createTestDatabase('abandon_failed');
  t.after(() => db.drop());
  const key = 'failed-then-ineligible';
  await claimed(db.pool, request(key));
  assert.equal(await markFailed(db.pool, key, 1, { errorType: 'SmtpTransientError', smtpCode: 451, reason: '451 try later' }), true);
  const second = await claimed(db.pool, request(key));
  assert.equal(second.attempt, 2);
  const gaveBack = await abandon(db.pool, key, second.attempt, 'ineligible');

  const row = await rowOf(db.pool, key);
  assert.ok(row, 'the row with an earlier attempt is kept');
  assert.equal(gaveBack, 'released');
  assert.equal(row.state, 'released');
  assert.equal(row.attempts, 1, 'the attempt that gave its claim back never reached the server: not counted');
  assert.deepEqual([row.last_error_type, row.last_smtp_code], ['SmtpTransientError', 451], 'the earlier failure is kept');
  assert.match(row.reason ?? '', /given back.*ineligible/);
  assert.equal((await finishedKeys(db.pool, [key])).size, 0, 'not finished: page reads still offer it to a send');

  // Open, as deleting left it: a later run claims it again, within the same bound (3 attempts at the server).
  assert.equal((await claimed(db.pool, request(key, { runId: 'run-2' }))).attempt, 2);
  await markFailed(db.pool, key, 2, { errorType: 'SmtpTransientError', smtpCode: 451 });
  assert.equal((await claimed(db.pool, request(key, { runId: 'run-2' }))).attempt, 3);
  await markFailed(db.pool, key, 3, { errorType: 'SmtpTransientError', smtpCode: 451 });
  assert.deepEqual(await claim(db.pool, request(key, { runId: 'run-2' })), { kind: 'exhausted', attempts: 3 });
  assert.equal(await writeDeadLetter(db.pool, { ...deadLetterRequest(key, 'AttemptsExhaustedError'), runId: 'run-2' }), 'dead');
  assert.equal(await countOf(db.pool, 'dead_letters', key), 1);
});

test('after a dead letter and its redrive: the give-back keeps the dead letter and leaves the key open', async (t) => {
  const db = await createTestDatabase('abandon_redriven');
  t.after(() => db.drop());
  const key = 'redriven-then-suppressed';
  await claimed(db.pool, request(key));
  await markFailed(db.pool, key, 1, { errorType: 'SmtpPermanentError', smtpCode: 550, reason: '550 policy' });
  assert.equal(await writeDeadLetter(db.pool, deadLetterRequest(key, 'SmtpPermanentError')), 'dead');
  const { rows: letters } = await db.pool.query<{ id: number }>('SELECT id::int AS id FROM sendonce.dead_letters WHERE idempotency_key = $1', [key]);
  await withTransaction(db.pool, (client) => reopenDeadLetter(client, letters[0]!.id, key));

  // The redrive run claims the key; the recipient is suppressed by now. Deleting the row here broke the foreign key
  // of the dead letter: the give-back failed, the claim stayed open, and the key ended `unknown` though nothing was sent.
  const redrive = await claimed(db.pool, request(key, { runId: 'run-redrive' }));
  const gaveBack = await abandon(db.pool, key, redrive.attempt, 'suppressed');

  const { rows: kept } = await db.pool.query<{ redriven: boolean }>(
    'SELECT redriven_at IS NOT NULL AS redriven FROM sendonce.dead_letters WHERE idempotency_key = $1',
    [key],
  );
  assert.deepEqual(kept, [{ redriven: true }], 'the dead letter is kept, marked redriven');
  const row = await rowOf(db.pool, key);
  assert.deepEqual([row?.state, row?.attempts], ['released', 0], 'open, with the attempts the redrive gave it');
  assert.match(row?.reason ?? '', /given back.*suppressed/);
  assert.equal(gaveBack, 'released');
  assert.equal((await claimed(db.pool, request(key, { runId: 'run-redrive-2' }))).attempt, 1, 'a later run sends it, once');
});

test('after an unknown resolved as resend: the resolution is kept and the key is unknown again, not sendable without a person', async (t) => {
  const db = await createTestDatabase('abandon_resolved');
  t.after(() => db.drop());
  const key = 'resolved-then-ineligible';
  await claimed(db.pool, request(key));
  await markUnknown(db.pool, key, 1, { errorType: 'SmtpAmbiguousError', reason: 'connection closed after DATA' });
  const id = (await rowOf(db.pool, key))!.id;
  await withTransaction(db.pool, (client) => resolveUnknownKeys(client, [id], 'resend', 'customer asked', 'alice'));

  const resend = await claimed(db.pool, request(key, { runId: 'run-resend' }));
  const gaveBack = await abandon(db.pool, key, resend.attempt, 'ineligible');

  assert.equal(await countOf(db.pool, 'unknown_resolutions', key), 1, 'who decided what, when and why is kept');
  const row = await rowOf(db.pool, key);
  assert.ok(row, 'the row is kept');
  assert.equal(gaveBack, 'unknown');
  assert.deepEqual([row.state, row.attempts, row.last_error_type], ['unknown', 0, 'SmtpAmbiguousError'], JSON.stringify(row));
  assert.match(row.reason ?? '', /given back.*ineligible.*may have reached the server/);
  // The first copy may have arrived and the resend was never made: no run sends it again on its own …
  assert.deepEqual(await claim(db.pool, request(key, { runId: 'run-later' })), { kind: 'duplicate', state: 'unknown', byThisRun: false });
  assert.equal((await finishedKeys(db.pool, [key])).get(key)?.state, 'unknown');
  // … a person decides again (`sendonce unknown resolve`), and both decisions are on record.
  await withTransaction(db.pool, (client) => resolveUnknownKeys(client, [id], 'resend', 'asked again', 'alice'));
  assert.equal(await countOf(db.pool, 'unknown_resolutions', key), 2);
  assert.equal((await claimed(db.pool, request(key, { runId: 'run-resend-2' }))).attempt, 1);
});

test('under resend-once after an ambiguous attempt: the resend record is kept and the key does not become sendable again', async (t) => {
  const db = await createTestDatabase('abandon_resend_once');
  t.after(() => db.drop());
  const once = (key: string, opts: Partial<ClaimRequest> = {}) => request(key, { resendUnknownOnce: true, ...opts });

  await t.test('the reply to DATA was lost; the resend attempt finds the recipient suppressed', async () => {
    const key = 'ambiguous-then-suppressed';
    await claimed(db.pool, once(key));
    // What record-outcome.ts does with an ambiguous reply under resend-once: failed, the resend used, retried.
    await markFailed(db.pool, key, 1, { errorType: 'SmtpAmbiguousError', reason: 'connection closed after DATA' }, { consumeResend: true });
    const resend = await claimed(db.pool, once(key));
    assert.deepEqual(resend, { kind: 'claimed', attempt: 2, resends: 1 });
    const gaveBack = await abandon(db.pool, key, resend.attempt, 'suppressed');

    const row = await rowOf(db.pool, key);
    assert.ok(row, 'the row that says a copy may be out is kept');
    assert.equal(gaveBack, 'unknown');
    assert.deepEqual([row.state, row.attempts, row.resends, row.last_error_type], ['unknown', 1, 1, 'SmtpAmbiguousError'], JSON.stringify(row));
    assert.match(row.reason ?? '', /given back.*suppressed.*may have reached the server/);
    assert.deepEqual(await claim(db.pool, once(key, { runId: 'run-2' })), { kind: 'duplicate', state: 'unknown', byThisRun: false });
  });

  await t.test('the attempt died with its claim open; the resend attempt finds the recipient ineligible', async () => {
    const key = 'lost-then-ineligible';
    await claimed(db.pool, once(key, { leaseMs: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const resend = await claimed(db.pool, once(key));
    assert.deepEqual(resend, { kind: 'claimed', attempt: 2, resends: 1 }, 'the expired claim is taken over as the one resend');
    const gaveBack = await abandon(db.pool, key, resend.attempt, 'ineligible');

    const row = await rowOf(db.pool, key);
    assert.ok(row, 'the row that says a copy may be out is kept');
    assert.equal(gaveBack, 'unknown');
    assert.deepEqual([row.state, row.attempts, row.resends], ['unknown', 1, 1], JSON.stringify(row));
    assert.deepEqual(await claim(db.pool, once(key, { runId: 'run-2' })), { kind: 'duplicate', state: 'unknown', byThisRun: false });
  });
});

test('through a real redrive run: the recipient opted out meanwhile — nothing sent, the dead letter kept, the key open', async (t) => {
  const job = testJob({}, { maximumAttempts: 3 });
  const h = await harnessFor(t, [job]);
  const addresses = userEmails(2, 'giveback.test');
  const ids = await h.seedUsers(addresses);
  const [refused] = addresses as [string, string];
  h.sink.rejectRcpt((a) => (a === refused ? { code: 550, message: '5.7.1 Message rejected as spam' } : undefined));
  const day = await runBatch(h, job);
  assert.deepEqual([day.counts.sent, day.counts.dead], [1, 1], JSON.stringify(day.counts));
  h.sink.rejectRcpt(undefined);
  const letterId = (await h.db.pool.query<{ id: number }>('SELECT id::int AS id FROM sendonce.dead_letters')).rows[0]!.id;
  const redrive = () => redriveDeadLetters(h.client, h.db.pool, { ids: [letterId], jobs: h.deps.jobs, taskQueue: h.taskQueue, wait: true });

  // Opted out before the redrive: its run claims the key, finds the recipient ineligible and gives the claim back.
  // Deleting the row there failed on the dead letter's foreign key: the send was retried until the key ended
  // `unknown`, though nothing had been sent.
  await h.db.pool.query('UPDATE users SET digest_opt_in = false WHERE id = $1::bigint', [ids[0]]);
  const first = await redrive();
  const summary = first.runs[0]?.summary;
  assert.deepEqual([summary?.outcome, summary?.counts.ineligible, summary?.counts.unknown, summary?.counts.sent], ['completed', 1, 0, 0], JSON.stringify(summary?.counts));
  assert.equal(h.sink.messagesTo(refused).length, 0);
  assert.deepEqual((await deadLetters(h, job)).map((d) => [d.recipient_id, d.smtp_code]), [[ids[0], 550]], 'the dead letter is kept');
  const row = (await sendRows(h, job)).get(ids[0]!);
  assert.deepEqual([row?.state, row?.attempts], ['released', 0], 'open, with the attempts the redrive gave it');

  // Back in: the same redrive again picks the open key up and sends it, once.
  await h.db.pool.query('UPDATE users SET digest_opt_in = true WHERE id = $1::bigint', [ids[0]]);
  const second = await redrive();
  assert.deepEqual([second.redriven, second.alreadyRedriven], [[], [letterId]]);
  assert.equal(second.runs[0]?.summary?.counts.sent, 1, JSON.stringify(second.runs[0]?.summary?.counts));
  assert.equal(h.sink.messagesTo(refused).length, 1);
  assert.equal((await sendRows(h, job)).get(ids[0]!)?.state, 'sent');
  assert.equal((await redrive()).runs.length, 0, 'redriving once more starts nothing');
});
