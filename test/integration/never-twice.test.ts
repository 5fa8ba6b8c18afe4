/**
 * Issue 3: never twice per window, bounded retries, nothing lost silently — each against real Postgres, the
 * Temporal dev server and the fault-injecting SMTP sink (one harness per test: own database, sink, queue).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobDefinition } from '../../src/jobs';
import { historyChain } from '../../devkit/runs';
import { userEmails } from '../../devkit/seed';
import { testJob } from '../support/harness';
import {
  assertCountsAddUp, assertNoneSkipped, assertOneEach, deadLetters, harnessFor, rowOf, runBatch, sendRows, startBatch, workflowIdFor,
} from '../support/never-twice';

test('dedupe: a window processed twice sends once; repeat runs and a re-run of the same workflow id skip everyone', async (t) => {
  const job = testJob();
  const h = await harnessFor(t, [job]);
  const addresses = userEmails(8);
  await h.seedUsers(addresses);
  const workflowId = workflowIdFor(job);

  const first = await runBatch(h, job, { workflowId });
  assert.equal(first.outcome, 'completed');
  assert.equal(first.counts.sent, addresses.length);
  assertCountsAddUp(first, addresses.length);

  // A second run of the same tick (another workflow id, same nominal time) …
  const second = await runBatch(h, job);
  // … and the same workflow id started again after the first completed (a backfill of an already-processed tick).
  const third = await runBatch(h, job, { workflowId });
  for (const repeat of [second, third]) {
    assert.equal(repeat.outcome, 'completed');
    assert.equal(repeat.window, first.window);
    assert.notEqual(repeat.runId, first.runId);
    assert.equal(repeat.counts.sent, 0);
    assert.equal(repeat.counts.deduped, addresses.length);
    assertCountsAddUp(repeat, addresses.length);
  }
  assertOneEach(h, addresses);
  assert.equal(h.sink.count, addresses.length);
});

for (const code of [421, 451]) {
  test(`transient: ${code} twice for one recipient (maximumAttempts 4) → delivered once on the third attempt`, async (t) => {
    const job = testJob({}, { maximumAttempts: 4 });
    const h = await harnessFor(t, [job]);
    const addresses = userEmails(5);
    const ids = await h.seedUsers(addresses);
    const flaky = addresses[2]!;
    h.sink.failTimes(flaky, 2, code);

    const summary = await runBatch(h, job);
    assert.equal(summary.outcome, 'completed');
    assert.equal(summary.counts.sent, addresses.length);
    assert.equal(summary.counts.dead, 0);
    assert.ok(summary.counts.retries >= 2, `retries ${summary.counts.retries}`);
    assertCountsAddUp(summary, addresses.length);
    assertOneEach(h, addresses);
    assert.equal(h.sink.rcptAttempts(flaky), 3);
    const row = rowOf(await sendRows(h, job), ids[2]!);
    assert.equal(row.state, 'sent');
    assert.equal(row.attempts, 3);
    assert.deepEqual(await deadLetters(h, job), []);
  });
}

test('exhausted: always 451 → exactly maximumAttempts tries, one dead letter with the scrubbed reply, run completes', async (t) => {
  const maximumAttempts = 3;
  const job = testJob({}, { maximumAttempts });
  const h = await harnessFor(t, [job]);
  const addresses = userEmails(4);
  const ids = await h.seedUsers(addresses);
  const busy = addresses[1]!;
  h.sink.rejectRcpt((a) => (a === busy ? { code: 451, message: `4.2.0 <${busy}> mailbox busy, try later` } : undefined));

  const summary = await runBatch(h, job);
  assert.equal(summary.outcome, 'completed');
  assert.equal(summary.counts.dead, 1);
  assert.equal(summary.counts.sent, addresses.length - 1);
  assertCountsAddUp(summary, addresses.length);
  assert.equal(h.sink.rcptAttempts(busy), maximumAttempts);
  assert.equal(h.sink.messagesTo(busy).length, 0);
  assertOneEach(h, addresses.filter((a) => a !== busy));

  const row = rowOf(await sendRows(h, job), ids[1]!);
  assert.equal(row.state, 'dead');
  assert.equal(row.attempts, maximumAttempts);
  const dead = await deadLetters(h, job);
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.recipient_id, ids[1]);
  assert.equal(dead[0]!.error_type, 'SmtpTransientError');
  assert.equal(dead[0]!.smtp_code, 451);
  assert.equal(dead[0]!.attempts, maximumAttempts);
  assert.match(dead[0]!.smtp_response ?? '', /451 4\.2\.0 <redacted> mailbox busy/);
  assert.ok(!dead[0]!.smtp_response!.includes('@'), `scrubbed: ${dead[0]!.smtp_response}`);
});

test('permanent: 550 for one recipient → one attempt, a dead letter with 550, no retry', async (t) => {
  const job = testJob({}, { maximumAttempts: 4 });
  const h = await harnessFor(t, [job]);
  const addresses = userEmails(4);
  const ids = await h.seedUsers(addresses);
  const gone = addresses[3]!;
  h.sink.rejectRcpt((a) => (a === gone ? { code: 550, message: '5.1.1 No such user' } : undefined));

  const summary = await runBatch(h, job);
  assert.equal(summary.outcome, 'completed');
  assert.equal(summary.counts.dead, 1);
  assert.equal(summary.counts.retries, 0);
  assertCountsAddUp(summary, addresses.length);
  assert.equal(h.sink.rcptAttempts(gone), 1);
  assertOneEach(h, addresses.filter((a) => a !== gone));
  const row = rowOf(await sendRows(h, job), ids[3]!);
  assert.deepEqual([row.state, row.attempts], ['dead', 1]);
  const dead = await deadLetters(h, job);
  assert.deepEqual(
    dead.map((d) => [d.recipient_id, d.error_type, d.smtp_code, d.attempts]),
    [[ids[3], 'SmtpPermanentError', 550, 1]],
  );
});

/** The demo job's shape, but every recipient also gets a cc: cc-<id>@example.com. */
function ccJob(): JobDefinition {
  const base = testJob({}, { maximumAttempts: 4 });
  return {
    ...base,
    async loadRecipient(db, id) {
      const r = await base.loadRecipient(db, id);
      return r ? { ...r, cc: [`cc-${id}@example.com`] } : null;
    },
  };
}

test('partial rejection: the primary is refused with 550 but the cc accepted → one attempt, dead letter for the primary', async (t) => {
  const job = ccJob();
  const h = await harnessFor(t, [job]);
  const addresses = userEmails(3);
  const ids = await h.seedUsers(addresses);
  const primary = addresses[0]!;
  const cc = `cc-${ids[0]}@example.com`;
  h.sink.rejectRcpt((a) => (a === primary ? { code: 550, message: '5.1.1 No such user' } : undefined));

  const summary = await runBatch(h, job);
  assert.equal(summary.outcome, 'completed');
  assert.equal(summary.counts.dead, 1);
  assert.equal(summary.counts.sent, 2);
  assertCountsAddUp(summary, addresses.length);
  assert.equal(h.sink.rcptAttempts(primary), 1, 'no retry: it would resend to the cc');
  assert.equal(h.sink.rcptAttempts(cc), 1);
  assert.equal(h.sink.messagesTo(cc).length, 1);
  assert.equal(h.sink.messagesTo(primary).length, 0);
  assertOneEach(h, addresses.slice(1));
  const dead = await deadLetters(h, job);
  assert.deepEqual(dead.map((d) => [d.recipient_id, d.error_type, d.smtp_code, d.attempts]), [[ids[0], 'SmtpPermanentError', 550, 1]]);
  assert.equal(rowOf(await sendRows(h, job), ids[0]!).state, 'dead');
});

test('ambiguous: stored, then the connection drops → unknown, never resent by default', async (t) => {
  const job = testJob({}, { maximumAttempts: 4 });
  const h = await harnessFor(t, [job]);
  const addresses = userEmails(4);
  const ids = await h.seedUsers(addresses);
  const lost = addresses[1]!;
  h.sink.onData((ctx) => (ctx.envelopeRcpt.includes(lost) ? 'store-then-drop' : 'accept'));

  const summary = await runBatch(h, job);
  assert.equal(summary.outcome, 'completed');
  assert.equal(summary.counts.unknown, 1);
  assert.equal(summary.counts.dead, 0);
  assert.equal(summary.counts.sent, addresses.length - 1);
  assertCountsAddUp(summary, addresses.length);
  assertOneEach(h, addresses); // the lost one's single copy is the stored one: no second copy
  const row = rowOf(await sendRows(h, job), ids[1]!);
  assert.deepEqual([row.state, row.attempts], ['unknown', 1]);
  assert.deepEqual(await deadLetters(h, job), []);
});

test('ambiguous under resend-once: exactly two copies with the same Message-ID, the row ends sent', async (t) => {
  const job = testJob({ unknownPolicy: 'resend-once' }, { maximumAttempts: 4 });
  const h = await harnessFor(t, [job]);
  const addresses = userEmails(4);
  const ids = await h.seedUsers(addresses);
  const lost = addresses[2]!;
  let dropped = 0;
  h.sink.onData((ctx) => (ctx.envelopeRcpt.includes(lost) && dropped++ === 0 ? 'store-then-drop' : 'accept'));

  const summary = await runBatch(h, job);
  assert.equal(summary.outcome, 'completed');
  assert.equal(summary.counts.sent, addresses.length);
  assert.equal(summary.counts.unknown, 0);
  assertCountsAddUp(summary, addresses.length);
  const copies = h.sink.messagesTo(lost);
  assert.equal(copies.length, 2);
  assert.ok(copies[0]!.messageId);
  assert.equal(copies[1]!.messageId, copies[0]!.messageId);
  assert.equal(h.sink.countByMessageId().get(copies[0]!.messageId!), 2);
  assertOneEach(h, addresses.filter((a) => a !== lost));
  const row = rowOf(await sendRows(h, job), ids[2]!);
  assert.deepEqual([row.state, row.attempts, row.resends, row.message_id], ['sent', 2, 1, copies[0]!.messageId]);
});

test('ambiguous under resend-once, then the resend fails for good: unknown (the first copy may be there), never dead', async (t) => {
  // Found by the soak (npm run soak): the resend's permanent failure used to mark the key dead, with a dead letter
  // a redrive would send again — although the server had stored the first copy.
  const job = testJob({ unknownPolicy: 'resend-once' }, { maximumAttempts: 4 });
  const h = await harnessFor(t, [job]);
  const addresses = userEmails(3);
  const ids = await h.seedUsers(addresses);
  const lost = addresses[1]!;
  let dropped = 0;
  h.sink.onData((ctx) => (ctx.envelopeRcpt.includes(lost) && dropped++ === 0 ? 'store-then-drop' : 'accept'));
  h.sink.rejectRcpt((a) => (a === lost && dropped > 0 ? { code: 550, message: '5.1.1 mailbox gone' } : undefined));

  const summary = await runBatch(h, job);
  assert.equal(summary.outcome, 'completed');
  assert.equal(summary.counts.unknown, 1);
  assert.equal(summary.counts.dead, 0);
  assertCountsAddUp(summary, addresses.length);
  assert.equal(h.sink.messagesTo(lost).length, 1, 'the stored first copy only');
  const row = rowOf(await sendRows(h, job), ids[1]!);
  assert.deepEqual([row.state, row.resends], ['unknown', 1]);
  assert.match(row.reason ?? '', /ambiguous/);
  assert.deepEqual(await deadLetters(h, job), [], 'no dead letter: a redrive would send a second copy');
});

test('bad data never crashes the run: invalid addresses become InvalidRecipientError dead letters', async (t) => {
  const job = testJob();
  const h = await harnessFor(t, [job]);
  const bad = ['bad@@example.com', 'a@b.com\r\nBcc: evil@x.com', 'no-domain@'];
  const good = userEmails(3);
  const ids = await h.seedUsers([good[0]!, ...bad, ...good.slice(1)]);
  const badIds = ids.slice(1, 4);

  const summary = await runBatch(h, job);
  assert.equal(summary.outcome, 'completed');
  assert.equal(summary.counts.sent, good.length);
  assert.equal(summary.counts.dead, bad.length);
  assert.equal(summary.counts.retries, 0);
  assertCountsAddUp(summary, ids.length);
  assertOneEach(h, good);
  assert.equal(h.sink.count, good.length);
  assert.equal(h.sink.rcptAttempts('evil@x.com'), 0);
  for (const m of h.sink.messages()) {
    assert.doesNotMatch(m.rawHeaders, /^bcc:/im);
    assert.ok(!m.envelopeRcpt.includes('evil@x.com'));
  }
  const dead = await deadLetters(h, job);
  assert.deepEqual(dead.map((d) => d.recipient_id).sort(), [...badIds].sort());
  for (const d of dead) assert.deepEqual([d.error_type, d.smtp_code, d.attempts], ['InvalidRecipientError', null, 1]);
  const rows = await sendRows(h, job);
  for (const id of badIds) assert.equal(rowOf(rows, id).state, 'dead');
});

test('history bound: 5,000 recipients complete across continue-as-new runs of < 10,000 events each', async (t) => {
  // Chunked sends need few events per recipient; a low threshold makes this run continue as new anyway.
  const job = testJob({ maxInFlight: 100, pageSize: 200, continueAsNewAfterEvents: 300 });
  const h = await harnessFor(t, [job]);
  const total = 5_000;
  const addresses = userEmails(total);
  await h.seedUsers(addresses);
  const handle = await startBatch(h, job);
  const summary = await handle.result();

  assert.equal(summary.outcome, 'completed');
  await assertNoneSkipped(h, job); // every page was read: keyset pagination lost nobody
  assertCountsAddUp(summary, total);
  assert.equal(summary.counts.sent, total);
  assert.equal(h.sink.count, total);
  assert.equal(new Set(h.sink.messages().flatMap((m) => m.envelopeRcpt)).size, total, 'one message per recipient');
  const chain = await historyChain(h.client, handle.workflowId, handle.firstExecutionRunId);
  assert.equal(chain.length, summary.segments, `chain ${JSON.stringify(chain)}`);
  assert.ok(chain.length > 1, 'the run continued as new at least once');
  for (const run of chain) assert.ok(run.events < 10_000, `run ${run.runId} has ${run.events} events`);
  t.diagnostic(`runs: ${chain.map((r) => r.events).join(', ')} events`);
});

test('one activity per recipient (chunkSize 1) also continues as new and delivers everyone once', async (t) => {
  const job = testJob({ chunkSize: 1, maxInFlight: 50, pageSize: 100, continueAsNewAfterEvents: 500 });
  const h = await harnessFor(t, [job]);
  const total = 300;
  await h.seedUsers(userEmails(total));
  const handle = await startBatch(h, job);
  const summary = await handle.result();
  assert.equal(summary.outcome, 'completed');
  assertCountsAddUp(summary, total);
  assert.equal(summary.counts.sent, total);
  assert.equal(new Set(h.sink.messages().flatMap((m) => m.envelopeRcpt)).size, total);
  assert.equal(h.sink.count, total);
  const chain = await historyChain(h.client, handle.workflowId, handle.firstExecutionRunId);
  assert.ok(chain.length > 1, `continued as new: ${JSON.stringify(chain)}`);
});

test('opted out after the page was read: no email, no claim left behind, counted ineligible; the others are sent', async (t) => {
  const job = testJob();
  const optedOut = new Set<string>();
  // The page query still returns them; between the page and the send they opt out (the loader then sees it).
  const racing: JobDefinition = {
    ...job,
    async loadRecipient(db, id) {
      if (optedOut.has(id)) await db.query('UPDATE users SET digest_opt_in = false WHERE id = $1::bigint', [id]);
      return job.loadRecipient(db, id);
    },
  };
  const h = await harnessFor(t, [racing]);
  const addresses = userEmails(60);
  const ids = await h.seedUsers(addresses);
  ids.filter((_, i) => i % 3 === 0).forEach((id) => optedOut.add(id));

  const summary = await runBatch(h, racing);
  assert.equal(summary.outcome, 'completed');
  assert.equal(summary.counts.ineligible, optedOut.size);
  assert.equal(summary.counts.sent, ids.length - optedOut.size);
  assertCountsAddUp(summary, ids.length);
  const rows = await sendRows(h, racing);
  for (const id of optedOut) assert.equal(rows.get(id), undefined, `recipient ${id}: its claim was given back`);
  assert.equal(h.sink.count, ids.length - optedOut.size);
  for (const [i, a] of addresses.entries()) assert.equal(h.sink.messagesTo(a).length, optedOut.has(ids[i]!) ? 0 : 1, a);
});
